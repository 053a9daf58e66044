"""Factories for the needs list and the resource list (others import these)."""

from __future__ import annotations

import factory

from demands.models import Need, Resource, Venue
from demands.services import new_tracking_code

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    kind = Need.Kind.RESIDENT
    title = factory.Sequence(lambda n: f"需求{n}：楼道灯坏了")
    description = "三单元楼道灯不亮，老人晚上上下楼不方便。"
    category = factory.SubFactory(CategoryFactory)
    community = factory.SubFactory(CommunityFactory)
    contact_name = "李大爷"
    contact_phone = factory.Sequence(lambda n: f"137{n:08d}")
    address = "桥头街12号3单元"
    tracking_code = factory.LazyFunction(new_tracking_code)
    status = Need.Status.SUBMITTED


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    unit = factory.SubFactory(MemberUnitFactory)
    category = factory.SubFactory(CategoryFactory)
    kind = Resource.Kind.SERVICE
    title = factory.Sequence(lambda n: f"资源{n}：志愿维修服务")
    description = "每周六上午，电工志愿者上门维修。"


class VenueFactory(factory.django.DjangoModelFactory):
    """A venue open 08:30–17:30 every day of the week, holding 40 people."""

    class Meta:
        model = Venue

    resource = factory.SubFactory(ResourceFactory, kind=Resource.Kind.VENUE, title="党群服务中心多功能厅", capacity=40)
    weekdays = "1234567"

from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from tests.factories import CommunityFactory, MemberUnitFactory
from volunteers.models import PartyMember, ServiceLog, VolunteerPost


class PartyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyMember

    name = factory.Sequence(lambda n: f"党员{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    work_unit = factory.SubFactory(MemberUnitFactory)
    party_branch = "第一党支部"
    residence_community = factory.SubFactory(CommunityFactory)
    registered_on = factory.LazyFunction(datetime.date.today)
    status = PartyMember.Status.VERIFIED


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VolunteerPost

    community = factory.SubFactory(CommunityFactory)
    title = factory.Sequence(lambda n: f"志愿岗位{n}")
    schedule = "每周六上午"
    places = 3


class ServiceLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLog

    member = factory.SubFactory(PartyMemberFactory)
    date = factory.LazyFunction(datetime.date.today)
    hours = Decimal("2.0")
    description = "社区环境整治"
    verified = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # A verified log counts in the monthly sums, as the services that verify hours keep them.
        from volunteers.services import count_verified_hours

        log = super()._create(model_class, *args, **kwargs)
        count_verified_hours([log])
        return log

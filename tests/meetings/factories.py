"""Factories for meetings, invitations and resolutions (shared by the meetings tests)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import factory
from django.utils import timezone

from meetings.models import Invitation, JointMeeting, Level, MeetingSeries, Resolution

from ..factories import MemberUnitFactory, StreetFactory, UserFactory


def _street_of(m):
    """Where the services place a meeting: its community's or sector's street, else the default street; a
    district-level meeting belongs to its district and no street."""
    for holder in ("community", "sector"):
        if getattr(m, holder, None) is not None:
            return getattr(m, holder).street
    return None if m.level == Level.DISTRICT else StreetFactory()


def local(day: date, at: time) -> datetime:
    """An aware datetime at `at` Asia/Shanghai time on `day`."""
    return timezone.make_aware(datetime.combine(day, at))


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointMeeting

    level = Level.STREET
    title = factory.Sequence(lambda n: f"联席会议{n}")
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    end = factory.LazyAttribute(lambda m: m.start + timedelta(hours=1, minutes=30))
    place = "柳巷街道党群服务中心三楼会议室"
    organiser = factory.SubFactory(UserFactory)
    street = factory.LazyAttribute(_street_of)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    meeting = factory.SubFactory(MeetingFactory)
    unit = factory.SubFactory(MemberUnitFactory)


class ResolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resolution

    meeting = factory.SubFactory(MeetingFactory)
    text = "协调开放停车位"
    owner = factory.SubFactory(MemberUnitFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingSeries

    title = "社区大党委联席会议"
    level = Level.COMMUNITY
    recurrence = MeetingSeries.Recurrence.MONTHLY
    day_of_month = 10
    start_time = time(14, 30)
    place = "社区党群服务站"
    organiser = factory.SubFactory(UserFactory)
    street = factory.LazyAttribute(_street_of)
    starts_on = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))

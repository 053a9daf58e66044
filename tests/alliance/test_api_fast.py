"""The light serialization path of the API lists (alliance/api/fast.py) answers exactly what DRF answers.

Every list the issue names is asked twice by each kind of user, once through `FastListSerializer` and once
with DRF's own `ListSerializer.to_representation` put back, and the two answers must be the same bytes.
The rows cover what a shortcut could get wrong: empty relations and dates (null), choices, datetimes whose
date differs between UTC and Asia/Shanghai, related names, decimals, and the masked contact data and phones."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from alliance.api.fast import FastListSerializer, compile_rows
from demands.api.serializers import NeedSerializer
from demands.models import Need
from meetings.api.serializers import MeetingSerializer
from meetings.models import JointMeeting, Level
from members.api.serializers import UnitSerializer
from projects.api.serializers import ClaimSerializer
from projects.models import ProjectClaim
from volunteers.api.serializers import MemberSerializer, ServiceLogSerializer
from volunteers.models import PartyMember

from ..demands.factories import NeedFactory
from ..factories import SectorFactory
from ..meetings.factories import MeetingFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, PostFactory, ServiceLogFactory

LISTS = {
    "/api/v1/needs/": NeedSerializer,
    "/api/v1/units/": UnitSerializer,
    "/api/v1/members/": MemberSerializer,
    "/api/v1/claims/": ClaimSerializer,
    "/api/v1/service-logs/": ServiceLogSerializer,
    "/api/v1/meetings/": MeetingSerializer,
}
USERS = ["street_staff", "community_x_staff", "liaison_a", "member"]
# 23:30 UTC is 07:30 the next day in Asia/Shanghai: a wrong time zone shows in the date.
LATE_UTC = datetime.datetime(2026, 3, 31, 23, 30, 15, 123456, tzinfo=datetime.UTC)


@pytest.fixture
def rows(cast, unit_a, unit_b, community_x, community_y):
    """Rows of every list, visible to some of the cast and not to others, with nulls and masked data."""
    unit_a.sector = SectorFactory()
    unit_a.save()  # unit_b keeps no sector: sector and sector_name null
    NeedFactory(community=community_x)  # no unit, nothing dispatched: nulls
    NeedFactory(
        community=community_x,
        unit=unit_a,
        status=Need.Status.DISPATCHED,
        dispatched_at=LATE_UTC,
        channel=Need.Channel.PHONE,
    )  # the liaison sees it masked: not theirs to serve yet
    NeedFactory(
        community=community_x,
        unit=unit_a,
        status=Need.Status.ACCEPTED,
        dispatched_at=LATE_UTC,
        accepted_at=LATE_UTC + datetime.timedelta(hours=1),
        address="",
    )  # the liaison serves it: contact data in full
    NeedFactory(
        community=community_y,
        unit=unit_b,
        status=Need.Status.COMPLETED,
        dispatched_at=LATE_UTC,
        completed_at=timezone.now(),
        result="已修好",
        rating=5,
    )
    linked = PartyMemberFactory(work_unit=unit_a, residence_community=community_x, user=cast["member"], skills="电工")
    PartyMemberFactory(work_unit=None, residence_community=community_y, status=PartyMember.Status.PENDING)
    ServiceLogFactory(member=linked, post=PostFactory(community=community_x), hours=Decimal("1.5"))
    ServiceLogFactory(member=linked, date=datetime.date(2026, 4, 1), hours=Decimal("12.5"), verified=False)
    project = ProjectFactory(community=community_x)
    ClaimFactory(project=project, unit=unit_a)
    ClaimFactory(project=ProjectFactory(community=None), unit=unit_b, status=ProjectClaim.Status.PENDING)
    MeetingFactory(level=Level.STREET, start=LATE_UTC, end=LATE_UTC + datetime.timedelta(hours=2), agenda="")
    MeetingFactory(
        level=Level.COMMUNITY,
        community=community_x,
        status=JointMeeting.Status.CANCELLED,
        cancel_reason="台风",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_the_fast_path_answers_what_drf_answers(rows, cast, as_user, monkeypatch, path):
    for who in USERS:
        client = as_user(cast[who])
        fast = client.get(path, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        with monkeypatch.context() as patched:
            patched.setattr(FastListSerializer, "to_representation", serializers.ListSerializer.to_representation)
            drf = client.get(path, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert (who, fast.status_code, fast.content) == (who, 200, drf.content)


@pytest.mark.django_db
def test_the_rows_cover_nulls_masks_and_the_local_date(rows, cast, as_user):
    """The comparison above is only as good as its rows: they hold what the shortcuts could get wrong."""
    staff = as_user(cast["street_staff"]).get("/api/v1/needs/", {"page_size": 200}).json()["results"]
    liaison = as_user(cast["liaison_a"]).get("/api/v1/needs/", {"page_size": 200}).json()["results"]
    assert {row["unit_name"] for row in staff} == {None, "山西饭店", "太原市第五中学"}
    assert "2026-04-01T07:30:15.123456+08:00" in {row["dispatched_at"] for row in staff}
    assert sorted(row["contact_name"] for row in liaison) == ["李**", "李大爷"]
    members = as_user(cast["liaison_a"]).get("/api/v1/members/").json()["results"]
    assert [row["phone"][3:7] for row in members] == ["****"]
    logs = as_user(cast["street_staff"]).get("/api/v1/service-logs/").json()["results"]
    assert sorted((row["post"] is None, row["hours"]) for row in logs) == [(False, "1.5"), (True, "12.5")]
    units = as_user(cast["street_staff"]).get("/api/v1/units/").json()["results"]
    assert sorted(row["sector_name"] is None for row in units) == [False, True]


@pytest.mark.parametrize("serializer_class", LISTS.values())
def test_every_list_serializer_takes_the_fast_path(serializer_class):
    """A list serializer that overrides to_representation would quietly fall back to DRF's slow path."""
    child = serializer_class(context={})
    assert isinstance(serializer_class(many=True), FastListSerializer)
    assert compile_rows(child) is not None


class _Edges(serializers.ModelSerializer):
    """DRF's rules for a source that meets None, a missing annotation and a method, side by side."""

    unit_name_skipped = serializers.CharField(source="unit.name", read_only=True)
    unit_name_default = serializers.CharField(source="unit.name", read_only=True, default="—")
    unit_name_null = serializers.CharField(source="unit.name", read_only=True, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)
    label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Need
        fields = ["id", "unit", "unit_name_skipped", "unit_name_default", "unit_name_null", "overdue", "label"]
        list_serializer_class = FastListSerializer


@pytest.mark.django_db
def test_the_fast_path_keeps_drfs_rules_for_missing_values(unit_a):
    NeedFactory(unit=unit_a, status=Need.Status.DISPATCHED)
    NeedFactory(unit=None)
    rows = list(Need.objects.select_related("unit").order_by("pk"))  # no "overdue" annotation here
    fast = _Edges(rows, many=True).data
    assert fast == [_Edges().to_representation(row) for row in rows]
    assert fast[1] == {
        "id": rows[1].pk,
        "unit": None,
        "unit_name_default": "—",
        "unit_name_null": None,
        "overdue": False,
        "label": "已提交",
    }

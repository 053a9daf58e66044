"""The light serialization paths of the API lists (alliance/api/fast.py) answer exactly what DRF answers.

Every list the issue names is asked three times by each kind of user: as it is served (the page read as
tuples, `values_rows`), with the tuples turned off (model instances through `FastListSerializer`), and with
DRF's own `ListSerializer.to_representation` put back too; the three answers must be the same bytes.
The rows cover what a shortcut could get wrong: empty relations and dates (null), choices, datetimes whose
date differs between UTC and Asia/Shanghai, related names, decimals, method fields read from columns
(a work unit by name or as free text, a rejected log), and the masked contact data and phones."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from alliance.api import fast
from alliance.api.fast import FastListSerializer, FromColumns, compile_rows, values_rows
from alliance.api.pagination import KeysetPagination
from demands.api.serializers import NeedSerializer
from demands.models import Need
from demands.selectors import with_overdue
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
    PartyMemberFactory(
        work_unit=None, work_unit_name="个体经营", residence_community=community_y, status=PartyMember.Status.PENDING
    )
    ServiceLogFactory(member=linked, post=PostFactory(community=community_x), hours=Decimal("1.5"))
    ServiceLogFactory(member=linked, hours=Decimal("3"), verified=False, rejected_at=LATE_UTC, reject_reason="重复")
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
        client.get(path)  # the user's groups and scope, once
        with CaptureQueriesContext(connection) as read_as_tuples:
            tuples = client.get(path, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        with monkeypatch.context() as patched:
            patched.setattr(fast, "values_rows", lambda *args, **kwargs: None)
            with CaptureQueriesContext(connection) as read_as_instances:
                instances = client.get(path, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
            patched.setattr(FastListSerializer, "to_representation", serializers.ListSerializer.to_representation)
            drf = client.get(path, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert (who, tuples.status_code, tuples.content) == (who, 200, drf.content)
        assert (who, instances.content) == (who, drf.content)
        # A masking rule reading a column the tuples left out (`finish_columns`) would cost a query a row.
        assert (who, len(read_as_tuples)) == (who, len(read_as_instances))


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_every_list_page_is_read_as_tuples(rows, cast, as_user, monkeypatch, path):
    """The comparison above is only worth something if the lists take the tuple path at all."""
    read: list = []
    original = KeysetPagination.paginate_values

    def spy(self, *args, **kwargs):
        page = original(self, *args, **kwargs)
        read.extend(page)
        return page

    monkeypatch.setattr(KeysetPagination, "paginate_values", spy)
    body = as_user(cast["street_staff"]).get(path, {"page_size": 200}).json()
    assert len(read) == len(body["results"]) > 0
    assert {type(row) for row in read} == {tuple}


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
    staff_members = as_user(cast["street_staff"]).get("/api/v1/members/").json()["results"]
    assert sorted(row["work_unit"] for row in staff_members) == ["个体经营", "山西饭店"]
    logs = as_user(cast["street_staff"]).get("/api/v1/service-logs/").json()["results"]
    assert sorted((row["post"] is None, row["hours"], row["rejected"]) for row in logs) == [
        (False, "1.5", False),
        (True, "12.5", False),
        (True, "3.0", True),
    ]
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


def _label(status: str, unit_id: int | None) -> str:
    return f"{status}:{unit_id}"


class _ColumnEdges(serializers.ModelSerializer):
    """The same rules read from columns: a missing relation, an annotation, a key through a relation that
    may be null, and a method field the serializer says how to compute from columns."""

    unit_name_skipped = serializers.CharField(source="unit.name", read_only=True)
    unit_name_default = serializers.CharField(source="unit.name", read_only=True, default="—")
    unit_name_null = serializers.CharField(source="unit.name", read_only=True, allow_null=True)
    unit_community = serializers.IntegerField(source="unit.community.pk", read_only=True, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)
    label = serializers.SerializerMethodField()
    column_fields = {"label": FromColumns(("status", "unit"), _label)}

    class Meta:
        model = Need
        fields = [
            "id",
            "unit",
            "unit_name_skipped",
            "unit_name_default",
            "unit_name_null",
            "unit_community",
            "overdue",
            "label",
            "submitted_at",
        ]
        list_serializer_class = FastListSerializer

    def get_label(self, need: Need) -> str:
        return _label(need.status, need.unit_id)


@pytest.mark.django_db
def test_the_tuple_path_keeps_drfs_rules_for_missing_values(unit_a):
    NeedFactory(unit=unit_a, status=Need.Status.DISPATCHED)
    NeedFactory(unit=None)
    queryset = with_overdue(Need.objects.order_by("pk"))
    reading = values_rows(_ColumnEdges, queryset, {})
    assert reading is not None
    tuples = reading.represent(queryset.values_list(*reading.lookups))
    assert tuples == [_ColumnEdges().to_representation(need) for need in queryset]
    assert tuples[1] == {
        "id": tuples[1]["id"],
        "unit": None,
        "unit_name_default": "—",
        "unit_name_null": None,
        "unit_community": None,
        "overdue": False,
        "label": "submitted:None",
        "submitted_at": tuples[1]["submitted_at"],
    }


def test_what_columns_cannot_answer_is_left_to_model_instances():
    """A method field without `column_fields`, or a property that is no annotation of the list's query:
    the list is read as instances, as before (the comparison above covers that path)."""
    assert values_rows(_Edges, Need.objects.all(), {}) is None  # `label`: get_status_display
    assert values_rows(_ColumnEdges, Need.objects.all(), {}) is None  # `is_overdue`: not annotated here
    assert values_rows(_ColumnEdges, with_overdue(Need.objects.all()), {}) is not None

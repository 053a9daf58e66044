"""`manage.py generate_scale`: the benchmark data is whole (every table, keys and indexes as the migrations
made them), each need's timeline tells the story its status says, and the platform works on it. Runs the
hidden "tiny" size once per module; PostgreSQL only, as the command is (its refusal of SQLite is tested
on SQLite)."""

from __future__ import annotations

import io
import itertools
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from demands.models import Need, NeedEvent, NeedSlaFlag, Resource
from meetings.models import Invitation, JointMeeting, MeetingSeries, Resolution, ResolutionProgress
from members.models import Agreement, Community, CommunityStaff, CouncilSeat, MemberUnit, Sector, Street, UnitMembership
from projects.models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject
from volunteers.models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="generate_scale loads with PostgreSQL COPY; SQLite is refused"
)

EVERY_TABLE = [
    Street,
    Community,
    Sector,
    MemberUnit,
    Agreement,
    CouncilSeat,
    UnitMembership,
    CommunityStaff,
    Resource,
    Need,
    NeedEvent,
    NeedSlaFlag,
    ServiceProject,
    ProjectClaim,
    ServiceActivity,
    CommitmentReview,
    MeetingSeries,
    JointMeeting,
    Invitation,
    Resolution,
    ResolutionProgress,
    PartyMember,
    VolunteerPost,
    PostClaim,
    VolunteerTeam,
    ServiceLog,
]


def _schema() -> tuple[set, set]:
    """Every index and constraint of the public schema, by name and definition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        indexes = {name for name, _definition in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace"
        )
        constraints = set(cursor.fetchall())
    return indexes, constraints


@pytest.fixture(scope="module")
def tiny(django_db_setup, django_db_blocker):
    """The tiny scale, loaded once for the module (committed: the load runs DDL and VACUUM), and the
    schema as it was before the load; the database is emptied afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("generate_scale loads with PostgreSQL COPY; SQLite is refused")
    with django_db_blocker.unblock():
        before = _schema()
        out = io.StringIO()
        call_command("generate_scale", "--scale", "tiny", "--seed", "7", stdout=out)
        yield {"schema_before": before, "output": out.getvalue()}
        call_command("flush", "--noinput", stdout=io.StringIO())


@on_postgresql
def test_every_table_gets_rows_in_the_sizes_of_the_scale(tiny, db):
    assert Street.objects.count() == 2
    assert Community.objects.count() == 6
    assert MemberUnit.objects.count() == 40
    assert Need.objects.count() == 600
    assert PartyMember.objects.count() == 400
    assert ServiceLog.objects.count() == 2000
    empty = [model.__name__ for model in EVERY_TABLE if not model.objects.exists()]
    assert empty == []
    assert "tiny scale loaded" in tiny["output"]


@on_postgresql
def test_indexes_and_constraints_are_back_as_the_migrations_made_them(tiny, db):
    # The load drops the foreign keys, unique constraints and indexes of the tables it fills and builds
    # them again at the end: being back means every row passed them (PostgreSQL checks on ADD).
    indexes, constraints = _schema()
    indexes_before, constraints_before = tiny["schema_before"]
    assert indexes == indexes_before
    assert {c[:3] for c in constraints} == {c[:3] for c in constraints_before}


@on_postgresql
def test_every_status_occurs_and_each_timeline_leads_to_its_needs_status(tiny, db):
    assert set(Need.objects.values_list("status", flat=True).distinct()) == set(Need.Status.values)
    allowed = {(source, t.target) for t in Need.TRANSITIONS for source in t.sources}
    events = defaultdict(list)
    for event in NeedEvent.objects.order_by("at", "id"):
        events[event.need_id].append(event)
    now = timezone.now()
    for need in Need.objects.all():
        trail = events[need.pk]
        assert (trail[0].from_status, trail[0].to_status, trail[0].at) == ("", "submitted", need.submitted_at)
        for before, after in itertools.pairwise(trail):
            assert after.from_status == before.to_status, need.pk
            assert (after.from_status, after.to_status) in allowed, need.pk
            assert before.at <= after.at, need.pk
        assert trail[-1].to_status == need.status, need.pk
        assert trail[-1].at <= now
        last_at = {event.to_status: event.at for event in trail}
        for status, field in [("accepted", "accepted_at"), ("completed", "completed_at"), ("closed", "closed_at")]:
            assert getattr(need, field) == last_at.get(status), (need.pk, field)
        assert need.rejected_at == last_at.get("rejected")


@on_postgresql
def test_needs_in_someones_hands_name_them_and_open_ones_keep_their_contact(tiny, db):
    open_needs = Need.objects.filter(status__in=["dispatched", "accepted", "completed"])
    assert not open_needs.filter(unit__isnull=True, claimed_by__isnull=True).exists()
    assert not open_needs.filter(contact_phone="").exists()
    assert not Need.objects.filter(status="submitted", unit__isnull=False).exists()


@on_postgresql
def test_a_database_with_data_is_refused(tiny, db):
    with pytest.raises(CommandError, match="already holds data"):
        call_command("generate_scale", "--scale", "tiny", stdout=io.StringIO())
    assert Need.objects.count() == 600


@on_postgresql
def test_street_staff_list_the_generated_needs_through_the_api(tiny, db, client, django_assert_max_num_queries):
    client.force_login(get_user_model().objects.get(username="scale_staff"))
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/needs/", {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] == 600
    assert len(response.json()["results"]) == 50


@on_postgresql
def test_a_liaison_sees_only_the_needs_of_their_unit(tiny, db, client):
    membership = UnitMembership.objects.filter(unit__needs__isnull=False).select_related("user").first()
    client.force_login(membership.user)
    response = client.get("/api/v1/needs/", {"page_size": 200})
    assert response.status_code == 200
    units = {row["unit"] for row in response.json()["results"]}
    assert units == {membership.unit_id}


@on_postgresql
def test_the_public_figures_count_the_generated_needs(tiny, db, client):
    # The public figures are per street (issue 14): the streets' needs add up to every generated need.
    streets = list(Street.objects.values_list("pk", flat=True))
    assert len(streets) == 2
    assert client.get("/api/v1/public/stats/").status_code == 400  # several streets: which one?
    needs = 0
    for street in streets:
        response = client.get("/api/v1/public/stats/", {"street": street})
        assert response.status_code == 200
        needs += response.json()["needs"]
    assert needs == Need.objects.exclude(status="rejected").count()


@on_postgresql
def test_new_rows_get_ids_past_the_generated_ones(tiny, db):
    community = Community.objects.first()
    street = Street.objects.create(name="新街道")
    assert street.pk > max(Street.objects.exclude(pk=street.pk).values_list("pk", flat=True))
    user = get_user_model().objects.create_user("after_the_load")
    assert user.pk > 1
    need = Need.objects.create(
        title="新需求",
        description="…",
        category_id=Need.objects.values_list("category_id", flat=True).first(),
        community=community,
        contact_name="王伟",
        contact_phone="13800000000",
        tracking_code="NEWCODE000001",
    )
    assert need.pk > 600


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal of SQLite is tested on SQLite")
def test_sqlite_is_refused_with_a_clear_message(db):
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("generate_scale", "--scale", "tiny", stdout=io.StringIO())
    assert not Need.objects.exists()


@on_postgresql
def test_the_monthly_sums_of_verified_hours_are_those_of_the_logs_copied(tiny, db):
    from ..volunteers.test_hours_summary import assert_sums_match_the_logs

    assert_sums_match_the_logs()

"""The staff workbench (工作台) on the admin index: each to-do's count for the user's scope, its link to the
filtered change list showing exactly those rows, a constant query count, and only the user's own jobs."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from alliance import registry
from alliance.models import Job
from alliance.periods import ZONE
from demands.models import Need, NeedEvent
from meetings.models import JointMeeting, Level
from members.models import MemberUnit, QuarterlyReport
from projects.models import ProjectClaim
from tests.conftest import client_for
from tests.demands.factories import NeedFactory
from tests.factories import AgreementFactory, MemberUnitFactory
from tests.meetings.factories import MeetingFactory, ResolutionFactory
from tests.projects.factories import ClaimFactory, ProjectFactory
from tests.volunteers.factories import PartyMemberFactory, ServiceLogFactory
from volunteers.models import PartyMember

KEYS = [
    "needs_to_dispatch",
    "needs_overdue",
    "needs_declined",
    "claims_to_approve",
    "unit_applications",
    "agreements_expiring",
    "members_to_verify",
    "hours_to_verify",
    "meetings_this_week",
    "minutes_missing",
    "resolutions_overdue",
    "reports_ready",
]
YEARS = itertools.count(2001)


def make_rows(community, n: int) -> dict[str, int]:
    """`n` rows for each to-do in `community` (plus rows that must not count); the expected counts."""
    unit = MemberUnitFactory(community=community)
    now = timezone.now()
    # Needs: n fresh, n overdue (submitted 3 days ago), n declined back; all three are waiting to be dispatched.
    NeedFactory.create_batch(n, community=community)
    overdue = NeedFactory.create_batch(n, community=community)
    Need.objects.filter(pk__in=[need.pk for need in overdue]).update(submitted_at=now - timedelta(days=3))
    for need in NeedFactory.create_batch(n, community=community):
        NeedEvent.objects.create(need=need, from_status=Need.Status.DISPATCHED, to_status=Need.Status.SUBMITTED)
    NeedFactory(community=community, unit=unit, status=Need.Status.COMPLETED)
    # Claims: n pending, one approved.
    project = ProjectFactory(community=community, street=community.street, places=100)
    ClaimFactory.create_batch(n, project=project, unit__community=community, status=ProjectClaim.Status.PENDING)
    ClaimFactory(project=project, unit=unit)
    # Units: n applications; agreements: n ending in 30 days, one in 200.
    MemberUnitFactory.create_batch(n, community=community, status=MemberUnit.Status.APPLIED)
    today = timezone.localdate()
    AgreementFactory.create_batch(
        n, unit=unit, signed_on=today - timedelta(days=300), term_end=today + timedelta(days=30)
    )
    AgreementFactory(unit=unit, signed_on=today - timedelta(days=300), term_end=today + timedelta(days=200))
    # Party members: n pending, one verified with n unverified service logs and one verified log.
    PartyMemberFactory.create_batch(n, residence_community=community, work_unit=unit, status=PartyMember.Status.PENDING)
    verified = PartyMemberFactory(residence_community=community, work_unit=unit)
    ServiceLogFactory.create_batch(n, member=verified, verified=False)
    ServiceLogFactory(member=verified)
    # Meetings: n this week (Monday 09:00 Asia/Shanghai, minutes written), n a fortnight ago without minutes,
    # a cancelled one this week; resolutions: n open and past due, one done-by date still ahead.
    local_today = now.astimezone(ZONE).date()
    monday = datetime.combine(local_today - timedelta(days=local_today.weekday()), time(9), tzinfo=ZONE)
    meeting_kw = {"level": Level.COMMUNITY, "community": community}
    MeetingFactory.create_batch(n, start=monday, minutes="会议纪要", **meeting_kw)
    MeetingFactory(start=monday, minutes="会议纪要", status=JointMeeting.Status.CANCELLED, **meeting_kw)
    held = MeetingFactory.create_batch(n, start=now - timedelta(days=14), status=JointMeeting.Status.HELD, **meeting_kw)
    ResolutionFactory.create_batch(n, meeting=held[0], owner=unit, due_date=today - timedelta(days=1))
    ResolutionFactory(meeting=held[0], owner=unit)

    # Quarterly reports of the community's street: n current and built (one a year), one superseded version,
    # one whose job failed, one built 100 days ago.
    def report(*, status=Job.Status.DONE, generated_at=now, **kwargs) -> None:
        job = Job.objects.create(kind="members.quarterly_report", label="季度报表", status=status)
        kwargs = {"year": next(YEARS), "quarter": 1, **kwargs}
        QuarterlyReport.objects.create(street=community.street, job=job, generated_at=generated_at, **kwargs)

    for _ in range(n):
        report()
    superseded = next(YEARS)
    report(year=superseded, is_current=False)
    report(year=superseded, version=2)  # (this one counts: n + 1 in all)
    report(status=Job.Status.FAILED)
    report(generated_at=now - timedelta(days=100))
    return {
        "reports_ready": n + 1,
        "needs_to_dispatch": 3 * n,
        "needs_overdue": n,
        "needs_declined": n,
        "claims_to_approve": n,
        "unit_applications": n,
        "agreements_expiring": n,
        "members_to_verify": n,
        "hours_to_verify": n,
        "meetings_this_week": n,
        "minutes_missing": n,
        "resolutions_overdue": n,
    }


def counts(user) -> dict[str, int]:
    return {todo.key: todo.count for todo in registry.todos(user)}


def index_todos(user) -> dict[str, registry.Todo]:
    response = client_for(user).get("/admin/")
    assert response.status_code == 200
    return {todo.key: todo for todo in response.context["todos"]}


@pytest.mark.django_db
def test_street_staff_see_no_todos_when_nothing_waits(street_staff):
    assert counts(street_staff) == dict.fromkeys(KEYS, 0)


@pytest.mark.django_db
def test_street_staff_counts_and_links_show_exactly_those_rows(street_staff, community_x, community_y):
    in_x, in_y = make_rows(community_x, 2), make_rows(community_y, 1)
    expected = {key: in_x[key] + in_y[key] for key in KEYS}
    todos = index_todos(street_staff)
    assert {key: todo.count for key, todo in todos.items()} == expected
    client = client_for(street_staff)
    for key, todo in todos.items():
        response = client.get(todo.url)
        assert response.status_code == 200, key
        assert response.context["cl"].result_count == expected[key], key


@pytest.mark.django_db
def test_community_staff_count_only_their_community(community_x_staff, community_x, community_y):
    expected = make_rows(community_x, 2)
    make_rows(community_y, 3)
    del expected["reports_ready"]  # the street's reports are the street staff's
    todos = index_todos(community_x_staff)
    assert {key: todo.count for key, todo in todos.items()} == expected
    client = client_for(community_x_staff)
    for key, todo in todos.items():
        response = client.get(todo.url)
        assert response.status_code == 200, key
        assert response.context["cl"].result_count == expected[key], key


@pytest.mark.django_db
def test_index_query_count_is_constant_as_rows_grow(street_staff, community_x, django_assert_num_queries):
    client = client_for(street_staff)
    for n in (3, 30):
        make_rows(community_x, n if n == 3 else n - 3)
        # 1 session, 2 user, 3 user's group names (street staff?); the to-dos in registration order:
        # 4 units aggregate (applications), 5 agreements expiring count, 6 reports ready count,
        # 7 needs aggregate (dispatch, overdue, declined back), 8 claims aggregate, 9 meetings aggregate
        # (this week, minutes missing), 10 resolutions aggregate (overdue), 11 party members aggregate,
        # 12 service logs aggregate; 13 the user's latest jobs; 14 user permissions, 15 group permissions
        # (app list); 16 unread notifications (header); 17 recent actions (admin log).
        with django_assert_num_queries(17):
            response = client.get("/admin/")
        assert response.status_code == 200


@pytest.mark.django_db
def test_jobs_lists_only_the_users_latest_five(street_staff, root):
    mine = [Job.objects.create(kind="report", label=f"季度报告{i}", requested_by=street_staff) for i in range(6)]
    Job.objects.create(kind="report", label="别人的任务", requested_by=root)
    response = client_for(street_staff).get("/admin/")
    assert [job.pk for job in response.context["my_jobs"]] == [job.pk for job in reversed(mine)][:5]
    assert "别人的任务" not in response.content.decode()
    assert mine[-1].label in response.content.decode()

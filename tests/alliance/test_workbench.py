"""The staff workbench (工作台) on the admin index: each to-do's count for the user's scope, its link to the
filtered change list showing exactly those rows, a constant query count, and only the user's own jobs."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alliance import registry
from alliance.models import Job
from alliance.periods import ZONE, Quarter
from demands import selectors as need_selectors
from demands.models import Need, NeedEvent
from meetings.models import Invitation, JointMeeting, Level
from members import services as member_services
from members.models import MemberUnit, QuarterlyReport
from projects.models import ProjectClaim
from tests.conftest import client_for
from tests.demands.factories import NeedFactory
from tests.factories import AgreementFactory, CategoryFactory, CommunityFactory, MemberUnitFactory, UserFactory
from tests.meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
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


def make_chart_rows(communities, n: int) -> None:
    """For each community: needs in `n` categories submitted over `n` months (some completed), claims in `n`
    categories, held meetings over `n` quarters with units invited, verified service hours — so each chart
    has more groups (categories, months, quarters, communities) as `n` grows."""
    now = timezone.now()
    for community in communities:
        unit = MemberUnitFactory(community=community)
        for i in range(n):
            category = CategoryFactory()
            need = NeedFactory(
                community=community,
                category=category,
                unit=unit,
                status=Need.Status.COMPLETED,
                completed_at=now - timedelta(days=31 * i),
            )
            Need.objects.filter(pk=need.pk).update(submitted_at=now - timedelta(days=31 * i + 1))
            project = ProjectFactory(category=category, community=community, street=community.street)
            ClaimFactory(project=project, unit=MemberUnitFactory(community=community))
            meeting = MeetingFactory(
                level=Level.COMMUNITY,
                community=community,
                status=JointMeeting.Status.HELD,
                start=now - timedelta(days=92 * i + 1),
            )
            InvitationFactory(meeting=meeting, unit=unit, status=Invitation.Status.ATTENDED)
            ServiceLogFactory(member=PartyMemberFactory(residence_community=community), hours=Decimal("1.5"))


@pytest.mark.django_db
def test_index_query_count_is_constant_as_rows_grow(street_staff, community_x, community_y, django_assert_num_queries):
    client = client_for(street_staff)
    quarter = str(Quarter.current())
    client.get("/admin/")  # the first request puts the session and the user's group names in the cache
    for n in (3, 30):
        make_rows(community_x, n if n == 3 else n - 3)
        make_chart_rows([community_x, community_y, CommunityFactory()], 2 if n == 3 else 4)
        for query in ("", f"?community={community_x.pk}&quarter={quarter}"):
            # (the session and the user's group names come from the cache, see alliance/sessions.py and
            # alliance/permissions.py; numbered as before, less those two: 22)
            # 1 session, 2 user, 3 user's group names (street staff?); the charts: 4 the user's communities
            # (filter, posters), in registration order 5 needs by status, 6 needs by category, 7 needs
            # submitted and completed per month, 8 claims by category, 9 attendance per quarter, 10 service
            # hours by community; the to-dos in registration order: 11 units aggregate (applications),
            # 12 agreements expiring count, 13 reports ready count, 14 needs aggregate (dispatch, overdue,
            # declined back), 15 claims aggregate, 16 meetings aggregate (this week, minutes missing),
            # 17 resolutions aggregate (overdue), 18 party members aggregate, 19 service logs aggregate;
            # 20 the user's latest jobs; 21 user permissions, 22 group permissions (app list);
            # 23 unread notifications (header); 24 recent actions (admin log).
            with django_assert_num_queries(22):
                response = client.get(f"/admin/{query}")
            assert response.status_code == 200
            assert not response.context["chart_filter"].errors


@pytest.mark.django_db
def test_jobs_lists_only_the_users_latest_five(street_staff, root):
    mine = [Job.objects.create(kind="report", label=f"季度报告{i}", requested_by=street_staff) for i in range(6)]
    Job.objects.create(kind="report", label="别人的任务", requested_by=root)
    response = client_for(street_staff).get("/admin/")
    assert [job.pk for job in response.context["my_jobs"]] == [job.pk for job in reversed(mine)][:5]
    assert "别人的任务" not in response.content.decode()
    assert mine[-1].label in response.content.decode()


# --- Charts -----------------------------------------------------------------------------------------------

CHART_KEYS = [
    "needs_by_status",
    "needs_by_category",
    "needs_per_month",
    "claims_by_category",
    "attendance_per_quarter",
    "hours_by_community",
]


def index(user, query: str = ""):
    response = client_for(user).get(f"/admin/{query}")
    assert response.status_code == 200
    return response


def figures(response) -> dict[str, dict]:
    """What each chart's script is given (json_script), read back from the page as the browser would."""
    page = response.content.decode()
    found = re.findall(
        r'<figure class="workbench-chart" data-chart="(\w+)">.*?<script type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    return {key: json.loads(data) for key, data in found}


def values(response, key: str) -> dict[str, list]:
    chart = figures(response)[key]
    return {label: [series["values"][i] for series in chart["series"]] for i, label in enumerate(chart["labels"])}


@pytest.fixture
def chart_data(community_x, community_y):
    make_chart_rows([community_x], 2)
    make_chart_rows([community_y], 1)


@pytest.mark.django_db
def test_street_staff_see_every_chart_with_the_selectors_numbers(street_staff, chart_data, community_x, community_y):
    response = index(street_staff)
    assert list(figures(response)) == CHART_KEYS
    assert [entry.chart.key for entry in response.context["charts"]] == CHART_KEYS
    by_category = need_selectors.chart_needs_by_category(user=street_staff)
    assert values(response, "needs_by_category") == {name: [n] for name, n in by_category}
    assert values(response, "needs_by_status")["已完成"] == [3]
    assert values(response, "hours_by_community") == {"桥头街社区": [3.0], "柳北社区": [1.5]}
    assert sum(v[0] for v in values(response, "claims_by_category").values()) == 3
    assert sum(v[1] for v in values(response, "needs_per_month").values()) == 3  # completed
    page = response.content.decode()
    # Each chart also as a table, and the scripts from 'self' only.
    assert page.count('<table class="workbench-chart-table"') == len(CHART_KEYS)
    assert '<th scope="row">桥头街社区</th><td>3.0小时</td>' in page
    assert (
        'src="/static/vendor/echarts/echarts.min.js"' in page and 'src="/static/admin/js/workbench-charts.js"' in page
    )
    assert "style=" not in page.split('class="workbench-charts"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_community_staff_chart_filter_and_posters_are_their_communitys(
    community_x_staff, chart_data, community_x, community_y
):
    response = index(community_x_staff)
    form = response.context["chart_filter"]
    assert form.communities == [(community_x.pk, "桥头街社区")]
    assert values(response, "hours_by_community") == {"桥头街社区": [3.0]}
    assert sum(v[0] for v in values(response, "claims_by_category").values()) == 2
    assert sum(v[0] for v in values(response, "needs_by_status").values()) == 2
    page = response.content.decode()
    assert f'href="/needs/qr/{community_x.pk}/" data-poster="{community_x.pk}"' in page
    assert f"/needs/qr/{community_y.pk}/" not in page and "柳北社区" not in page


@pytest.mark.django_db
def test_street_staff_of_a_district_see_each_community_with_its_street(street_staff, community_x):
    other = CommunityFactory(name="桥头街社区", street__name="府东街道")
    # Street staff now see only the streets they are assigned to: to see both streets' communities the
    # staff member is assigned to the second street as well.
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    member_services.street_staff_add(user=street_staff, street=other.street, actor=root)
    communities = index(street_staff).context["chart_filter"].communities
    assert communities == [(community_x.pk, "柳巷街道 · 桥头街社区"), (other.pk, "府东街道 · 桥头街社区")]


@pytest.mark.django_db
def test_the_filter_narrows_every_chart_to_the_community_and_quarter(street_staff, chart_data, community_y):
    quarter = Quarter.current()
    response = index(street_staff, f"?community={community_y.pk}&quarter={quarter}")
    assert not response.context["chart_filter"].errors
    assert values(response, "hours_by_community") == {"柳北社区": [1.5]}
    assert sum(v[0] for v in values(response, "needs_by_status").values()) == 1
    assert values(response, "attendance_per_quarter")[quarter.label] == [100.0]
    page = response.content.decode()
    assert f'<option value="{community_y.pk}" selected>柳北社区</option>' in page
    assert f'<option value="{quarter}" selected>{quarter.label}</option>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?community=abc", "请从列表中选择您负责的社区。"),
        ("?community=999999999999999999999", "请从列表中选择您负责的社区。"),
        ("?community=OTHER", "请从列表中选择您负责的社区。"),  # a community out of the user's scope
        ("?quarter=2026Q9", "请从列表中选择季度。"),
        ("?quarter=1999Q1", "请从列表中选择季度。"),
        ("?quarter=%00", "请从列表中选择季度。"),
    ],
)
def test_bad_filter_input_says_why_in_chinese_and_shows_the_unfiltered_charts(
    community_x_staff, chart_data, community_y, query, message
):
    unfiltered = figures(index(community_x_staff))
    response = index(community_x_staff, query.replace("OTHER", str(community_y.pk)))
    page = response.content.decode()
    assert 'id="workbench-chart-filter-error"' in page
    assert "筛选条件无效，未予筛选" in page and message in page
    assert figures(response) == unfiltered


@pytest.mark.django_db
def test_the_workbench_links_each_poster_which_prints_the_public_address(settings, street_staff, community_x):
    settings.SITE_URL = "https://dangjian.example.cn"
    page = index(street_staff).content.decode()
    link = re.search(rf'href="(/needs/qr/{community_x.pk}/)" data-poster', page).group(1)
    poster = client_for(street_staff).get(link)
    assert poster.status_code == 200
    assert f"https://dangjian.example.cn/needs/new/?community={community_x.pk}" in poster.content.decode()


@pytest.mark.django_db
def test_a_staff_account_without_a_staff_role_gets_no_charts(root):
    plain = UserFactory(username="plain_staff", is_staff=True)
    response = client_for(plain).get("/admin/")
    assert response.status_code == 200
    assert response.context["charts"] == [] and 'class="workbench-charts"' not in response.content.decode()

"""The change lists of the big tables count at most COUNT_CAP rows (never the whole table, never twice),
filter dates by fixed periods instead of `date_hierarchy`'s scan, and the totals pages come a page at a
time with the sums of each row computed in SQL."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from alliance.admin import base
from alliance.models import Job, Notification
from alliance.periods import ZONE
from demands.models import Need

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, MemberUnitFactory
from ..meetings.factories import MeetingFactory, ResolutionFactory
from ..projects.factories import ActivityFactory, ClaimFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory


def _rows(kind: str, community, unit, user, n: int) -> None:
    for i in range(n):
        if kind == "need":
            NeedFactory(community=community)
        elif kind == "log":
            ServiceLogFactory(member=PartyMemberFactory(residence_community=community, work_unit=unit))
        elif kind == "member":
            PartyMemberFactory(residence_community=community, work_unit=unit)
        elif kind == "unit":
            MemberUnitFactory(community=community)
        elif kind == "claim":
            ClaimFactory(unit=unit)
        elif kind == "activity":
            ActivityFactory(claim=ClaimFactory(unit=unit))
        elif kind == "meeting":
            MeetingFactory(community=community, organiser=user)
        elif kind == "resolution":
            ResolutionFactory(meeting=MeetingFactory(community=community, organiser=user))
        elif kind == "notification":
            Notification.objects.create(recipient=user, subject=f"通知{i}", body="")
        elif kind == "attempt":
            AccessAttempt.objects.create(
                username=f"user{AccessAttempt.objects.count()}",
                ip_address="127.0.0.1",
                user_agent="",
                path_info="/admin/login/",
                get_data="",
                post_data="",
                failures_since_start=1,
                attempt_time=timezone.now(),
            )
        elif kind == "job":
            Job.objects.create(kind="members.quarterly_report", label=f"报表{i}", requested_by=user)


# (list, rows made, the list's table, queries of one request). Every list: the user (the session and the
# user's groups — is this platform staff, the context processor — come from the cache once read); the
# capped count; the page of rows; the header's count of my unread notifications; then one query per
# filter offering rows of another table (categories, sectors) — the same whatever the number of rows. The
# communities a filter offers are kept per process once read (alliance/admin/frame.py): no query.
# (No app list: the sidebar draws settings.UNFOLD's navigation, alliance/admin/navigation.py.)
LISTS = [
    ("demands_need", "need", "demands_need", 5),
    ("volunteers_servicelog", "log", "volunteers_servicelog", 4),
    ("volunteers_partymember", "member", "volunteers_partymember", 4),
    ("members_memberunit", "unit", "members_memberunit", 4),  # its sectors and communities are kept too
    ("projects_projectclaim", "claim", "projects_projectclaim", 5),
    ("projects_serviceactivity", "activity", "projects_serviceactivity", 5),
    ("meetings_jointmeeting", "meeting", "meetings_jointmeeting", 4),
    ("meetings_resolution", "resolution", "meetings_resolution", 4),
    ("alliance_notification", "notification", "alliance_notification", 4),
    ("axes_accessattempt", "attempt", "axes_accessattempt", 4),
    ("alliance_job", "job", "alliance_job", 4),
]


def _counts(queries: list[dict], table: str) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(") and f'"{table}"' in q["sql"]]


@pytest.mark.parametrize(("name", "kind", "table", "expected"), LISTS)
def test_each_big_list_counts_a_capped_number_of_rows_in_a_constant_number_of_queries(
    name, kind, table, expected, street_staff, community_x, unit_a
):
    client = client_for(street_staff)
    url = reverse(f"admin:{name}_changelist")
    _rows(kind, community_x, unit_a, street_staff, 2)
    assert client.get(url).status_code == 200  # the session's first use

    def one_request() -> list[dict]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert response.context["cl"].date_hierarchy is None  # no scan for the years and months
        return captured.captured_queries

    def more_rows() -> None:
        _rows(kind, community_x, unit_a, street_staff, 3)
        # The rows' factories may add communities, which drops the communities the filters keep
        # (alliance/admin/frame.py): read again once, then kept.
        assert client.get(url).status_code == 200

    for queries in (one_request(), (more_rows(), one_request())[1]):
        assert len(queries) == expected, "\n".join(q["sql"] for q in queries)
        counts = _counts(queries, table)
        # Exactly one count of the list's rows, and that one stops at the cap: no whole-table COUNT(*).
        capped = [sql for sql in counts if re.search(rf"LIMIT {base.COUNT_CAP + 1}\b", sql)]
        assert len(capped) == 1, counts
        uncapped = [sql for sql in counts if sql not in capped]
        assert all(" WHERE " in sql for sql in uncapped), uncapped  # e.g. my unread notifications


def test_a_list_past_the_cap_says_more_than_and_pages_no_deeper(monkeypatch, street_staff, community_x):
    monkeypatch.setattr(base, "COUNT_CAP", 4)
    for _ in range(6):
        NeedFactory(community=community_x)
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")
    response = client.get(url)
    changelist = response.context["cl"]
    assert changelist.result_count == 5  # counted up to the cap and one more
    assert str(changelist.result_count) == "超过 4"
    assert "超过 4" in response.content.decode()  # beside the list, where Django's admin shows the count
    assert changelist.full_result_count is None  # no second count of the whole table
    # Two rows a page: pages 1 and 2 hold the 4 rows under the cap; page 3 is not offered.
    monkeypatch.setattr(type(response.context["cl"].model_admin), "list_per_page", 2)
    assert client.get(url, {"p": "2"}).context["cl"].paginator.num_pages == 2
    assert client.get(url, {"p": "3"})["Location"] == f"{url}?e=1"


def test_a_community_filter_with_many_choices_is_one_select_that_keeps_the_other_filters(
    monkeypatch, street_staff, community_x, community_y
):
    # A city's street staff works for hundreds of communities: past LINKS_MAX the filter is a <select> in a
    # GET form, not a link per community.
    monkeypatch.setattr(base.ScopedChoiceFilter, "LINKS_MAX", 1)
    here = NeedFactory(community=community_x, title="桥头的需求")
    NeedFactory(community=community_y, title="柳北的需求")
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")
    html = client.get(url, {"status__exact": "submitted", "o": "7"}).content.decode()
    form = re.search(r'<form method="get"[^>]*>(.*?)</form>', html, re.S).group(1)
    assert re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form) == [
        ("status__exact", "submitted"),
        ("o", "7"),
    ]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', form)
    assert options == [
        ("", " selected", "全部"),
        (str(community_x.pk), "", "桥头街社区"),
        (str(community_y.pk), "", "柳北社区"),
    ]
    # What the form sends: the chosen community is selected on the page it leads to, and filters the rows.
    response = client.get(url, {"status__exact": "submitted", "community__id__exact": str(community_x.pk)})
    assert list(response.context["cl"].result_list) == [here]
    assert f'<option value="{community_x.pk}" selected>' in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_an_unfiltered_list_past_the_cap_shows_the_planners_estimate(monkeypatch, street_staff, community_x):
    monkeypatch.setattr(base, "COUNT_CAP", 4)
    for _ in range(7):
        NeedFactory(community=community_x)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE demands_need")
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")
    unfiltered = client.get(url).context["cl"].result_count
    assert (int(unfiltered), str(unfiltered)) == (7, "约 7")
    filtered = client.get(url, {"status__exact": Need.Status.SUBMITTED}).context["cl"].result_count
    assert str(filtered) == "超过 4"  # a filtered list is never estimated from the whole table


# --- The period filter ---------------------------------------------------------------------------------


def _local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("today", "period", "bounds"),
    [
        (dt.date(2026, 4, 1), "this_month", (dt.date(2026, 4, 1), dt.date(2026, 5, 1))),
        (dt.date(2026, 4, 1), "last_month", (dt.date(2026, 3, 1), dt.date(2026, 4, 1))),
        (dt.date(2026, 1, 15), "last_month", (dt.date(2025, 12, 1), dt.date(2026, 1, 1))),
        (dt.date(2026, 12, 31), "this_month", (dt.date(2026, 12, 1), dt.date(2027, 1, 1))),
        (dt.date(2026, 5, 20), "this_quarter", (dt.date(2026, 4, 1), dt.date(2026, 7, 1))),
        (dt.date(2026, 12, 31), "this_quarter", (dt.date(2026, 10, 1), dt.date(2027, 1, 1))),
        (dt.date(2026, 5, 20), "this_year", (dt.date(2026, 1, 1), dt.date(2027, 1, 1))),
        (dt.date(2026, 5, 20), "decade", None),
    ],
)
def test_the_periods_are_calendar_months_quarters_and_years(today, period, bounds):
    assert base.PeriodFilter.bounds(period, today) == bounds


def test_the_period_filter_reads_the_shanghai_calendar_for_moments(time_machine, street_staff, community_x):
    # 00:30 on 1 April in Shanghai is still 31 March in UTC: April has begun, and so has the second quarter.
    time_machine.move_to(_local(2026, 4, 1, 0, 30))
    march = NeedFactory(community=community_x, title="三月最后一分钟")
    april = NeedFactory(community=community_x, title="四月第一分钟")
    Need.objects.filter(pk=march.pk).update(submitted_at=_local(2026, 3, 31, 23, 59))
    Need.objects.filter(pk=april.pk).update(submitted_at=_local(2026, 4, 1, 0, 0))
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")

    def listed(period: str) -> set[str]:
        response = client.get(url, {"submitted_at_period": period})
        return {need.title for need in response.context["cl"].result_list}

    assert listed("this_month") == {"四月第一分钟"}
    assert listed("last_month") == {"三月最后一分钟"}
    assert listed("this_quarter") == {"四月第一分钟"}
    assert listed("this_year") == {"三月最后一分钟", "四月第一分钟"}


def test_the_period_filter_on_a_date_field(time_machine, street_staff, community_x, unit_a):
    time_machine.move_to(_local(2026, 7, 1, 8, 0))
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    for day in (dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2025, 12, 31)):
        ServiceLogFactory(member=member, date=day)
    client = client_for(street_staff)
    url = reverse("admin:volunteers_servicelog_changelist")

    def listed(period: str) -> list[dt.date]:
        return sorted(log.date for log in client.get(url, {"date_period": period}).context["cl"].result_list)

    assert listed("this_month") == [dt.date(2026, 7, 1)]
    assert listed("last_month") == [dt.date(2026, 6, 30)]
    assert listed("this_quarter") == [dt.date(2026, 7, 1)]
    assert listed("this_year") == [dt.date(2026, 6, 30), dt.date(2026, 7, 1)]
    # The old date_hierarchy links still filter; a date part out of range is the list's error flag.
    assert [log.date for log in client.get(url, {"date__year": "2025"}).context["cl"].result_list] == [
        dt.date(2025, 12, 31)
    ]
    assert client.get(url, {"date__year": "20261"})["Location"] == f"{url}?e=1"


# --- The totals pages -------------------------------------------------------------------------------


def _member_rows(page: str) -> dict[int, tuple[Decimal, int]]:
    section = re.search(r'id="totals-member">(.*?)</div>', page, re.S).group(1)
    return {
        int(key): (Decimal(hours), int(services))
        for key, hours, services in re.findall(
            r'<tr data-key="(\d+)"><td>[^<]*</td><td class="hours">([\d.]+)</td><td>(\d+)</td></tr>', section
        )
    }


def test_the_hours_totals_come_a_page_of_members_at_a_time_with_each_members_sums(
    monkeypatch, street_staff, community_x, unit_a, django_assert_num_queries
):
    monkeypatch.setattr(base, "TOTALS_PER_PAGE", 3)
    expected = {}
    for n in range(7):
        member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
        for hours in (Decimal("1.5"), Decimal(n)):
            ServiceLogFactory(member=member, hours=hours or Decimal("0.5"), verified=True)
        ServiceLogFactory(member=member, hours=Decimal(9), verified=False)  # never counts
        expected[member.pk] = (Decimal("1.5") + (Decimal(n) or Decimal("0.5")), 2)
    client = client_for(street_staff)
    url = reverse("admin:volunteers_servicelog_totals")
    client.get(url)  # the session's first use

    seen: dict[int, tuple[Decimal, int]] = {}
    pages = []
    number = 1
    while True:
        with django_assert_num_queries(8):
            # user (session and groups from the cache), the unread count; one query per grouping
            # (community, work unit, team, quarter, member) of the monthly sums of verified hours, each a
            # page where it grows with the city; my latest exports of the full tables.
            page = client.get(url, {"member_page": number}).content.decode()
        rows = _member_rows(page)
        assert not rows.keys() & seen.keys()  # no member on two pages
        seen.update(rows)
        pages.append(len(rows))
        if 'rel="next"' not in re.search(r'id="totals-member">(.*?)</div>', page, re.S).group(1):
            break
        number += 1
    assert pages == [3, 3, 1]
    assert seen == expected
    # The overall total still covers every member, whichever page is shown.
    overall = re.search(r'id="totals-overall">.*?<td class="hours">([\d.]+)</td><td>(\d+)</td>', page, re.S)
    assert (Decimal(overall.group(1)), int(overall.group(2))) == (sum(h for h, _ in expected.values()), 14)


def test_a_totals_page_number_keeps_the_lists_filters(monkeypatch, street_staff, community_x, unit_a):
    monkeypatch.setattr(base, "TOTALS_PER_PAGE", 1)
    for verified in (True, True):
        ServiceLogFactory(member=PartyMemberFactory(residence_community=community_x), verified=verified)
    response = client_for(street_staff).get(
        reverse("admin:volunteers_servicelog_totals"), {"verified__exact": "1", "member_page": "2"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert len(_member_rows(page)) == 1
    assert "?verified__exact=1#totals-member" in page.replace("&amp;", "&")  # back to page 1, filters kept
    assert response.context["changelist_url"].endswith("?verified__exact=1")


def test_the_activity_totals_page_their_units(monkeypatch, street_staff, community_x):
    monkeypatch.setattr(base, "TOTALS_PER_PAGE", 2)
    category = CategoryFactory()
    units = [MemberUnitFactory(community=community_x) for _ in range(3)]
    for unit in units:
        ActivityFactory(claim=ClaimFactory(unit=unit, project__category=category), hours=Decimal(2))
    url = reverse("admin:projects_serviceactivity_totals")
    client = client_for(street_staff)
    first = client.get(url).content.decode()
    second = client.get(url, {"unit_page": "2"}).content.decode()

    def unit_keys(page: str) -> list[int]:
        section = re.search(r'id="totals-unit">(.*?)</div>', page, re.S).group(1)
        return [int(key) for key in re.findall(r'<tr data-key="(\d+)">', section)]

    assert unit_keys(first) + unit_keys(second) == sorted(unit.pk for unit in units)


def test_the_full_totals_are_a_workbook_written_by_a_job_for_whom_asked(
    settings,
    tmp_path,
    community_x_staff,
    community_y_staff,
    community_x,
    community_y,
    unit_a,
    django_capture_on_commit_callbacks,
):
    settings.MEDIA_ROOT = tmp_path
    here = [PartyMemberFactory(residence_community=community_x, work_unit=unit_a) for _ in range(3)]
    there = PartyMemberFactory(residence_community=community_y, work_unit=unit_a)
    for n, member in enumerate([*here, there]):
        ServiceLogFactory(member=member, hours=Decimal(n + 1), verified=True)
    ServiceLogFactory(member=here[0], hours=Decimal(7), verified=False)  # never counts
    client = client_for(community_x_staff)
    totals = reverse("admin:volunteers_servicelog_totals")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:volunteers_servicelog_totals_export"), {"query": "verified__exact=1"})
    job = Job.objects.get(kind="volunteers.hours_totals")
    assert response["Location"] == reverse("admin:alliance_job_change", args=[job.pk])
    assert (job.status, job.requested_by, job.result_name) == (
        Job.Status.DONE,
        community_x_staff,
        "服务时长汇总.xlsx",
    )

    page = client.get(totals).content.decode()
    download = reverse("admin:alliance_job_result", args=[job.pk])
    assert f'href="{download}"' in page
    workbook = load_workbook(io.BytesIO(b"".join(client.get(download).streaming_content)), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}
    assert list(sheets) == ["按社区", "按工作单位", "按志愿服务队", "按季度", "按党员"]
    # Community staff's own community only, as on their page: the member of community Y is not there.
    assert sheets["按党员"][1:] == [(m.name, float(n + 1), 1) for n, m in enumerate(here)]
    assert sheets["按社区"][1:] == [(community_x.name, 6.0, 3)]
    # Another community's staff do not find it, nor a job that does not exist.
    assert client_for(community_y_staff).get(download).status_code == 404
    assert client.get(reverse("admin:alliance_job_result", args=[job.pk + 1])).status_code == 404


def test_asking_for_the_export_is_a_post(street_staff):
    assert client_for(street_staff).get(reverse("admin:volunteers_servicelog_totals_export")).status_code == 405

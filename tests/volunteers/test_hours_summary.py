"""Verified hours summed per member and month (issue 12): the services keep the sums exact in the
transaction that verifies hours, migration 0004 fills them from the logs, and the totals page, its export,
the workbench chart, the public figure and the quarterly report read them instead of every log."""

from __future__ import annotations

import importlib
import io
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from alliance.errors import Conflict
from alliance.periods import Quarter
from volunteers import selectors, services
from volunteers.models import CommunityMonthHours, MemberMonthHours, ServiceLog

from ..conftest import client_for
from ..jobs import export_through_job
from .factories import PartyMemberFactory, ServiceLogFactory

TOTALS = "admin:volunteers_servicelog_totals"
TOTALS_EXPORT = "admin:volunteers_servicelog_totals_export"
LOGS = "admin:volunteers_servicelog_changelist"


def assert_sums_match_the_logs() -> None:
    """The one check of every write path: the monthly sums are exactly the verified logs, grouped."""
    verified = ServiceLog.objects.filter(verified=True)
    per_member = {
        (row["member_id"], row["member__residence_community_id"], row["month"]): (row["hours"], row["count"])
        for row in verified.values("member_id", "member__residence_community_id", month=TruncMonth("date"))
        .annotate(hours=Sum("hours"), count=Count("pk"))
        .order_by()
    }
    per_community = {
        (row["member__residence_community_id"], row["month"]): (row["hours"], row["count"])
        for row in verified.values("member__residence_community_id", month=TruncMonth("date"))
        .annotate(hours=Sum("hours"), count=Count("pk"))
        .order_by()
    }
    kept_members = {
        (row.member_id, row.community_id, row.month): (row.hours, row.services)
        for row in MemberMonthHours.objects.filter(services__gt=0)
    }
    kept_communities = {
        (row.community_id, row.month): (row.hours, row.services)
        for row in CommunityMonthHours.objects.filter(services__gt=0)
    }
    assert kept_members == per_member
    assert kept_communities == per_community
    # A month whose hours were all taken back keeps a row of zeros, never a remainder.
    assert not MemberMonthHours.objects.filter(services=0).exclude(hours=0).exists()
    assert not CommunityMonthHours.objects.filter(services=0).exclude(hours=0).exists()


@pytest.fixture
def hours(community_x, community_y, unit_a, unit_b):
    """Verified and unverified hours over months and communities (dates well in the past)."""
    a = PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a)
    b = PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_b)
    c = PartyMemberFactory(name="王芳", residence_community=community_y, work_unit=None, work_unit_name="未加入的公司")
    ServiceLogFactory(member=a, date=date(2026, 1, 10), hours=Decimal("2.5"))
    ServiceLogFactory(member=a, date=date(2026, 1, 31), hours=Decimal("1.0"))
    ServiceLogFactory(member=a, date=date(2026, 4, 1), hours=Decimal("3.0"))
    ServiceLogFactory(member=b, date=date(2026, 2, 2), hours=Decimal("4.0"))
    ServiceLogFactory(member=b, date=date(2026, 2, 3), hours=Decimal("8.0"), verified=False)
    ServiceLogFactory(member=c, date=date(2025, 12, 31), hours=Decimal("0.5"))
    return SimpleNamespace(a=a, b=b, c=c)


# --- Write paths ------------------------------------------------------------------------------------


def test_verifying_hours_counts_them_in_their_month(hours, street_staff):
    log = ServiceLogFactory(member=hours.b, date=date(2026, 2, 20), hours=Decimal("1.5"), verified=False)
    assert_sums_match_the_logs()
    services.log_verify(log=log, actor=street_staff)
    row = MemberMonthHours.objects.get(member=hours.b, month=date(2026, 2, 1))
    assert (row.hours, row.services, row.community_id) == (Decimal("5.5"), 2, hours.b.residence_community_id)
    assert_sums_match_the_logs()


def test_verifying_through_the_admin_action_and_the_api(hours, community_y_staff):
    first = ServiceLogFactory(member=hours.b, date=date(2026, 3, 1), hours=Decimal("2.0"), verified=False)
    second = ServiceLogFactory(member=hours.c, date=date(2026, 3, 2), hours=Decimal("1.0"), verified=False)
    client = client_for(community_y_staff)
    response = client.post(reverse(LOGS), {"action": "verify", "_selected_action": [first.pk]})
    assert response.status_code == 302
    api = APIClient()
    api.force_authenticate(community_y_staff)
    response = api.post(f"/api/v1/service-logs/{second.pk}/verify/")
    assert (response.status_code, response.json()["verified"]) == (200, True)
    assert_sums_match_the_logs()
    march = CommunityMonthHours.objects.get(community=hours.b.residence_community, month=date(2026, 3, 1))
    assert (march.hours, march.services) == (Decimal("3.0"), 2)


def test_a_refused_verification_changes_no_sum(hours, community_x_staff, street_staff):
    log = ServiceLogFactory(member=hours.b, date=date(2026, 2, 20), hours=Decimal("1.5"), verified=False)
    with pytest.raises(Http404):
        services.log_verify(log=log, actor=community_x_staff)  # not their community: not even seen
    with pytest.raises(Conflict):
        services.log_verify(log=ServiceLog.objects.filter(verified=True).first(), actor=street_staff)
    assert_sums_match_the_logs()


def test_hours_taken_back_and_bulk_writes(hours, monkeypatch, django_assert_num_queries):
    """Taking verified hours back (what unverifying, correcting or deleting a log will call) and a bulk
    writer's logs, counted in one call: the upserts only (two rows a statement here, to see them split),
    the members' communities read from the members the logs were made with."""
    monkeypatch.setattr(services, "UPSERT_ROWS", 2)
    logs = ServiceLog.objects.bulk_create(
        ServiceLog(member=member, date=day, hours=Decimal("1.5"), description="整治", verified=verified)
        for member in (hours.a, hours.b, hours.c)
        for day in (date(2026, 1, 5), date(2026, 5, 5))
        for verified in (True, False)
    )
    # 6 member-months (3 statements), 4 community-months (2 statements).
    with django_assert_num_queries(3 + 2):
        services.count_verified_hours(logs)
    assert_sums_match_the_logs()
    gone = list(ServiceLog.objects.filter(member=hours.b, verified=True))
    # The members' communities (not loaded), 3 member-months and 3 community-months two a statement.
    with django_assert_num_queries(1 + 2 + 2):
        services.count_verified_hours(gone, sign=-1)
    ServiceLog.objects.filter(pk__in=[log.pk for log in gone]).update(verified=False)
    assert_sums_match_the_logs()
    zeros = MemberMonthHours.objects.filter(member=hours.b).values_list("month", "hours", "services")
    assert sorted(zeros) == [(date(2026, 1, 1), 0, 0), (date(2026, 2, 1), 0, 0), (date(2026, 5, 1), 0, 0)]
    assert_sums_match_the_logs()


def test_the_migration_and_the_rebuild_fill_the_sums_from_the_logs(hours):
    MemberMonthHours.objects.all().delete()
    CommunityMonthHours.objects.all().delete()
    migration = importlib.import_module("volunteers.migrations.0004_verified_hours_per_month")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert MemberMonthHours.objects.count() == 4
    assert_sums_match_the_logs()
    services.verified_hours_rebuild()
    assert MemberMonthHours.objects.count() == 4 and CommunityMonthHours.objects.count() == 4
    assert_sums_match_the_logs()


# --- The totals page and its export -----------------------------------------------------------------


def _tables(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200
    return {
        group["key"]: [(row["group_key"], row["label"], row["hours"], row["services"]) for row in group["rows"]]
        for group in response.context["groups"]
    }


def test_totals_page_shows_the_sums(hours, street_staff, community_x, community_y, unit_a, unit_b):
    response = client_for(street_staff).get(reverse(TOTALS))
    tables = _tables(response)
    assert response.context["overall"] == {"hours": Decimal("11.0"), "services": 5}
    assert tables["community"] == [
        (community_x.pk, community_x.name, Decimal("6.5"), 3),
        (community_y.pk, community_y.name, Decimal("4.5"), 2),
    ]
    assert tables["quarter"] == [
        (20254, "2025年第4季度", Decimal("0.5"), 1),
        (20261, "2026年第1季度", Decimal("7.5"), 3),
        (20262, "2026年第2季度", Decimal("3.0"), 1),
    ]
    # Work units without a member unit share the key None, which PostgreSQL sorts last and SQLite first.
    assert sorted(tables["work_unit"], key=lambda row: row[1]) == sorted(
        [
            (None, "未加入的公司", Decimal("0.5"), 1),
            (unit_a.pk, unit_a.name, Decimal("6.5"), 3),
            (unit_b.pk, unit_b.name, Decimal("4.0"), 1),
        ],
        key=lambda row: row[1],
    )
    assert tables["member"] == [
        (hours.a.pk, "张伟", Decimal("6.5"), 3),
        (hours.b.pk, "李娜", Decimal("4.0"), 1),
        (hours.c.pk, "王芳", Decimal("0.5"), 1),
    ]
    assert tables["team"] == []


FILTERS = [
    {},
    {"community": "COMMUNITY_Y"},
    {"verified__exact": "1"},
    {"verified__exact": "0"},
    {"date_period": "this_year"},
    {"date_period": "this_month"},
    {"date_period": "last_month"},
    {"date_period": "this_quarter"},
    {"date_period": "this_year", "community": "COMMUNITY_X", "member_page": "2", "o": "2"},
    {"date_period": "no-such-period", "community": "abc"},
]


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff", "community_y_staff"])
@pytest.mark.parametrize("params", FILTERS)
def test_the_sums_answer_as_the_logs_do_for_every_filter(who, params, cast, hours, community_x, community_y):
    """The page from the sums equals the page summed over the logs the list selects (a search, even an
    empty one, takes that path), for every sidebar filter, street and community staff alike — community
    staff who log hours elsewhere themselves see those too, as the list shows them."""
    user = cast[who]
    today = timezone.localdate()
    own = PartyMemberFactory(
        name="自己", user=user, residence_community=community_y if who != "community_y_staff" else community_x
    )
    ServiceLogFactory(member=own, date=today, hours=Decimal("1.5"))
    ServiceLogFactory(member=hours.b, date=today.replace(day=1) - timedelta(days=1), hours=Decimal("2.0"))
    ServiceLogFactory(member=hours.a, date=today, hours=Decimal("0.5"))
    names = {"COMMUNITY_X": str(community_x.pk), "COMMUNITY_Y": str(community_y.pk)}
    query = {key: names.get(value, value) for key, value in params.items()}
    client = client_for(user)
    from_sums = client.get(reverse(TOTALS), query)
    from_logs = client.get(reverse(TOTALS), {**query, "q": ""})
    assert _tables(from_sums) == _tables(from_logs)
    assert from_sums.context["overall"] == from_logs.context["overall"]
    assert from_sums.context["query"] == from_logs.context["query"].replace("q=", "").strip("&")


def test_a_search_sums_the_matching_logs(hours, street_staff):
    response = client_for(street_staff).get(reverse(TOTALS), {"q": "张伟"})
    assert response.context["overall"] == {"hours": Decimal("6.5"), "services": 3}


def test_bad_filters_on_the_totals_page(hours, street_staff):
    client = client_for(street_staff)
    assert _tables(client.get(reverse(TOTALS), {"verified__exact": "0"})) == {
        "community": [],
        "work_unit": [],
        "team": [],
        "quarter": [],
        "member": [],
    }
    # A value the list's own filter refuses goes back to the list with its error flag, as before.
    response = client.get(reverse(TOTALS), {"verified__exact": "maybe"})
    assert (response.status_code, response["Location"]) == (302, reverse(LOGS) + "?e=1")
    huge = client.get(reverse(TOTALS), {"community": "9" * 30, "member_page": "x" * 40})
    assert huge.status_code == 200 and huge.context["overall"] == {"hours": Decimal("11.0"), "services": 5}


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff"])
def test_totals_page_statements_do_not_grow(who, cast, community_x, unit_a, django_assert_num_queries):
    client = client_for(cast[who])
    client.get(reverse(TOTALS))  # sessions, content types
    for i in range(60):
        member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
        ServiceLogFactory(member=member, date=date(2026, 1 + i % 12, 1))
    # session, user, groups, (community staff: their communities), a grouped read of the sums per grouping
    # (5), the unread notifications, my latest exports.
    with django_assert_num_queries(8 if who == "street_staff" else 9):
        response = client.get(reverse(TOTALS))
    assert response.status_code == 200
    member_rows = next(group for group in response.context["groups"] if group["key"] == "member")
    assert len(member_rows["rows"]) == 50 and member_rows["page"].has_next()


def test_the_export_reads_the_same_sums(hours, street_staff, community_x):
    client = client_for(street_staff)
    content = export_through_job(client, reverse(TOTALS_EXPORT), {"query": f"community={community_x.pk}"})
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}
    assert sheets["按社区"] == [("分组", "已核验服务时长", "服务次数"), (community_x.name, 6.5, 3)]
    assert sheets["按党员"] == [("分组", "已核验服务时长", "服务次数"), ("张伟", 6.5, 3)]
    assert sheets["按季度"][1:] == [("2026年第1季度", 3.5, 2), ("2026年第2季度", 3.0, 1)]


# --- The other readers ------------------------------------------------------------------------------


def test_chart_public_figure_and_report_read_the_sums(hours, street_staff, community_x, community_y):
    log = ServiceLogFactory(member=hours.b, date=date(2026, 3, 3), hours=Decimal("2.0"))
    services.count_verified_hours([log], sign=-1)  # taken back: a month of zeros shows nowhere
    ServiceLog.objects.filter(pk=log.pk).update(verified=False)
    assert selectors.chart_hours_by_community(user=street_staff) == [
        (community_x.name, Decimal("6.5")),
        (community_y.name, Decimal("4.5")),
    ]
    assert selectors.chart_hours_by_community(user=street_staff, quarter=Quarter(2026, 1)) == [
        (community_x.name, Decimal("3.5")),
        (community_y.name, Decimal("4.0")),
    ]
    assert selectors.public_counts()["service_hours"] == 11.0
    figures = selectors.report_member_figures(street_id=community_x.street_id, quarter=Quarter(2026, 1))
    assert (figures["serving"], figures["hours"]) == (
        ServiceLog.objects.filter(
            verified=True,
            date__range=(date(2026, 1, 1), date(2026, 3, 31)),
            member__residence_community__street_id=community_x.street_id,
        ).aggregate(n=Count("member", distinct=True))["n"],
        sum(
            log.hours
            for log in ServiceLog.objects.filter(
                verified=True,
                date__range=(date(2026, 1, 1), date(2026, 3, 31)),
                member__residence_community__street_id=community_x.street_id,
            )
        ),
    )
    rows = selectors.report_member_hours(street_id=community_x.street_id, quarter=Quarter(2026, 1))
    assert list(rows.values_list("name", "quarter_hours", "quarter_logs")) == [
        ("张伟", Decimal("3.5"), 2),
        ("李娜", Decimal("4.0"), 1),
    ]


# --- Concurrency ------------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_verifying_one_members_hours_at_once_loses_none(street_staff):
    import threading

    from ..factories import CommunityFactory

    community = CommunityFactory()
    member = PartyMemberFactory(residence_community=community)
    staff = street_staff
    # The month's first row does not exist yet: the first verifications race to insert it.
    logs = [
        ServiceLogFactory(member=member, date=date(2026, 6, 1 + i % 28), hours=Decimal("1.5"), verified=False)
        for i in range(16)
    ]
    barrier = threading.Barrier(len(logs))
    errors: list[BaseException] = []

    def verify(log):
        try:
            barrier.wait()
            services.log_verify(log=log, actor=staff)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = MemberMonthHours.objects.get(member=member)
    assert (row.hours, row.services) == (Decimal("24.0"), 16)
    assert_sums_match_the_logs()

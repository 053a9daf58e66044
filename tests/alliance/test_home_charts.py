"""The public home: the residents' two buttons first, then the figures and the monthly charts (drawn on
the server, counts only), read from the snapshot the beat keeps (alliance.public_figures)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from alliance import public_figures
from alliance.periods import ZONE
from alliance.registry import last_months, month_span
from demands.models import Need
from demands.selectors import DONE
from projects.models import ServiceActivity

from ..demands.factories import NeedFactory
from ..factories import MemberUnitFactory
from ..projects.factories import ActivityFactory, ClaimFactory

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZONE)
MONTHS = [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 7)]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    public_figures.breaker.reset()
    yield
    cache.clear()
    public_figures.breaker.reset()


@pytest.fixture
def june_2026(time_machine):
    time_machine.move_to(NOW)


def completed(at: datetime, status: str = Need.Status.COMPLETED) -> Need:
    return NeedFactory(status=status, completed_at=at, unit=MemberUnitFactory())


def bars(page: str, chart: str, series: int = 0) -> list[tuple[str, int]]:
    """(month, value) of each bar of one series of one chart, as drawn."""
    block = page.split(f'data-chart="{chart}"')[1].split("</figure>")[0]
    svg = block.split(f'data-series="{series}"')[1].split("</svg>")[0]
    return [(m, int(v)) for m, v in re.findall(r'class="chart-bar" data-month="([\d-]+)" data-value="(\d+)"', svg)]


def test_anonymous_home_leads_with_the_two_resident_buttons(db):
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="home-submit-need" href="/needs/new/"' in page
    assert 'id="home-track-need" href="/needs/track/"' in page
    # The buttons come before the figures and the charts.
    assert page.index("home-submit-need") < page.index('class="figures"') < page.index('class="charts"')


def test_the_needs_chart_counts_completed_needs_per_beijing_month(db, june_2026):
    completed(datetime(2026, 5, 31, 23, 30, tzinfo=ZONE))  # 15:30 UTC: still May in Beijing
    completed(datetime(2026, 6, 1, 0, 10, tzinfo=ZONE))  # 16:10 UTC on 31 May: June in Beijing
    completed(datetime(2025, 7, 1, 0, 0, tzinfo=ZONE), status=Need.Status.CLOSED)  # the first month shown
    completed(datetime(2025, 6, 30, 23, 59, tzinfo=ZONE))  # thirteen months ago: not shown
    NeedFactory(status=Need.Status.ACCEPTED, unit=MemberUnitFactory())  # not completed

    page = Client().get("/").content.decode()

    expected = dict.fromkeys(MONTHS, 0) | {"2025-07": 1, "2026-05": 1, "2026-06": 1}
    assert bars(page, "needs_completed") == list(expected.items())
    # The same numbers as the ORM counts month by month.
    for month in last_months(today=NOW.date()):
        start, end = month_span([month])
        orm = Need.objects.filter(status__in=DONE, completed_at__gte=start, completed_at__lt=end).count()
        assert expected[f"{month:%Y-%m}"] == orm


def test_the_activities_chart_counts_activities_and_residents_benefited_per_month(db, june_2026):
    claim = ClaimFactory()
    ActivityFactory(claim=claim, date=date(2026, 5, 31), beneficiaries=120)
    ActivityFactory(claim=claim, date=date(2026, 5, 1), beneficiaries=30)
    ActivityFactory(claim=claim, date=date(2026, 3, 10), beneficiaries=7)
    ActivityFactory(claim=claim, date=date(2025, 6, 30), beneficiaries=999)  # before the twelve months

    page = Client().get("/").content.decode()

    activities = dict.fromkeys(MONTHS, 0) | {"2026-03": 1, "2026-05": 2}
    beneficiaries = dict.fromkeys(MONTHS, 0) | {"2026-03": 7, "2026-05": 150}
    assert bars(page, "activities", 0) == list(activities.items())
    assert bars(page, "activities", 1) == list(beneficiaries.items())
    for month in last_months(today=NOW.date()):
        rows = ServiceActivity.objects.filter(date__year=month.year, date__month=month.month)
        assert activities[f"{month:%Y-%m}"] == rows.count()
    # The value stands above each bar, the month (and the year at the first bar and at January) below.
    assert '<text class="chart-value"' in page and ">150</text>" in page
    assert '<text class="chart-year"' in page and ">2025</text>" in page and ">2026</text>" in page
    # A text alternative lists every month with its number.
    assert "<td>2026-05</td><td>150</td>" in page


def test_the_home_shows_no_residents_contact(db, june_2026):
    need = NeedFactory(
        status=Need.Status.COMPLETED,
        unit=MemberUnitFactory(),
        completed_at=datetime(2026, 6, 2, 9, tzinfo=ZONE),
        showcased_at=datetime(2026, 6, 3, 9, tzinfo=ZONE),
        contact_name="王秀英",
        contact_phone="13912345678",
        address="幸福里7号2单元",
    )
    page = Client().get("/").content.decode()
    assert f'data-need="{need.pk}"' in page  # the need is on the page (showcase) ...
    # ... and none of its contact data is.
    assert "王秀英" not in page and "13912345678" not in page and "5678" not in page and "幸福里" not in page


def test_a_visit_reads_the_snapshot_and_runs_no_aggregate(db, june_2026):
    completed(datetime(2026, 6, 1, 12, tzinfo=ZONE))
    public_figures.refresh()  # the beat entry
    client = Client()
    with CaptureQueriesContext(connection) as visit:
        page = client.get("/").content.decode()
    # The figures, the charts and the panels (the showcase, the demonstration projects) are all read
    # from the snapshot: no SQL at all.
    assert len(visit) == 0, [q["sql"] for q in visit]
    assert bars(page, "needs_completed")[-1] == ("2026-06", 1)

    completed(datetime(2026, 6, 2, 12, tzinfo=ZONE))
    page = client.get("/").content.decode()
    assert bars(page, "needs_completed")[-1] == ("2026-06", 1)  # still the snapshot's numbers
    assert 'data-key="needs_completed"><span class="value">1<' in page

    public_figures.refresh()
    page = client.get("/").content.decode()
    assert bars(page, "needs_completed")[-1] == ("2026-06", 2)
    assert 'data-key="needs_completed"><span class="value">2<' in page


def test_a_cold_cache_reads_the_stored_snapshot_not_the_tables(db, june_2026):
    completed(datetime(2026, 6, 1, 12, tzinfo=ZONE))
    public_figures.refresh()
    completed(datetime(2026, 6, 2, 12, tzinfo=ZONE))  # after the refresh: not counted yet
    cache.clear()  # Redis restarted empty
    with CaptureQueriesContext(connection) as cold:
        page = Client().get("/").content.decode()
    # 1. the snapshot's rows, all of them put back into the cache at once.
    assert len(cold) == 1 and "alliance_publicsnapshot" in cold[0]["sql"], [q["sql"] for q in cold]
    assert bars(page, "needs_completed")[-1] == ("2026-06", 1)
    with CaptureQueriesContext(connection) as warm:
        Client().get("/")
    assert len(warm) == 0


def test_the_cache_keeps_labels_in_every_language(db):
    assert "Needs completed" in Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    # Filled by the English visit; the Chinese one reads the same entry (compiled catalogues needed).
    assert "完成需求" in Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()


def test_a_cache_outage_does_not_break_the_home(db, june_2026):
    completed(datetime(2026, 6, 1, 12, tzinfo=ZONE))
    public_figures.refresh()
    # Redis where nothing listens: every cache call raises.
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable):
        response = Client().get("/")
        assert response.status_code == 200
        assert bars(response.content.decode(), "needs_completed")[-1] == ("2026-06", 1)
        assert not public_figures.breaker.closed()  # the next visits skip the cache for a while
        assert Client().get("/").status_code == 200

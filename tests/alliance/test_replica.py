"""The optional read replica: the heavy reads (a quarterly report's workbook, an export, the workbench's
charts, the public figures' refresh) go to the `replica` alias when one is configured; every write, and
every read of an ordinary request, stays on `default` (a request sees what it has just written).

The suite's `replica` alias mirrors the test database (a second connection to the same data), so queries
are captured per connection. Rows must be committed for the second connection to see them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance import public_figures, replica
from alliance.models import Job
from alliance.periods import Quarter
from demands.models import Need
from members import reporting

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def with_replica(settings):
    settings.READ_REPLICA_ALIAS = "replica"


_CURSOR = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(OUT)? HOLD FOR ')


class Captured:
    """The statements each connection ran inside the block."""

    def __enter__(self) -> Captured:
        self._contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "replica")}
        for context in self._contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for context in self._contexts.values():
            context.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        # A streamed read on PostgreSQL (`.iterator()`) is a server-side cursor over the SELECT.
        return [_CURSOR.sub("", query["sql"]) for query in self._contexts[alias].captured_queries]

    def reading(self, alias: str, table: str) -> list[str]:
        return [sql for sql in self.sql(alias) if sql.startswith("SELECT") and f'"{table}"' in sql]


def _only_reads(statements: list[str]) -> bool:
    # "(SELECT": a UNION, whose parts PostgreSQL's compiler puts in parentheses (a user's object grants).
    return all(sql.startswith(("SELECT", "(SELECT", "SET", "SAVEPOINT", "RELEASE")) for sql in statements)


def _service_logs(community, unit) -> None:
    for hours in (1, 2):
        member = PartyMemberFactory(residence_community=community, work_unit=unit)
        ServiceLogFactory(member=member, hours=Decimal(hours), verified=True)


def test_a_report_reads_its_workbook_from_the_replica_and_writes_on_default(
    with_replica, community_x, unit_a, street_staff
):
    _service_logs(community_x, unit_a)
    with Captured() as captured:
        # Committed at once (no test transaction), so the job runs here (Celery is eager in tests).
        report = reporting.report_request(street=community_x.street, quarter=Quarter.current(), actor=street_staff)
    assert Job.objects.get(pk=report.job_id).status == Job.Status.DONE
    # The hours sheet reads the monthly sums of verified hours (volunteers.MemberMonthHours).
    assert captured.reading("replica", "volunteers_membermonthhours")
    assert captured.reading("replica", "members_memberunit")
    assert _only_reads(captured.sql("replica"))
    # The job's claim, progress and the report's file are writes: on the primary.
    assert any(sql.startswith('UPDATE "members_quarterlyreport"') for sql in captured.sql("default"))
    assert any(sql.startswith('UPDATE "alliance_job"') for sql in captured.sql("default"))


def test_an_export_reads_its_rows_from_the_replica(with_replica, community_x_staff, community_x, unit_a):
    _service_logs(community_x, unit_a)
    with Captured() as captured:
        # The request queues the job; committed at once, it runs here (Celery is eager in tests).
        client_for(community_x_staff).post(
            reverse("admin:volunteers_servicelog_totals_export"), {"query": "verified__exact=1"}
        )
    job = Job.objects.get(kind="volunteers.hours_totals")
    assert job.status == Job.Status.DONE and job.result.name
    # The totals read the monthly sums of verified hours (volunteers.MemberMonthHours).
    assert captured.reading("replica", "volunteers_membermonthhours")
    # The request itself only counts the chosen rows (its cap) on default; the rows are read by the job.
    on_default = captured.reading("default", "volunteers_servicelog")
    assert [sql for sql in on_default if not sql.startswith("SELECT COUNT(*)")] == []
    assert _only_reads(captured.sql("replica"))


def test_the_workbench_charts_read_from_the_replica_and_the_rest_of_the_page_from_default(
    with_replica, street_staff, community_x
):
    NeedFactory(community=community_x)
    with Captured() as captured:
        page = client_for(street_staff).get(reverse("admin:index"))
    assert page.status_code == 200
    assert captured.reading("replica", "demands_need")
    assert _only_reads(captured.sql("replica"))
    # The session and the signed-in user are the request's own reads.
    assert captured.reading("default", "django_session")
    assert not captured.reading("replica", "django_session")


def test_the_public_figures_refresh_reads_from_the_replica(with_replica, community_x):
    NeedFactory(community=community_x)
    with Captured() as captured:
        public_figures.refresh()
    assert captured.reading("replica", "demands_need")
    assert not captured.reading("default", "demands_need")
    assert any('"alliance_publicsnapshot"' in sql for sql in captured.sql("default"))


def test_an_ordinary_request_reads_and_writes_only_on_default(with_replica, street_staff, community_x):
    need = NeedFactory(community=community_x)
    with Captured() as captured:
        listed = client_for(street_staff).get("/api/v1/needs/")
        shown = client_for(street_staff).get(f"/api/v1/needs/{need.pk}/")
    assert listed.status_code == 200 and shown.status_code == 200
    assert captured.reading("default", "demands_need")
    assert captured.sql("replica") == []


def test_an_object_read_from_the_replica_is_saved_on_default_and_its_relations_read_there_too(
    with_replica, community_x
):
    need = NeedFactory(community=community_x)
    with replica.reading():
        from_replica = Need.objects.get(pk=need.pk)
    assert from_replica._state.db == "replica"
    with Captured() as captured:
        assert from_replica.community.name == community_x.name  # outside the block: default
        from_replica.result = "已上门修好"
        from_replica.save(update_fields=["result"])
    assert captured.sql("replica") == []
    assert captured.reading("default", "members_community")
    assert any(sql.startswith('UPDATE "demands_need"') for sql in captured.sql("default"))


def test_without_a_replica_the_heavy_reads_stay_on_default(community_x):
    NeedFactory(community=community_x)
    with Captured() as captured, replica.reading(fresh=True):
        assert Need.objects.count() == 1
    assert captured.sql("replica") == []
    assert captured.reading("default", "demands_need")

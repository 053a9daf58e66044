"""With a real Celery worker and Redis, on PostgreSQL: the quarter's close firing twice, and a build whose
worker died being delivered again, leave one report per period, street and edition."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from alliance import jobs
from alliance.celery import app as celery_app
from alliance.models import Job
from alliance.periods import Quarter
from members import reporting
from members.models import QuarterlyReport

from ..factories import CommunityFactory

pytestmark = [
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and PostgreSQL shared with a worker process",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker_env(tmp_path) -> dict[str, str]:
    return {"MEDIA_ROOT": str(tmp_path)}


def _all_built() -> bool:
    reports = QuarterlyReport.objects.select_related("job")
    return reports.exists() and all(r.job.status == Job.Status.DONE for r in reports)


def test_the_quarters_close_firing_twice_makes_one_report_per_edition(worker):
    street = CommunityFactory().street
    celery_app.send_task("members.tasks.close_quarter")
    celery_app.send_task("members.tasks.close_quarter")
    ended = Quarter.current().previous()
    worker.wait_for(lambda: QuarterlyReport.objects.count() >= 2 and _all_built(), "the reports were not built")
    time.sleep(2)  # had the second firing made more versions, they would be queued by now
    reports = QuarterlyReport.objects.select_related("job").order_by("edition")
    assert [(r.street_id, r.year, r.quarter, r.edition, r.version, r.is_current) for r in reports] == [
        (street.pk, ended.year, ended.quarter, "internal", 1, True),
        (street.pk, ended.year, ended.quarter, "outward", 1, True),
    ]
    assert all(r.ready and r.size > 0 and r.job.attempts == 1 for r in reports)


def test_a_build_whose_worker_died_is_finished_once_when_delivered_again(worker):
    street = CommunityFactory().street
    report = reporting.report_request(street=street, quarter=Quarter.current().previous())
    # A worker took it and died mid-way: the job is "running" with no progress for longer than STALE_AFTER.
    Job.objects.filter(pk=report.job_id).update(
        status=Job.Status.RUNNING, attempts=1, heartbeat_at=timezone.now() - jobs.STALE_AFTER - timedelta(minutes=1)
    )
    # The broker redelivers the unacknowledged message, and the sweep queues the stalled job as well.
    celery_app.send_task("alliance.tasks.run_job", args=[report.job_id])
    celery_app.send_task("alliance.tasks.sweep_jobs")
    worker.wait_for(_all_built, "the report was not built")
    time.sleep(2)
    job = Job.objects.get(pk=report.job_id)
    assert (job.status, job.attempts) == (Job.Status.DONE, 2)
    assert QuarterlyReport.objects.count() == 1
    assert QuarterlyReport.objects.get().ready

"""The quarterly report as the street office meets it: asked for, built in the background, one current
version per quarter, street and edition, new versions on request, stored, downloadable, announced."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone

from alliance import jobs, reports
from alliance.errors import InvalidInput, PermissionDenied
from alliance.models import Job, Notification
from alliance.periods import Quarter
from alliance.reports import Edition
from members import reporting
from members.models import QuarterlyReport

from ..factories import StreetFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q3 = Quarter(2026, 3)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def street(community_x):
    return community_x.street


def build(report: QuarterlyReport) -> QuarterlyReport:
    """What the worker does with the job's message."""
    assert jobs.run(report.job_id) is True
    return QuarterlyReport.objects.select_related("job", "street").get(pk=report.pk)


def test_asking_twice_gives_the_one_current_version(street, street_staff):
    first = reporting.report_request(street=street, quarter=Q3, edition=Edition.INTERNAL, actor=street_staff)
    again = reporting.report_request(street=street, quarter=Q3, edition=Edition.INTERNAL, actor=street_staff)
    assert again.pk == first.pk
    assert (first.version, first.is_current, first.status) == (1, True, Job.Status.QUEUED)
    assert first.job.requested_by == street_staff
    assert QuarterlyReport.objects.count() == 1


def test_each_edition_is_a_report_of_its_own(street):
    internal = reporting.report_request(street=street, quarter=Q3, edition=Edition.INTERNAL)
    outward = reporting.report_request(street=street, quarter=Q3, edition=Edition.OUTWARD)
    assert internal.pk != outward.pk
    assert [(r.edition, r.version) for r in QuarterlyReport.objects.order_by("edition")] == [
        ("internal", 1),
        ("outward", 1),
    ]


def test_the_built_report_is_stored_with_its_size_and_checksum(street, street_staff, media_root):
    report = build(reporting.report_request(street=street, quarter=Q3, actor=street_staff))
    assert report.status == Job.Status.DONE
    assert report.ready
    content = report.file.read()
    assert report.size == len(content)
    assert report.checksum == hashlib.sha256(content).hexdigest()
    assert report.job.steps_done == report.job.steps_total == len(reports.sheets())
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames[0] == "汇总"
    # Stored under a random name in the report's folder, never the title (a street's name in a path).
    assert report.file.name.startswith(f"reports/{report.pk}/")
    assert report.file.name.endswith(".xlsx")


def test_staff_are_told_once_when_it_is_ready(street, street_staff, community_x_staff):
    report = build(reporting.report_request(street=street, quarter=Q3, actor=street_staff))
    told = Notification.objects.filter(kind=f"quarterly_report:{report.pk}")
    # Street staff (the superuser who set up the cast is one too), not community staff.
    assert sorted(told.values_list("recipient__username", flat=True)) == ["root", "street_staff"]
    assert set(told.values_list("url", flat=True)) == {f"/admin/members/quarterlyreport/{report.pk}/change/"}
    # A worker that died after telling runs the job again: nobody is told twice.
    Job.objects.filter(pk=report.job_id).update(status=Job.Status.QUEUED)
    build(report)
    assert told.count() == 2


def test_rebuilding_makes_a_new_version_and_keeps_the_old_file(street, street_staff):
    first = build(reporting.report_request(street=street, quarter=Q3, actor=street_staff))
    second = reporting.report_request(street=street, quarter=Q3, actor=street_staff, rebuild=True)
    assert second.version == 2
    first.refresh_from_db()
    assert (first.is_current, first.ready) == (False, True)
    assert first.file.storage.exists(first.file.name)
    # Asked again while version 2 is still being built: the one being built, not a third.
    assert reporting.report_request(street=street, quarter=Q3, actor=street_staff, rebuild=True).pk == second.pk
    assert QuarterlyReport.objects.filter(is_current=True).get().pk == second.pk


def test_a_report_built_mid_quarter_is_built_again_at_the_quarters_close(street, street_staff, time_machine):
    time_machine.move_to(datetime(2026, 9, 15, 10, tzinfo=SHANGHAI))
    mid_way = build(reporting.report_request(street=street, quarter=Q3, actor=street_staff))
    time_machine.move_to(datetime(2026, 10, 1, 2, tzinfo=SHANGHAI))
    closing = reporting.quarter_close()
    internal = next(r for r in closing if r.edition == Edition.INTERNAL)
    assert internal.version == 2
    mid_way.refresh_from_db()
    assert not mid_way.is_current
    # The close running a second time finds the versions it made.
    assert {r.pk for r in reporting.quarter_close()} == {r.pk for r in closing}


def test_the_quarters_close_reports_the_quarter_just_ended_for_every_street(street, time_machine):
    other = StreetFactory(name="坞城街道")
    time_machine.move_to(datetime(2027, 1, 1, 2, tzinfo=SHANGHAI))
    made = reporting.quarter_close()
    assert sorted((r.street_id, r.year, r.quarter, r.edition) for r in made) == sorted(
        (s.pk, 2026, 4, e) for s in (street, other) for e in ("internal", "outward")
    )
    assert all(r.requested_by is None for r in made)


def test_a_quarter_that_has_not_begun_is_refused(street, street_staff):
    with pytest.raises(InvalidInput, match="尚未开始，暂无可报内容"):
        reporting.report_request(street=street, quarter=Quarter.current().next(), actor=street_staff)
    assert not QuarterlyReport.objects.exists()


@pytest.mark.parametrize("role", ["community_x_staff", "liaison_a", "member"])
def test_only_street_staff_ask_for_a_report(request, street, role):
    with pytest.raises(PermissionDenied):
        reporting.report_request(street=street, quarter=Q3, actor=request.getfixturevalue(role))
    assert not QuarterlyReport.objects.exists()


def test_a_failing_sheet_fails_the_job_with_a_reason_and_no_file(street, street_staff, monkeypatch, caplog):
    def broken(context):
        raise RuntimeError("connection to 10.0.0.5 lost")  # an internal detail staff must not be shown

    monkeypatch.setitem(
        reports._sheets, "broken", reports.Sheet("broken", "broken", 99, (reports.Column("x"),), broken)
    )
    report = reporting.report_request(street=street, quarter=Q3, actor=street_staff)
    assert jobs.run(report.job_id) is True
    report.refresh_from_db()
    report.job.refresh_from_db()
    assert report.status == Job.Status.FAILED
    assert not report.ready
    assert report.job.failure_reason == "内部错误导致任务中止，系统管理员可在日志中查看原因。"
    assert "10.0.0.5" in caplog.text  # the log has it for the administrators
    assert not Notification.objects.filter(kind__startswith="quarterly_report:").exists()
    # A failed version is not built again by asking for it; a rebuild is a new version.
    assert reporting.report_request(street=street, quarter=Q3, actor=street_staff).pk == report.pk
    assert reporting.report_request(street=street, quarter=Q3, actor=street_staff, rebuild=True).version == 2


def test_a_job_runs_once_however_often_its_message_arrives(street):
    report = reporting.report_request(street=street, quarter=Q3)
    assert jobs.run(report.job_id) is True
    assert jobs.run(report.job_id) is False
    assert Job.objects.get(pk=report.job_id).attempts == 1


def test_a_job_whose_worker_died_is_taken_over_after_it_stalls(street, time_machine):
    time_machine.move_to(datetime(2026, 10, 1, 2, tzinfo=SHANGHAI))
    report = reporting.report_request(street=street, quarter=Q3)
    Job.objects.filter(pk=report.job_id).update(status=Job.Status.RUNNING, attempts=1, heartbeat_at=timezone.now())
    # Still fresh: another worker may be on it.
    assert jobs.run(report.job_id) is False
    time_machine.move_to(timezone.now() + jobs.STALE_AFTER + timedelta(seconds=1))
    assert jobs.run(report.job_id) is True
    job = Job.objects.get(pk=report.job_id)
    assert (job.status, job.attempts) == (Job.Status.DONE, 2)
    assert QuarterlyReport.objects.count() == 1


def test_a_job_that_keeps_killing_its_worker_is_given_up(street):
    report = reporting.report_request(street=street, quarter=Q3)
    Job.objects.filter(pk=report.job_id).update(attempts=jobs.MAX_ATTEMPTS)
    assert jobs.run(report.job_id) is False
    job = Job.objects.get(pk=report.job_id)
    assert job.status == Job.Status.FAILED
    assert job.failure_reason == "该任务已中断 3 次仍未完成，已停止重试。"


def test_the_sweep_queues_jobs_whose_message_was_lost(street, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(datetime(2026, 10, 1, 2, tzinfo=SHANGHAI))
    report = reporting.report_request(street=street, quarter=Q3)  # its message "lost": on_commit not run
    assert jobs.sweep() == 0  # too young to be lost
    time_machine.move_to(timezone.now() + jobs.UNCLAIMED_AFTER + timedelta(seconds=1))
    assert jobs.sweep() == 1  # eager in tests: the sweep's message runs the job at once
    assert QuarterlyReport.objects.get(pk=report.pk).ready


def test_the_report_is_queued_after_commit_and_built_by_the_task(
    street, street_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = reporting.report_request(street=street, quarter=Q3, actor=street_staff)
    assert QuarterlyReport.objects.get(pk=report.pk).ready

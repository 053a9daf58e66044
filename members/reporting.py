"""Writes of the quarterly report (季度报表): ask for it, build it, close a quarter. The whole feature, and
where each part of it lives, is described in `alliance.reports`."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alliance import jobs, permissions, replica, reports
from alliance.errors import InvalidInput
from alliance.models import Job, Notification
from alliance.notifications import notify_each
from alliance.periods import Quarter
from alliance.reports import Edition, ReportContext

from . import assessments, selectors
from .models import QuarterlyReport, Street

JOB_KIND = "members.quarterly_report"


def report_title(*, street: Street, quarter: Quarter, edition: str) -> str:
    """柳巷街道 2026年第3季度党建联盟工作报表（对内版）: the file's title and the job's label."""
    return _("%(street)s quarterly report of the alliance, %(year)d Q%(quarter)d (%(edition)s)") % {
        "street": street.name,
        "year": quarter.year,
        "quarter": quarter.quarter,
        "edition": Edition(edition).label,
    }


def report_filename(report: QuarterlyReport) -> str:
    """The name a download is saved under (the stored file has a random name)."""
    title = report_title(street=report.street, quarter=report.period, edition=report.edition)
    return f"{title} v{report.version}.xlsx".replace("/", "-")


def _check_period(quarter: Quarter) -> None:
    if quarter > Quarter.current():
        raise InvalidInput(_("%(quarter)s has not begun; there is nothing to report yet.") % {"quarter": quarter})


def _is_stale(report: QuarterlyReport) -> bool:
    """A version built before its quarter ended tells only part of the quarter: the quarter's close builds
    the whole one. (Staff may build the running quarter's report for a look mid-way.)"""
    return report.created_at < report.period.end <= timezone.now()


def report_request(
    *, street: Street, quarter: Quarter, edition: str = Edition.INTERNAL, actor=None, rebuild: bool = False
) -> QuarterlyReport:
    """The current version of a street's report for a quarter, queued for building when there is none.

    With `rebuild`, a new version replaces the current one (the old file stays downloadable) unless the
    current one is still being built. `actor` None is the platform itself (the quarter's close).
    However often this is called — beat firing twice, a task retried, two staff at once — one period,
    street and edition has one current version: the street's row is locked while deciding, and a partial
    unique constraint backs that up."""
    if actor is not None:
        permissions.require_ability(actor, "members.build_report", street)
    if edition not in Edition.values:
        raise InvalidInput(_("Choose the internal or the outward edition."))
    _check_period(quarter)
    with transaction.atomic():
        Street.objects.select_for_update().filter(pk=street.pk).first()
        versions = QuarterlyReport.objects.filter(
            street=street, year=quarter.year, quarter=quarter.quarter, edition=edition
        )
        current = versions.select_related("job", "street").filter(is_current=True).first()
        if current is not None:
            building = not current.job.finished
            if building or not (rebuild or _is_stale(current)):
                return current
            versions.filter(pk=current.pk).update(is_current=False)
        version = (versions.aggregate(last=Max("version"))["last"] or 0) + 1
        job = jobs.create(
            kind=JOB_KIND,
            label=report_title(street=street, quarter=quarter, edition=edition),
            actor=actor,
        )
        return QuarterlyReport.objects.create(
            street=street,
            year=quarter.year,
            quarter=quarter.quarter,
            edition=edition,
            version=version,
            job=job,
            requested_by=job.requested_by,
        )


def report_build(job: Job, progress: jobs.Progress) -> None:
    """The job's runner: compute the units' assessments, write the workbook, store it, tell the staff.
    Safe to run again after a worker died: it writes the one file of this version again."""
    report = QuarterlyReport.objects.select_related("street").get(job=job)
    quarter = report.period
    # The workbook is the street's document: in the platform's language whoever's request started it.
    with translation.override(settings.LANGUAGE_CODE):
        assessments.assessments_compute(street=report.street, quarter=quarter)
        title = report_title(street=report.street, quarter=quarter, edition=report.edition)
        context = ReportContext(street_id=report.street_id, quarter=quarter, edition=report.edition)

        def sheet_progress(*, sheets_done: int, sheets_total: int, rows_written: int) -> None:
            progress(steps_done=sheets_done, steps_total=sheets_total, rows_done=rows_written)

        with tempfile.TemporaryFile() as target:
            with replica.reading(fresh=True):
                result = reports.render_workbook(context, target, title=title, progress=sheet_progress)
            target.seek(0)
            if report.file:
                report.file.delete(save=False)  # an earlier attempt's file
            report.file.save(f"{report.pk}.xlsx", File(target), save=False)
        with transaction.atomic():
            QuarterlyReport.objects.filter(pk=report.pk).update(
                file=report.file.name,
                size=result.size,
                checksum=result.checksum,
                rows=result.rows,
                generated_at=timezone.now(),
            )
            _notify_ready(report, title)


def _notify_ready(report: QuarterlyReport, title: str) -> None:
    kind = f"quarterly_report:{report.pk}"
    if Notification.objects.filter(kind=kind).exists():
        return  # told already, by an attempt whose worker died after telling
    recipients = list(selectors.street_staff_users(street_id=report.street_id))
    if report.requested_by is not None and report.requested_by not in recipients:
        recipients.append(report.requested_by)
    notify_each(
        {
            "recipient": user,
            "subject": _("The quarterly report is ready"),
            "body": _("%(title)s, version %(version)d, is ready to download.")
            % {"title": title, "version": report.version},
            "url": reverse("admin:members_quarterlyreport_change", args=[report.pk]),
            "kind": kind,
            "by_sms": False,
            # At once for whoever asked for it (they are waiting); the digest for the rest of the street
            # staff, whom the quarter's close tells of two reports per street.
            "digest": user != report.requested_by,
        }
        for user in recipients
    )


def quarter_close(*, quarter: Quarter | None = None) -> list[QuarterlyReport]:
    """The quarter's close (beat, 02:00 on the first day of the next quarter): both editions of the report
    of the quarter just ended for every street; building them computes the units' assessments."""
    quarter = quarter or Quarter.current().previous()
    return [
        report_request(street=street, quarter=quarter, edition=edition)
        for street in selectors.streets()
        for edition in Edition.values
    ]


def register() -> None:
    jobs.register(JOB_KIND, report_build)

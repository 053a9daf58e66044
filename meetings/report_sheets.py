"""Joint meetings and attendance (联席会议与出勤) and resolutions (议定事项) of the quarterly workbook, and the
meetings' lines of 汇总 — registered with `alliance.reports` at start-up (see that module for the whole)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.reports import Column, Format, ReportContext, Row, Sheet, SummaryFigure

from . import selectors
from .models import Invitation, JointMeeting, Kind, Level, Resolution

ATTENDANCE_COLUMNS = (
    Column(_("meeting time"), Format.DATETIME, width=17),
    Column(_("level"), width=10),
    Column(_("kind"), width=14),
    Column(_("meeting"), width=28),
    Column(_("meeting status"), width=10),
    Column(_("invited unit"), width=24),
    # A person invited by name (not through a unit): masked in the outward edition.
    Column(_("invited person"), width=12, personal=True),
    Column(_("Attendance"), width=10),
    Column(_("Attendance rate"), Format.PERCENT, width=10),
)


def attendance_rows(context: ReportContext) -> Iterator[Row]:
    levels, kinds = reports.labels(Level.choices), reports.labels(Kind.choices)
    meeting_statuses, invitation_statuses = (
        reports.labels(JointMeeting.Status.choices),
        reports.labels(Invitation.Status.choices),
    )
    rows = (
        selectors.report_meeting_invitations(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "start",
            "level",
            "kind",
            "title",
            "status",
            "invitations__unit__name",
            "invitation_person_name",
            "invitations__status",
            "invited_count",
            "attended_count",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    for start, level, kind, title, status, unit, person, answer, invited, attended in rows:
        # Attendance is recorded once a meeting is held: before that (or if cancelled) there is no rate.
        rate = Decimal(attended) / Decimal(invited) if invited and status == JointMeeting.Status.HELD else None
        yield (
            start,
            levels.get(level, level),
            kinds.get(kind, kind),
            title,
            meeting_statuses.get(status, status),
            unit,
            person,
            invitation_statuses.get(answer, answer),
            rate,
        )


RESOLUTION_COLUMNS = (
    Column(_("meeting"), width=28),
    Column(_("meeting time"), Format.DATETIME, width=17),
    Column(_("resolution"), width=40),
    Column(_("owner unit"), width=24),
    Column(_("due date"), Format.DATE, width=11),
    Column(_("status"), width=8),
    Column(_("done at"), Format.DATETIME, width=17),
    Column(_("done on time"), width=8),
    Column(_("overdue at quarter end"), width=10),
    Column(_("result"), width=30),
    # Forwarding up: the meeting an item came from, and the higher meeting a forwarded one went to.
    Column(_("forwarded from"), width=28),
    Column(_("forwarded to"), width=28),
)


def resolution_rows(context: ReportContext) -> Iterator[Row]:
    statuses = reports.labels(Resolution.Status.choices)
    rows = (
        selectors.report_resolutions(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "meeting__title",
            "meeting__start",
            "text",
            "owner__name",
            "due_date",
            "status",
            "done_at",
            "done_on_time",
            "overdue_at_end",
            "result",
            "forwarded_from__meeting__title",
            "forwarded_to_title",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    for row in rows:
        yield (*row[:5], statuses.get(row[5], row[5]), *row[6:])


ATTENDANCE = Sheet(
    key="meetings", title=_("Joint meetings and attendance"), order=50, columns=ATTENDANCE_COLUMNS, rows=attendance_rows
)
RESOLUTIONS = Sheet(
    key="resolutions", title=_("Resolutions"), order=60, columns=RESOLUTION_COLUMNS, rows=resolution_rows
)


def _meeting_figure(key: str):
    return reports.figure_from(selectors.report_meeting_figures, key)


def _resolution_figure(key: str):
    return reports.figure_from(selectors.report_resolution_figures, key)


FIGURES = (
    SummaryFigure("meetings_held", _("Joint meetings held"), 50, _meeting_figure("held")),
    SummaryFigure(
        "meeting_attendance_rate", _("Units' attendance rate"), 51, _meeting_figure("attendance_rate"), Format.PERCENT
    ),
    SummaryFigure("resolutions_due", _("Resolutions due"), 60, _resolution_figure("due")),
    SummaryFigure("resolutions_done_on_time", _("Resolutions done on time"), 61, _resolution_figure("on_time")),
)


def register() -> None:
    reports.register_sheet(ATTENDANCE)
    reports.register_sheet(RESOLUTIONS)
    for figure in FIGURES:
        reports.register_summary_figure(figure)

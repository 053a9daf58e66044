"""In-service Party members and service hours (在职党员与服务时长) of the quarterly workbook, and the members'
lines of 汇总 — registered with `alliance.reports` at start-up (see that module for the whole)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.reports import Column, Format, ReportContext, Row, Sheet, SummaryFigure

from . import selectors
from .models import PartyMember

MEMBER_COLUMNS = (
    # The member: the name masked in the outward edition, the phone left out of it.
    Column(_("full name"), width=10, personal=True),
    Column(_("mobile phone"), width=14, contact=True),
    Column(_("work unit"), width=26),
    Column(_("Party branch"), width=20),
    Column(_("residence community"), width=14),
    Column(_("registration status"), width=10),
    Column(_("Verified hours"), Format.DECIMAL, width=10),
    Column(_("service logs"), Format.INTEGER, width=8),
    # 年度积分: the member's points of the year up to the quarter's end (issue 15).
    Column(_("Points this year"), Format.INTEGER, width=10),
)


def member_rows(context: ReportContext) -> Iterator[Row]:
    statuses = {value: str(label) for value, label in PartyMember.Status.choices}
    rows = (
        selectors.report_member_hours(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "name",
            "phone",
            "work_unit_label",
            "party_branch",
            "residence_community__name",
            "status",
            "quarter_hours",
            "quarter_logs",
            "year_points",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    for row in rows:
        yield (*row[:5], statuses.get(row[5], row[5]), *row[6:8], row[8] or 0)


MEMBERS = Sheet(
    key="party_members",
    title=_("Party members and service hours"),
    order=70,
    columns=MEMBER_COLUMNS,
    rows=member_rows,
)


def _figure(key: str):
    return reports.figure_from(selectors.report_member_figures, key)


FIGURES = (
    SummaryFigure("party_members_verified", _("In-service Party members registered"), 70, _figure("verified")),
    SummaryFigure("party_members_serving", _("Party members who served"), 71, _figure("serving")),
    SummaryFigure("service_hours", _("Verified service hours"), 72, _figure("hours"), Format.DECIMAL),
)


def register() -> None:
    reports.register_sheet(MEMBERS)
    for figure in FIGURES:
        reports.register_summary_figure(figure)

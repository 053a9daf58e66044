"""The claim table (项目认领) and the activity records (活动记录) of the quarterly workbook, and the projects'
lines of 汇总 — registered with `alliance.reports` at start-up (see that module for the whole)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.reports import Column, Format, ReportContext, Row, Sheet, SummaryFigure

from . import selectors
from .models import ProjectClaim, ServiceProject

CLAIM_COLUMNS = (
    Column(_("ID"), Format.INTEGER, width=8),
    Column(_("project"), width=28),
    Column(_("category"), width=12),
    Column(_("community"), width=14),
    Column(_("unit places"), Format.INTEGER, width=8),
    Column(_("project status"), width=10),
    Column(_("unit"), width=24),
    Column(_("commitment"), width=36),
    Column(_("Claim status"), width=10),
    Column(_("claimed at"), Format.DATETIME, width=17),
    Column(_("approved at"), Format.DATETIME, width=17),
    Column(_("fulfilled"), width=8),
)


def claim_rows(context: ReportContext) -> Iterator[Row]:
    project_statuses, claim_statuses = (
        reports.labels(ServiceProject.Status.choices),
        reports.labels(ProjectClaim.Status.choices),
    )
    street_wide = gettext("Street-wide")
    rows = (
        selectors.report_project_claims(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "id",
            "title",
            "category__name",
            "community__name",
            "places",
            "status",
            "claim__unit__name",
            "claim__commitment",
            "claim__status",
            "claim__created_at",
            "claim_approved_at",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    for pk, title, category, community, places, status, unit, commitment, claim_status, claimed, approved in rows:
        yield (
            pk,
            title,
            category,
            community or street_wide,
            places,
            project_statuses.get(status, status),
            unit,
            commitment,
            claim_statuses.get(claim_status, claim_status),
            claimed,
            approved,
            None if claim_status is None else claim_status == ProjectClaim.Status.COMPLETED,
        )


ACTIVITY_COLUMNS = (
    Column(_("date"), Format.DATE, width=11),
    Column(_("project"), width=28),
    Column(_("unit"), width=24),
    Column(_("title"), width=28),
    Column(_("place"), width=20),
    Column(_("participants"), Format.INTEGER, width=8),
    Column(_("services given"), Format.INTEGER, width=8),
    Column(_("residents benefited"), Format.INTEGER, width=10),
    Column(_("hours"), Format.DECIMAL, width=8),
)


def activity_rows(context: ReportContext) -> Iterator[Row]:
    return (
        selectors.report_activities(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "date",
            "claim__project__title",
            "claim__unit__name",
            "title",
            "place",
            "participants",
            "services",
            "beneficiaries",
            "hours",
        )
        .iterator(chunk_size=reports.CHUNK)
    )


CLAIMS = Sheet(key="claims", title=_("Project claims"), order=30, columns=CLAIM_COLUMNS, rows=claim_rows)
ACTIVITIES = Sheet(
    key="activities", title=_("Activity records"), order=40, columns=ACTIVITY_COLUMNS, rows=activity_rows
)


def _claim_figure(key: str):
    return reports.figure_from(selectors.report_claim_figures, key)


def _activity_figure(key: str):
    return reports.figure_from(selectors.report_activity_figures, key)


FIGURES = (
    SummaryFigure("projects_under_way", _("Service projects under way"), 30, _claim_figure("projects")),
    SummaryFigure("claims_approved", _("Claims approved"), 31, _claim_figure("approved")),
    SummaryFigure("claims_fulfilled", _("Claims fulfilled"), 32, _claim_figure("completed")),
    SummaryFigure("activities", _("Activities held"), 40, _activity_figure("activities")),
    SummaryFigure("activity_services", _("Services given"), 41, _activity_figure("services")),
    SummaryFigure("activity_beneficiaries", _("Residents benefited"), 42, _activity_figure("beneficiaries")),
    SummaryFigure("activity_hours", _("Activity hours"), 43, _activity_figure("hours"), Format.DECIMAL),
)


def register() -> None:
    reports.register_sheet(CLAIMS)
    reports.register_sheet(ACTIVITIES)
    for figure in FIGURES:
        reports.register_summary_figure(figure)

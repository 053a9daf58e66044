"""The needs list (需求清单) and the resource list (资源清单) of the quarterly workbook, and the needs' and
resources' lines of 汇总 — registered with `alliance.reports` at start-up (see that module for the whole)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.reports import Column, Format, ReportContext, Row, Sheet, SummaryFigure

from . import selectors
from .models import Need, Resource

NEED_COLUMNS = (
    Column(_("ID"), Format.INTEGER, width=8),
    Column(_("submitted at"), Format.DATETIME, width=17),
    Column(_("community"), width=14),
    Column(_("category"), width=12),
    Column(_("kind"), width=12),
    Column(_("title"), width=30),
    Column(_("status"), width=10),
    Column(_("unit dispatched to"), width=24),
    Column(_("dispatched at"), Format.DATETIME, width=17),
    Column(_("completed at"), Format.DATETIME, width=17),
    Column(_("completed on time"), width=10),
    Column(_("rating"), Format.INTEGER, width=8),
    # The resident: the name masked in the outward edition, phone and address left out of it.
    Column(_("contact name"), width=10, personal=True),
    Column(_("contact phone"), width=14, contact=True),
    Column(_("address"), width=30, contact=True),
)


def need_rows(context: ReportContext) -> Iterator[Row]:
    kinds, statuses = reports.labels(Need.Kind.choices), reports.labels(Need.Status.choices)
    rows = (
        selectors.report_needs(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "id",
            "submitted_at",
            "community__name",
            "category__name",
            "kind",
            "title",
            "status",
            "unit__name",
            "dispatched_at",
            "completed_at",
            "on_time",
            "rating",
            "contact_name",
            "contact_phone",
            "address",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    # Labels mapped per row in Python (a dict look-up); booleans are written 是 / 否 by the renderer.
    for row in rows:
        yield (*row[:4], kinds.get(row[4], row[4]), row[5], statuses.get(row[6], row[6]), *row[7:])


RESOURCE_COLUMNS = (
    Column(_("ID"), Format.INTEGER, width=8),
    Column(_("unit"), width=24),
    Column(_("community"), width=14),
    Column(_("category"), width=12),
    Column(_("kind"), width=10),
    Column(_("title"), width=30),
    Column(_("capacity"), Format.INTEGER, width=8),
    Column(_("availability"), width=20),
    Column(_("free of charge"), width=8),
    Column(_("status"), width=10),
    Column(_("created at"), Format.DATETIME, width=17),
    Column(_("added this quarter"), width=10),
)


def resource_rows(context: ReportContext) -> Iterator[Row]:
    kinds, statuses = reports.labels(Resource.Kind.choices), reports.labels(Resource.Status.choices)
    rows = (
        selectors.report_resources(street_id=context.street_id, quarter=context.quarter)
        .values_list(
            "id",
            "unit__name",
            "unit__community__name",
            "category__name",
            "kind",
            "title",
            "capacity",
            "availability",
            "is_free",
            "status",
            "created_at",
            "added_in_quarter",
        )
        .iterator(chunk_size=reports.CHUNK)
    )
    for row in rows:
        yield (*row[:4], kinds.get(row[4], row[4]), *row[5:9], statuses.get(row[9], row[9]), *row[10:])


NEEDS = Sheet(key="needs", title=_("Needs list"), order=10, columns=NEED_COLUMNS, rows=need_rows)
RESOURCES = Sheet(key="resources", title=_("Resource list"), order=20, columns=RESOURCE_COLUMNS, rows=resource_rows)


def _need_figure(key: str):
    return reports.figure_from(selectors.report_need_figures, key)


def _resource_figure(key: str):
    return reports.figure_from(selectors.report_resource_figures, key)


FIGURES = (
    SummaryFigure("needs_submitted", _("Needs submitted"), 10, _need_figure("submitted")),
    SummaryFigure("needs_completed", _("Needs completed"), 11, _need_figure("completed")),
    SummaryFigure("needs_completed_on_time", _("Needs completed on time"), 12, _need_figure("completed_on_time")),
    SummaryFigure("needs_on_time_rate", _("On-time completion rate"), 13, _need_figure("on_time_rate"), Format.PERCENT),
    SummaryFigure(
        "needs_average_rating", _("Residents' average rating"), 14, _need_figure("average_rating"), Format.DECIMAL
    ),
    SummaryFigure("resources_available", _("Resources available"), 20, _resource_figure("available")),
    SummaryFigure("resources_added", _("Resources added"), 21, _resource_figure("added")),
)


def register() -> None:
    reports.register_sheet(NEEDS)
    reports.register_sheet(RESOURCES)
    for figure in FIGURES:
        reports.register_summary_figure(figure)

"""The member units' lines of 汇总 in the quarterly workbook, registered with `alliance.reports` at start-up
(see that module for the whole). The units' assessment sheet (单位考核) is `members.assessments`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.reports import SummaryFigure

from . import selectors


def _figure(key: str):
    return reports.figure_from(selectors.report_unit_figures, key)


# First in 汇总: the alliance itself, before what its units did.
FIGURES = (
    SummaryFigure("units_active", _("Active member units"), 1, _figure("active")),
    SummaryFigure("units_joined", _("Member units joined"), 2, _figure("joined")),
)


def register() -> None:
    for figure in FIGURES:
        reports.register_summary_figure(figure)

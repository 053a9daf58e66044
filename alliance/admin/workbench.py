"""The workbench's charts (工作台图表): the filter form above them and what the page draws.

The figures come from the apps' chart providers (`alliance.registry.register_chart`), each counted in SQL
over what the user may see; this module only reads the filter from the query string and turns each chart
into the plain data the page's script (static/admin/js/workbench-charts.js) and its fallback table read."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import permissions, registry, replica
from ..periods import Quarter

QUARTERS_OFFERED = 8


class ChartFilterForm(forms.Form):
    """GET ?community=<id>&quarter=2026Q3; both optional. Only the user's communities and the last
    QUARTERS_OFFERED quarters are offered, and only those are accepted."""

    community = forms.TypedChoiceField(
        label=_("Community"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose one of your communities from the list.")},
    )
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        required=False,
        coerce=Quarter.parse,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a quarter from the list.")},
    )

    def __init__(self, *args, communities: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.communities = communities
        self.fields["community"].choices = [("", _("All my communities")), *communities]
        quarters = [Quarter.current()]
        for _i in range(QUARTERS_OFFERED - 1):
            quarters.append(quarters[-1].previous())
        self.fields["quarter"].choices = [("", _("All time")), *((str(q), q.label) for q in quarters)]

    def chart_filter(self) -> registry.ChartFilter:
        """What was chosen; no filter when nothing was asked or the input is not valid (the page then says
        why and shows the charts unfiltered)."""
        if not self.is_valid():
            return registry.ChartFilter()
        return registry.ChartFilter(community_id=self.cleaned_data["community"], quarter=self.cleaned_data["quarter"])


@dataclass(frozen=True)
class ChartData:
    """One chart as the page uses it: `data` goes to the script through json_script, `rows` to the table."""

    chart: registry.Chart
    data: dict
    rows: list[tuple[str, list]]


def chart_data(chart: registry.Chart) -> ChartData:
    """The categories are the first series' labels (every series of a chart has the same ones, in order)."""
    labels = [label for label, _value in chart.series[0].points] if chart.series else []
    data = {
        "kind": chart.kind,
        "unit": chart.unit,
        "labels": labels,
        "series": [
            {"name": series.label, "values": [value for _label, value in series.points]} for series in chart.series
        ],
    }
    rows = [(label, [series.points[i][1] for series in chart.series]) for i, label in enumerate(labels)]
    return ChartData(chart, data, rows)


def workbench_charts(request: HttpRequest) -> tuple[list[ChartData], ChartFilterForm | None]:
    """The charts for the signed-in staff member's scope and the bound filter form; nothing for a user who
    is neither street nor community staff (they have no scope to chart)."""
    if not permissions.is_staff_member(request.user):
        return [], None
    form = ChartFilterForm(request.GET or None, communities=registry.staff_communities(request.user))
    with replica.reading():
        return [chart_data(chart) for chart in registry.charts(request.user, form.chart_filter())], form

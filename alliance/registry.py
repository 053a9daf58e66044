"""Extension points through which apps add to shared pages without `alliance` importing them.

Each app registers its providers in `AppConfig.ready()`; the home page, the public figures and the
portal home call them in registration order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone

from .periods import ZONE, Quarter


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int | float


@dataclass(frozen=True)
class PortalPanel:
    """A block on the portal home: a template and the context to render it with."""

    template: str
    context: dict = field(default_factory=dict)


# Public figures, charts and parts are per street (SPEC "District, channels and the calendar"): a provider
# is given the ids of every street and returns what each of them shows — counted by one grouped query
# over all of them, so that the refresh costs the same with one street or eighty — with an entry for every
# id it was given (zeros where a street has nothing yet).
PublicFigures = Callable[[Sequence[int]], Mapping[int, list[Figure]]]
PortalPanels = Callable[[HttpRequest], PortalPanel | None]

_public_figures: list[PublicFigures] = []
_portal_panels: list[PortalPanels] = []
_home_panels: list[PortalPanels] = []


def register_public_figures(provider: PublicFigures) -> PublicFigures:
    if provider not in _public_figures:
        _public_figures.append(provider)
    return provider


def register_portal_panel(provider: PortalPanels) -> PortalPanels:
    if provider not in _portal_panels:
        _portal_panels.append(provider)
    return provider


def register_home_panel(provider: PortalPanels) -> PortalPanels:
    """A block on the public home page (below the figures). It must show no personal data."""
    if provider not in _home_panels:
        _home_panels.append(provider)
    return provider


def home_panels(request: HttpRequest) -> list[PortalPanel]:
    return [panel for provider in _home_panels if (panel := provider(request)) is not None]


def public_figures(street_ids: Sequence[int]) -> dict[int, list[Figure]]:
    """Each street's figures, in registration order."""
    per_street: dict[int, list[Figure]] = {street_id: [] for street_id in street_ids}
    for provider in _public_figures:
        provided = provider(street_ids)
        for street_id in street_ids:
            per_street[street_id].extend(provided[street_id])
    return per_street


def portal_panels(request: HttpRequest) -> list[PortalPanel]:
    return [panel for provider in _portal_panels if (panel := provider(request)) is not None]


# --- Public charts ------------------------------------------------------------------------------------
# Figures per month for the public home: counts only, never a person. Each app's provider returns one
# Chart with its months already filled (0 where nothing happened), so the page draws what it is given.


@dataclass(frozen=True)
class Series:
    """One row of bars: `points` are (label, value) in the order drawn — a month "2026-05" on the public
    home; a status, a category, a quarter or a community on the workbench. None is "no value" (a rate of
    nothing), drawn as a gap."""

    label: str
    points: tuple[tuple[str, int | float | None], ...]


@dataclass(frozen=True)
class Chart:
    """`kind` is how the workbench draws it ("bar", "line" or "pie"; the public home draws bars);
    `axis` names what the points' labels are (状态, 月份: the fallback table's first column); `unit`
    follows each value in tooltips and the fallback table ("%", "小时"), empty for counts."""

    key: str
    title: str
    series: tuple[Series, ...]
    kind: str = "bar"
    axis: str = ""
    unit: str = ""


PublicChart = Callable[[Sequence[int]], Mapping[int, Chart]]

_public_charts: list[PublicChart] = []


def register_public_chart(provider: PublicChart) -> PublicChart:
    """A chart on the public home (below the figures). It must show no personal data."""
    if provider not in _public_charts:
        _public_charts.append(provider)
    return provider


def public_charts(street_ids: Sequence[int]) -> dict[int, list[Chart]]:
    """Each street's charts, in registration order."""
    per_street: dict[int, list[Chart]] = {street_id: [] for street_id in street_ids}
    for provider in _public_charts:
        provided = provider(street_ids)
        for street_id in street_ids:
            per_street[street_id].append(provided[street_id])
    return per_street


def last_months(count: int = 12, *, today: date | None = None) -> list[date]:
    """The first days of the last `count` months up to this one (Asia/Shanghai), oldest first."""
    today = today or timezone.localdate(timezone=ZONE)
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_start(month: date) -> datetime:
    """The aware Asia/Shanghai midnight at which the month `month` begins."""
    return datetime(month.year, month.month, 1, tzinfo=ZONE)


def month_span(months: list[date]) -> tuple[datetime, datetime]:
    """The aware Asia/Shanghai start of the first of `months` and the start of the month after the last."""
    last = months[-1]
    after_last = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return month_start(months[0]), month_start(after_last)


def month_points(months: list[date], values: Mapping[date, int]) -> tuple[tuple[str, int], ...]:
    """(label, value) for each month, 0 for a month without a value."""
    return tuple((f"{month:%Y-%m}", int(values.get(month) or 0)) for month in months)


# --- Public parts -------------------------------------------------------------------------------------
# Data an app shows anonymous visitors that costs more than an indexed read (the showcase's count and
# first rows): computed by `alliance.public_figures` in the background with the figures, read from its
# snapshot. A provider is given every street's id and returns each street's part as plain JSON data
# (str, int, float, bool, None, lists, dicts).

PublicPart = Callable[[Sequence[int]], Mapping[int, object]]

_public_parts: dict[str, PublicPart] = {}


def register_public_part(key: str, provider: PublicPart) -> PublicPart:
    _public_parts[key] = provider
    return provider


def public_parts(street_ids: Sequence[int]) -> dict[str, Mapping[int, object]]:
    """Each part (by key) of each street (by id)."""
    return {key: provider(street_ids) for key, provider in _public_parts.items()}


# --- The streets the public side knows ----------------------------------------------------------------
# The members app, which owns streets and districts, says which there are (id, name, district id and
# name), for the public pages' street chooser and their `?street=` / `?district=`: computed with the
# figures, read from the snapshot.

PublicStreets = Callable[[], list[dict]]

_public_streets: list[PublicStreets] = []


def register_public_streets(provider: PublicStreets) -> PublicStreets:
    if provider not in _public_streets:
        _public_streets.append(provider)
    return provider


def public_streets() -> list[dict]:
    """[{"id", "name", "district", "district_name"}] in display order (the district None for a street
    office on its own)."""
    return [street for provider in _public_streets for street in provider()]


def public_part_keys() -> list[str]:
    return list(_public_parts)


# --- Staff workbench ----------------------------------------------------------------------------------
# The admin index shows the signed-in staff member's to-dos. Each app's provider returns its to-dos for
# the user's scope, counted in SQL (one aggregate query per app), each linking to the filtered list.


@dataclass(frozen=True)
class Todo:
    key: str
    label: str
    count: int
    url: str


TodoProvider = Callable[[object], list[Todo]]

_todo_providers: list[TodoProvider] = []


def register_todo(provider: TodoProvider) -> TodoProvider:
    if provider not in _todo_providers:
        _todo_providers.append(provider)
    return provider


def todos(user) -> list[Todo]:
    return [todo for provider in _todo_providers for todo in provider(user)]


# --- Workbench charts ---------------------------------------------------------------------------------
# The charts under the to-dos, for the user's scope and the filter chosen above them. Each app's provider
# returns its charts, each computed by one grouped query of its selectors over what the user may see, so
# the page costs the same number of queries however many rows there are.


@dataclass(frozen=True)
class ChartFilter:
    """What the workbench's filter form chose: one community of the user's (None: all they may see) and
    one quarter (None: no period — all time, and the 12 months / 4 quarters up to today)."""

    community_id: int | None = None
    quarter: Quarter | None = None


ChartProvider = Callable[[object, ChartFilter], list[Chart]]
CommunitiesProvider = Callable[[object], list[tuple[int, str]]]

_chart_providers: list[ChartProvider] = []
_communities_providers: list[CommunitiesProvider] = []


def register_chart(provider: ChartProvider) -> ChartProvider:
    if provider not in _chart_providers:
        _chart_providers.append(provider)
    return provider


def charts(user, chart_filter: ChartFilter) -> list[Chart]:
    return [chart for provider in _chart_providers for chart in provider(user, chart_filter)]


def register_staff_communities(provider: CommunitiesProvider) -> CommunitiesProvider:
    """The members app says which communities a staff member works for: (id, name), in display order.
    The workbench offers them in its filter and links their QR posters."""
    if provider not in _communities_providers:
        _communities_providers.append(provider)
    return provider


def staff_communities(user) -> list[tuple[int, str]]:
    return [community for provider in _communities_providers for community in provider(user)]


def chart_months(chart_filter: ChartFilter) -> list[date]:
    """The 12 months a per-month chart shows: up to this month, or up to the last month of the quarter chosen."""
    return last_months(today=chart_filter.quarter.last_day if chart_filter.quarter else None)


def chart_quarters(chart_filter: ChartFilter, count: int = 4) -> list[Quarter]:
    """The `count` quarters a per-quarter chart shows, oldest first: up to this one, or up to the one chosen."""
    quarter = chart_filter.quarter or Quarter.current()
    quarters = [quarter]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    return quarters[::-1]

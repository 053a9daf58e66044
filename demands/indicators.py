"""The demands app's assessment indicators (按季度考核): needs completed on time and residents' ratings.
Registered with `alliance.reports` at start-up; each computes {unit id: value} for a street's quarter in
one query (`selectors.unit_quarter_need_figures`)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.periods import Quarter

from . import selectors


def needs_on_time(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    """On-time completions / completions; a unit that completed nothing has no rate (not a zero)."""
    return {
        row["unit_id"]: reports.fraction(row["on_time"], row["completed"])
        for row in selectors.unit_quarter_need_figures(street_id=street_id, quarter=quarter)
        if row["completed"]
    }


def ratings(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    """The average rating (1–5) residents gave the needs the unit completed; none rated: no value."""
    return {
        row["unit_id"]: reports.fraction(row["rating_sum"], row["rated"])
        for row in selectors.unit_quarter_need_figures(street_id=street_id, quarter=quarter)
        if row["rated"]
    }


NEEDS_ON_TIME = reports.Indicator(
    code="needs_on_time",
    label=_("Needs completed on time"),
    explanation=_(
        "Of the needs dispatched to your unit and completed this quarter, the share completed within "
        "7 working days of their dispatch (official holidays do not count, make-up working days do). If "
        "your unit completed no need this quarter, this indicator does not count and the others carry its "
        "weight."
    ),
    order=20,
    values=needs_on_time,
    format=reports.Format.PERCENT,
    default_weight=Decimal("20"),
    default_full_marks=Decimal("1"),
)

RATINGS = reports.Indicator(
    code="ratings",
    label=_("Residents' ratings"),
    explanation=_(
        "The average rating (1 to 5 stars) residents gave the needs your unit completed this quarter. "
        "If none was rated, this indicator does not count and the others carry its weight."
    ),
    order=30,
    values=ratings,
    format=reports.Format.DECIMAL,
    default_weight=Decimal("15"),
    default_full_marks=Decimal("5"),
)


def register() -> None:
    reports.register_indicator(NEEDS_ON_TIME)
    reports.register_indicator(RATINGS)

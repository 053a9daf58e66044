"""The meetings app's assessment indicators (按季度考核): meeting attendance and resolutions done by their
due date. Registered with `alliance.reports` at start-up; one query each per street and quarter."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.periods import ZONE, Quarter

from . import selectors


def attendance(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    """Attended / invited over the meetings held in the quarter; a unit invited to none has no rate."""
    return {
        row["unit_id"]: reports.fraction(row["attended"], row["invited"])
        for row in selectors.unit_quarter_attendance(street_id=street_id, quarter=quarter)
        if row["invited"]
    }


def resolutions_on_time(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    """Done by the due date / due in the quarter; a unit that owned none due has no rate."""
    # "By the due date" is a day in Beijing, whatever zone the caller (a request, a task) has active.
    with timezone.override(ZONE):
        rows = list(selectors.unit_quarter_resolutions(street_id=street_id, quarter=quarter))
    return {row["owner_id"]: reports.fraction(row["done_on_time"], row["due"]) for row in rows if row["due"]}


ATTENDANCE = reports.Indicator(
    code="attendance",
    label=_("Meeting attendance"),
    explanation=_(
        "Of the joint meetings held this quarter that your unit was invited to, the share it attended. "
        "If your unit was invited to none, this indicator does not count and the others carry its weight."
    ),
    order=40,
    values=attendance,
    format=reports.Format.PERCENT,
    default_weight=Decimal("15"),
    default_full_marks=Decimal("1"),
)

RESOLUTIONS_ON_TIME = reports.Indicator(
    code="resolutions_on_time",
    label=_("Resolutions done on time"),
    explanation=_(
        "Of the meeting resolutions your unit owns that fell due this quarter, the share marked done by "
        "their due date. If none fell due, this indicator does not count and the others carry its weight."
    ),
    order=50,
    values=resolutions_on_time,
    format=reports.Format.PERCENT,
    default_weight=Decimal("15"),
    default_full_marks=Decimal("1"),
)


def register() -> None:
    reports.register_indicator(ATTENDANCE)
    reports.register_indicator(RESOLUTIONS_ON_TIME)

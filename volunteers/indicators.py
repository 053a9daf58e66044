"""The volunteers app's assessment indicator (按季度考核): verified service hours of the unit's in-service
Party members. Registered with `alliance.reports` at start-up; one query per street and quarter."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.periods import Quarter

from . import selectors


def service_hours(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    return {
        row["member__work_unit_id"]: Decimal(row["hours"])
        for row in selectors.unit_quarter_service_hours(street_id=street_id, quarter=quarter)
    }


SERVICE_HOURS = reports.Indicator(
    code="service_hours",
    label=_("Volunteer service hours"),
    explanation=_(
        "The volunteer service hours, verified by community staff, that in-service Party members working "
        "at your unit gave where they live this quarter. No hours score nothing here."
    ),
    order=60,
    values=service_hours,
    format=reports.Format.DECIMAL,
    default_weight=Decimal("15"),
    default_full_marks=Decimal("20"),
    missing_is_zero=True,
)


def register() -> None:
    reports.register_indicator(SERVICE_HOURS)

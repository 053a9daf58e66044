"""The projects app's assessment indicator (按季度考核): claims fulfilled. Registered with
`alliance.reports` at start-up; one query per street and quarter (`selectors.unit_quarter_claims_fulfilled`)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from alliance import reports
from alliance.periods import Quarter

from . import selectors


def claims_fulfilled(street_id: int, quarter: Quarter) -> dict[int, Decimal]:
    return {
        row["unit_id"]: Decimal(row["fulfilled"])
        for row in selectors.unit_quarter_claims_fulfilled(street_id=street_id, quarter=quarter)
    }


CLAIMS_FULFILLED = reports.Indicator(
    code="claims_fulfilled",
    label=_("Claims fulfilled"),
    explanation=_(
        "The service projects your unit claimed that finished this quarter with your claim approved "
        "and kept. A unit that fulfilled none scores nothing here."
    ),
    order=10,
    values=claims_fulfilled,
    format=reports.Format.INTEGER,
    default_weight=Decimal("20"),
    default_full_marks=Decimal("3"),
    missing_is_zero=True,
)


def register() -> None:
    reports.register_indicator(CLAIMS_FULFILLED)

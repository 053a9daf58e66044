"""Helpers for the assessment tests: moments in Beijing time and a unit's quarter of real rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from alliance.periods import ZONE, Quarter
from members import assessments
from members.models import Assessment, AssessmentScheme, Street

Q2 = Quarter(2026, 2)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on the street's clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def set_weights(street: Street, year: int, **weights: tuple[str, str] | str) -> AssessmentScheme:
    """Set the year's scheme: code="weight" or code=("weight", "full marks"); codes not named are disabled."""
    scheme = assessments.scheme_for(street=street, year=year)
    for item in scheme.items.all():
        given = weights.get(item.code)
        if given is None:
            item.enabled = False
        else:
            weight, full_marks = given if isinstance(given, tuple) else (given, item.full_marks)
            item.weight, item.full_marks, item.enabled = Decimal(weight), Decimal(full_marks), True
        item.save()
    return scheme


def compute(street: Street, quarter: Quarter = Q2) -> int:
    return assessments.assessments_compute(street=street, quarter=quarter)


def assessment_of(unit, quarter: Quarter = Q2) -> Assessment:
    return Assessment.objects.get(unit=unit, year=quarter.year, quarter=quarter.quarter)


def lines_of(assessment: Assessment) -> dict[str, tuple]:
    """{code: (value, weight, points, applicable)} as stored."""
    return {
        line.code: (line.value, line.weight, line.points, line.applicable)
        for line in assessment.lines.order_by("order")
    }

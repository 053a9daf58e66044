"""Filters shared by the apps' APIs."""

from __future__ import annotations

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters import fields


class IsoDateTimeField(fields.IsoDateTimeField):
    """An ISO 8601 time in UTC. PostgreSQL refuses offsets beyond ±15:59 (Python takes up to ±23:59), and an
    aborted query is a 500: the time is compared in UTC, and one that UTC cannot hold is invalid input."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField

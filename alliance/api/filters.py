"""Filters shared by the apps' APIs."""

from __future__ import annotations

import datetime

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django_filters import fields
from rest_framework import filters
from rest_framework.exceptions import ValidationError


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
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=field` or `-field`, one field at a time, from the view's `ordering_fields` only: each such
    order (ended by the primary key, see `alliance.api.pagination`) has an index of its own. Several fields
    at once would need an index per combination, so they answer 400; a field the view does not offer is
    ignored, as before. A view without `ordering_fields` offers none (DRF would offer every serializer
    field, none of them indexed)."""

    def get_valid_fields(self, queryset, view, context=None):
        if getattr(view, "ordering_fields", None) is None:
            return []
        return super().get_valid_fields(queryset, view, context)

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if request.query_params.get(self.ordering_param) and ordering and len(ordering) > 1:
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("Order by one field at a time: %(fields)s.") % {"fields": ", ".join(ordering)}
                    ]
                }
            )
        return ordering

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from alliance.api.filters import IsoDateTimeFilter

from ..models import Booking, Need, Resource, Venue
from ..selectors import overdue_q


class NeedFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    submitted_after = IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Need
        # Staff look a need up by the code a resident reads out on the phone (unique, so indexed).
        fields = ["status", "kind", "category", "community", "unit", "tracking_code"]

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class ResourceFilter(django_filters.FilterSet):
    community = django_filters.NumberFilter(field_name="unit__community")

    class Meta:
        model = Resource
        fields = ["unit", "category", "kind", "status", "is_free"]


class VenueFilter(django_filters.FilterSet):
    unit = django_filters.NumberFilter(field_name="resource__unit")
    community = django_filters.NumberFilter(field_name="resource__unit__community")
    category = django_filters.NumberFilter(field_name="resource__category")

    class Meta:
        model = Venue
        fields = ["is_public"]


class BookingFilter(django_filters.FilterSet):
    start_after = IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = IsoDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["venue", "status", "unit", "community"]

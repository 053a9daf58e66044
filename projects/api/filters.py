from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from ..models import ProjectClaim, ServiceActivity, ServiceProject


class ProjectFilter(django_filters.FilterSet):
    demonstration = django_filters.BooleanFilter(field_name="is_demonstration")
    has_places = django_filters.BooleanFilter(method="filter_has_places", label=_("has places left"))
    street_wide = django_filters.BooleanFilter(field_name="community", lookup_expr="isnull")

    class Meta:
        model = ServiceProject
        fields = ["category", "community", "status"]

    def filter_has_places(self, queryset, name, value):
        return queryset.filter(places_left_db__gt=0) if value else queryset.filter(places_left_db__lte=0)


class ClaimFilter(django_filters.FilterSet):
    class Meta:
        model = ProjectClaim
        fields = ["project", "unit", "status"]


class ActivityFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="claim__project")
    unit = django_filters.NumberFilter(field_name="claim__unit")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = ServiceActivity
        fields = ["claim"]

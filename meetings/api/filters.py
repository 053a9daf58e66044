from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from alliance.api.filters import IsoDateTimeFilter

from .. import selectors
from ..models import JointMeeting, Resolution


class MeetingFilter(django_filters.FilterSet):
    start_after = IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = IsoDateTimeFilter(field_name="start", lookup_expr="lt")
    unit = django_filters.NumberFilter(field_name="invitations__unit", distinct=True, label=_("invited unit"))

    class Meta:
        model = JointMeeting
        # `street` and `district`: a district's staff look at one street's meetings, or at the district's own.
        fields = ["level", "kind", "status", "community", "street", "district"]


class ResolutionFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = Resolution
        fields = ["owner", "status", "meeting"]

    def filter_overdue(self, queryset, name, value):
        overdue = selectors.overdue_q()
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

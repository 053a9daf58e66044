from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from ..models import Agreement, MemberUnit


class UnitFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(field_name="unit_type", choices=MemberUnit.UnitType.choices)

    class Meta:
        model = MemberUnit
        fields = ["community", "sector", "level", "status"]


class AgreementFilter(django_filters.FilterSet):
    current = django_filters.BooleanFilter(
        field_name="superseded_at", lookup_expr="isnull", label=_("in force (the latest version)")
    )

    class Meta:
        model = Agreement
        fields = ["unit"]

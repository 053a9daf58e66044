from __future__ import annotations

import django_filters

from ..models import MemberUnit


class UnitFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(field_name="unit_type", choices=MemberUnit.UnitType.choices)

    class Meta:
        model = MemberUnit
        fields = ["community", "sector", "level", "status"]

"""Exporters of the members app: a header and plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from alliance.exports import choice_labels

from .models import MemberUnit

# The background-job kind of the unit export (registered in `extensions`, queued by the admin action).
EXPORT_UNITS = "export.units"


def unit_rows(units: QuerySet[MemberUnit]) -> tuple[str, list[str], Iterator[list[object]]]:
    header = [
        _("Name"),
        _("Unified social credit code"),
        _("Unit type"),
        _("Administrative level"),
        _("Sector branch"),
        _("Community"),
        _("Address"),
        _("Party organisation"),
        _("Kind of Party organisation"),
        _("Party secretary"),
        _("Liaison"),
        _("Liaison's mobile phone"),
        _("Number of Party members"),
        _("Joined on"),
        _("Status"),
    ]

    types, levels, org_kinds, statuses = (
        choice_labels(MemberUnit, f) for f in ("unit_type", "level", "party_org_kind", "status")
    )

    def rows() -> Iterator[list[object]]:
        # iterator(): the export streams rows instead of caching the whole queryset.
        for unit in units.select_related("community", "sector").iterator(chunk_size=2000):
            yield [
                unit.name,
                unit.credit_code,
                types.get(unit.unit_type, unit.unit_type),
                levels.get(unit.level, unit.level),
                unit.sector.name if unit.sector else "",
                unit.community.name,
                unit.address,
                unit.party_org_name,
                org_kinds.get(unit.party_org_kind, unit.party_org_kind),
                unit.secretary_name,
                unit.liaison_name,
                unit.liaison_phone,
                unit.party_member_count,
                unit.joined_on,
                statuses.get(unit.status, unit.status),
            ]

    return _("Member units"), header, rows()

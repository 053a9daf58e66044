"""Import of member units from the street's spreadsheets, and export in the same layout.

A row is the same unit as a stored one when their unified social credit codes match, or — for units
without a code (military units, some institutions) — when name and community match; such a row updates
the unit instead of adding another. Rows are checked by the services' rules (`unit_build`, `unit_change`)
and written a batch at a time (`units_record`, `units_save`)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance import permissions
from alliance.imports import (
    Column,
    Importer,
    RowResult,
    ScopedNames,
    choice,
    credit_code,
    day,
    email,
    phone,
    text,
    whole_number,
)
from alliance.validators import credit_code_check_char

from . import selectors, services
from .models import MemberUnit, Sector

# The stored fields a row carries (status only for new units: a stored unit's status changes through
# the approve / reject / withdraw actions, which notify and grant accounts).
UNIT_KEYS = (
    "name",
    "credit_code",
    "unit_type",
    "level",
    "sector",
    "community",
    "address",
    "party_org_name",
    "party_org_kind",
    "secretary_name",
    "liaison_name",
    "liaison_phone",
    "liaison_email",
    "party_member_count",
    "joined_on",
)


def _max(name: str) -> int:
    return MemberUnit._meta.get_field(name).max_length


def _example_credit_code() -> str:
    body = "91140106MA0K000001"[:17]
    return body + credit_code_check_char(body)


class UnitImporter(Importer):
    model = MemberUnit
    sheet_title = gettext_lazy("Member units")
    file_stem = gettext_lazy("member-units")
    job_kind = "import.units"
    export_kind = "export.units_layout"
    # The labels of `exports.unit_rows`, so the plain export reads back too (it lacks the e-mail).
    columns = (
        Column("name", gettext_lazy("Name"), text(_max("name")), required=True, example=gettext_lazy("Example unit")),
        Column(
            "credit_code",
            gettext_lazy("Unified social credit code"),
            credit_code(),
            blank_keeps=True,
            example=_example_credit_code(),
        ),
        Column(
            "unit_type",
            gettext_lazy("Unit type"),
            choice(MemberUnit.UnitType),
            required=True,
            export=lambda u: u.get_unit_type_display(),
            example=MemberUnit.UnitType.PRIVATE_ENTERPRISE.label,
        ),
        Column(
            "level",
            gettext_lazy("Administrative level"),
            choice(MemberUnit.Level),
            required=True,
            export=lambda u: u.get_level_display(),
            example=MemberUnit.Level.DISTRICT.label,
        ),
        Column(
            "sector",
            gettext_lazy("Sector branch"),
            text(Sector._meta.get_field("name").max_length),
            export=lambda u: u.sector.name if u.sector_id else "",
        ),
        Column(
            "community",
            gettext_lazy("Community"),
            text(),
            required=True,
            export=lambda u: u.community.name,
        ),
        Column("address", gettext_lazy("Address"), text(_max("address")), example=gettext_lazy("Example address")),
        Column("party_org_name", gettext_lazy("Party organisation"), text(_max("party_org_name"))),
        Column(
            "party_org_kind",
            gettext_lazy("Kind of Party organisation"),
            choice(MemberUnit.PartyOrgKind),
            blank_keeps=True,
            export=lambda u: u.get_party_org_kind_display(),
            example=MemberUnit.PartyOrgKind.BRANCH.label,
        ),
        Column("secretary_name", gettext_lazy("Party secretary"), text(_max("secretary_name"))),
        Column(
            "liaison_name",
            gettext_lazy("Liaison"),
            text(_max("liaison_name")),
            required=True,
            example=gettext_lazy("Example liaison"),
        ),
        Column("liaison_phone", gettext_lazy("Liaison's mobile phone"), phone(), required=True, example="13800000000"),
        Column("liaison_email", gettext_lazy("Liaison's e-mail"), email()),
        Column(
            "party_member_count",
            gettext_lazy("Number of Party members"),
            whole_number(),
            blank_keeps=True,
            example=10,
        ),
        Column("joined_on", gettext_lazy("Joined on"), day(), blank_keeps=True),
        Column(
            "status",
            gettext_lazy("Status"),
            choice(MemberUnit.Status),
            blank_keeps=True,
            export=lambda u: u.get_status_display(),
            example=MemberUnit.Status.ACTIVE.label,
        ),
    )

    def export_queryset(self, queryset):
        return queryset.select_related("community", "sector").order_by("community_id", "name", "id")

    def example_row(self) -> list[object]:
        row = super().example_row()
        community = selectors.communities_administered_by(user=self.actor).order_by("sort_order", "id").first()
        row[[c.key for c in self.columns].index("community")] = community.name if community else ""
        return row

    # --- Validation ---

    def start(self) -> None:
        administered = selectors.communities_administered_by(user=self.actor)
        self.communities = ScopedNames(
            selectors.communities_public(), allowed_ids=administered.values_list("pk", flat=True)
        )
        self.sectors = {(s.street_id, s.name): s for s in Sector.objects.all()}

    def prepare(self, rows: list[RowResult]) -> None:
        codes = {row.values.get("credit_code") for row in rows} - {None, ""}
        names = {row.values.get("name") for row in rows} - {None, ""}
        # Rejected applications do not count: the unit may apply or be recorded again.
        stored = (
            MemberUnit.objects.exclude(status=MemberUnit.Status.REJECTED)
            .filter(Q(credit_code__in=codes) | Q(name__in=names))
            .select_related("community", "sector")
        )
        self.by_code: dict[str, MemberUnit] = {}
        self.by_name: dict[tuple[str, int], list[MemberUnit]] = {}
        for unit in stored:
            if unit.credit_code:
                self.by_code[unit.credit_code] = unit
            self.by_name.setdefault((unit.name, unit.community_id), []).append(unit)

    def clean_row(self, row: RowResult) -> None:
        values = row.values
        community = None
        if values.get("community"):
            community = self.communities.find(row, self.column("community"), values["community"])
        values["community"] = community
        if values.get("sector"):
            sector = None
            if community is not None:
                sector = self.sectors.get((community.street_id, values["sector"]))
                if sector is None:
                    row.error(_("“%(name)s” was not found.") % {"name": values["sector"]}, self.column("sector"))
            values["sector"] = sector
        elif "sector" in values:
            values["sector"] = None
        target = self._stored(row, community)
        if target is not None and not permissions.can_change(self.actor, target):
            row.error(
                _("This unit is recorded in %(community)s, which you do not work for.")
                % {"community": target.community.name}
            )
        if target is not None and values.get("status") and values["status"] != target.status:
            row.error(
                _(
                    "The status of a recorded unit (now “%(status)s”) is changed with the actions on the unit "
                    "list, not by import."
                )
                % {"status": target.get_status_display()},
                self.column("status"),
            )
        if not row.ok:
            return
        if target is None:
            row.action = "create"
            return
        row.target = target
        row.changes = self.changes(target, values, UNIT_KEYS)
        row.action = "update" if row.changes else "unchanged"

    def _stored(self, row: RowResult, community) -> MemberUnit | None:
        code = row.values.get("credit_code")
        if code:
            return self.by_code.get(code)
        if community is None or not row.values.get("name"):
            return None
        found = self.by_name.get((row.values["name"], community.pk), [])
        if len(found) > 1:
            row.error(
                _("Several units named “%(name)s” are recorded in %(community)s; add the credit code to say which.")
                % {"name": row.values["name"], "community": community.name}
            )
            return None
        return found[0] if found else None

    def row_key(self, row: RowResult) -> object | None:
        if row.values.get("credit_code"):
            return ("code", row.values["credit_code"])
        if row.values.get("community") is not None and row.values.get("name"):
            return ("name", row.values["name"], row.values["community"].pk)
        return None

    # --- Writing ---

    def build(self, row: RowResult) -> MemberUnit:
        data = {key: value for key, value in row.values.items() if key in (*UNIT_KEYS, "status")}
        return services.unit_build(actor=self.actor, data=data)

    def change(self, row: RowResult) -> MemberUnit:
        return services.unit_change(unit=row.target, actor=self.actor, data=row.changes)

    def save(self, new: list[MemberUnit], changed: list[MemberUnit], fields: set[str]) -> None:
        services.units_record(actor=self.actor, units=new)
        services.units_save(actor=self.actor, units=changed, fields=fields)

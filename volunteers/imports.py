"""Import of in-service Party members (双报到) from the street's spreadsheets, and export in the same layout.

A person is identified by the phone, and registers per residence community: a row whose phone and
residence community match an active registration (waiting or verified) updates it; any other row
registers the member, waiting for the community's verification. Rows are checked by the services' rules
(`member_build`, `member_change`) and written a batch at a time (`members_record`, `members_save`); the
communities' staff get one message each for the whole import (`members_imported_notify`)."""

from __future__ import annotations

from collections import Counter

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.imports import Column, Importer, RowResult, ScopedNames, phone, text
from members import selectors as member_selectors

from . import services
from .models import PartyMember
from .services import STAFF_FIELDS

# The member unit model, reached through the relation rather than imported from the members app.
MemberUnit = PartyMember._meta.get_field("work_unit").related_model
UNIT_ACTIVE = "active"
UNIT_REJECTED = "rejected"

# What staff may correct on a registration. The phone is the person's identity (and their account's
# name), the community is changed by `services.member_move`, the status by verification.


def _max(name: str) -> int:
    return PartyMember._meta.get_field(name).max_length


# The fields the columns' parsers below validate exactly as the model would (length, blank, the phone's
# form), so `services.member_build` does not run `full_clean` on them again for every row. A field whose
# column is absent from a file keeps its model default, which is valid.
# `tests/volunteers/test_import_history.py` holds each parser to its field's rules.
CHECKED_FIELDS = ("name", "phone", "work_unit_name", "party_branch", "skills")


class MemberImporter(Importer):
    model = PartyMember
    sheet_title = gettext_lazy("In-service Party members")
    file_stem = gettext_lazy("party-members")
    job_kind = "import.members"
    export_kind = "export.members"
    columns = (
        Column("name", gettext_lazy("Name"), text(_max("name")), required=True, example=gettext_lazy("Example member")),
        Column("phone", gettext_lazy("Mobile phone"), phone(), required=True, example="13900000000"),
        Column(
            "work_unit",
            gettext_lazy("Work unit"),
            text(_max("work_unit_name")),
            required=True,
            export=lambda m: m.work_unit_label,
        ),
        Column(
            "party_branch",
            gettext_lazy("Party branch"),
            text(_max("party_branch")),
            example=gettext_lazy("Example Party branch"),
        ),
        Column(
            "residence_community",
            gettext_lazy("Residence community"),
            text(),
            required=True,
            export=lambda m: m.residence_community.name,
        ),
        Column("skills", gettext_lazy("Skills"), text(_max("skills"))),
    )

    def export_queryset(self, queryset):
        # Only the columns the layout writes: a city's export is a million rows, and every other field
        # (dates above all) costs parsing on each.
        return (
            queryset.select_related("work_unit", "residence_community")
            .only(
                "name",
                "phone",
                "work_unit_name",
                "party_branch",
                "skills",
                "work_unit__name",
                "residence_community__name",
            )
            .order_by("residence_community_id", "name", "id")
        )

    def example_row(self) -> list[object]:
        row = super().example_row()
        keys = [c.key for c in self.columns]
        community = member_selectors.communities_administered_by(user=self.actor).order_by("sort_order", "id").first()
        unit = MemberUnit.objects.filter(status=UNIT_ACTIVE).order_by("id").first()
        row[keys.index("residence_community")] = community.name if community else ""
        row[keys.index("work_unit")] = unit.name if unit else ""
        return row

    # --- Validation ---

    def start(self) -> None:
        administered = member_selectors.communities_administered_by(user=self.actor)
        self.communities = ScopedNames(
            member_selectors.communities_public(), allowed_ids=administered.values_list("pk", flat=True)
        )
        self.registered: Counter[int] = Counter()  # new registrations by community, for `finish`

    def prepare(self, rows: list[RowResult]) -> None:
        self.today = timezone.localdate()  # the registration date of the batch's new rows
        unit_names = {row.values.get("work_unit") for row in rows} - {None, ""}
        self.units: dict[str, list] = {}
        for unit in MemberUnit.objects.exclude(status=UNIT_REJECTED).filter(name__in=unit_names).order_by("id"):
            self.units.setdefault(unit.name, []).append(unit)
        phones = {row.values.get("phone") for row in rows} - {None, ""}
        self.registrations = {
            (m.phone, m.residence_community_id): m
            for m in PartyMember.objects.filter(phone__in=phones, status__in=PartyMember.ACTIVE).select_related(
                "work_unit", "residence_community"
            )
        }

    def clean_row(self, row: RowResult) -> None:
        values = row.values
        community = None
        if values.get("residence_community"):
            community = self.communities.find(row, self.column("residence_community"), values["residence_community"])
        values["residence_community"] = community
        target = None
        if community is not None and values.get("phone"):
            target = self.registrations.get((values["phone"], community.pk))
        if values.get("work_unit"):
            self._work_unit(row, target)
        if not row.ok:
            return
        if target is None:
            row.action = "create"
            return
        row.target = target
        row.changes = self.changes(target, values, STAFF_FIELDS)
        row.action = "update" if row.changes else "unchanged"

    def _work_unit(self, row: RowResult, target: PartyMember | None) -> None:
        """A member unit by its name, or the name kept as text when the unit has not joined."""
        name = row.values.pop("work_unit")
        candidates = self.units.get(name, [])
        if target is not None and target.work_unit_id and target.work_unit.name == name:
            unit = target.work_unit  # the unit the registration names already, even when others share the name
        elif len(candidates) > 1:
            active = [u for u in candidates if u.status == UNIT_ACTIVE]
            if len(active) != 1:
                row.error(
                    _("several member units are named “%(name)s”; the name does not say which.") % {"name": name},
                    self.column("work_unit"),
                )
                return
            unit = active[0]
        else:
            unit = candidates[0] if candidates else None
        if unit is None:
            row.notes.append(_("“%(name)s” is not a member unit; its name is kept as the work unit.") % {"name": name})
        row.values["work_unit"] = unit
        row.values["work_unit_name"] = "" if unit is not None else name

    def row_key(self, row: RowResult) -> object | None:
        community = row.values.get("residence_community")
        if community is None or not row.values.get("phone"):
            return None
        return (row.values["phone"], community.pk)

    # --- Writing ---

    def build(self, row: RowResult) -> PartyMember:
        data = {key: value for key, value in row.values.items() if key in services.MEMBER_FIELDS}
        return services.member_build(data=data, actor=self.actor, checked=CHECKED_FIELDS, today=self.today)

    def change(self, row: RowResult) -> PartyMember:
        return services.member_change(member=row.target, actor=self.actor, data=row.changes)

    def save(self, new: list[PartyMember], changed: list[PartyMember], fields: set[str]) -> None:
        services.members_record(actor=self.actor, members=new)
        services.members_save(actor=self.actor, members=changed, fields=fields)
        self.registered.update(member.residence_community_id for member in new)

    def finish(self) -> None:
        services.members_imported_notify(registered=dict(self.registered))

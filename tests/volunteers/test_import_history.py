"""The import's cheaper per-row path (issue 12) keeps its guarantees: the history rows written as values
(`alliance.history._insert_history`) are exactly the rows simple_history's own bulk path writes — who,
when, why, which type, every tracked field — and the fields `member_build` no longer cleans for an import
row are the ones the import's column parsers hold to the model's rules."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone
from openpyxl import Workbook
from simple_history.utils import get_history_manager_for_model

from alliance import history
from alliance.imports import Mode
from volunteers.imports import CHECKED_FIELDS, MemberImporter
from volunteers.models import PartyMember

from .factories import PartyMemberFactory

HistoricalPartyMember = get_history_manager_for_model(PartyMember).model
# Only the row's own id and its instant differ between two writes of the same history.
IGNORED = {"history_id", "history_date"}


def _fields(row) -> dict:
    return {k: v for k, v in model_to_dict(row, fields=[f.name for f in row._meta.fields]).items() if k not in IGNORED}


def _reference_rows(members: list[PartyMember], *, update: bool, user, reason: str) -> list[dict]:
    """What simple_history's own bulk path writes for `members`, read back, then removed again."""
    last = max(HistoricalPartyMember.objects.values_list("history_id", flat=True))
    get_history_manager_for_model(PartyMember).bulk_history_create(
        members, update=update, default_user=user, default_change_reason=reason
    )
    rows = list(HistoricalPartyMember.objects.filter(history_id__gt=last))
    assert len(rows) == len(members)
    found = {row.id: _fields(row) for row in rows}
    HistoricalPartyMember.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return [found[m.pk] for m in members]


# 120 rows: more than one statement's worth of parameters on SQLite (55 rows of 18 columns).
@pytest.mark.django_db
def test_bulk_history_rows_are_those_simple_history_writes(street_staff, community_x, unit_a):
    members = [
        PartyMemberFactory.build(
            residence_community=community_x,
            work_unit=unit_a if n % 2 else None,
            work_unit_name="" if n % 2 else "某科技公司",
            skills="理发" if n % 3 else "",
            verified_at=timezone.now() if n % 5 == 0 else None,
            user=street_staff if n == 7 else None,
        )
        for n in range(120)
    ]
    members[3]._change_reason = "its own reason"  # a reason the object names wins over the default
    before = timezone.now()
    created = history.bulk_create(PartyMember, members, actor=street_staff, reason="registered")
    after = timezone.now()
    assert [m.pk is not None for m in created] == [True] * 120
    rows = {row.id: row for row in HistoricalPartyMember.objects.filter(id__in=[m.pk for m in created])}
    assert len(rows) == 120
    assert all(before <= row.history_date <= after for row in rows.values())
    expected = _reference_rows(created, update=False, user=street_staff, reason="registered")
    assert [_fields(rows[m.pk]) for m in created] == expected
    assert rows[created[3].pk].history_change_reason == "its own reason"
    assert rows[created[0].pk].history_change_reason == "registered"
    assert rows[created[0].pk].history_user == street_staff and rows[created[0].pk].history_type == "+"

    # The "changed" rows of a bulk update, as they stand in memory.
    for member in created:
        member.skills = "摄影"
    PartyMember.objects.bulk_update(created, ["skills"])
    history.bulk_create_records(PartyMember, created, actor=street_staff, reason="updated by staff")
    changed = {
        row.id: row for row in HistoricalPartyMember.objects.filter(history_type="~", id__in=[m.pk for m in created])
    }
    expected = _reference_rows(created, update=True, user=street_staff, reason="updated by staff")
    assert [_fields(changed[m.pk]) for m in created] == expected
    assert {row.skills for row in changed.values()} == {"摄影"}


@pytest.mark.django_db
def test_an_imported_member_s_history_row_names_who_when_and_why(street_staff, community_x):
    importer = MemberImporter(actor=street_staff)
    workbook = Workbook()
    workbook.active.append(importer.header())
    workbook.active.append(["张伟", "13712345678", "某科技公司", "第一党支部", community_x.name, "理发"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = timezone.now()
    outcome = importer.execute(buffer, mode=Mode.ALL)
    assert outcome.written and outcome.actions["create"] == 1
    member = PartyMember.objects.get(phone="13712345678")
    row = member.history.get()
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", street_staff, "registered")
    assert before <= row.history_date <= timezone.now()
    assert (row.name, row.work_unit_name, row.skills, row.registered_on, row.status) == (
        "张伟",
        "某科技公司",
        "理发",
        timezone.localdate(),
        PartyMember.Status.PENDING,
    )
    assert row.created_at == member.created_at and row.residence_community_id == community_x.pk


# Cells a street's file may hold: short, long, at and past every limit, phones in their written forms.
SAMPLES = [
    "a",
    "张伟",
    "13712345678",
    "+86 137-1234-5678",
    "12345678901",
    "1371234567",
    *("测" * n for n in (11, 12, 30, 31, 100, 101, 200, 201)),
    12345678901.0,
]


@pytest.mark.parametrize("field_name", CHECKED_FIELDS)
def test_the_import_s_parsers_hold_each_field_member_build_leaves_unchecked_to_its_rules(field_name):
    """What a column's parser accepts, the model field accepts too; a blank cell in a column is an error
    unless the field may be blank — so leaving these fields out of `full_clean` loses no check."""
    importer = MemberImporter(actor=None)
    column = importer.column("work_unit" if field_name == "work_unit_name" else field_name)
    field = PartyMember._meta.get_field(field_name)
    assert column.required or field.blank
    accepted = 0
    for sample in SAMPLES:
        try:
            value = column.parse(sample)
        except ValidationError:
            continue
        field.clean(value, None)  # raises if the parser let through what the model refuses
        accepted += 1
    assert accepted >= 2  # the samples reach the field's limits, not only the parser's refusals


@pytest.mark.django_db
def test_the_import_s_history_rows_take_the_fast_path_not_simple_history_s(monkeypatch, street_staff, community_x):
    """A column added to the history (a field type the fast path does not know) would silently send
    every import back through simple_history's per-object path: this fails instead."""
    from simple_history.manager import HistoryManager

    def refuse(*args, **kwargs):
        raise AssertionError("simple_history's per-object path was taken")

    monkeypatch.setattr(HistoryManager, "bulk_history_create", refuse)
    members = [PartyMemberFactory.build(residence_community=community_x, work_unit=None, work_unit_name="某单位")]
    created = history.bulk_create(PartyMember, members, actor=street_staff, reason="registered")
    history.bulk_create_records(PartyMember, created, actor=street_staff, reason="updated by staff")
    assert list(PartyMember.history.model.objects.order_by("history_id").values_list("history_type", flat=True)) == [
        "+",
        "~",
    ]


# The rows themselves: on PostgreSQL `history.bulk_create` inserts them from one JSON parameter
# (`_json_bulk_create`), not through Django's `bulk_create`; what lands in the table is the same.
@pytest.mark.django_db
def test_bulk_created_rows_are_those_djangos_bulk_create_writes(street_staff, community_x, unit_a):
    verified = timezone.now()

    def members(prefix: str) -> list[PartyMember]:
        return [
            PartyMemberFactory.build(
                phone=f"{prefix}{n:08d}",
                name=f"成员{n}",
                residence_community=community_x,
                work_unit=unit_a if n % 2 else None,
                work_unit_name="" if n % 2 else "某科技公司",
                verified_at=verified if n % 5 == 0 else None,
                registered_on=timezone.localdate(),
                user=street_staff if n == 7 else None,
            )
            for n in range(30)
        ]

    ours = history.bulk_create(PartyMember, members("137"), actor=street_staff, reason="registered")
    theirs = PartyMember.objects.bulk_create(members("138"))
    assert all(m.pk is not None and not m._state.adding for m in ours)
    assert [m.pk for m in ours] == sorted(m.pk for m in ours)  # each object got its own row's id, in order

    def stored(objs: list[PartyMember]) -> list[dict]:
        rows = PartyMember.objects.filter(pk__in=[m.pk for m in objs]).order_by("pk").values()
        return [{k: v for k, v in row.items() if k not in {"id", "phone", "created_at", "updated_at"}} for row in rows]

    assert stored(ours) == stored(theirs)
    assert [PartyMember.objects.get(pk=m.pk).phone for m in ours] == [m.phone for m in ours]
    assert HistoricalPartyMember.objects.filter(id__in=[m.pk for m in ours]).count() == 30

"""Exporters of the volunteers app: a header and plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from alliance.admin.base import totals_row_label
from alliance.periods import Quarter
from alliance.reports import CHUNK

from . import selectors


def service_card_rows(
    *, work_unit, year: int, quarter: int, community_ids=None
) -> tuple[str, list[str], Iterator[list[object]]]:
    """一单一表一卡: what each of the unit's members did where they live in the quarter. The sheet leaves
    the street office for the work unit, so it carries no phone numbers."""
    members: QuerySet = selectors.service_card(year=year, quarter=quarter, work_unit_id=work_unit.pk)
    if community_ids is not None:  # community staff: what their communities saw
        members = members.filter(residence_community_id__in=list(community_ids))
    header = [
        _("Name"),
        _("Party branch"),
        _("Residence community"),
        _("Verified hours in the quarter"),
        _("Services in the quarter"),
    ]

    def rows() -> Iterator[list[object]]:
        for member in members.iterator(chunk_size=500):
            yield [
                member.name,
                member.party_branch,
                member.residence_community.name,
                float(member.quarter_hours),
                member.quarter_services,
            ]

    title = Quarter(year, quarter).label
    return title, header, rows()


def hours_totals_sheets(
    *, logs: QuerySet, groups: Sequence[tuple[str, object]]
) -> Iterator[tuple[str, list[str], Iterator[list[object]]]]:
    """The totals page's groupings in full, one sheet each (a city's per-member sheet has a million
    rows, streamed from the database `reports.CHUNK` at a time): label, verified hours, services."""
    header = [_("Group"), _("Verified hours"), _("Services")]
    for key, title in groups:

        def rows(key: str = key) -> Iterator[list[object]]:
            for row in selectors.hours_totals_rows(by=key, logs=logs).iterator(chunk_size=CHUNK):
                yield [totals_row_label(key, row), float(row["hours"]), row["services"]]

        yield str(title), header, rows()

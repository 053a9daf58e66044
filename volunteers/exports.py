"""Exporters of the volunteers app: a header and plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, groupby
from operator import itemgetter

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from alliance import permissions
from alliance.admin.base import totals_row_label
from alliance.periods import Quarter
from alliance.reports import CHUNK

from . import selectors

UNIT_ACTIVE = "active"  # MemberUnit.Status.ACTIVE, named here as the volunteers app does elsewhere


# The background-job kind of every unit's service card in one workbook (registered in `extensions`).
EXPORT_SERVICE_CARDS = "export.service_cards"
# Characters a sheet's title may not hold (Excel's rule), and its longest title.
_NOT_IN_TITLE = re.compile(r"[\[\]:*?/\\]")
TITLE_LENGTH = 31


def _card_header() -> list[str]:
    return [
        _("Name"),
        _("Party branch"),
        _("Residence community"),
        _("Verified hours in the quarter"),
        _("Services in the quarter"),
    ]


def _card_row(member) -> list[object]:
    return [
        member.name,
        member.party_branch,
        member.residence_community.name,
        float(member.quarter_hours),
        member.quarter_services,
    ]


def service_card_rows(
    *, work_unit, year: int, quarter: int, community_ids=None
) -> tuple[str, list[str], Iterator[list[object]]]:
    """一单一表一卡: what each of the unit's members did where they live in the quarter. The sheet leaves
    the street office for the work unit, so it carries no phone numbers."""
    members: QuerySet = selectors.service_card(year=year, quarter=quarter, work_unit_id=work_unit.pk)
    if community_ids is not None:  # community staff: what their communities saw
        members = members.filter(residence_community_id__in=list(community_ids))

    def rows() -> Iterator[list[object]]:
        for member in members.iterator(chunk_size=500):
            yield _card_row(member)

    title = Quarter(year, quarter).label
    return title, _card_header(), rows()


def _sheet_title(name: str, used: set[str]) -> str:
    """The unit's name as a sheet title: Excel's forbidden characters out, at most 31 characters, unique."""
    base = _NOT_IN_TITLE.sub("", name).strip() or "-"
    title, number = base[:TITLE_LENGTH], 1
    while title.casefold() in used:
        number += 1
        suffix = f" ({number})"
        title = base[: TITLE_LENGTH - len(suffix)] + suffix
    used.add(title.casefold())
    return title


def service_card_sheets(units: None, user, params: dict) -> Iterator[tuple[str, list[str], Iterator[list[object]]]]:
    """Every work unit's card of a quarter in one workbook, a sheet per unit (in the order of their names),
    from one query over all their members, streamed: what a street sends out at the quarter's end. Street
    staff get every member; community staff what their communities saw (as `service_card_rows`)."""
    members = selectors.service_card(year=params["year"], quarter=params["quarter"]).filter(
        work_unit__status=UNIT_ACTIVE
    )
    seen = permissions.seen_communities(user)
    if seen is not None:  # not every street: the communities the user sees (their streets', their own)
        members = members.filter(residence_community_id__in=list(seen))
    # Plain rows (no model instances: a city's quarter has hundreds of thousands of cards), still one query.
    rows = members.order_by("work_unit__name", "work_unit_id", "name", "pk").values_list(
        "work_unit_id",
        "work_unit__name",
        "name",
        "party_branch",
        "residence_community__name",
        "quarter_hours",
        "quarter_services",
    )
    used: set[str] = set()
    header = _card_header()
    for _unit_id, group in groupby(rows.iterator(chunk_size=2000), key=itemgetter(0)):
        first = next(group)
        yield (
            _sheet_title(first[1], used),
            header,
            (
                [name, branch, community, float(hours), services]
                for _u, _n, name, branch, community, hours, services in chain((first,), group)
            ),
        )


def hours_totals_sheets(
    *, rows_of: Callable[[str], QuerySet], groups: Sequence[tuple[str, object]]
) -> Iterator[tuple[str, list[str], Iterator[list[object]]]]:
    """The totals page's groupings in full, one sheet each (a city's per-member sheet has a million
    rows, streamed from the database `reports.CHUNK` at a time): label, verified hours, services.
    `rows_of(key)`: the grouping's rows, from the monthly sums (`selectors.hours_summary_rows`) or, for
    filters those cannot answer, from the logs (`selectors.hours_totals_rows`)."""
    header = [_("Group"), _("Verified hours"), _("Services")]
    for key, title in groups:

        def rows(key: str = key) -> Iterator[list[object]]:
            for row in rows_of(key).iterator(chunk_size=CHUNK):
                yield [totals_row_label(key, row), float(row["hours"]), row["services"]]

        yield str(title), header, rows()

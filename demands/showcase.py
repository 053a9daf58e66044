"""The showcase (晒单) as anonymous visitors read it, per street: its count and first rows come from the
public snapshot (`alliance.public_figures`, refreshed in the background), so the home, `/showcase/` and
`GET /api/v1/public/showcase/` run no COUNT and no query for their first pages; a page beyond the stored
rows is one indexed query. No contact column is ever read or stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from alliance import public_figures

from . import selectors
from .models import Need

PART = "showcase"
# The first pages: five of the page's 12 and the one row more that tells the page whether a sixth follows
# (alliance.pagination.page_of), three of the API's 20 (or one of up to 60 rows).
ROWS = 61


def compute(street_ids: Sequence[int]) -> Mapping[int, dict[str, Any]]:
    """The snapshot part of each street (plain JSON): how many needs it shows, and the newest ROWS of
    them — two queries for all streets."""
    counts = selectors.showcase_counts_by_street()
    parts: dict[int, dict[str, Any]] = {
        street_id: {"count": counts.get(street_id, 0), "rows": []} for street_id in street_ids
    }
    for need in selectors.showcase_first_by_street(rows=ROWS):
        if need.street_id in parts:
            parts[need.street_id]["rows"].append(_row(need))
    return parts


def _row(need: Need) -> dict[str, Any]:
    return {
        "id": need.pk,
        "title": need.title,
        "category": need.category.name,
        "community": need.community.name,
        "unit": need.unit.name if need.unit_id else None,
        # Full precision, so the API writes a stored row exactly as it writes the need itself.
        "submitted_at": need.submitted_at.isoformat(),
        "completed_at": need.completed_at.isoformat() if need.completed_at else None,
        "result": need.result,
        "rating": need.rating,
    }


def _item(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row shaped like the need it was made from, for the templates (`need.category.name`,
    `need.submitted_at|date`) and for `ShowcaseSerializer` alike."""
    return {
        **row,
        "pk": row["id"],
        "category": {"name": row["category"]},
        "community": {"name": row["community"]},
        "unit": {"name": row["unit"]} if row["unit"] is not None else None,
        "submitted_at": datetime.fromisoformat(row["submitted_at"]),
        "completed_at": datetime.fromisoformat(row["completed_at"]) if row["completed_at"] else None,
    }


class ShowcaseRows(Sequence):
    """One street's showcase as a paginator sees it (Django's and DRF's): `count()` and the first rows
    from the snapshot; a slice past them is read from the database. Read on first use, like a queryset:
    the API schema's generator asks the view for its rows without reading them. No street (none exists
    yet): nothing to show."""

    def __init__(self, street_id: int | None) -> None:
        self.street_id = street_id

    @cached_property
    def _stored(self) -> dict[str, Any]:
        if self.street_id is None:
            return {"count": 0, "rows": []}
        return public_figures.part(PART, self.street_id) or {"count": 0, "rows": []}

    def count(self) -> int:
        return self._stored["count"]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        rows = self._stored["rows"]
        if index.stop is not None and (index.stop <= len(rows) or len(rows) >= self.count()):
            return [_item(row) for row in rows[index]]
        if self.street_id is None:
            return []
        return list(selectors.showcase(street_id=self.street_id)[index])


def latest(count: int, *, street_id: int | None) -> list[dict[str, Any]]:
    """The street's newest `count` showcased needs, for the home."""
    return ShowcaseRows(street_id)[0:count]

"""The one paginator of the portal's, the public and the staff's HTML lists: previous / next over a page
number, without counting the list and without OFFSET deeper than `MAX_PAGE` pages.

Django's `Paginator` runs an exact COUNT(*) of the list for "page 3 of 812" on every request and lets a
link ask for page 40,000, which the database reaches by reading and discarding every row before it: both
grow with the table. Here a page reads its rows plus one (which says whether there is a next page), in one
query; the address stays `?page=N`, so links made before keep working. Past `MAX_PAGE` the list says to
narrow it with its filters instead (a city's lists are read from the top, the rest is searched)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

# The deepest page offered: at 50 rows a page the database skips at most 4,950 rows.
MAX_PAGE = 100


@dataclass
class Page:
    """One page of a list, the attributes a template reads from Django's `Page` where they still hold."""

    object_list: list[Any]
    number: int
    per_page: int
    more: bool  # there are rows after this page
    query: QueryDict = field(repr=False)
    param: str = "page"

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index: int) -> Any:
        return self.object_list[index]

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.more and self.number < MAX_PAGE

    def has_other_pages(self) -> bool:
        return self.has_previous() or self.has_next()

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def capped(self) -> bool:
        """The last page offered, with rows still after it: the list should be narrowed to reach them."""
        return self.more and self.number >= MAX_PAGE

    def _url(self, number: int) -> str:
        query = self.query.copy()
        if number == 1:
            query.pop(self.param, None)
        else:
            query[self.param] = str(number)
        return f"?{query.urlencode()}" if query else "?"

    @property
    def previous_url(self) -> str:
        return self._url(self.number - 1)

    @property
    def next_url(self) -> str:
        return self._url(self.number + 1)


def page_number(value: str | None) -> int:
    """The page asked for: a whole number from 1 to MAX_PAGE; anything else is the first or the last one."""
    if not value or not value.isdigit() or len(value) > 9:
        return 1
    return min(max(int(value), 1), MAX_PAGE)


def page_of(queryset: QuerySet | Sequence[Any], query: QueryDict, *, per_page: int, param: str = "page") -> Page:
    """The page `query[param]` of `queryset` (already ordered: a stable order, ending on a unique key, is
    what keeps pages from repeating or skipping rows). One query, bounded by MAX_PAGE × per_page; two
    for a page past the end."""
    number = page_number(query.get(param))
    rows = list(queryset[(number - 1) * per_page : number * per_page + 1])
    if not rows and number > 1:
        # Past the end (the list shrank since the link was made): the first page, as Django's get_page
        # would show the last one if it knew where that was without counting.
        number = 1
        rows = list(queryset[: per_page + 1])
    return Page(rows[:per_page], number, per_page, len(rows) > per_page, query, param)

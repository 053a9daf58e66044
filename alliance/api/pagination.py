"""Pages of every API list that cost the same on the first page and the ten-thousandth (ARCHITECTURE "Scale").

The answer keeps SPEC's shape, `{count, next, previous, results}`, but `next` and `previous` carry a
cursor: the sort keys of the last (or first) row shown. The next page is the rows after those keys, read
off the index that serves the list's order (each model's `Meta.indexes`) — no OFFSET, so nothing is
skipped or shown twice when rows are added or removed between two pages, and rows with equal timestamps
are told apart by the primary key, which always ends the order.

`?page=N` still works for the first pages (OFFSET is cheap while it is small); deeper ones answer 400
and point to the `next` links. `count` is exact up to EXACT_COUNT_LIMIT rows; beyond, PostgreSQL's
estimate for the filtered query (EXPLAIN, no rows read) or, elsewhere, a count that stops at a cap —
and then the answer says so with `count_is_estimate: true` (absent when the count is exact). An estimate
is kept in the cache for COUNT_ESTIMATE_SECONDS per list, user and filters (`_list_key`): the next pages of a
big list are read without counting again (issue 12: two statements of the six an API list cost). Exact
counts are never cached: a small list always counts its rows as they are.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import hashlib
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import BooleanField, Expression, F, Field, Model, OrderBy, Q, QuerySet, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from alliance.breaker import Breaker

logger = logging.getLogger(__name__)

# Counted exactly up to here (an index range of at most this many rows); past it, an estimate.
EXACT_COUNT_LIMIT = 1000
# Without a planner estimate to ask (SQLite), counting stops here.
COUNT_CAP = 10_000
# Pages by number reach this many rows deep at most: `?page=N` with OFFSET stays cheap.
MAX_PAGE_OFFSET = 2000
# Without Redis the count is simply taken again: the cache is an economy, never needed.
count_breaker = Breaker("count-estimate cache", pause=30)


# Part of every key; the same in every process unless `forget_estimates` changed it.
_generation = ""

# In front of the shared cache, each process keeps what it last read or wrote there for the same time: a
# list's next pages and next visits then cost no round trip to Redis (one of three a staff list page made).
# It also remembers which lists were counted exactly (at most EXACT_COUNT_LIMIT rows, no estimate kept),
# so that those do not ask Redis for an estimate that is never there. Bounded: the oldest go first.
_LOCAL_MAX = 4096
_COUNTED = object()
_local: dict[str, tuple[float, Any]] = {}
_local_lock = threading.Lock()


def forget_estimates() -> None:
    """Every estimate kept so far is ignored by this process from now on (tests: one test's estimate must not
    answer the next test's identical query, nor one run's the next run's on the same Redis)."""
    global _generation
    _generation = secrets.token_hex(8)
    with _local_lock:
        _local.clear()


def _estimate_key(queryset: QuerySet) -> str | None:
    """The cache key of a query's count past the cap (the admin's change lists, which are not keyed by
    request like the API's): its database and SQL with the parameters (scope, filters); None for a query
    that can hold no row (an empty scope)."""
    # The primary keys only: an annotation the filters do not use (the needs' "overdue", computed against
    # the current time) leaves the SELECT and with it the key.
    keys = queryset.values("pk")
    try:
        sql, params = keys.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return None
    digest = hashlib.sha256(repr((_generation, queryset.db, sql, params)).encode()).hexdigest()
    return f"alliance:api:count:{digest}"


def _list_key(request, queryset: QuerySet, ignored: tuple[str, ...]) -> str | None:
    """The cache key of an API list's estimate, made from what decides the list's rows without compiling its
    query (a twentieth of a short page's time): the list (its path), the user (whose scope is in the query) and
    every query parameter but the position and the page size (the filters, the search, the order). None
    for a query that can hold no row. Two users of the same scope keep an estimate each; an estimate is
    an estimate for up to API_COUNT_ESTIMATE_SECONDS, whatever changes meanwhile (rows, a user's scope)."""
    if queryset.query.is_empty():
        return None
    user = getattr(request, "user", None)
    params = sorted(
        (name, value) for name, values in request.query_params.lists() if name not in ignored for value in values
    )
    signature = (_generation, queryset.db, queryset.model._meta.label, request.path, getattr(user, "pk", None), params)
    return f"alliance:api:count:{hashlib.sha256(repr(signature).encode()).hexdigest()}"


COUNT_CACHE_DOWN = "Count-estimate cache unavailable (%s); counting meanwhile"


def _remember(key: str, value: Any) -> None:
    with _local_lock:
        if len(_local) >= _LOCAL_MAX:
            del _local[next(iter(_local))]
        _local[key] = (time.monotonic() + settings.API_COUNT_ESTIMATE_SECONDS, value)


def _cached_estimate(key: str) -> Any:
    """The estimate kept for this list's query, None when it is to be counted."""
    kept = _local.get(key)
    if kept is not None and kept[0] > time.monotonic():
        return None if kept[1] is _COUNTED else kept[1]
    value = count_breaker.attempt(lambda: cache.get(key), warning=COUNT_CACHE_DOWN, log=logger)
    if value is not None:
        _remember(key, value)
    return value


def _keep_estimate(key: str, estimate: Any) -> None:
    _remember(key, estimate)
    count_breaker.attempt(
        lambda: cache.set(key, estimate, settings.API_COUNT_ESTIMATE_SECONDS), warning=COUNT_CACHE_DOWN, log=logger
    )


def _counted_exactly(key: str) -> None:
    """This list was small enough to count: no estimate to ask the shared cache for, for a while."""
    _remember(key, _COUNTED)


@dataclass(frozen=True)
class Key:
    """One sort key of a list: a column or an annotation, its direction, and where its NULLs go."""

    name: str
    descending: bool
    field: Field
    nullable: bool

    def order(self) -> OrderBy | str:
        if not self.nullable:
            return f"-{self.name}" if self.descending else self.name
        # NULLs after every value ascending and before every value descending, on every database: what
        # PostgreSQL does by default, so the same indexes serve these keys.
        expression = F(self.name)
        return expression.desc(nulls_first=True) if self.descending else expression.asc(nulls_last=True)

    def after(self, value: Any, *, reverse: bool) -> Q:
        """The rows that come after `value` in this key's order (or before it, `reverse`)."""
        descending = self.descending != reverse
        if value is None:
            # NULLs come last ascending (nothing after them) and first descending (every value after).
            return Q(**{f"{self.name}__isnull": False}) if descending else Q(pk__in=[])
        beyond = Q(**{f"{self.name}__{'lt' if descending else 'gt'}": value})
        if self.nullable and not descending:
            beyond |= Q(**{f"{self.name}__isnull": True})
        return beyond

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def bound(self, value: Any, *, reverse: bool) -> Q | None:
        """A redundant `>=` (or `<=`) on the first key: the index range the database starts reading at."""
        if value is None or self.nullable:
            return None
        descending = self.descending != reverse
        return Q(**{f"{self.name}__{'lte' if descending else 'gte'}": value})


def sort_keys(queryset: QuerySet) -> list[Key]:
    """The queryset's order (its own, or the model's default) ended by the primary key, which breaks ties
    in the direction of the last key so that one index serves the order and its reverse."""
    query = queryset.query
    terms = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    opts = queryset.model._meta
    keys: list[Key] = []
    for term in terms:
        if isinstance(term, OrderBy) and isinstance(term.expression, F):
            name, descending = term.expression.name, term.descending
        elif isinstance(term, str) and term != "?":
            name, descending = term.removeprefix("-"), term.startswith("-")
        else:
            raise ImproperlyConfigured(f"{opts.label}: cannot page by the order term {term!r}")
        if name == "pk":
            name = opts.pk.name
        if name in query.annotations:
            field = query.annotations[name].output_field
        else:
            try:
                field = opts.get_field(name)
            except FieldDoesNotExist as error:  # a lookup across a relation: no index of this table holds it
                raise ImproperlyConfigured(f"{opts.label}: cannot page by {name!r}") from error
            name = field.attname
        keys.append(Key(name, descending, field, bool(getattr(field, "null", False))))
        if field is opts.pk:
            return keys  # unique: whatever follows never decides anything
    return [*keys, Key(opts.pk.attname, keys[-1].descending if keys else False, opts.pk, False)]


class RowBeyond(Expression):
    """`(k1, k2, …) < (v1, v2, …)` (`>` ascending): the rows after a position in an order whose keys all run
    the same way, as PostgreSQL and SQLite compare rows — what the OR of "k1 beyond, or k1 equal and k2
    beyond, …" says, in one condition that a btree index over (k1, k2, …) starts reading at. Built and
    compiled as one expression: the OR of a lookup per key and per branch was most of what a deep page cost
    more than the first (issue 12)."""

    conditional = True

    def __init__(self, names: list[str], fields: list[Field], values: list[Any], descending: bool) -> None:
        super().__init__(output_field=BooleanField())
        self.names, self.fields, self.values, self.descending = names, fields, values, descending
        self.columns: list[Any] = []

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = self.copy()
        resolved.columns = [
            F(name).resolve_expression(query, allow_joins, reuse, summarize, for_save) for name in self.names
        ]
        return resolved

    def as_sql(self, compiler, connection) -> tuple[str, list[Any]]:
        columns, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            columns.append(sql)
            params.extend(column_params)
        positions = []
        for field, value in zip(self.fields, self.values, strict=True):
            sql, value_params = compiler.compile(Value(value, output_field=field))
            positions.append(sql)
            params.extend(value_params)
        operator = "<" if self.descending else ">"
        return f"({', '.join(columns)}) {operator} ({', '.join(positions)})", params


def _encode(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date):  # a datetime too: ISO 8601 with its offset and microseconds
        return value.isoformat()
    return value


class KeysetPagination(pagination.BasePagination):
    page_size = 20
    max_page_size = 200
    page_size_query_param = "page_size"
    page_query_param = "page"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list[Model]:
        return self._paginate(queryset, request, columns=None)

    def paginate_values(self, queryset: QuerySet, request, columns: list[str], view=None) -> list[tuple]:
        """The same page as `paginate_queryset`, read as tuples of `columns` (values_list lookups), each
        followed by the row's sort keys (alliance/api/fast.py reads the columns and ignores the rest)."""
        return self._paginate(queryset, request, columns=columns)

    def _paginate(self, queryset: QuerySet, request, *, columns: list[str] | None) -> list:
        self.request = request
        self.page_size = self._page_size(request)
        self.keys = sort_keys(queryset)
        self.signature = ",".join(("-" if key.descending else "") + key.name for key in self.keys)
        # Bad input answers before anything is read.
        cursor = request.query_params.get(self.cursor_query_param)
        position, reverse = self._decode(cursor) if cursor else (None, False)
        offset = 0 if cursor else self._offset(request)
        ordered = queryset.order_by(*(key.order() for key in self.keys))
        self.count, self.count_is_estimate = self._count(ordered)

        rows: list = []
        if self.count:
            page = ordered.reverse() if reverse else ordered
            if position is not None:
                page = page.filter(self._beyond(position, reverse=reverse))
            if columns is not None:
                page = page.values_list(*columns, *(key.name for key in self.keys))
            rows = list(page[offset : offset + self.page_size + 1])
        if offset and not rows:
            raise NotFound(_("Invalid page."))
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
        if columns is None:
            at = self._position
        else:
            width = len(columns)

            def at(row: tuple) -> list[Any]:
                return list(row[width:])

        # Going back, the rows after these are where the reader came from; going forward, `more` says.
        self.next_position = at(rows[-1]) if rows and (more or reverse) else None
        self.previous_position = at(rows[0]) if rows and (more if reverse else (cursor or offset)) else None
        return rows

    # --- Reading the request -----------------------------------------------------------------------

    def _page_size(self, request) -> int:
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size  # no size, or not a number: the default, as before
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _offset(self, request) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None or raw == "":
            return 0
        try:
            number = int(raw)
        except ValueError:
            raise NotFound(_("Invalid page.")) from None
        if number < 1:
            raise NotFound(_("Invalid page."))
        offset = (number - 1) * self.page_size
        if offset > MAX_PAGE_OFFSET:
            raise ValidationError(
                {
                    self.page_query_param: [
                        _(
                            "Pages can be asked for by number only up to %(rows)d rows deep; beyond, follow the "
                            "list's “next” links."
                        )
                        % {"rows": MAX_PAGE_OFFSET}
                    ]
                }
            )
        return offset

    def _decode(self, cursor: str) -> tuple[list[Any], bool]:
        """The cursor is the list's order and a row's keys, in base64 JSON; anything else is a 400."""
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
            if data["o"] != self.signature or not isinstance(data["v"], list):
                raise ValueError
            values = [
                None if raw is None else key.field.to_python(raw) for key, raw in zip(self.keys, data["v"], strict=True)
            ]
            return values, bool(data["r"])
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, DjangoValidationError):
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        _("This page link is not valid (or the list's order changed): start again from the first page.")
                    ]
                }
            ) from None

    def _beyond(self, values: list[Any], *, reverse: bool) -> Q | RowBeyond:
        """Rows after `values` in the order (before them, `reverse`): key 1 beyond, or key 1 equal and key 2
        beyond, …, and a plain range on key 1 for the index to start from. When every key runs the same way
        and none is nullable (most lists), the same condition as one row comparison."""
        if len({key.descending for key in self.keys}) == 1 and not any(key.nullable for key in self.keys):
            descending = self.keys[0].descending != reverse
            return RowBeyond([key.name for key in self.keys], [key.field for key in self.keys], values, descending)
        condition, equal = Q(pk__in=[]), Q()
        for key, value in zip(self.keys, values, strict=True):
            condition |= equal & key.after(value, reverse=reverse)
            equal &= key.equal(value)
        bound = self.keys[0].bound(values[0], reverse=reverse)
        return condition & bound if bound is not None else condition

    def _position(self, row: Model) -> list[Any]:
        return [getattr(row, key.name) for key in self.keys]

    # --- Counting ----------------------------------------------------------------------------------

    def _count(self, ordered: QuerySet) -> tuple[int, bool]:
        unordered = ordered.order_by()
        key = _list_key(
            self.request, unordered, (self.cursor_query_param, self.page_query_param, self.page_size_query_param)
        )
        estimate = _cached_estimate(key) if key else None
        if estimate is not None:
            return estimate, True
        # In the list's order: the count reads at most EXACT_COUNT_LIMIT + 1 rows along the index the page
        # is read from, however rare or common the filter's rows are.
        exact = ordered[: EXACT_COUNT_LIMIT + 1].count()
        if exact <= EXACT_COUNT_LIMIT:
            if key:
                _counted_exactly(key)
            return exact, False
        count, is_estimate = self._estimate(unordered, exact)
        if is_estimate and key:
            _keep_estimate(key, count)
        return count, is_estimate

    def _estimate(self, unordered: QuerySet, exact: int) -> tuple[int, bool]:
        connection = connections[unordered.db]
        if connection.vendor == "postgresql":
            # The planner's estimate of the filtered query's rows: no row is read. Never below what was
            # just counted.
            sql, params = unordered.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            return max(int(plan[0]["Plan"]["Plan Rows"]), exact), True
        capped = unordered[: COUNT_CAP + 1].count()
        return min(capped, COUNT_CAP), capped > COUNT_CAP

    # --- The answer --------------------------------------------------------------------------------

    def _link(self, position: list[Any] | None, *, reverse: bool) -> str | None:
        if position is None:
            return None
        raw = json.dumps(
            {"o": self.signature, "v": [_encode(v) for v in position], "r": reverse}, separators=(",", ":")
        )
        token = base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def get_paginated_response(self, data) -> Response:
        body = {
            "count": self.count,
            "next": self._link(self.next_position, reverse=False),
            "previous": self._link(self.previous_position, reverse=True),
            "results": data,
        }
        if self.count_is_estimate:
            body["count_is_estimate"] = True
        return Response(body)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": str(
                        gettext_lazy(
                            "How many rows the list holds: exact up to %(limit)d, otherwise an estimate "
                            "(then count_is_estimate is true), which is kept for up to %(seconds)d seconds "
                            "for the same list and filters."
                        )
                        % {"limit": EXACT_COUNT_LIMIT, "seconds": settings.API_COUNT_ESTIMATE_SECONDS}
                    ),
                },
                "count_is_estimate": {
                    "type": "boolean",
                    "description": str(gettext_lazy("Present, and true, only when count is an estimate.")),
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(gettext_lazy("A position in the list, from the next or previous link.")),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    gettext_lazy("A page number, for the first pages only (up to %(rows)d rows deep).")
                    % {"rows": MAX_PAGE_OFFSET}
                ),
                "schema": {"type": "integer"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(gettext_lazy("Rows per page, up to %(max)d.") % {"max": self.max_page_size}),
                "schema": {"type": "integer"},
            },
        ]


class SequencePagination(pagination.PageNumberPagination):
    """Pages by number over a sequence that knows its own length without a COUNT — the public showcase
    read from its snapshot (demands.showcase.ShowcaseRows), whose first pages cost no query at all.
    Keyset pages need a queryset's sort keys, which a snapshot does not have."""

    page_size = KeysetPagination.page_size
    page_size_query_param = KeysetPagination.page_size_query_param
    max_page_size = KeysetPagination.max_page_size

"""The public figures, the monthly charts and the showcase's first rows, per street: computed in the
background, only read by anonymous visitors.

Computing them takes whole-table aggregates (nine of them over needs, activities, claims, members and
service logs); run per visit once a cache entry expired, any visitor could start the computation, and at
city scale the public pages served 1.7 requests a second. Now:

- `refresh()` computes everything — the registry's figures and charts, and the parts the apps register
  (`registry.register_public_part`, e.g. the showcase's first rows) — for every street at once (each
  provider groups by street: the same number of queries with one street or eighty), and stores each part
  of each street as plain JSON in a `PublicSnapshot` row ("figures:12") and in the cache, with the list
  of streets (`STREETS`) that the public pages' `?street=` / `?district=` are checked against.
- A beat entry runs `refresh_if_due()` every PUBLIC_FIGURES_REFRESH_SECONDS: it refreshes when a service
  said a figure changed (`changed()`: after its commit, a mark in Redis, or in the database where no
  shared cache can hold it), and at least every PUBLIC_FIGURES_MAX_AGE seconds for writes no service made
  (the console, a data migration, a new street).
- A request only reads (`snapshot()`): what its process read from the shared cache less than
  LOCAL_SECONDS ago, else the cache, without SQL; on a miss (cold cache, Redis down, or the entry older
  than PUBLIC_FIGURES_REFRESH_SECONDS) the rows, one query, put back into the cache. Only when no
  snapshot exists at all — a new installation before the first beat — a visit computes it, one process
  at a time (a lock in the cache); the others see no figures for those seconds rather than start the
  same computation.
- A district's figures are the sums of its streets' (`district_figures()`), added up when asked
  (`GET /api/v1/public/stats/?district=<id>`) from the streets' snapshots: no SQL either.

Labels are stored as their msgids (computed with translations off) and translated when read, so one
snapshot serves every language: a label must be a `gettext_lazy` literal."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from . import registry, replica
from .breaker import Breaker
from .models import PublicSnapshot

logger = logging.getLogger(__name__)
T = TypeVar("T")

FIGURES = "figures"
# The streets the public side knows: [{"id", "name", "district", "district_name"}], one row for all.
STREETS = "streets"
CACHE_PREFIX = "public-figures:v3:"
# Set after the commit of a write that changes a figure; the next beat run refreshes and clears it. The
# row of the same name is the mark where no shared cache can hold it.
CHANGED_KEY = "public-figures:changed"
CHANGED_ROW = "changed"
# Held while one process computes (the refresh, or the first visit of a new installation).
LOCK_KEY = "public-figures:computing"
LOCK_SECONDS = 300
# With the cache unreachable, visits read the snapshot rows for this long before trying the cache again.
breaker = Breaker("public figures cache", pause=30)
# What a web process read from the shared cache, it keeps this long (seconds): every visit asked Redis
# and unpickled the parts, a round trip that under load made most of the public pages' slowest answers.
# The snapshot is up to PUBLIC_FIGURES_REFRESH_SECONDS old anyway; this adds at most LOCAL_SECONDS.
LOCAL_SECONDS = 2.0
_local: dict[str, tuple[float, Any]] = {}  # key -> (until, on this process's monotonic clock; data)
_written: set[str] = set()  # the keys this process put into the cache, for `forget()`
# The street of a street office on its own, as this process last read the street list: a visit without
# `?street=` reads the list and that street's parts in one round trip (or one query on a cold cache).
_sole_street: int | None = None
# A street's id as `?street=` and `?district=` take it: digits only, and short enough for a bigint.
MAX_ID_DIGITS = 18


# The id the parts of an installation without any street are stored under (no street has id 0).
NO_STREET = 0


def key(part: str, street_id: int) -> str:
    """The snapshot key of one street's part (a row's primary key, at most 40 characters)."""
    return f"{part}:{street_id}"


def _street_parts() -> list[str]:
    return [FIGURES, *registry.public_part_keys()]


# --- Reading (every anonymous request) -----------------------------------------------------------------


def snapshot(*keys: str, also: Iterable[str] = ()) -> dict[str, Any]:
    """The stored data of each key in `keys` (`STREETS`, or `key(part, street_id)`): from this process's
    copy (see LOCAL_SECONDS), else the cache (no SQL), else from the rows (one query, all put back into
    the cache), else — nothing stored yet — computed once here. A key nobody stored reads as None.
    `also`: a key this request will want next (the street it names, before the street is checked):
    its street's parts come along in the same round trip or query, and a key nobody stored costs
    nothing. The data is shared between requests: read it, never change it."""
    now = time.monotonic()
    parts = {k: entry[1] for k in keys if (entry := _local.get(k)) is not None and entry[0] > now}
    missing = [k for k in keys if k not in parts]
    if not missing:
        return parts
    # Every part of the streets asked for, and the street list, in the one round trip (or the one query):
    # the visit's next read wants another part (the home all of them).
    streets_named = {k.rpartition(":")[2] for k in [*missing, *also] if ":" in k}
    wanted = list(
        dict.fromkeys([*missing, STREETS, *(f"{p}:{s}" for s in sorted(streets_named) for p in _street_parts())])
    )
    shared = _shared_cache()
    found = _try_cache(lambda: cache.get_many([CACHE_PREFIX + k for k in (wanted if shared else missing)])) or {}
    fetched = {k: found[CACHE_PREFIX + k] for k in wanted if CACHE_PREFIX + k in found}
    if any(k not in fetched for k in missing):
        # The street list comes along: without it, nothing was ever computed.
        rows = dict(PublicSnapshot.objects.filter(key__in=wanted).values_list("key", "data"))
        if STREETS not in rows:
            stored = _refresh_alone() or {}
            rows = {k: stored[k] for k in wanted if k in stored}
        else:
            _cache_set(rows)
        fetched = {k: rows.get(k) for k in missing} | rows | fetched
    if shared:
        # Kept here only when it came from a cache other processes share: a local-memory cache is this
        # process's copy already.
        _local.update({k: (now + LOCAL_SECONDS, data) for k, data in fetched.items()})
    return {k: parts[k] if k in parts else fetched.get(k) for k in keys}


def part(name: str, street_id: int) -> Any:
    """One street's stored part (None before the first refresh that knew the street)."""
    return snapshot(key(name, street_id))[key(name, street_id)]


def streets() -> list[dict]:
    """The streets the public side shows, in display order (from the snapshot: no SQL)."""
    return snapshot(STREETS)[STREETS] or []


def figures(street_id: int | None) -> list[registry.Figure]:
    return figures_and_charts(street_id)[0]


def figures_and_charts(street_id: int | None) -> tuple[list[registry.Figure], list[registry.Chart]]:
    """A street's figures and charts (None: nothing to show — no snapshot yet, or no street chosen)."""
    data = part(FIGURES, street_id) if street_id is not None else None
    return _figures_of(data), _charts_of(data)


def district_figures(street_ids: Sequence[int]) -> list[registry.Figure]:
    """The district's figures: each figure summed over its streets (one cache round trip, no SQL).
    Hours are decimals: summed exactly (fsum) and kept to two places, as the streets' own are."""
    data = snapshot(*(key(FIGURES, street_id) for street_id in street_ids))
    per_street = [_figures_of(data[key(FIGURES, street_id)]) for street_id in street_ids]
    labels: dict[str, str] = {}
    values: dict[str, list[int | float]] = {}
    for figures_ in per_street:
        for figure in figures_:
            labels.setdefault(figure.key, figure.label)
            values.setdefault(figure.key, []).append(figure.value)
    return [
        registry.Figure(
            figure_key,
            labels[figure_key],
            round(math.fsum(numbers), 2)
            if any(isinstance(n, float) for n in numbers)
            else sum(int(n) for n in numbers),
        )
        for figure_key, numbers in values.items()
    ]


def _figures_of(data: Mapping[str, Any] | None) -> list[registry.Figure]:
    return [registry.Figure(f["key"], gettext(f["label"]), f["value"]) for f in (data or {}).get("figures", [])]


def _charts_of(data: Mapping[str, Any] | None) -> list[registry.Chart]:
    return [
        registry.Chart(
            chart["key"],
            gettext(chart["title"]),
            tuple(
                registry.Series(gettext(s["label"]), tuple((label, value) for label, value in s["points"]))
                for s in chart["series"]
            ),
        )
        for chart in (data or {}).get("charts", [])
    ]


# --- Which street a public page shows (`?street=`, `?district=`) ---------------------------------------


class ScopeError(Exception):
    """A `?street=` or `?district=` the public side cannot take: `field` names the parameter, `messages`
    say why and what it accepts, in the user's language."""

    def __init__(self, field: str, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.field = field
        self.messages = messages


@dataclass(frozen=True)
class Scope:
    """What a public page shows: one street (`street`), or the sums of a district's streets (`district`,
    only where asked). `streets`: every street the public side knows, for the chooser and the links."""

    streets: tuple[dict, ...]
    street: dict | None = None
    district: dict | None = None
    # False before the first snapshot exists (and while another process computes it): nothing to show.
    ready: bool = True

    @property
    def several(self) -> bool:
        return len(self.streets) > 1

    @property
    def street_id(self) -> int | None:
        return self.street["id"] if self.street else None

    @property
    def figures_street_id(self) -> int | None:
        """Whose figures the page shows: the street's, NO_STREET's zeros before any street exists, else
        none (several streets, none chosen)."""
        if self.street:
            return self.street_id
        return NO_STREET if self.ready and not self.streets else None

    @property
    def district_street_ids(self) -> list[int]:
        if self.district is None:
            return []
        return [street["id"] for street in self.streets if street["district"] == self.district["id"]]

    def by_district(self) -> list[dict]:
        """The streets grouped by district in display order, for a chooser: [{"name", "streets"}]
        (the name None for streets without a district)."""
        groups: dict[int | None, dict] = {}
        for street in self.streets:
            group = groups.setdefault(street["district"], {"name": street["district_name"], "streets": []})
            group["streets"].append(street)
        return list(groups.values())

    @property
    def query(self) -> str:
        """What links between public pages carry to stay on this street: "" with one street only."""
        return f"street={self.street_id}" if self.several and self.street else ""


def scope(*, street: str | None, district: str | None = None) -> Scope:
    """The street (or district) a public request names, checked against the snapshot's street list (no
    SQL). With no parameter and exactly one street (a street office on its own): that street. With no
    parameter and several streets: a scope without a street, for the page to ask which (a street
    chooser; the API answers 400 through `require_street`). Raises ScopeError for a malformed or unknown
    id, or both parameters at once."""
    global _sole_street
    hinted = _id_of(street) if street is not None else _sole_street
    also = [key(FIGURES, hinted)] if hinted is not None and district is None else []
    listed = snapshot(STREETS, also=also)[STREETS]
    known = tuple(listed or [])
    _sole_street = known[0]["id"] if len(known) == 1 else None
    if street is not None and district is not None:
        raise ScopeError("district", [gettext("Give either ?street=<id> or ?district=<id>, not both.")])
    if district is not None:
        districts = _districts(known)
        district_id = _id_of(district)
        if district_id is None:
            raise ScopeError("district", [gettext("Give the district's id, a whole number."), _accepted(districts)])
        if district_id not in districts:
            raise ScopeError(
                "district", [gettext("No district has the id %(id)s.") % {"id": district_id}, _accepted(districts)]
            )
        return Scope(streets=known, district={"id": district_id, "name": districts[district_id]})
    by_id = {s["id"]: s for s in known}
    if street is None:
        return Scope(streets=known, street=known[0] if len(known) == 1 else None, ready=listed is not None)
    street_id = _id_of(street)
    names = {s["id"]: s["name"] for s in known}
    if street_id is None:
        raise ScopeError("street", [gettext("Give the street's id, a whole number."), _accepted(names, "street")])
    if street_id not in by_id:
        raise ScopeError(
            "street", [gettext("No street has the id %(id)s.") % {"id": street_id}, _accepted(names, "street")]
        )
    return Scope(streets=known, street=by_id[street_id])


def require_street(chosen: Scope) -> None:
    """For the API: several streets and none named is a question only the caller can answer."""
    if chosen.several and chosen.street is None and chosen.district is None:
        names = {s["id"]: s["name"] for s in chosen.streets}
        raise ScopeError(
            "street", [gettext("There are several streets: name one with ?street=<id>."), _accepted(names, "street")]
        )


def scope_of(request: HttpRequest) -> Scope:
    """The street a public page shows, kept on the request so that the page and its panels agree. A
    parameter the page cannot take falls back to "none chosen" here; the page itself (the home) shows
    why."""
    found = getattr(request, "_public_scope", None)
    if found is None:
        try:
            found = scope(street=request.GET.get("street"))
        except ScopeError:
            found = Scope(streets=tuple(streets()))
        request._public_scope = found  # type: ignore[attr-defined]
    return found


def street_query(request: HttpRequest) -> str:
    """`street=<id>` for the links of a public page that was given a well-formed `?street=` (the page it
    links to checks the street; nothing is read here), else ""."""
    street_id = _id_of(request.GET.get("street", ""))
    return f"street={street_id}" if street_id is not None else ""


def _id_of(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_ID_DIGITS:
        return None
    return int(value)


def _districts(known: Sequence[dict]) -> dict[int, str]:
    return {s["district"]: s["district_name"] for s in known if s["district"] is not None}


def _accepted(choices: Mapping[int, str], field: str = "district") -> str:
    if not choices:
        if field == "street":
            return gettext("There is no street yet.")
        return gettext("There is no district.")
    listed = pgettext("list separator", ", ").join(f"{pk} ({name})" for pk, name in choices.items())
    if field == "street":
        return gettext("Streets: %(choices)s.") % {"choices": listed}
    return gettext("Districts: %(choices)s.") % {"choices": listed}


# --- Computing (the beat entry, and after the writes that matter) --------------------------------------


def compute() -> dict[str, Any]:
    """Every part of every street, as JSON-ready data keyed as the rows are. Labels as msgids: read back
    through gettext in each language."""
    with translation.override(None):
        known = registry.public_streets()
        # A new installation without a street yet: the parts of NO_STREET, all zeros, so that its home
        # shows the same figures and charts as any other.
        street_ids = [street["id"] for street in known] or [NO_STREET]
        figures_ = registry.public_figures(street_ids)
        charts = registry.public_charts(street_ids)
        data: dict[str, Any] = {STREETS: known}
        for street_id in street_ids:
            data[key(FIGURES, street_id)] = {
                "figures": [{"key": f.key, "label": str(f.label), "value": f.value} for f in figures_[street_id]],
                "charts": [
                    {
                        "key": chart.key,
                        "title": str(chart.title),
                        "series": [
                            {"label": str(s.label), "points": [[label, value] for label, value in s.points]}
                            for s in chart.series
                        ],
                    }
                    for chart in charts[street_id]
                ],
            }
        for name, per_street in registry.public_parts(street_ids).items():
            data.update({key(name, street_id): per_street[street_id] for street_id in street_ids})
    return data


def refresh() -> dict[str, Any]:
    """Compute every part and store it (rows first, then the cache). Returns what it stored."""
    # Stamped with the time it started: a change marked after it (in the database) is not in it.
    started = timezone.now()
    with replica.reading(fresh=True):
        data = compute()
    PublicSnapshot.objects.bulk_create(
        [PublicSnapshot(key=k, data=value, computed_at=started) for k, value in data.items()],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["data", "computed_at"],
    )
    # The parts of a street that is gone: its id is no longer in the list, so no page reads them.
    PublicSnapshot.objects.exclude(key__in=[*data, CHANGED_ROW]).delete()
    _cache_set(data)
    _local.clear()  # this process sees its own refresh at once; the others within LOCAL_SECONDS
    global _sole_street
    _sole_street = data[STREETS][0]["id"] if len(data[STREETS]) == 1 else None
    return data


def refresh_if_due() -> bool:
    """The beat entry: refresh when a write changed a figure since the last refresh, or when the snapshot
    is older than PUBLIC_FIGURES_MAX_AGE. True when it refreshed."""
    times = dict(PublicSnapshot.objects.filter(key__in=[STREETS, CHANGED_ROW]).values_list("key", "computed_at"))
    newest = times.get(STREETS)
    due = (
        newest is None
        or bool(_try_cache(lambda: cache.get(CHANGED_KEY)))
        or (CHANGED_ROW in times and times[CHANGED_ROW] >= newest)
        or timezone.now() - newest >= timedelta(seconds=settings.PUBLIC_FIGURES_MAX_AGE)
    )
    return due and _refresh_alone() is not None


def _refresh_alone() -> dict[str, Any] | None:
    """`refresh()` unless another process is computing (None then). When the cache that holds the lock
    cannot be reached nobody can coordinate, and this process computes."""
    taken = _try_cache(lambda: cache.add(LOCK_KEY, 1, timeout=LOCK_SECONDS))
    if taken is False:
        return None
    try:
        # Cleared before computing: a write that commits meanwhile marks it again for the next run.
        _try_cache(lambda: cache.delete(CHANGED_KEY))
        return refresh()
    finally:
        if taken:
            _try_cache(lambda: cache.delete(LOCK_KEY))


def changed() -> None:
    """Call inside the transaction of a write that changes a public figure, chart or the showcase: once it
    commits, the next beat run (within PUBLIC_FIGURES_REFRESH_SECONDS) refreshes the snapshot. A rolled
    back write marks nothing."""
    transaction.on_commit(_mark_changed)


def _mark_changed() -> None:
    # In the shared cache (Redis) when there is one: no write to the database per change. A cache of this
    # process only (the demo's local memory) cannot tell the worker, and an unreachable one tells nobody:
    # then the mark is the database row, which the refresh compares with its own time.
    if _shared_cache() and _try_cache(lambda: cache.set(CHANGED_KEY, 1, timeout=None) or True):
        return
    PublicSnapshot.objects.bulk_create(
        [PublicSnapshot(key=CHANGED_ROW, data={}, computed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["computed_at"],
    )


def _cache_set(data: Mapping[str, Any]) -> None:
    _written.update(data)
    _try_cache(lambda: cache.set_many({CACHE_PREFIX + k: value for k, value in data.items()}, timeout=_keep()))


def _keep() -> int:
    """How long the cache keeps a part before a visit reads the rows again (one query): a worker's refresh
    reaches a web process whose cache it cannot write (the demo's local memory) this way."""
    return settings.PUBLIC_FIGURES_REFRESH_SECONDS


def _shared_cache() -> bool:
    return not isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache | DummyCache)


def forget() -> None:
    """Drop the cached parts and marks (tests, and a restore of the database): the next read goes to the rows."""
    global _sole_street
    forget_local()
    _sole_street = None
    # The keys are per street: those this process wrote (no query here — tests call this before any).
    _try_cache(lambda: cache.delete_many([CACHE_PREFIX + k for k in {*_written, STREETS}]))
    _try_cache(lambda: cache.delete_many([CHANGED_KEY, LOCK_KEY]))


def forget_local() -> None:
    """Drop this process's copy: the next read asks the cache (as it does LOCAL_SECONDS after a read)."""
    _local.clear()


def _try_cache(operation: Callable[[], T]) -> T | None:
    return breaker.attempt(operation, warning="Public figures read without the cache (%s)", log=logger)

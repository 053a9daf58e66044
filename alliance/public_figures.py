"""The public figures, the monthly charts and the showcase's first rows: computed in the background, only
read by anonymous visitors.

Computing them takes whole-table aggregates (nine of them over needs, activities, claims, members and
service logs); run per visit once a cache entry expired, any visitor could start the computation, and at
city scale the public pages served 1.7 requests a second. Now:

- `refresh()` computes everything — the registry's figures and charts, and the parts the apps register
  (`registry.register_public_part`, e.g. the showcase's first rows) — and stores each part as plain JSON
  in a `PublicSnapshot` row and in the cache.
- A beat entry runs `refresh_if_due()` every PUBLIC_FIGURES_REFRESH_SECONDS: it refreshes when a service
  said a figure changed (`changed()`: after its commit, a mark in Redis, or in the database where no
  shared cache can hold it), and at least every PUBLIC_FIGURES_MAX_AGE seconds for writes no service made
  (the console, a data migration).
- A request only reads (`snapshot()`): what its process read from the shared cache less than
  LOCAL_SECONDS ago, else the cache, without SQL; on a miss (cold cache, Redis down, or the entry older
  than PUBLIC_FIGURES_REFRESH_SECONDS) the rows, one query, put back into the cache. Only when no
  snapshot exists at all — a new installation before the first beat — a visit computes it, one process
  at a time (a lock in the cache); the others see no figures for those seconds rather than start the
  same computation.

Labels are stored as their msgids (computed with translations off) and translated when read, so one
snapshot serves every language: a label must be a `gettext_lazy` literal."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import registry, replica
from .breaker import Breaker
from .models import PublicSnapshot

logger = logging.getLogger(__name__)
T = TypeVar("T")

FIGURES = "figures"
CACHE_PREFIX = "public-figures:v2:"
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
_local: dict[str, tuple[float, Any]] = {}  # part -> (until, on this process's monotonic clock; data)


# --- Reading (every anonymous request) -----------------------------------------------------------------


def snapshot(*keys: str) -> dict[str, Any]:
    """The stored data of each part in `keys`: from this process's copy (see LOCAL_SECONDS), else the
    cache (no SQL), else from the rows (one query for every part, all put back into the cache), else —
    nothing stored yet — computed once here. A part nobody stored reads as None. The data is shared
    between requests: read it, never change it."""
    now = time.monotonic()
    parts = {key: entry[1] for key in keys if (entry := _local.get(key)) is not None and entry[0] > now}
    missing = [key for key in keys if key not in parts]
    if not missing:
        return parts
    shared = _shared_cache()
    if shared:
        # Every part in the one round trip: the next visit wants another (the home all of them).
        missing = list(dict.fromkeys([*missing, FIGURES, *registry.public_part_keys()]))
    found = _try_cache(lambda: cache.get_many([CACHE_PREFIX + key for key in missing])) or {}
    fetched = {key: found[CACHE_PREFIX + key] for key in missing if CACHE_PREFIX + key in found}
    if len(fetched) < len(missing):
        rows = dict(PublicSnapshot.objects.exclude(key=CHANGED_ROW).values_list("key", "data"))
        if not rows:
            rows = _refresh_alone() or {}
        else:
            _try_cache(
                lambda: cache.set_many({CACHE_PREFIX + key: data for key, data in rows.items()}, timeout=_keep())
            )
        fetched = {key: rows.get(key) for key in missing} | fetched
    if shared:
        # Kept here only when it came from a cache other processes share: a local-memory cache is this
        # process's copy already.
        _local.update({key: (now + LOCAL_SECONDS, data) for key, data in fetched.items()})
    return {key: parts[key] if key in parts else fetched.get(key) for key in keys}


def figures() -> list[registry.Figure]:
    return figures_and_charts()[0]


def figures_and_charts() -> tuple[list[registry.Figure], list[registry.Chart]]:
    data = snapshot(FIGURES)[FIGURES] or {}
    figures_ = [registry.Figure(f["key"], gettext(f["label"]), f["value"]) for f in data.get("figures", [])]
    charts = [
        registry.Chart(
            chart["key"],
            gettext(chart["title"]),
            tuple(
                registry.Series(gettext(s["label"]), tuple((label, value) for label, value in s["points"]))
                for s in chart["series"]
            ),
        )
        for chart in data.get("charts", [])
    ]
    return figures_, charts


# --- Computing (the beat entry, and after the writes that matter) --------------------------------------


def compute() -> dict[str, Any]:
    """Every part, as JSON-ready data. Labels as msgids: read back through gettext in each language."""
    with translation.override(None):
        data: dict[str, Any] = {
            FIGURES: {
                "figures": [{"key": f.key, "label": str(f.label), "value": f.value} for f in registry.public_figures()],
                "charts": [
                    {
                        "key": chart.key,
                        "title": str(chart.title),
                        "series": [
                            {"label": str(s.label), "points": [[label, value] for label, value in s.points]}
                            for s in chart.series
                        ],
                    }
                    for chart in registry.public_charts()
                ],
            }
        }
        data.update(registry.public_parts())
    return data


def refresh() -> dict[str, Any]:
    """Compute every part and store it (rows first, then the cache). Returns what it stored."""
    # Stamped with the time it started: a change marked after it (in the database) is not in it.
    started = timezone.now()
    with replica.reading(fresh=True):
        data = compute()
    PublicSnapshot.objects.bulk_create(
        [PublicSnapshot(key=key, data=value, computed_at=started) for key, value in data.items()],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["data", "computed_at"],
    )
    _try_cache(lambda: cache.set_many({CACHE_PREFIX + key: value for key, value in data.items()}, timeout=_keep()))
    _local.clear()  # this process sees its own refresh at once; the others within LOCAL_SECONDS
    return data


def refresh_if_due() -> bool:
    """The beat entry: refresh when a write changed a figure since the last refresh, or when the snapshot
    is older than PUBLIC_FIGURES_MAX_AGE. True when it refreshed."""
    times = dict(PublicSnapshot.objects.filter(key__in=[FIGURES, CHANGED_ROW]).values_list("key", "computed_at"))
    newest = times.get(FIGURES)
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


def _keep() -> int:
    """How long the cache keeps a part before a visit reads the rows again (one query): a worker's refresh
    reaches a web process whose cache it cannot write (the demo's local memory) this way."""
    return settings.PUBLIC_FIGURES_REFRESH_SECONDS


def _shared_cache() -> bool:
    return not isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache | DummyCache)


def forget() -> None:
    """Drop the cached parts and marks (tests, and a restore of the database): the next read goes to the rows."""
    forget_local()
    _try_cache(lambda: cache.delete_many([CACHE_PREFIX + key for key in [FIGURES, *registry.public_part_keys()]]))
    _try_cache(lambda: cache.delete_many([CHANGED_KEY, LOCK_KEY]))


def forget_local() -> None:
    """Drop this process's copy: the next read asks the cache (as it does LOCAL_SECONDS after a read)."""
    _local.clear()


def _try_cache(operation: Callable[[], T]) -> T | None:
    return breaker.attempt(operation, warning="Public figures read without the cache (%s)", log=logger)

"""A fixed-window rate limit per client address (or per subject, such as a unit: `allow_subject`), kept in
the default cache — Redis when REDIS_URL is set, so all web processes share one count; the local-memory
cache otherwise (one process, the demo).

Pages and API endpoints of one scope share one count per address, and read their rate ("5/hour") from
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` at each request, so a changed setting takes effect.

The limits fail open: when the cache cannot be reached the request goes through (a resident's need
matters more than the count), one warning is logged, and the cache is left alone for a while (breaker)."""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from .breaker import Breaker

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# With the cache unreachable, requests go uncounted for this long before the cache is tried again.
breaker = Breaker("rate-limit cache", pause=30)


def rate_for(scope: str) -> tuple[int, int] | None:
    """(requests, seconds) for `scope`, or None when the scope has no limit."""
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period[0]]


def allow(request: HttpRequest, scope: str) -> bool:
    """Count one request of `scope` from this client: False when it is over the scope's rate."""
    rate = rate_for(scope)
    return rate is None or hit(request, scope, limit=rate[0], window=rate[1])


def allow_subject(scope: str, subject: str) -> bool:
    """`allow` for a count kept per `subject` (a unit: "unit:<id>") instead of per client address — for a
    service, which has no request."""
    rate = rate_for(scope)
    if rate is None:
        return True
    counted = _cached(scope, lambda: _count_and_read(_subject_key(scope, subject), window=rate[1]))
    return counted is None or counted[0] <= rate[0]


def refund_subject(scope: str, subject: str) -> None:
    """Give back one request counted by `allow_subject`."""
    _give_back(scope, _subject_key(scope, subject))


def exceeded(request: HttpRequest, scope: str) -> bool:
    """True when this client has already used up `scope`; counts nothing."""
    rate = rate_for(scope)
    if rate is None:
        return False
    count = _cached(scope, lambda: cache.get(_key(request, scope), 0))
    return count is not None and count >= rate[0]


def refund(request: HttpRequest, scope: str) -> None:
    """Give back one request counted by `allow` (the submission it counted was not stored after all)."""
    _give_back(scope, _key(request, scope))


def _give_back(scope: str, key: str) -> None:
    def give_back() -> None:
        with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing left to give back
            cache.decr(key)

    _cached(scope, give_back)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind NUM_PROXIES trusted proxies the address that the
    outermost of them appended to X-Forwarded-For. Every limit (ours, DRF's, the login lockout) asks here:
    any hop further left was written by the client and proves nothing."""
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(request: HttpRequest, scope: str, *, limit: int, window: int) -> bool:
    """Count one request of `scope` from this client; False once more than `limit` came in `window` s."""
    counted = _cached(scope, lambda: _count_and_read(_key(request, scope), window=window))
    return counted is None or counted[0] <= limit


def take(request: HttpRequest, scope: str, *, unless: str) -> str | None:
    """Count one request of `scope` and, in the same round trip, check that this client has not used up
    `unless` (a resident's need: the stored needs' allowance, and the limit of invalid attempts). Returns
    the scope that refuses the request, or None. Refused by `unless`, the count of `scope` is given back."""
    rate, other = rate_for(scope), rate_for(unless)
    if rate is None:
        return unless if exceeded(request, unless) else None
    other_key = _key(request, unless) if other else None
    counted = _cached(scope, lambda: _count_and_read(_key(request, scope), window=rate[1], other=other_key))
    if counted is None:
        return None
    count, other_count = counted
    if other is not None and other_count >= other[0]:
        refund(request, scope)
        return unless
    return scope if count > rate[0] else None


# One round trip to Redis: INCR the window's count, start the window's expiry with the first request, and
# read another scope's count. (Through Django's cache API the same took three: add, exists, incrby.)
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local other = 0
if #KEYS > 1 then
  local value = redis.call('GET', KEYS[2])
  if value then other = tonumber(value) or 0 end
end
return {count, other}
"""


def _count_and_read(key: str, *, window: int, other: str | None = None) -> tuple[int, int]:
    """(this request's number in `key`'s window, the count in `other`)."""
    backend = caches[DEFAULT_CACHE_ALIAS]  # `cache` is a proxy: isinstance() asks the backend itself
    if isinstance(backend, RedisCache):
        keys = [backend.make_and_validate_key(k) for k in (key, other) if k]
        # Django's Redis cache stores integers as plain Redis integers, so INCR and GET read its counts.
        count, other_count = _redis_client(backend).eval(_COUNT_SCRIPT, len(keys), *keys, window)
        return int(count), int(other_count)
    # Other caches (local memory: one process, the demo): add() starts the window only if the key is new.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        count = 1
    return count, (cache.get(other, 0) if other else 0)


# One redis-py client per cache client and process. Django's Redis cache makes a new one for every call,
# and setting up its ~200 response callbacks cost more of a submission's time than the command itself.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _redis_client(backend: RedisCache):
    client = _clients.get(backend._cache)
    if client is None:
        client = _clients[backend._cache] = backend._cache.get_client(write=True)
    return client


def _key(request: HttpRequest, scope: str) -> str:
    return f"ratelimit:{scope}:{client_address(request)}"


def _subject_key(scope: str, subject: str) -> str:
    # "@" cannot start a client address (IPv4, IPv6 or "unknown"): a subject's count never meets one's.
    return f"ratelimit:{scope}:@{subject}"


T = TypeVar("T")


def _cached(scope: str, operation: Callable[[], T]) -> T | None:
    """Run a cache operation; None when the cache cannot be reached (or was not, a moment ago)."""
    # The scope only, never the key: it holds the client's address.
    return breaker.attempt(
        operation,
        warning="Rate limit %s not applied: limits are off for %s s, cache unavailable (%s)",
        args=(scope, breaker.pause),
        log=logger,
    )

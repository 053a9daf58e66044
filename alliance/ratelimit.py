"""A fixed-window rate limit per client address, kept in the default cache — Redis when REDIS_URL is set,
so all web processes share one count; the local-memory cache otherwise (one process, the demo).

Pages and API endpoints of one scope share one count per address, and read their rate ("5/hour") from
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` at each request, so a changed setting takes effect."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def client_address(request: HttpRequest) -> str:
    """The client's address. Behind NUM_PROXIES trusted proxies, the address the nearest of them saw."""
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(request: HttpRequest, scope: str, *, limit: int, window: int) -> bool:
    """Count one request of `scope` from this client; False once more than `limit` came in `window` s."""
    key = f"ratelimit:{scope}:{client_address(request)}"
    # add() sets the window's start only if the key is new; incr() is atomic in Redis and locmem.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit

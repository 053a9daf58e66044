"""The platform's own address, for links that leave the browser: QR posters, e-mail and text messages, the
calendar address `/api/v1/me/` gives.

`SITE_URL` set (the deployment's public address): always that. Unset: the address the request came in on
(scheme and Host, which ALLOWED_HOSTS has already checked), so a platform served on another host or port
prints posters and answers links that work there. Work done outside a request (a notification delivered by
the worker, the daily digest) uses the last known address: every request remembers its own in the cache
(Redis when configured, shared by the web processes and the workers), and with nothing known yet — a fresh
start, or a worker without Redis, whose cache is its own — `FALLBACK`. A deployment sets `SITE_URL` (README,
"Deployment"): a request's Host is what the client sent, and the address messages carry should not depend
on who asked last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from .breaker import Breaker

logger = logging.getLogger(__name__)
T = TypeVar("T")

FALLBACK = "http://127.0.0.1:8000"
CACHE_KEY = "alliance:site-url"
# A week: long enough for a worker between quiet days, short enough that an address no longer served fades.
CACHE_SECONDS = 7 * 24 * 3600

# A cache that does not answer (Redis down) must not fail or slow every request: the address is a convenience.
breaker = Breaker("site address cache", pause=30)

# This process's last remembered address: the cache is written when it changes, not on every request.
_remembered: str | None = None


def url(request: HttpRequest | None = None) -> str:
    """The platform's address without a trailing slash: `https://dangjian.example.cn`."""
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return _last_known() or FALLBACK


def absolute(path: str, request: HttpRequest | None = None) -> str:
    """A site path (`/needs/new/`) as a full address; a full address is returned as it is."""
    return f"{url(request)}{path}" if path.startswith("/") else path


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def remember(request: HttpRequest) -> None:
    global _remembered
    if settings.SITE_URL:
        return
    address = url(request)
    if address == _remembered:
        return
    if split_domain_port(request.get_host())[0].strip("[]") in LOOPBACK:
        # The container's healthcheck and a shell on the server come in on the loopback address: it never
        # replaces an address people use, it only stands in while none is known.
        if _cached(lambda: cache.add(CACHE_KEY, address, CACHE_SECONDS) or True):
            _remembered = _remembered or address
        return
    if _cached(lambda: cache.set(CACHE_KEY, address, CACHE_SECONDS) or True):
        _remembered = address


def _last_known() -> str | None:
    return _cached(lambda: cache.get(CACHE_KEY)) or _remembered


def _cached(operation: Callable[[], T]) -> T | None:
    return breaker.attempt(operation, warning="Site address not shared: cache unavailable (%s)", log=logger)
    try:
        return operation()
    except Exception as exc:  # redis-py and sockets raise unrelated types
        breaker.trip()
        logger.warning("Site address not shared: cache unavailable (%s)", type(exc).__name__)
        return None


def forget() -> None:
    """Tests: nothing known, as after a fresh start."""
    global _remembered
    _remembered = None
    cache.delete(CACHE_KEY)


class RememberAddressMiddleware:
    """Remembers the address each request came in on (see the module's docstring). After CommonMiddleware,
    which has refused a Host that ALLOWED_HOSTS does not list."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        remember(request)
        return self.get_response(request)

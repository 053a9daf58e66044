"""A circuit breaker for the services a request may do without (the cache of the rate limits and of the
public figures, the broker).

With Redis unreachable every attempt costs a connect timeout; after one failure the breaker skips the
service for `pause` seconds, so an outage costs one timeout per pause and process, not one per request
or per notification. What the request skipped is safe: rate limits fail open, the public figures are
read from their rows, and notification rows wait for the periodic sweep."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Breaker:
    def __init__(self, name: str, *, pause: float) -> None:
        self.name = name
        self.pause = pause
        self._open_until = 0.0

    def closed(self) -> bool:
        """True when the service may be tried: no failure in the last `pause` seconds."""
        return time.monotonic() >= self._open_until

    def trip(self) -> None:
        self._open_until = time.monotonic() + self.pause

    def reset(self) -> None:
        self._open_until = 0.0

    def attempt(
        self,
        operation: Callable[[], T],
        *,
        warning: str,
        args: tuple = (),
        log: logging.Logger = logger,
        always: bool = False,
    ) -> T | None:
        """`operation()`, or None when the service failed a moment ago or fails now. A failure trips the
        breaker and logs `warning % (*args, <the error's kind>)` once — the kind only: a message or key
        may hold a client's address. `always`: tried even while the breaker is open — for deletes that
        end something (a session, cached permissions), which must reach the cache whenever it answers."""
        if not always and not self.closed():
            return None
        try:
            return operation()
        except Exception as exc:  # redis-py, memcached clients, kombu and sockets raise unrelated types
            self.trip()
            log.warning(warning, *args, type(exc).__name__)
            return None

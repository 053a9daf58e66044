"""A circuit breaker for the services a request may do without (the cache of the rate limits, the broker).

With Redis unreachable every attempt costs a connect timeout; after one failure the breaker skips the
service for `pause` seconds, so an outage costs one timeout per pause and process, not one per request
or per notification. What the request skipped is safe: rate limits fail open, and notification rows
wait for the periodic sweep."""

from __future__ import annotations

import time


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

"""The one guard both Redis users of a request share (alliance.breaker.Breaker.attempt): the rate limits
and the public figures go on without the cache, trip once, log the error's kind and never a key."""

from __future__ import annotations

import logging

from alliance.breaker import Breaker


def test_a_failed_call_trips_the_breaker_logs_its_kind_once_and_later_calls_are_skipped(caplog):
    breaker = Breaker("test cache", pause=30)
    calls: list[str] = []

    def unreachable() -> int:
        calls.append("tried")
        raise ConnectionError("Error 111 connecting to 10.0.0.7:6379 for ratelimit:need_submit:203.0.113.9")

    with caplog.at_level(logging.WARNING):
        assert breaker.attempt(unreachable, warning="Rate limit %s off for %s s (%s)", args=("x", 30)) is None
        assert breaker.attempt(unreachable, warning="Rate limit %s off for %s s (%s)", args=("x", 30)) is None
    assert calls == ["tried"]  # the second call did not wait for Redis
    assert not breaker.closed()
    assert [record.getMessage() for record in caplog.records] == ["Rate limit x off for 30 s (ConnectionError)"]

    breaker.reset()  # the pause is over
    assert breaker.attempt(lambda: 7, warning="unused %s") == 7
    assert breaker.closed()

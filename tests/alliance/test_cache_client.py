"""The Redis cache keeps one redis-py client per connection pool (alliance/cache.py)."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import caches

from alliance.cache import RedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


def test_every_call_uses_the_same_client_and_the_cache_works():
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    first = backend._cache.get_client()
    assert backend._cache.get_client() is first
    assert backend._cache.get_client(write=True) is first  # one server: one pool, one client
    backend.set("alliance:test:cache-client", {"n": 1}, 30)
    assert backend.get("alliance:test:cache-client") == {"n": 1}
    backend.delete("alliance:test:cache-client")
    assert backend.get("alliance:test:cache-client") is None


def test_threads_share_the_client_safely():
    backend = caches["default"]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                backend.set(f"alliance:test:thread:{n}", i, 30)
                assert backend.get(f"alliance:test:thread:{n}") == i
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    backend.delete_many([f"alliance:test:thread:{n}" for n in range(8)])


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands this process sends to Redis, in order (the client still sends them)."""
    client = caches["default"]._cache.get_client()
    sent: list[str] = []
    send = client.execute_command

    def counting(*args, **options):
        sent.append(str(args[0]).upper())
        return send(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    return sent


def test_a_staff_request_reads_its_groups_and_scopes_in_one_round_trip(street_staff, client, redis_commands):
    """Who the user is in the cache (groups, street scope, districts) is one MGET, not one read each."""
    client.force_login(street_staff)
    assert client.get("/api/v1/needs/").status_code == 200  # fills the cache
    redis_commands.clear()
    response = client.get("/api/v1/needs/")
    assert response.status_code == 200
    # The session; who the user is (groups, street scope, districts, the organisation's tokens: was a GET
    # and two MGETs). The list was counted (it is small), which this process remembers: it does not ask the
    # cache for a count estimate that is never kept for such a list (was one more GET).
    assert redis_commands == ["GET", "MGET"]


def test_an_estimate_is_read_from_redis_once_per_process(
    street_staff, community_x, client, redis_commands, monkeypatch
):
    """A big list's count estimate is kept in Redis for every process; the process that read or wrote it keeps
    it too, so the list's next pages cost no round trip for it."""
    from alliance.api import pagination
    from tests.demands.factories import NeedFactory

    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 1)  # three needs are "a big list"
    for _ in range(3):
        NeedFactory(community=community_x)
    client.force_login(street_staff)
    first = client.get("/api/v1/needs/").json()
    assert first["count_is_estimate"] is True
    assert "SET" in redis_commands  # kept for the other processes
    redis_commands.clear()
    assert client.get("/api/v1/needs/").json()["count"] == first["count"]
    assert redis_commands == ["GET", "MGET"]  # the session, who the user is; the estimate is this process's
    # Another process (its own memory empty) reads the estimate from Redis, once.
    pagination._local.clear()
    redis_commands.clear()
    assert client.get("/api/v1/needs/").json()["count"] == first["count"]
    assert redis_commands == ["GET", "MGET", "GET"]

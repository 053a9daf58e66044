"""Sessions read from the cache (Redis) and kept in the database: SESSION_ENGINE = "alliance.sessions".

Django's `cached_db` store spares every signed-in request its session query (issue 12: one of the six
statements of an API list). Two things it does not do, which this store adds:

- Redis down: `cached_db` then raises on the set that follows a cache miss (a 500 for every signed-in
  page). Here every cache call goes through a breaker (alliance/breaker.py): after one failure the cache
  is skipped for `breaker.pause` seconds and sessions are read from the database alone, as before.
- A cache entry lives at most SESSION_CACHE_SECONDS, not the session's two weeks: if Redis could not be
  told that a session ended (sign-out during an outage), the entry it still holds is gone by then.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db

from .breaker import Breaker

logger = logging.getLogger(__name__)
breaker = Breaker("session cache", pause=30)


def _cache_seconds(expiry_age: int) -> int:
    return max(0, min(expiry_age, getattr(settings, "SESSION_CACHE_SECONDS", 300)))


class SessionStore(cached_db.SessionStore):
    def _cache_call(self, action: str, call, *, always: bool = False):
        return breaker.attempt(
            call,
            warning="Session cache unavailable (%s, %s); sessions read from the database meanwhile",
            args=(action,),
            log=logger,
            always=always,
        )

    def load(self) -> dict:
        data = self._cache_call("get", lambda: self._cache.get(self.cache_key))
        if data is not None:
            return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        seconds = _cache_seconds(self.get_expiry_age(expiry=row.expire_date))
        self._cache_call("set", lambda: self._cache.set(self.cache_key, data, seconds))
        return data

    def exists(self, session_key: str) -> bool:
        # The database is the truth (a key must never be reused); `cached_db` asks the cache first.
        return cached_db.DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        cached_db.DBStore.save(self, must_create)
        seconds = _cache_seconds(self.get_expiry_age())
        self._cache_call("set", lambda: self._cache.set(self.cache_key, self._session, seconds))

    def delete(self, session_key: str | None = None) -> None:
        cached_db.DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # Tried even while the breaker is open: an ended session must leave the cache whenever it can.
        self._cache_call("delete", lambda: self._cache.delete(self.cache_key_prefix + session_key), always=True)

"""Reads that may go to the read replica: `with replica.reading(): ...` around the heavy read of a report, an
export, the workbench's charts, the public figures' refresh. Only those: a replica lags its primary a
little, and an ordinary request must see what it has just written, so everything outside such a block (and
every write, inside or out) uses `default` (alliance/db_routers.py).

`reading(fresh=True)` is for work that reads what was committed just before (a report over the assessments
it has just computed, an export of rows chosen a moment ago): it first waits, briefly, until the replica has
replayed everything the primary had written, and reads from the primary if the replica does not catch up.

Without DATABASE_REPLICA_URL there is no replica and the blocks change nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

# A context variable, not a global: each thread (gunicorn's, a worker's) and each async task has its own.
_alias: ContextVar[str | None] = ContextVar("alliance_replica_alias", default=None)

# How long `fresh` waits for the replica before reading from the primary instead.
CATCH_UP_SECONDS = 10.0


@contextmanager
def reading(*, fresh: bool = False) -> Iterator[None]:
    alias = settings.READ_REPLICA_ALIAS or None
    if alias and fresh and not _caught_up(alias):
        logger.warning("The read replica %r is more than %ss behind; reading from the primary", alias, CATCH_UP_SECONDS)
        alias = None
    token = _alias.set(alias)
    try:
        yield
    finally:
        _alias.reset(token)


def read_alias() -> str | None:
    """The replica's alias when this code is inside `reading()` and a replica is configured."""
    return _alias.get()


def _caught_up(alias: str) -> bool:
    """Whether the replica has replayed the primary's current write position (PostgreSQL streaming
    replication). A database that is not a standby (another vendor, a test mirror) is the same data."""
    if connections[alias].vendor != "postgresql":
        return True
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + CATCH_UP_SECONDS
    with connections[alias].cursor() as cursor:
        while True:
            cursor.execute("SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

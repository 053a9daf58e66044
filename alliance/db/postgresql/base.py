"""Django's PostgreSQL backend, with `timestamptz` values parsed by psycopg's C loader.

To pin the time zone of the values it reads, Django registers a `timestamptz` loader of its own
(`django.db.backends.postgresql.psycopg_any.register_tzloader`), a subclass of psycopg's *pure-Python*
loader, which parses every value with a regular expression: about 2.3 µs a value against 0.7 µs for the C
loader psycopg-binary ships. A staff list page reads two or three timestamps a row, so that was a twentieth of
an API list page's time at 50 rows (issue 12, bench/RESULTS.md). The C loader cannot be subclassed, so this
one wraps it and then does exactly what Django's does: the value in the connection's time zone (UTC, which
Django sets), tagged with the backend's `timezone`.

With the server binding the parameters (`server_side_binding`, alliance/settings.py), a statement takes
at most 65,535 of them, where the client-side binding had no limit: bulk writes are cut into batches under it
(`DatabaseOperations.bulk_batch_size`). Django inserts with one array a column where it can (UNNEST), but
`bulk_update` sends two parameters a column and row, and an INSERT of columns UNNEST cannot carry one a
value: thousands of notifications of a reminder scan passed the limit in one statement.

Everything else is Django's backend unchanged: `settings.DATABASES` names `alliance.db.postgresql` for
`postgres://` URLs (alliance/env.py). Without psycopg's C implementation (a source install of psycopg) the
timestamps are read by Django's loader."""

from __future__ import annotations

from datetime import tzinfo
from functools import lru_cache
from typing import Any

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import adapt

try:
    from psycopg_binary._psycopg import TimestamptzLoader as _CTimestamptzLoader
except ImportError:  # psycopg without its binary package, or the `c` build under another name
    try:
        from psycopg_c._psycopg import TimestamptzLoader as _CTimestamptzLoader
    except ImportError:
        _CTimestamptzLoader = None


class _TimestamptzLoader(adapt.Loader):
    # Read by Django's `create_cursor`: a cursor whose connection disagrees gets Django's own loader.
    timezone: tzinfo | None = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._load = _CTimestamptzLoader(oid, context).load

    def load(self, data: Any) -> Any:
        return self._load(data).replace(tzinfo=self.timezone)


@lru_cache
def _adapters(template: adapt.AdaptersMap, timezone: tzinfo | None) -> adapt.AdaptersMap:
    """Django's adapters template (itself cached per time zone) with the C-backed timestamptz loader."""
    adapters = adapt.AdaptersMap(template)
    loader = type("TimestamptzLoader", (_TimestamptzLoader,), {"timezone": timezone})
    adapters.register_loader("timestamptz", loader)
    return adapters


def fast_timestamps() -> bool:
    """Whether timestamps are read by the C loader here (psycopg's C implementation is installed)."""
    return _CTimestamptzLoader is not None and psycopg.pq.__impl__ in ("c", "binary")


# PostgreSQL's limit on the parameters of one statement (the protocol counts them in 16 bits).
MAX_PARAMETERS = 65535


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs) -> int:
        if not self.connection.features.uses_server_side_binding:
            return super().bulk_batch_size(fields, objs)
        # Twice the fields: `bulk_update` names [pk, pk, *fields] but sends 1 + 2 × fields a row (the CASE's
        # WHEN and THEN); an INSERT sends one a field, and a batch half as long costs nothing measurable.
        return max(1, min(len(objs), MAX_PARAMETERS // max(1, 2 * len(fields))))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if "context" in params and fast_timestamps():
            params["context"] = _adapters(params["context"], self.timezone)
        return params

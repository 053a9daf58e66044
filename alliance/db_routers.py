"""Which database a query goes to: `default` for everything, except the reads inside `alliance.replica.reading()`
when a replica is configured (DATABASE_REPLICA_URL)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from . import replica


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        # Explicit `default` outside a replica block: without an answer Django would follow the instance
        # hint, and an object read from the replica would draw its related objects from there later on.
        return replica.read_alias() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Always the primary, even for an object that was read from the replica.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        # The replica copies the primary's schema; migrations run on the primary only.
        return db == DEFAULT_DB_ALIAS

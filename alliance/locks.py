"""Transaction-scoped advisory locks: writers that must take turns on something no row stands for (a phone
number's hourly codes, a reminder scan) wait for each other until the transaction ends. SQLite serialises
writers on its own, so there the lock is nothing."""

from __future__ import annotations

import zlib

from django.db import connection


def xact_lock(namespace: int, key: str) -> None:
    """Hold PostgreSQL's advisory lock (`namespace`, crc32 of `key`) until the current transaction ends.
    Call inside `transaction.atomic()`; two keys that share a checksum only wait for each other."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, zlib.crc32(key.encode()) & 0x7FFFFFFF])

"""COPY for generated data (PostgreSQL, psycopg 3 `cursor.copy`): rows in, columns named from the models'
`_meta` so a column added later (nullable or with a default) does not break a loader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.core.management.color import no_style
from django.db import connection, models
from psycopg import sql


def _filler(field: models.Field) -> object:
    """What a column the generator does not set receives: the field's default, else NULL or ""."""
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField | models.FileField):
        return ""
    raise ValueError(f"{field.model.__name__}.{field.name} is required and has no default: set it")


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY `rows` (tuples in the order of `fields`) into `model`'s table; columns not named get their
    default. Returns how many rows went in."""
    meta = model._meta
    named = [meta.get_field(f) for f in fields]
    # An id not given is the database's to pick (identity column); a generated column (Need.waiting_since)
    # is the database's to compute and cannot be named in a COPY.
    rest = [
        f
        for f in meta.concrete_fields
        if f not in named
        and not (f.primary_key and isinstance(f, models.fields.AutoFieldMixin))
        and not isinstance(f, models.GeneratedField)
    ]
    tail = tuple(_filler(f) for f in rest)
    columns = [f.column for f in named + rest]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    count = 0
    with connection.cursor() as cursor:
        # Binary COPY: PostgreSQL takes the values as they are instead of parsing text (timestamps and
        # numerics especially) — a third of the time for the big tables. It needs each column's type,
        # asked of the catalogue so that any column type works.
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [meta.db_table],
        )
        oids = dict(cursor.fetchall())
        with cursor.cursor.copy(statement) as copy:
            copy.set_types([oids[c] for c in columns])
            for row in rows:
                copy.write_row((*row, *tail))
                count += 1
    return count


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def reset_sequences(touched: Iterable[type[models.Model]]) -> None:
    """Move the id sequences past the ids the loader chose, so the application's next INSERT does not collide."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(dict.fromkeys(touched))):
            cursor.execute(statement)


@contextmanager
def checks_at_the_end(tables: Sequence[str]) -> Iterator[None]:
    """Load `tables` without their foreign keys, unique constraints and secondary indexes, then put them all
    back. Must run inside a transaction (DDL is transactional in PostgreSQL: a failed load leaves the schema
    as it was).

    Why: Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so every COPYed row queues one trigger
    event per key until commit — 5 M service logs would queue 25 M — and every index is updated row by row.
    Built once at the end, each index is one sort and each foreign key one join that checks every row; the
    definitions come from the catalogue, so indexes and constraints added by later migrations come back as
    they were. A row that breaks a key or a unique rule still fails the load, at the end instead of at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
              FROM pg_constraint
             WHERE conrelid = ANY(%s::text[]::regclass[]) AND contype IN ('f', 'u')
             ORDER BY contype = 'u', conrelid::regclass::text, conname
            """,
            [list(tables)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
              FROM pg_index i
             WHERE i.indrelid = ANY(%s::text[]::regclass[]) AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
             ORDER BY 1
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
        # Foreign keys first (ORDER BY put them first): a unique constraint may be what one of them references.
        for table, name, _definition, _kind in constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
            )
        for name, _definition in indexes:
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    with connection.cursor() as cursor:
        # The index builds sort whole tables: give them memory (for this transaction only).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _kind in reversed(constraints):
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                )
            )

"""Who changed what, also where no request says who: tasks, commands, services called from Celery, and
changes made with `QuerySet.update()` or `bulk_create()`, which send no signal simple_history could hear.

- `acting(actor, reason)`: every history row written inside names `actor` as its author (unless the row
  names its own, `alliance.workflow.with_history`) and carries `reason` where the row has none. Services
  that grant or revoke access (guardian rows, group membership, accounts) run their writes inside it.
- A Celery task runs inside `system("<task name>")` (connected below): rows written with no author say so
  in their reason, `system: <task name>`, instead of looking like anonymous edits.
- `record_update(...)` writes the history row of a row changed by a conditional `UPDATE`, in the same
  transaction; `bulk_create(...)` is `bulk_create` with its history rows.
- The bulk paths (`bulk_create`, `bulk_create_records`) write their history rows as plain values
  (`_insert_history`: one statement per batch on PostgreSQL, the rows as one JSON parameter; multi-row
  VALUES elsewhere) instead of through simple_history's per-object model instances: the same columns and
  values (who, when, reason, type), a fraction of the cost on an import of 50,000 members (issue 12)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connections, models, router
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import pre_create_historical_record
from simple_history.utils import bulk_create_with_history, get_change_reason_from_object, get_history_manager_for_model

M = TypeVar("M", bound=models.Model)

REASON_LENGTH = 100  # simple_history's history_change_reason column
SYSTEM_PREFIX = "system: "

# (actor or None, reason): the author and reason of history rows written in this context.
_acting: ContextVar[tuple[Any, str] | None] = ContextVar("alliance_history_acting", default=None)


def _authenticated(actor) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@contextmanager
def acting(actor=None, reason: str = "") -> Iterator[None]:
    token = _acting.set((_authenticated(actor), reason[:REASON_LENGTH]))
    try:
        yield
    finally:
        _acting.reset(token)


def system(name: str) -> Any:
    """A change nobody made by hand (a beat scan, a command): no author, and a reason that says which."""
    return acting(None, f"{SYSTEM_PREFIX}{name}")


def _resolve(user, reason: str) -> tuple[Any, str]:
    """The author and reason a history row gets: its own first, then the context's. A row with no
    author written by the system keeps its own reason after the system marker."""
    current = _acting.get()
    if current is None:
        return user, reason
    actor, context_reason = current
    if user is None:
        user = actor
    if not reason:
        reason = context_reason
    elif user is None and context_reason.startswith(SYSTEM_PREFIX) and not reason.startswith(SYSTEM_PREFIX):
        reason = f"{context_reason}: {reason}"
    return user, reason[:REASON_LENGTH]


@receiver(pre_create_historical_record, dispatch_uid="alliance_history_author")
def _fill_author(sender, instance, history_instance, **kwargs) -> None:
    # A row that names its own author (with_history) keeps it; otherwise the context's actor wins over the
    # request middleware's user, since a service that says who acted knows better than the request.
    own_user = getattr(instance, "_history_user", None)
    current = _acting.get()
    if current is None:
        return
    user = own_user if own_user is not None else (current[0] or history_instance.history_user)
    user, reason = _resolve(user, history_instance.history_change_reason or "")
    history_instance.history_user = user
    history_instance.history_change_reason = reason


_historical: dict[type, type] = {}


def historical_model(model: type[models.Model]) -> type[models.Model]:
    """The history model of `model`, looked up once per process (simple_history's manager lookup builds a
    manager class on every call)."""
    found = _historical.get(model)
    if found is None:
        found = _historical[model] = get_history_manager_for_model(model).model
    return found


def history_row(obj: models.Model, *, history_type: str = "+") -> models.Model | None:
    """The unsaved history row simple_history's `post_save` writes for `obj` — tracked fields as they stand
    in memory, when (`_history_date` or now), who (`_history_user`, else the request's user), why, the type
    — after the same `pre_create_historical_record` signal (so `acting` and `system` apply as for a row
    written by `save()`). For a write that inserts the row itself (`demands.services.need_submit` on
    PostgreSQL: one statement for the need and its rows). None when no row is to be written (history off,
    or a model whose history rows need more than their own columns: then save through simple_history)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or hasattr(obj, "skip_history_when_saving"):
        return None
    historical = historical_model(type(obj))
    if hasattr(historical, "history_relation") or getattr(historical, "_history_m2m_fields", None):
        return None
    date = getattr(obj, "_history_date", timezone.now())
    user = historical.get_default_history_user(obj)
    reason = get_change_reason_from_object(obj)
    row = historical(
        history_date=date,
        history_type=history_type,
        history_user=user,
        history_change_reason=reason,
        **{field.attname: getattr(obj, field.attname) for field in historical.tracked_fields},
    )
    pre_create_historical_record.send(
        sender=historical,
        instance=obj,
        history_date=date,
        history_user=user,
        history_change_reason=reason,
        history_instance=row,
        using=None,
    )
    return row


def record_update(model: type[M], pk: Any, *, actor, reason: str) -> M:
    """The history row of a row just changed by `QuerySet.update()` (a conditional update that keeps a race
    safe), written from the row as it now stands. Call it in the transaction of the update, which still
    holds the row's lock: nobody can change it in between."""
    obj = model._default_manager.get(pk=pk)
    user, why = _resolve(_authenticated(actor), reason)
    get_history_manager_for_model(model).bulk_history_create(
        [obj], update=True, default_user=user, default_change_reason=why
    )
    return obj


def bulk_create_records(model: type[M], objs: Iterable[M], *, actor=None, reason: str = "") -> None:
    """History rows ("changed") for objects already updated in bulk, as they stand in memory."""
    user, why = _resolve(_authenticated(actor), reason)
    _insert_history(model, list(objs), update=True, user=user, reason=why)


def bulk_create(model: type[M], objs: Iterable[M], *, actor=None, reason: str = "") -> list[M]:
    """`bulk_create` with one history row per object, author and reason as for any other row."""
    objs = list(objs)
    if not objs:
        return []
    user, why = _resolve(_authenticated(actor), reason or get_change_reason_from_object(objs[0]))
    if not connections[router.db_for_write(model)].features.can_return_rows_from_bulk_insert:
        # No primary keys come back: simple_history finds the rows again by their values.
        return bulk_create_with_history(objs, model, default_user=user, default_change_reason=why)
    created = _json_bulk_create(model, objs) or model._default_manager.bulk_create(objs)
    _insert_history(model, created, update=False, user=user, reason=why)
    return created


def _json_bulk_create(model: type[M], objs: list[M]) -> list[M] | None:
    """PostgreSQL: `bulk_create` of new rows as ONE statement reading them from one JSON parameter
    (`json_insert_sql`), their primary keys returned in order as `bulk_create` returns them: Django's own
    compiles and adapts every value (a fifth of a 50,000-member import). The same values: each field's
    `pre_save` (`auto_now_add`) and database conversion (`to_database`). None where it does not apply
    (another database, a set primary key, a field JSON cannot carry exactly, a model whose rows need
    more than their own table): then the caller uses `bulk_create`."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if connection.vendor != "postgresql" or meta.parents or meta.auto_field is None:
        return None
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    if any(obj.pk is not None for obj in objs) or not all(json_safe(f) for f in fields):
        return None
    if any(f.db_returning or f.has_db_default() for f in fields):
        return None
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    rows = values_for_insert(objs, fields)
    to_database(rows, fields, connection)
    pk = connection.ops.quote_name(meta.auto_field.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{json_insert_sql(model, fields, connection)} RETURNING {pk}", [json_rows(rows)])
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def _is_plain(field: models.Field) -> bool:
    return isinstance(field, _PLAIN_FIELDS) and type(field).__module__.startswith("django.db.models")


# What simple_history's bulk path sets on a history row besides the tracked fields.
_HISTORY_OWN = ("history_date", "history_change_reason", "history_type", "history_user_id")
# Field classes whose database value is the Python value itself when it is a str, int or bool (or None):
# the per-value conversion is skipped for them; anything else (dates, decimals, other fields) converts.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)
_PLAIN_TYPES = (str, int, bool, type(None))
# A statement's parameters at most (PostgreSQL takes 65,535; SQLite's limit is in `bulk_batch_size`).
_MAX_PARAMS = 30_000


# The columns PostgreSQL reads back from JSON text exactly (`_json_value`); a history model with any
# other (JSON, binary, float, a third-party field) goes through simple_history's own path there.
_JSON_SAFE_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "BigIntegerField",
    "IntegerField",
    "SmallIntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "BooleanField",
    "CharField",
    "TextField",
    "SlugField",
    "DateField",
    "DateTimeField",
    "TimeField",
    "DecimalField",
    "UUIDField",
}


def json_safe(field: models.Field) -> bool:
    target = field.target_field if field.is_relation else field
    return type(field).__module__.startswith("django.db.models") and target.get_internal_type() in _JSON_SAFE_TYPES


def _json_value(value: Any) -> str:
    """A database value JSON has no type for (a date, a time, a decimal, a UUID), as PostgreSQL reads it."""
    return value.isoformat() if isinstance(value, dt.date | dt.datetime | dt.time) else str(value)


def to_database(rows: list[list], fields: list[models.Field], connection) -> None:
    """Each row's values (in `fields`' order) to the database's form, in place, as `bulk_create` would
    convert them; skipped where the value is already in that form (a plain value; an aware datetime or a
    date for Django's own date and time fields on PostgreSQL, which converts neither)."""
    plain = [_is_plain(f) for f in fields]
    same = [_unconverted(f, connection) for f in fields]
    for row in rows:
        for i, (value, field) in enumerate(zip(row, fields, strict=True)):
            if plain[i] and isinstance(value, _PLAIN_TYPES):
                continue
            if same[i] is not None and same[i](value):
                continue
            row[i] = field.get_db_prep_save(value, connection)


def _unconverted(field: models.Field, connection) -> Callable[[Any], bool] | None:
    """For a date or datetime field of Django's on PostgreSQL: a test of the values its conversion returns
    unchanged (`to_python` keeps a date / an aware datetime, `adapt_date(time)field_value` passes it on)."""
    if connection.vendor != "postgresql" or type(field) not in (models.DateTimeField, models.DateField):
        return None
    if type(field) is models.DateTimeField:
        return lambda value: isinstance(value, dt.datetime) and value.tzinfo is not None
    return lambda value: type(value) is dt.date


def values_for_insert(objs: list, fields: list[models.Field]) -> list[list]:
    """Each object's values of `fields` as an INSERT writes them: `pre_save` where the field has its own
    (`auto_now_add` sets the time on the object), the attribute otherwise."""
    own = [type(f).pre_save is not models.Field.pre_save for f in fields]
    names = [f.attname for f in fields]
    return [[f.pre_save(obj, True) if own[i] else getattr(obj, names[i]) for i, f in enumerate(fields)] for obj in objs]


def json_rows(rows: list[list]) -> str:
    """Rows of database values (`to_database`) as the one JSON parameter `json_insert_sql` reads."""
    return json.dumps(rows, default=_json_value, ensure_ascii=False)


def json_insert_sql(model: type[models.Model], fields: list[models.Field], connection, *, given=None) -> str:
    """PostgreSQL: `INSERT INTO <model's table> (<fields' columns>)` of the rows of one JSON parameter
    (`json_rows`), or with `given` {field: SQL} a column's value from SQL instead (the JSON's is then
    ignored). The rows as one parameter (dumped by the json module's C code), taken apart by PostgreSQL:
    a short statement whatever the number of rows, converted and planned once, where psycopg's per-value
    array dumping would cost more than the rest of the write; every field must be `json_safe`. The casts
    name the base types (varchar, not varchar(30)): an explicit cast to a length would cut a long value,
    where the column's assignment refuses it, as `bulk_create` does."""
    given = given or {}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(
        given[f] if f in given else f"(r->>{i})::{f.db_type(connection).split('(')[0]}" for i, f in enumerate(fields)
    )
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"SELECT {values} FROM json_array_elements(%s::json) AS t(r)"
    )


def _insert_history(model: type[M], objs: list[M], *, update: bool, user, reason: str) -> None:
    """The rows simple_history's `bulk_history_create` writes — tracked fields as they stand in memory,
    `history_date` (the object's `_history_date` or now), `history_user` (the object's `_history_user`,
    else `user`, else the request's), the reason (the object's, else `reason`), the type — inserted as
    values, with no model instance per row. A history model with other columns (custom history fields)
    goes through simple_history's own path."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    manager = get_history_manager_for_model(model)
    historical = manager.model
    fields = [f for f in historical._meta.concrete_fields if not f.primary_key]
    tracked = [f.attname for f in historical.tracked_fields]
    connection = connections[router.db_for_write(historical)]
    as_json = connection.vendor == "postgresql"
    if (
        {f.attname for f in fields} != {*tracked, *_HISTORY_OWN}
        or hasattr(historical, "history_relation")
        or (as_json and not all(json_safe(f) for f in fields))
    ):
        manager.bulk_history_create(objs, update=update, default_user=user, default_change_reason=reason)
        return
    history_type = "~" if update else "+"
    now = timezone.now()  # one instant per batch: simple_history's per-row now() differs by microseconds
    rows = []
    for obj in objs:
        author = getattr(obj, "_history_user", user or historical.get_default_history_user(obj))
        own = {
            "history_date": getattr(obj, "_history_date", now),
            "history_change_reason": get_change_reason_from_object(obj) or reason,
            "history_type": history_type,
            "history_user_id": author.pk if author is not None else None,
        }
        rows.append([own[f.attname] if f.attname in own else getattr(obj, f.attname) for f in fields])
    to_database(rows, fields, connection)
    quote = connection.ops.quote_name
    table, columns = quote(historical._meta.db_table), ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if as_json:
            cursor.execute(json_insert_sql(historical, fields, connection), [json_rows(rows)])
            return
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, min(connection.ops.bulk_batch_size(fields, objs), _MAX_PARAMS // len(fields)))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))}",
                [value for row in chunk for value in row],
            )


# --- Celery: every task is a system action unless its services say who acted ----------------------

_task_tokens: dict[str, Token] = {}


@task_prerun.connect(dispatch_uid="alliance_history_task_prerun", weak=False)
def _task_started(task_id: str | None = None, task=None, **kwargs) -> None:
    if task_id is not None and task is not None:
        _task_tokens[task_id] = _acting.set((None, f"{SYSTEM_PREFIX}{task.name}"[:REASON_LENGTH]))


@task_postrun.connect(dispatch_uid="alliance_history_task_postrun", weak=False)
def _task_finished(task_id: str | None = None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        try:
            _acting.reset(token)
        except ValueError:  # reset from another context (a pool that switched threads): clear instead
            _acting.set(None)

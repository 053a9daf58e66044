"""Who changed what, also where no request says who: tasks, commands, services called from Celery, and
changes made with `QuerySet.update()` or `bulk_create()`, which send no signal simple_history could hear.

- `acting(actor, reason)`: every history row written inside names `actor` as its author (unless the row
  names its own, `alliance.workflow.with_history`) and carries `reason` where the row has none. Services
  that grant or revoke access (guardian rows, group membership, accounts) run their writes inside it.
- A Celery task runs inside `system("<task name>")` (connected below): rows written with no author say so
  in their reason, `system: <task name>`, instead of looking like anonymous edits.
- `record_update(...)` writes the history row of a row changed by a conditional `UPDATE`, in the same
  transaction; `bulk_create(...)` is `bulk_create` with its history rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from celery.signals import task_postrun, task_prerun
from django.db import models
from django.dispatch import receiver
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
    get_history_manager_for_model(model).bulk_history_create(
        list(objs), update=True, default_user=user, default_change_reason=why
    )


def bulk_create(model: type[M], objs: Iterable[M], *, actor=None, reason: str = "") -> list[M]:
    """`bulk_create` with one history row per object, author and reason as for any other row."""
    objs = list(objs)
    if not objs:
        return []
    user, why = _resolve(_authenticated(actor), reason or get_change_reason_from_object(objs[0]))
    return bulk_create_with_history(objs, model, default_user=user, default_change_reason=why)


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

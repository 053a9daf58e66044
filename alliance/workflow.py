"""Status changes guarded in the database: lock the row, check where it stands, move it, record who.

Every app's services use `move` for their workflows, so that two people acting on one object at the same
moment give exactly one change: the second waits for the first's lock, then sees the new status and is
refused with a `TransitionNotAllowed` (a 409 in the API)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from .errors import PermissionDenied, TransitionNotAllowed

M = TypeVar("M", bound=models.Model)


def with_history(obj: M, actor, reason: str = "") -> M:
    """simple_history takes the user from the request middleware; services also run from tasks and
    commands, so they say who acted (and why, where that helps a reader of the history)."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        obj._history_user = actor
    if reason:
        obj._change_reason = reason[:100]
    return obj


def move(
    obj: M,
    *,
    source: str | Iterable[str],
    target: str,
    refusal: str,
    actor=None,
    reason: str = "",
    status_field: str = "status",
    **fields,
) -> M:
    """Lock `obj`'s row, check its status is in `source`, set `target` and `fields`, save. Must run inside
    `transaction.atomic()`. `refusal` may use `%(status)s`, the current status's label."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("move() must run inside transaction.atomic()")
    sources = {source} if isinstance(source, str) else set(source)
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    current = getattr(locked, status_field)
    if current not in sources:
        label = getattr(locked, f"get_{status_field}_display")()
        raise TransitionNotAllowed(refusal % {"status": label})
    locked._status_before = current  # for the caller's timeline: where it really stood under the lock
    setattr(locked, status_field, target)
    for name, value in fields.items():
        setattr(locked, name, value)
    update_fields = [status_field, *fields]
    if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
        update_fields.append("updated_at")
    with_history(locked, actor, reason).save(update_fields=update_fields)
    return locked


def refuse_other_fields(data: dict, allowed: Iterable[str]) -> None:
    """A service's answer to a change of fields the caller may not touch: refused whole."""
    refused = set(data) - set(allowed)
    if refused:
        raise PermissionDenied(
            _("You may not change these fields: %(fields)s") % {"fields": ", ".join(sorted(refused))}
        )


def update(obj: M, *, data: dict, actor, reason: str = "") -> M:
    """Lock `obj`'s row, apply `data`, validate the whole object and save it with who did it. Must run
    inside `transaction.atomic()`; permission and field checks are the caller's."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    locked.full_clean()
    with_history(locked, actor, reason).save()
    return locked

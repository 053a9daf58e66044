"""Status changes guarded in the database: lock the row, check where it stands, move it, record who.

Every app's services use `move` for their workflows, so that two people acting on one object at the same
moment give exactly one change: the second waits for the first's lock, then sees the new status and is
refused with a `TransitionNotAllowed` (a 409 in the API).

The allowed moves of a workflow are declared once, beside its status `TextChoices` in models.py:

    class Need(models.Model):
        class Status(models.TextChoices): ...
        TRANSITIONS = Transitions(
            Transition("accept", [Status.DISPATCHED], Status.ACCEPTED, _("Accept"), ability="demands.act_for_need"),
            ...
        )

`move(obj, action="accept", ...)` takes the sources and the target from the table and refuses with one
message generated from it; `alliance.permissions.actions_allowed(user, obj)` lists the moves open to a user
(the table's sources joined with the transition's ability) for buttons, admin actions and API docs. A
transition without an ability is made by the system or by the public (a resident's rating) and is never
offered as a button. No field changes: the table is plain Python, not a migration."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.db import models, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext as _

from .errors import PermissionDenied, TransitionNotAllowed

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Transition:
    """One allowed move: `action` (its name in services, buttons and the API), the statuses it starts
    from, the status it ends in (None: the status stays, e.g. moving a planned meeting), its label for
    people, and the ability (`alliance.permissions`) a user needs to make it."""

    action: str
    sources: frozenset[str]
    target: str | None
    label: str
    ability: str | None = None

    def __init__(self, action, sources, target, label, ability=None) -> None:
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "sources", frozenset(str(s) for s in sources))
        object.__setattr__(self, "target", None if target is None else str(target))
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "ability", ability)


class Transitions:
    """The table of a workflow's allowed moves, keyed by action, in declaration order."""

    def __init__(self, *transitions: Transition, status_field: str = "status") -> None:
        self.status_field = status_field
        self._by_action = {t.action: t for t in transitions}

    def __iter__(self) -> Iterator[Transition]:
        return iter(self._by_action.values())

    def __getitem__(self, action: str) -> Transition:
        try:
            return self._by_action[action]
        except KeyError:
            raise LookupError(f"No transition named {action!r}") from None

    def __contains__(self, action: str) -> bool:
        return action in self._by_action

    @property
    def actions(self) -> list[str]:
        return list(self._by_action)

    def refusal(self, model: type[models.Model], action: str, current: str) -> str:
        """The one message for every refused move, made from the table: what was asked, the statuses it
        needs, the status the object is in."""
        choices = dict(model._meta.get_field(self.status_field).flatchoices)
        transition = self[action]
        return _("%(action)s is possible only when the status is %(sources)s; it is %(status)s now.") % {
            "action": transition.label,
            "sources": " / ".join(str(choices[s]) for s in choices if s in transition.sources),
            "status": choices.get(current, current),
        }

    def sources_text(self, model: type[models.Model], action: str) -> str:
        """The source statuses of `action` as people read them (for the API's docs)."""
        choices = dict(model._meta.get_field(self.status_field).flatchoices)
        return " / ".join(str(choices[s]) for s in choices if s in self[action].sources)


def transitions_of(model: type[models.Model]) -> Transitions | None:
    table = getattr(model, "TRANSITIONS", None)
    return table if isinstance(table, Transitions) else None


def api_description(model: type[models.Model], *actions: str) -> str:
    """The API docs of the endpoint that makes `actions`: the statuses each starts from (as the API
    writes them), read from the table so the docs cannot drift from what the service enforces. Lazy: the
    schema is written in the reader's language, and these lines are made when it is."""
    return _lazy_api_description(model, actions)


def _api_description(model: type[models.Model], actions: tuple[str, ...]) -> str:
    table = transitions_of(model)
    order = [value for value, _label in model._meta.get_field(table.status_field).flatchoices]
    lines = []
    for action in actions:
        transition = table[action]
        sources = pgettext("list separator", ", ").join(f"`{s}`" for s in order if s in transition.sources)
        if transition.target:
            result = gettext("moves it to `%(target)s`") % {"target": transition.target}
        else:
            result = gettext("keeps its status")
        lines.append(
            gettext("`%(action)s`: allowed when `%(field)s` is %(sources)s; %(result)s.")
            % {"action": action, "field": table.status_field, "sources": sources, "result": result}
        )
    lines.append(
        gettext("From any other status: 409 with the reason (%(model)s.TRANSITIONS).") % {"model": model.__name__}
    )
    return "\n\n".join(lines)


_lazy_api_description = lazy(_api_description, str)


def refusal_for(obj: models.Model, action: str) -> str:
    """The table's refusal of `action` for `obj` where it stands (for screens that explain a missing button)."""
    table = transitions_of(type(obj))
    return table.refusal(type(obj), action, getattr(obj, table.status_field))


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
    action: str | None = None,
    source: str | Iterable[str] | None = None,
    target: str | None = None,
    refusal: str = "",
    actor=None,
    reason: str = "",
    status_field: str = "status",
    **fields,
) -> M:
    """Lock `obj`'s row, check its status is a source of `action` in the model's declared `TRANSITIONS`,
    set the action's target and `fields`, save; refuse with the message generated from the table. Must run
    inside `transaction.atomic()`.

    Without `action` (a move the table does not declare), `source`, `target` and `refusal` say it;
    `refusal` may use `%(status)s`, the current status's label."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("move() must run inside transaction.atomic()")
    model = type(obj)
    table = transitions_of(model) if action is not None else None
    if action is not None:
        if table is None:
            raise LookupError(f"{model.__name__} declares no TRANSITIONS")
        transition = table[action]
        sources, status_field = set(transition.sources), table.status_field
    else:
        sources = {source} if isinstance(source, str) else set(source or ())
    locked = model._default_manager.select_for_update().get(pk=obj.pk)
    current = getattr(locked, status_field)
    if current not in sources:
        if table is not None:
            raise TransitionNotAllowed(table.refusal(model, action, current))
        label = getattr(locked, f"get_{status_field}_display")()
        raise TransitionNotAllowed(refusal % {"status": label})
    if table is not None:
        target = transition.target or current
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

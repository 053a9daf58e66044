"""The one permission path: admin, portal, API and services all ask here.

Roles:
- district staff: members of the `district_staff` group, assigned to districts (`members.DistrictStaff`);
  they oversee every street of their districts (`districts_of`, `streets_of`);
- street staff: members of the `street_staff` group (and superusers), assigned to streets
  (`members.StreetStaff`) — see and change everything of their streets (`streets_of`; a superuser: all);
- community staff: members of the `community_staff` group, scoped to the communities on which they hold
  the object permission `members.administer_community` (django-guardian);
- unit liaisons: scoped to the units on which they hold `members.change_memberunit` (django-guardian),
  granted when their unit is approved, never by shared passwords;
- Party members: themselves; anonymous visitors: public pages only.

`alliance` imports no app, so each app registers, from its `extensions.register()` at start-up:
- the rules for its models (`register(MemberUnit, UnitRules())`): `visible`, `can_view`, `can_change`,
  `can_add`, `can_delete` and `require_change` ask them;
- its named abilities, the questions beyond see/change/add/delete, each named "<app>.<verb>" and answered
  by a function `(user, obj) -> bool` (`register_ability("meetings.read_minutes", fn)`): `has_ability` asks,
  `require_ability` refuses with 404 what the user may not see and with 403 what they see but may not do
  (one ability, "change", is built in: it is `can_change`);
- the members app alone, the scopes every rule is made of: `units_of(user)` (the units the user is a
  liaison of), `communities_of(user)` (the communities they work for as staff), `streets_of(user)` and
  `districts_of(user)` (what street and district staff oversee), as frozensets of ids;
- hooks run when a grant is taken away (`on_access_revoked`; the members app calls `access_revoked`), so
  that what was handed out with it (a unit's calendar address) stops working.
The abilities registered today: members.administer_unit, members.act_for_unit (a unit or its id),
members.build_report (a street);
demands.staff_for_need, demands.act_for_need (the liaison of the unit it is dispatched to),
demands.claimant_of_need, demands.see_contact; projects.act_for_claim; meetings.read_minutes (minutes,
attendance list and resolutions), meetings.report_on_resolution, meetings.answer_invitation,
meetings.record_attendance; volunteers.see_phone, volunteers.act_for_member, volunteers.leave_post.
Everybody else calls the functions below — never a rule object, never another app's `rules` module.
`actions_allowed(user, obj)` joins the model's declared status moves (`alliance.workflow`) with the
abilities, for buttons, admin actions and the API's docs. What a user may not see is answered with 404, so
that existence does not leak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from . import workflow
from .breaker import Breaker
from .errors import PermissionDenied

logger = logging.getLogger(__name__)

STREET_STAFF_GROUP = "street_staff"
DISTRICT_STAFF_GROUP = "district_staff"
COMMUNITY_STAFF_GROUP = "community_staff"

M = TypeVar("M", bound=models.Model)


class Rules(Protocol):
    """What an app tells the permission layer about one of its models."""

    def visible(self, user, queryset: models.QuerySet) -> models.QuerySet: ...

    def can_change(self, user, obj: models.Model) -> bool: ...

    def can_add(self, user) -> bool: ...

    def can_delete(self, user, obj: models.Model) -> bool: ...


_RULES: dict[type[models.Model], Rules] = {}


def register(model: type[models.Model], rules: Rules) -> None:
    _RULES[model] = rules


def rules_for(model: type[models.Model]) -> Rules:
    try:
        return _RULES[model]
    except KeyError:
        raise LookupError(f"No permission rules registered for {model.__name__}") from None


Ability = Callable[[Any, Any], bool]
_ABILITIES: dict[str, Ability] = {}
_SCOPES: dict[str, Callable[[Any], frozenset[int]]] = {}


def register_ability(name: str, check: Ability) -> None:
    """`name` is "<app>.<verb>"; `check(user, obj)` answers for any user, anonymous included."""
    _ABILITIES[name] = check


def register_scope(name: str, provider: Callable[[Any], frozenset[int]]) -> None:
    """The members app registers "units" and "communities" (see `units_of` / `communities_of`)."""
    _SCOPES[name] = provider


def _scope(name: str, user) -> frozenset[int]:
    try:
        provider = _SCOPES[name]
    except KeyError:
        raise LookupError(f"No scope provider registered for {name!r}") from None
    return provider(user or AnonymousUser())


# --- Roles ----------------------------------------------------------------------------------------


# A user's group names are also kept in the cache (Redis), for GROUPS_CACHE_SECONDS at most: a signed-in
# request then costs no groups query (issue 12). Every way a membership changes through the ORM drops the
# entry (the signals at the end of this module: adding, removing, clearing from either side, renaming or
# deleting a group), at once and again when the transaction commits, so that a request running meanwhile
# cannot put the old names back. Bulk writes to the through table bypass the signals: they call
# `forget_groups`. Without Redis the names are read from the database, as before.
groups_breaker = Breaker("permission cache", pause=30)


def _groups_key(user_id: int) -> str:
    return f"alliance:perm:groups:{user_id}"


def _scope_key(name: str, user_id: int) -> str:
    return f"alliance:perm:{name}:{user_id}"


# The cached scopes (`streets_of`, `districts_of`): kept like the group names and dropped with them.
CACHED_SCOPES = ("streets", "districts")


def _joined(user) -> str:
    # Stored with the names: an entry is only good for the very account it was made for (a test database,
    # or a restored one, may give another account the same id).
    return str(getattr(user, "date_joined", ""))


def _cache_call(action: str, call: Callable[[], Any], *, always: bool = False) -> Any:
    return groups_breaker.attempt(
        call,
        warning="Permission cache unavailable (%s, %s); groups read from the database meanwhile",
        args=(action,),
        log=logger,
        always=always,
    )


def _group_names(user) -> frozenset[str]:
    # Cached on the user object: a request asks this many times and it must cost one query at most.
    cached = getattr(user, "_alliance_groups", None)
    if cached is None:
        cached = _stored_group_names(user) if user.is_authenticated else frozenset()
        user._alliance_groups = cached
    return cached


def _stored_group_names(user) -> frozenset[str]:
    key = _groups_key(user.pk)
    stored = _cache_call("get", lambda: cache.get(key))
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == _joined(user):
        return frozenset(stored[1])
    names = frozenset(user.groups.values_list("name", flat=True))
    _cache_call("set", lambda: cache.set(key, (_joined(user), sorted(names)), settings.GROUPS_CACHE_SECONDS))
    return names


def forget_groups(user_ids: Iterable[int]) -> None:
    """Drop the cached group names and scopes of these users, now and when the current transaction commits."""
    user_ids = list(user_ids)
    keys = [_groups_key(pk) for pk in user_ids] + [_scope_key(n, pk) for n in CACHED_SCOPES for pk in user_ids]
    if not keys:
        return
    # Tried even while the breaker is open: a membership taken away must leave the cache whenever it answers.
    _cache_call("delete", lambda: cache.delete_many(keys), always=True)
    transaction.on_commit(lambda: _cache_call("delete", lambda: cache.delete_many(keys), always=True))


def is_street_staff(user) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or STREET_STAFF_GROUP in _group_names(user)


def is_community_staff(user) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return COMMUNITY_STAFF_GROUP in _group_names(user)


def is_district_staff(user) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return DISTRICT_STAFF_GROUP in _group_names(user)


def is_staff_member(user) -> bool:
    """Street or community staff: the people who work in the admin site."""
    return is_street_staff(user) or is_community_staff(user)


def object_ids_with_perm(user, perm: str, model: type[models.Model]) -> frozenset[int]:
    """Primary keys of `model` on which `user` holds the guardian object permission `perm` (cached)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cache: dict = user.__dict__.setdefault("_alliance_object_ids", {})
    key = (perm, model._meta.label)
    if key not in cache:
        qs = get_objects_for_user(
            user, perm, klass=model, use_groups=True, with_superuser=False, accept_global_perms=False
        )
        cache[key] = frozenset(qs.values_list("pk", flat=True))
    return cache[key]


_REVOCATION_HOOKS: list[Callable[..., None]] = []


def on_access_revoked(hook: Callable[..., None]) -> None:
    """Apps that hand out something tied to a grant (a unit's calendar address) register `hook(*, user,
    obj, actor)` here; it runs inside the transaction of the service that takes the grant away."""
    if hook not in _REVOCATION_HOOKS:
        _REVOCATION_HOOKS.append(hook)


def access_revoked(*, user, obj: models.Model, actor) -> None:
    """Called by the service that takes `user`'s access to `obj` away (a liaison removed from a unit)."""
    forget_cached_permissions(user)
    for hook in _REVOCATION_HOOKS:
        hook(user=user, obj=obj, actor=actor)


def forget_cached_permissions(user) -> None:
    """Called by services that grant or revoke, so the same request sees the change."""
    for attr in ("_alliance_groups", "_alliance_object_ids", "_alliance_scopes", "_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)
    if getattr(user, "pk", None) is not None:
        forget_groups([user.pk])


def units_of(user) -> frozenset[int]:
    """Ids of the member units this user acts for as a liaison (their unit accounts)."""
    return _scope("units", user)


def communities_of(user) -> frozenset[int]:
    """Ids of the communities this user works for as community staff (empty for everybody else)."""
    return _scope("communities", user)


def streets_of(user) -> frozenset[int]:
    """Ids of the streets this user oversees: as street staff, the streets they are assigned to; as district
    staff, every street of their districts; a superuser, every street. Empty for everybody else."""
    return _cached_scope("streets", user)


def districts_of(user) -> frozenset[int]:
    """Ids of the districts this user works for as district staff (a superuser: every district)."""
    return _cached_scope("districts", user)


def _cached_scope(name: str, user) -> frozenset[int]:
    # Per request on the user object, across requests in the cache like the group names (a staff request
    # then costs no scope query); `forget_groups` drops it whenever an assignment changes.
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    memo: dict = user.__dict__.setdefault("_alliance_scopes", {})
    if name not in memo and user.is_superuser:  # every street: not cached, so a new street shows at once
        memo[name] = _scope(name, user)
    if name not in memo:
        key = _scope_key(name, user.pk)
        stored = _cache_call("get", lambda: cache.get(key))
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == _joined(user):
            memo[name] = frozenset(stored[1])
        else:
            ids = _scope(name, user)
            _cache_call("set", lambda: cache.set(key, (_joined(user), sorted(ids)), settings.GROUPS_CACHE_SECONDS))
            memo[name] = ids
    return memo[name]


# --- Questions ------------------------------------------------------------------------------------


def visible(user, model_or_queryset: type[M] | models.QuerySet) -> models.QuerySet:
    """Which objects of this kind may this user see."""
    if isinstance(model_or_queryset, models.QuerySet):
        queryset = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    user = user or AnonymousUser()
    return rules_for(queryset.model).visible(user, queryset)


def can_view(user, obj: models.Model) -> bool:
    return visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def can_change(user, obj: models.Model) -> bool:
    user = user or AnonymousUser()
    return bool(user.is_authenticated) and rules_for(type(obj)).can_change(user, obj)


def can_add(user, model: type[models.Model]) -> bool:
    user = user or AnonymousUser()
    return bool(user.is_authenticated) and rules_for(model).can_add(user)


def can_delete(user, obj: models.Model) -> bool:
    user = user or AnonymousUser()
    return bool(user.is_authenticated) and rules_for(type(obj)).can_delete(user, obj)


# The one ability every model has: "change" is `can_change` (declared moves that staff make name it).
register_ability("change", lambda user, obj: can_change(user, obj))


def get_visible_or_404(user, model_or_queryset: type[M] | models.QuerySet, **lookup) -> M:
    try:
        return visible(user, model_or_queryset).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require_change(user, obj: models.Model) -> None:
    """For services: refuse with 404 what the user cannot see, with 403 what they see but may not change."""
    if can_change(user, obj):
        return
    if not can_view(user, obj):
        raise Http404
    raise PermissionDenied


def has_ability(user, name: str, obj: Any = None) -> bool:
    """May this user do the named thing (to `obj`)? Abilities are registered by the apps."""
    try:
        check = _ABILITIES[name]
    except KeyError:
        raise LookupError(f"No ability registered as {name!r}") from None
    return bool(check(user or AnonymousUser(), obj))


def require_ability(user, name: str, obj: Any = None, message: str | None = None) -> None:
    """For services and views: 404 when `obj` is not visible to the user, 403 (with `message`, when given)
    when it is visible but the ability is not theirs."""
    if has_ability(user, name, obj):
        return
    if isinstance(obj, models.Model) and not can_view(user, obj):
        raise Http404
    raise PermissionDenied(message) if message else PermissionDenied


def actions_allowed(user, obj: models.Model) -> list[str]:
    """The declared moves of `obj`'s workflow that start from its current status and that this user may
    make, in the table's order. Moves made by the system or the public (no ability) are never listed."""
    table = workflow.transitions_of(type(obj))
    if table is None:
        return []
    current = getattr(obj, table.status_field)
    return [
        t.action for t in table if current in t.sources and t.ability is not None and has_ability(user, t.ability, obj)
    ]


# --- Reusable rules -------------------------------------------------------------------------------


class StreetRules:
    """Rules for street-wide reference data: everyone signed in reads, street staff change."""

    def visible(self, user, queryset):
        return queryset

    def can_change(self, user, obj) -> bool:
        return is_street_staff(user)

    def can_add(self, user) -> bool:
        return is_street_staff(user)

    def can_delete(self, user, obj) -> bool:
        return is_street_staff(user)


class StaffOnlyRules(StreetRules):
    def visible(self, user, queryset):
        return queryset if is_street_staff(user) else queryset.none()


class OwnNotificationsRules(StaffOnlyRules):
    """A notification is seen by its recipient and by street staff; nobody edits one."""

    def visible(self, user, queryset):
        if is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(recipient=user)

    def can_change(self, user, obj) -> bool:
        return False

    def can_add(self, user) -> bool:
        return False


# --- Keeping the cached group names true (see `_group_names`) ----------------------------------------


def _members_of(group_id: int) -> list[int]:
    through = get_user_model().groups.through
    return list(through.objects.filter(group_id=group_id).values_list("user_id", flat=True))


def _on_memberships_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if sender is not get_user_model().groups.through:
        return
    if not reverse:  # user.groups.add/remove/set/clear(...)
        if action in ("post_add", "post_remove", "post_clear"):
            forget_groups([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): its members are known only before
        forget_groups(_members_of(instance.pk))
    elif action in ("post_add", "post_remove"):
        forget_groups(pk_set or ())


def _on_group_changed(sender, instance: Group, created: bool = False, **kwargs) -> None:
    if instance.pk is not None and not created:  # renamed (post_save) or about to be deleted (pre_delete)
        forget_groups(_members_of(instance.pk))


m2m_changed.connect(_on_memberships_changed, dispatch_uid="alliance.permissions.memberships")
post_save.connect(_on_group_changed, sender=Group, dispatch_uid="alliance.permissions.group_saved")
pre_delete.connect(_on_group_changed, sender=Group, dispatch_uid="alliance.permissions.group_deleted")

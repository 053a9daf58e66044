"""The one permission path: admin, portal, API and services all ask here.

Roles:
- district staff: members of the `district_staff` group, assigned to districts (`members.DistrictStaff`);
  they oversee every street of their districts (`districts_of`, `streets_of`) and nothing of another
  district. What they may do, chosen so that a street stays the one that runs its own alliance:
  * read everything of their streets (units, needs, claims, meetings, members, service logs, reports,
    figures, dashboards, exports) — admin, portal and API, with contact data as street staff see it (the
    district's guidance committee follows up cases); `sees_community`, `seen_communities`;
  * build and download their streets' quarterly reports (ability "members.build_report");
  * plan and run district-level meetings (`level=district`, `district` one of theirs);
  * assign the staff of their streets and districts (members.services.street_staff_add …);
  * nothing of a street's workflow: dispatching needs, approving units or claims, running a street's or a
    community's meetings, the assessment stay the street's (`manages_community`, `manages_street` answer
    False for them unless they are also that street's staff);
- street staff: members of the `street_staff` group (and superusers), assigned to streets
  (`members.StreetStaff`) — see and change everything of their streets (`managed_streets_of`; a superuser:
  all), nothing of another street;
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
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.http import Http404
from guardian.models import GroupObjectPermission, UserObjectPermission

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
    # v2: StreetScope holds `managed_districts` (an entry stored before would read as holding none).
    return f"alliance:perm:{name}:v2:{user_id}"


# The cached scopes (`streets_of`, `districts_of`): kept like the group names and dropped with them.
CACHED_SCOPES = ("street_scope", "districts")


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


def _stored(user) -> dict:
    """What the cache holds for this user — the group names, every cached scope, the organisation's tokens —
    read in ONE round trip on the user's first question of the request and kept on the user object: a staff
    request asks for its groups and two scopes, which were three round trips to Redis."""
    # getattr/setattr, not __dict__: `request.user` is a lazy proxy of the User the rules are also given, and
    # both must find what the first read kept.
    found = getattr(user, "_alliance_stored", None)
    if found is None:
        keys = [
            _groups_key(user.pk),
            *(_scope_key(n, user.pk) for n in CACHED_SCOPES),
            _STREETS_TOKEN,
            _COMMUNITIES_TOKEN,
        ]
        found = _cache_call("get", lambda: cache.get_many(keys)) or {}
        user._alliance_stored = found
    return found


def _stored_group_names(user) -> frozenset[str]:
    key = _groups_key(user.pk)
    stored = _stored(user).get(key)
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
    """Street, district or community staff: the people who work in the admin site."""
    return is_street_staff(user) or is_community_staff(user) or is_district_staff(user)


def works_on_a_street(user) -> bool:
    """Street or community staff: the people who run a street's work (enter needs, plan projects and
    meetings); district staff alone do not (see the module's docstring)."""
    return is_street_staff(user) or is_community_staff(user)


def object_ids_with_perm(user, perm: str, model: type[models.Model]) -> frozenset[int]:
    """Primary keys of `model` on which `user` holds the guardian object permission `perm` (cached)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cache: dict | None = getattr(user, "_alliance_object_ids", None)  # see _stored: the lazy proxy
    if cache is None:
        cache = user._alliance_object_ids = {}
    key = (perm, model._meta.label)
    if key not in cache:
        cache[key] = frozenset(map(model._meta.pk.to_python, _granted_object_pks(user, perm, model)))
    return cache[key]


def _granted_object_pks(user, perm: str, model: type[models.Model]) -> list[str]:
    """The `object_pk`s of `user`'s grants of `perm` on `model`, given to them or to one of their groups, read
    from guardian's two tables by their (user | group, permission) indexes. guardian's `get_objects_for_user`
    answers the same by reading `model`'s table and casting every primary key to text to compare: at city
    scale (11,550 units) a liaison's every page read the whole units table for their one unit (issue 12).
    Unlike guardian's answer, a grant left behind by a deleted object still gives its id: an id no row has,
    which changes nothing in the filters and membership checks these ids feed."""
    app_label, _, codename = perm.rpartition(".")
    if app_label and app_label != model._meta.app_label:
        raise ValueError(f"{perm!r} is not a permission of {model._meta.label}")
    content_type = ContentType.objects.get_for_model(model)  # Django's per-process cache
    granted = {"permission__codename": codename, "permission__content_type": content_type}
    direct = UserObjectPermission.objects.filter(user_id=user.pk, content_type=content_type, **granted)
    grouped = GroupObjectPermission.objects.filter(group__user=user.pk, content_type=content_type, **granted)
    return list(direct.values_list("object_pk", flat=True).union(grouped.values_list("object_pk", flat=True)))


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
    held = vars(target) if hasattr(target := getattr(user, "_wrapped", user), "__dict__") else {}
    for attr in (
        "_alliance_groups",
        "_alliance_stored",
        "_alliance_object_ids",
        "_alliance_scopes",
        "_perm_cache",
        "_user_perm_cache",
    ):
        held.pop(attr, None)  # on the User itself, also behind `request.user`'s lazy proxy
    if getattr(user, "pk", None) is not None:
        forget_groups([user.pk])


def units_of(user) -> frozenset[int]:
    """Ids of the member units this user acts for as a liaison (their unit accounts)."""
    return _scope("units", user)


def communities_of(user) -> frozenset[int]:
    """Ids of the communities this user works for as community staff (empty for everybody else)."""
    return _scope("communities", user)


@dataclass(frozen=True)
class StreetScope:
    """What a street or district staff member oversees, read in one query and kept like the group names.

    `streets`: every street they see (assigned as street staff, or in a district they work for);
    `managed`: the streets whose work they run (assigned as street staff) — a subset of `streets`;
    `communities` / `managed_communities`: the communities of those streets, so that lists filter by ids
    without a join (`community_id__in=…`); `managed_districts`: the districts of the streets they run (whose
    district meetings they read); `every_street` / `every_managed`: the streets are every street there is,
    and a list needs no filter at all (a street office of one street, the scale bench's staff)."""

    streets: frozenset[int] = frozenset()
    managed: frozenset[int] = frozenset()
    communities: frozenset[int] = frozenset()
    managed_communities: frozenset[int] = frozenset()
    managed_districts: frozenset[int] = frozenset()
    every_street: bool = False
    every_managed: bool = False


NO_STREETS = StreetScope()
EVERY_STREET = StreetScope(every_street=True, every_managed=True)

# A street's communities and a district's streets are part of every cached street scope: when a street or
# district is added, moved or removed (members calls `forget_organisation`) one token changes, when a
# community is, another; an entry stored with another token is read again. A scope over every street holds
# no community ids, so a new community leaves it good (a street office adding a community costs its staff
# nothing). The tokens come in the same cache round trip as the entry.
_STREETS_TOKEN = "alliance:perm:org:streets"
_COMMUNITIES_TOKEN = "alliance:perm:org:communities"


def forget_organisation(*, communities_only: bool = False) -> None:
    """Streets, districts or (`communities_only`) communities changed: cached street scopes that hold
    them are stale (now and at commit)."""
    keys = [_COMMUNITIES_TOKEN] if communities_only else [_STREETS_TOKEN, _COMMUNITIES_TOKEN]

    def bump() -> None:
        _cache_call("set", lambda: cache.set_many({key: uuid4().hex for key in keys}, None), always=True)

    bump()
    transaction.on_commit(bump)


def _holds_communities(value) -> bool:
    if not isinstance(value, StreetScope):
        return False
    return not value.every_street or (not value.every_managed and bool(value.managed))


def street_scope(user) -> StreetScope:
    """The streets (and their communities) this user oversees as street or district staff. Nobody else has
    one, and asking costs them nothing; a superuser oversees every street, with no query."""
    # Asked once a row by the masking rules (50 times a list page): the request's answer, once it has one.
    known = getattr(user, "_alliance_scopes", None)
    if known is not None and "street_scope" in known:
        return known["street_scope"]
    if not user or not user.is_authenticated or not user.is_active:
        return NO_STREETS
    if user.is_superuser:
        return EVERY_STREET
    if not (is_street_staff(user) or is_district_staff(user)):
        return NO_STREETS
    return _cached_scope("street_scope", user)


def streets_of(user) -> frozenset[int]:
    """Ids of the streets this user oversees: as street staff, the streets they are assigned to; as district
    staff, every street of their districts; a superuser, every street. Empty for everybody else."""
    if user and user.is_authenticated and user.is_active and user.is_superuser:
        # Every street, read each time (rules answer a superuser without asking): a new street counts at once.
        return _scope("streets", user)
    return street_scope(user).streets


def managed_streets_of(user) -> frozenset[int]:
    """Ids of the streets whose work this user runs (street staff of them); a superuser: every street."""
    if user and user.is_authenticated and user.is_active and user.is_superuser:
        return streets_of(user)
    return street_scope(user).managed


def districts_of(user) -> frozenset[int]:
    """Ids of the districts this user works for as district staff (a superuser: every district)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    if not user.is_superuser and not is_district_staff(user):
        return frozenset()
    if user.is_superuser:
        return _scope("districts", user)
    return _cached_scope("districts", user)


def seen_communities(user) -> frozenset[int] | None:
    """The communities whose rows this user sees as staff, as a filter: None means every community (a
    superuser, or staff over every street — no filter to apply); otherwise the communities of the streets
    they oversee and those they work for as community staff (empty for everybody else)."""
    scope = street_scope(user)
    if scope.every_street:
        return None
    own = communities_of(user) if is_community_staff(user) else frozenset()
    return scope.communities | own if scope.communities else own


def managed_communities(user) -> frozenset[int] | None:
    """The communities whose work this user runs as staff (None: every one): their streets' as street
    staff and their own as community staff — not a district's (district staff read, streets run)."""
    scope = street_scope(user)
    if scope.every_managed:
        return None
    own = communities_of(user) if is_community_staff(user) else frozenset()
    return scope.managed_communities | own if scope.managed_communities else own


def listed_units(user) -> frozenset[int]:
    """`units_of(user)` for list filters: street and district staff work through their streets — their
    accounts are not unit accounts — so their lists skip the question (and its query)."""
    if street_scope(user).streets:
        return frozenset()
    return units_of(user)


def sees_community(user, community_id: int | None) -> bool:
    if community_id is None:
        return False
    seen = seen_communities(user)
    return seen is None or community_id in seen


def manages_community(user, community_id: int | None) -> bool:
    if community_id is None:
        return False
    managed = managed_communities(user)
    return managed is None or community_id in managed


def sees_street(user, street_id: int | None) -> bool:
    scope = street_scope(user)
    return scope.every_street or (street_id is not None and street_id in scope.streets)


def manages_street(user, street_id: int | None) -> bool:
    scope = street_scope(user)
    return scope.every_managed or (street_id is not None and street_id in scope.managed)


def sees_district(user, district_id: int | None) -> bool:
    return district_id is not None and (bool(user and user.is_superuser) or district_id in districts_of(user))


def community_filter(user, field: str = "community_id") -> models.Q | None:
    """`Q(<field>__in=<seen communities>)`, or None when the user sees every community (no filter)."""
    seen = seen_communities(user)
    return None if seen is None else models.Q(**{f"{field}__in": seen})


def street_filter(user, field: str = "street_id") -> models.Q | None:
    """`Q(<field>__in=<streets overseen>)`, or None when the user sees every street (no filter)."""
    scope = street_scope(user)
    return None if scope.every_street else models.Q(**{f"{field}__in": scope.streets})


def _cached_scope(name: str, user):
    # Per request on the user object, across requests in the cache like the group names (a staff request
    # then costs no scope query); `forget_groups` drops it whenever an assignment changes, and
    # `forget_organisation` whenever a street or community does.
    memo: dict | None = getattr(user, "_alliance_scopes", None)
    if memo is None:
        memo = user._alliance_scopes = {}
    if name in memo:
        return memo[name]
    key = _scope_key(name, user.pk)
    stored = _stored(user)
    tokens = []
    for token_key in (_STREETS_TOKEN, _COMMUNITIES_TOKEN):
        token = stored.get(token_key)
        if token is None:  # never set, or evicted: a new one, so that no entry made before it is trusted
            token = stored[token_key] = uuid4().hex  # the request's other scopes use the same one
            _cache_call("set", lambda k=token_key, t=token: cache.add(k, t, None))
        tokens.append(token)
    entry = stored.get(key)
    if (
        isinstance(entry, tuple)
        and len(entry) == 4
        and entry[0] == _joined(user)
        and entry[1] == tokens[0]
        and (entry[2] is None or entry[2] == tokens[1])
    ):
        memo[name] = entry[3]
    else:
        value = _scope(name, user)
        entry = (_joined(user), tokens[0], tokens[1] if _holds_communities(value) else None, value)
        _cache_call("set", lambda: cache.set(key, entry, settings.GROUPS_CACHE_SECONDS))
        memo[name] = value
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


def _street_id_of(obj, path: str) -> int | None:
    """The street id at `path` ("pk", "street_id", "unit__community__street_id" …) of `obj`."""
    value: Any = obj
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


class StreetRules:
    """Street-wide reference data: everyone signed in reads, street staff change.

    With `street_field` (the path to the street id of a row, "pk" for a street itself) the rows belong to
    a street: street and district staff read only their streets' (a list filtered by ids, or not at all
    when they oversee every street), street staff change only their own streets'; the other signed-in
    users (community staff, liaisons, members) read them all — they are names, on the public pages too."""

    def __init__(self, street_field: str | None = None) -> None:
        self.street_field = street_field

    def _scoped(self, user, queryset):
        if not (is_street_staff(user) or is_district_staff(user)):
            return queryset
        scope = street_filter(user, self.street_field)
        return queryset if scope is None else queryset.filter(scope)

    def visible(self, user, queryset):
        return queryset if self.street_field is None else self._scoped(user, queryset)

    def can_change(self, user, obj) -> bool:
        if self.street_field is None:
            return is_street_staff(user)
        return is_street_staff(user) and manages_street(user, _street_id_of(obj, self.street_field))

    def can_add(self, user) -> bool:
        return is_street_staff(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class StaffOnlyRules(StreetRules):
    """Seen by street staff only. With `street_field`: by the staff of the row's street and district."""

    def visible(self, user, queryset):
        if self.street_field is None:
            return queryset if is_street_staff(user) else queryset.none()
        if not (is_street_staff(user) or is_district_staff(user)):
            return queryset.none()
        return self._scoped(user, queryset)


class _ChangedByEveryStreetsStaff:
    """Rows every street shares (one platform-wide table, no street of their own): changed only by those who
    run every street — a street office on its own, or a superuser. The staff of one street among several
    would otherwise change what the other streets (and districts) work with."""

    def can_change(self, user, obj) -> bool:
        return is_street_staff(user) and street_scope(user).every_managed

    def can_add(self, user) -> bool:
        return is_street_staff(user) and street_scope(user).every_managed

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class SharedRules(_ChangedByEveryStreetsStaff, StreetRules):
    """Shared reference data (the categories): read by everyone signed in, as StreetRules; changed by the
    staff of every street only."""


class EveryStreetRules(_ChangedByEveryStreetsStaff, StaffOnlyRules):
    """Settings every street's clocks read (the working-day calendar): seen by street staff, changed only by
    those who run every street."""


class OwnNotificationsRules(StaffOnlyRules):
    """A notification is seen by its recipient and by the staff who oversee every street (a notification
    names no street: the staff of one street among several see their own only); nobody edits one."""

    def visible(self, user, queryset):
        if street_scope(user).every_street:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(recipient=user)

    def can_change(self, user, obj) -> bool:
        return False

    def can_add(self, user) -> bool:
        return False

    def can_delete(self, user, obj) -> bool:
        return is_street_staff(user)  # of the ones they see (the list and pages ask `visible` first)


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

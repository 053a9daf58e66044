"""The authorization matrix: every route of the URL configuration × the test cast, against the policy
declared in `policy.py`.

Routes are listed by walking `get_resolver()`; each becomes one or more cases (the media route one per
upload folder, the calendar feed one per kind of token) whose URL is filled from the shared world
(`matrix_world.py`): always side A's objects, so liaison_a and community_x_staff ask for their own and
liaison_b and community_y_staff for another's. Every case × role is a test of its own, named
`route × role`; a route with no policy entry fails `test_every_route_has_a_policy` with its name.
Refused unsafe requests are checked to change nothing in the database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern

from meetings.models import Invitation

from . import policy
from .matrix_world import World, build_world
from .policy import ROLES

# --- Routes ---------------------------------------------------------------------------------------

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")
_UNNAMED_GROUP = re.compile(r"\((?!\?)[^()]*\)")


def _readable(pattern) -> str:
    """`api/v1/^needs/(?P<pk>[^/.]+)/accept\\.(?P<format>[a-z0-9]+)/?$` → `api/v1/needs/<pk>/accept.<format>`."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = _NAMED_GROUP.sub(lambda m: f"<{m.group(1)}>", text)
        count = iter(range(1, 10))
        text = _UNNAMED_GROUP.sub(lambda m: f"<arg{next(count)}>", text)
        text = text.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    return re.sub(r"<\w+:(\w+)>", r"<\1>", text)


@dataclass(frozen=True)
class Route:
    route: str  # readable pattern, e.g. `portal/needs/<pk>/accept/`
    name: str  # `portal:need_accept`, `need-accept`, `admin:demands_need_change`
    callback: Callable


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(entry, prefix + _readable(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield Route(prefix + _readable(entry.pattern), name, entry.callback)


def all_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver()):
        seen.setdefault(route.route, route)
    return list(seen.values())


# --- Filling URL parameters from the world --------------------------------------------------------

# Which object a `pk` stands for, by URL name (portal) or router basename (API). The admin's come from
# its registry. A new route whose parameter is not here fails naming the route.
PORTAL_OBJECTS = {
    "unit_detail": "members.memberunit",
    "unit_edit": "members.memberunit",
    "assessment_detail": "members.assessment",
    "assessment_remark": "members.assessment",
    "need_detail": "demands.need",
    "need_accept": "demands.need",
    "need_decline": "demands.need",
    "need_complete": "demands.need",
    "resource_edit": "demands.resource",
    "resource_withdraw": "demands.resource",
    "resource_restore": "demands.resource",
    "venue_week": "demands.venue",
    "venue_hours": "demands.venue",
    "venue_closure_add": "demands.venue",
    "venue_closure_remove": "demands.venue",
    "booking_approve": "demands.booking",
    "booking_decline": "demands.booking",
    "booking_cancel": "demands.booking",
    "project_detail": "projects.serviceproject",
    "project_claim": "projects.serviceproject",
    "claim_detail": "projects.projectclaim",
    "claim_withdraw": "projects.projectclaim",
    "activity_create": "projects.projectclaim",
    "meeting_detail": "meetings.jointmeeting",
    "meeting_answer": "meetings.jointmeeting",
    "minutes_print": "meetings.jointmeeting",
    "minutes_xlsx": "meetings.jointmeeting",
    "resolution_progress": "meetings.resolution",
    "calendar_renew": "calendar_feed",
    "post_claim": "volunteers.volunteerpost",
    "post_leave": "volunteers.postclaim",
    "wish_claim": "wish",
    "wish_complete": "wish",
}
API_OBJECTS = {
    "category": "alliance.category",
    "street": "members.street",
    "community": "members.community",
    "unit": "members.memberunit",
    "assessment": "members.assessment",
    "agreement": "members.agreement",
    "need": "demands.need",
    "resource": "demands.resource",
    "venue": "demands.venue",
    "booking": "demands.booking",
    "project": "projects.serviceproject",
    "claim": "projects.projectclaim",
    "activity": "projects.serviceactivity",
    "review": "projects.commitmentreview",
    "meeting": "meetings.jointmeeting",
    "resolution": "meetings.resolution",
    "party-member": "volunteers.partymember",
    "post": "volunteers.volunteerpost",
    "service-log": "volunteers.servicelog",
    "wish": "wish",
}
_ADMIN_MODEL = re.compile(r"^admin/(\w+)/(\w+)/")


class Unfillable(LookupError):
    pass


def _object_label(route: Route) -> str:
    match = _ADMIN_MODEL.match(route.route)
    if match:
        label = f"{match.group(1)}.{match.group(2)}"
        registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
        if label in registered:
            return label
    name = route.name.split(":")[-1]
    if name in PORTAL_OBJECTS and route.route.startswith("portal/"):
        return PORTAL_OBJECTS[name]
    # The router's name is `<basename>-<action>`, and both may hold hyphens (`wish-take-on`): the longest
    # known basename that starts the name.
    basename = next((b for b in sorted(API_OBJECTS, key=len, reverse=True) if name.startswith(f"{b}-")), None)
    if route.route.startswith("api/v1/") and basename is not None:
        return API_OBJECTS[basename]
    raise Unfillable(f"no object for the parameters of {route.route} ({route.name}): add it to the maps above")


def _media_path(field_file) -> str:
    return "/media/" + quote(field_file.name)


def _fill(route: Route, world: World) -> dict[str, str]:
    """The URL of each case of `route`: usually one, named by the route itself."""
    text = route.route
    params = re.findall(r"<(\w+)>", text)
    if text == "media/<path>":
        agreement = world["members.agreement"]
        other = world.b["members.agreement"]
        return {
            "media/agreements/<unit>/<name>": _media_path(agreement.file),
            "media/needs/<need>/<name>": _media_path(world["demands.need"].photos.get().image),
            "media/activities/<activity>/<name>": _media_path(world["projects.serviceactivity"].photos.get().image),
            "media/meetings/<meeting>/<name>": _media_path(world["meetings.jointmeeting"].attachments.get().file),
            "media/notices/<notice>/<name>": _media_path(world["members.notice"].attachments.get().file),
            "media/agreements/<unit>/<missing name>": f"/media/agreements/{agreement.unit_id}/nothing-here.pdf",
            # Another unit's agreement reached through a folder one may see (issue 9, finding 1).
            "media/agreements/<unit>/../<other unit>/<name>": (
                f"/media/agreements/{agreement.unit_id}/../{other.unit_id}/{quote(other.file.name.split('/')[-1])}"
            ),
            "media/agreements/<unit>/..%2f<other unit>/<name>": (
                f"/media/agreements/{agreement.unit_id}/..%2f{other.unit_id}%2f{quote(other.file.name.split('/')[-1])}"
            ),
        }
    if text == "calendar/<token>.ics":
        return {
            "calendar/<token>.ics": f"/calendar/{world['calendar_feed'].token}.ics",
            "calendar/<renewed token>.ics": f"/calendar/{world.extra['renewed_token']}.ics",
            "calendar/<token of a removed liaison>.ics": f"/calendar/{world.extra['removed_liaison_token']}.ics",
        }
    values: dict[str, str] = {}
    for param in params:
        if param == "object_id" and "content_type_id" in params:  # the admin's "view on site"
            values[param] = str(world["members.memberunit"].pk)
        elif param in {"pk", "id", "object_id", "arg1"}:
            values[param] = str(world[_object_label(route)].pk)
        elif param == "arg2":  # an admin history row of that object
            values[param] = str(world[_object_label(route)].history.order_by("history_id").first().history_id)
        elif param == "unit_id":
            values[param] = str(world["members.memberunit"].pk)
        elif param == "notice_id":  # a published notice's public page
            values[param] = str(world["members.notice"].pk)
        elif param == "community_id":
            values[param] = str(world["members.community"].pk)
        elif param == "tracking_code":
            values[param] = world["demands.need"].tracking_code
        elif param == "content_type_id":
            values[param] = str(ContentType.objects.get_for_model(world["members.memberunit"]).pk)
        elif param == "app_label":
            values[param] = "members"
        elif param == "url":  # the admin's catch-all
            values[param] = "no-such-page/"
        elif param == "uidb64":
            values[param] = "MQ"
        elif param == "year":  # a quarterly report: the world holds the street's 2026 Q3
            values[param] = "2026"
        elif param == "quarter":
            values[param] = "3"
        elif param == "token":  # a password-set link or an import preview that does not exist
            values[param] = "no-such-token"
        elif param == "provider":  # an SMS provider's delivery receipts
            values[param] = "tencent"
        elif param == "secret":  # the receipts' secret: none is configured in the tests
            values[param] = "no-such-secret"
        else:
            raise Unfillable(f"no value for <{param}> in {text} ({route.name}): add it to _fill")
    url = "/" + text
    for param, value in values.items():
        url = url.replace(f"<{param}>", value, 1)
    return {text: url}


# --- The world, once per module -------------------------------------------------------------------

ROUTES = all_routes()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once in a transaction that is rolled back after the module; each test runs in a savepoint
    inside it (pytest-django's `db`), so what one test changes the next does not see."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            built.sessions = {}
            for role in ROLES:
                if built.users[role] is not None:
                    client = Client()
                    client.force_login(built.users[role])
                    built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            # Every case starts from this state (each runs in a savepoint that is rolled back).
            built.fingerprint = _fingerprint()
            built.urls = {}
            built.unfillable = {}
            for route in ROUTES:
                try:
                    built.urls.update({label: (route, url) for label, url in _fill(route, built).items()})
                except Unfillable as exc:
                    built.unfillable[route.route] = str(exc)
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            media.disable()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and lockouts count in the cache: each case starts with none used up.
    cache.clear()
    yield
    cache.clear()


# --- What changed ---------------------------------------------------------------------------------

# Rows a refused request may legitimately write: sessions, and login-failure records.
_UNWATCHED_APPS = {"sessions", "axes", "contenttypes"}


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in _UNWATCHED_APPS or not model._meta.managed:
            continue
        digest.update(model._meta.label.encode())
        for row in model._base_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _rows_written() -> int | None:
    """How many rows this connection has written so far (a counter the database keeps): the cheap first
    look before comparing fingerprints."""
    queries = {
        "sqlite": "SELECT total_changes()",
        "postgresql": "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables",
    }
    if connection.vendor not in queries:
        return None
    with connection.cursor() as cursor:
        cursor.execute(queries[connection.vendor])
        return cursor.fetchone()[0]


def _client(world: World, role: str) -> Client:
    """A client signed in as `role` with the session made for the module (a fresh one each time: a
    logout in one case must not sign the role out of the next)."""
    client = Client()
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _expected(answer: str, route: Route, url: str, world: World) -> str:
    """An answer may name the requested address (`{url}`) or the change page of its object (`{change}`)."""
    if "{change}" in answer:
        obj = world[_object_label(route)]
        return answer.replace("{change}", reverse(admin_urlname(obj._meta, "change"), args=[obj.pk]))
    return answer.replace("{url}", url)


def _answer(response) -> str:
    """What a user notices: the status, and for a redirect where it leads."""
    if 300 <= response.status_code < 400:
        return f"{response.status_code} {urlsplit(response['Location']).path}"
    return str(response.status_code)


# --- The tests ------------------------------------------------------------------------------------


def _case_labels() -> list[str]:
    """The case labels known without a database: routes, with the media and calendar routes expanded."""
    labels = []
    for route in ROUTES:
        if route.route == "media/<path>":
            labels += policy.MEDIA_CASES
        elif route.route == "calendar/<token>.ics":
            labels += policy.CALENDAR_CASES
        else:
            labels.append(route.route)
    return labels


CASES = _case_labels()


def test_every_route_has_a_policy(world, db):
    missing = [label for label in CASES if policy.rule_for(label) is None]
    assert not missing, "routes with no entry in tests/alliance/policy.py:\n  " + "\n  ".join(missing)
    assert not world.unfillable, "routes whose URL parameters the matrix cannot fill:\n  " + "\n  ".join(
        world.unfillable.values()
    )
    expanded = set(world.urls)
    assert expanded == set(CASES), (set(CASES) ^ expanded, "policy.MEDIA_CASES / CALENDAR_CASES out of step")


def _get_cases():
    for label in CASES:
        for role in ROLES:
            yield pytest.param(label, role, id=f"GET {label} × {role}")


def _unsafe_cases():
    for label in CASES:
        rule = policy.rule_for(label)
        for method, answers in (rule.unsafe if rule else {}).items():
            for role in ROLES:
                if answers.get(role) is not None:
                    yield pytest.param(label, method, role, id=f"{method} {label} × {role}")


@pytest.mark.parametrize(("label", "role"), list(_get_cases()))
def test_get(world, db, label, role):
    rule = policy.rule_for(label)
    if rule is None or label not in world.urls:
        pytest.fail(f"{label}: no policy or no URL (see test_every_route_has_a_policy)")
    route, url = world.urls[label]
    response = _client(world, role).get(url)
    expected = _expected(rule.get[role], route, url, world)
    assert _answer(response) == expected, f"GET {url} as {role}: {rule.why}"


@pytest.mark.parametrize(("label", "method", "role"), list(_unsafe_cases()))
def test_refused_write_changes_nothing(world, db, label, method, role):
    rule = policy.rule_for(label)
    route, url = world.urls[label]
    expected = _expected(rule.unsafe[method][role], route, url, world)
    client = _client(world, role)
    written = _rows_written()
    response = getattr(client, method.lower())(url, data={}, content_type="application/json")
    assert _answer(response) == expected, f"{method} {url} as {role}: {rule.why}"
    if written is None or _rows_written() != written:  # something was written: was it only a session?
        assert _fingerprint() == world.fingerprint, f"{method} {url} as {role} changed the database"


@pytest.mark.parametrize(
    "label",
    ["portal/something-new/", "api/v1/something-new/<pk>/", "admin/members/newmodel/", "admin/demands/need/<pk>/x/"],
)
def test_the_policy_is_no_catch_all(label):
    # A page, endpoint or admin model nobody declared has no rule, so test_every_route_has_a_policy names it.
    assert policy.rule_for(label) is None


def test_an_invitee_who_did_not_attend_reads_no_minutes_on_any_surface(world, db):
    """One rule, every surface (issue 9, finding 5): unit_b was invited to side A's meeting and did not
    come. Its liaison sees the meeting, but not its minutes, who else was invited, or its resolutions."""
    meeting = world["meetings.jointmeeting"]
    Invitation.objects.create(meeting=meeting, unit=world.b["members.memberunit"], status=Invitation.Status.ABSENT)
    resolution = world["meetings.resolution"]
    secrets = [meeting.minutes, resolution.text, world["members.memberunit"].name]
    client = _client(world, "liaison_b")

    portal = client.get(reverse("portal:meeting_detail", args=[meeting.pk]))
    assert portal.status_code == 200
    assert [s for s in secrets if s in portal.content.decode()] == []
    assert client.get(reverse("portal:minutes_print", args=[meeting.pk])).status_code == 404

    api = client.get(f"/api/v1/meetings/{meeting.pk}/")
    assert api.status_code == 200
    assert [s for s in secrets if s in api.content.decode()] == []
    listed = client.get("/api/v1/resolutions/").json()["results"]
    assert resolution.pk not in {row["id"] for row in listed}
    assert client.get(f"/api/v1/resolutions/{resolution.pk}/").status_code == 404

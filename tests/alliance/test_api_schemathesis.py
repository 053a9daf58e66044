"""schemathesis over /api/schema/: every operation, as anonymous and with a token per role, against data the
endpoints can find. No answer may be a 5xx, and every answer must be one the schema documents — status code,
content type and body.

In-process through WSGI, bounded and deterministic: a fixed number of examples per operation and role,
derandomized, no example database, no shrinking (a failure is reported with the request that reproduces it).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from demands.models import Need
from meetings.models import Invitation, JointMeeting
from projects.models import ProjectClaim, ServiceProject
from volunteers.models import PartyMember

from ..demands.factories import NeedFactory, ResourceFactory
from ..factories import CategoryFactory
from ..meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory, ReviewFactory
from ..volunteers.factories import PartyMemberFactory, PostFactory, ServiceLogFactory

# The project's WSGI application as alliance/wsgi.py makes it, without that module's setting up of a web
# process's database connections: the rest of the suite shares this process and must keep its own.
application = get_wsgi_application()

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs on the PostgreSQL + Redis leg of CI only: the API layer under test is the same on SQLite, and the "
    "suite's time budget is spent once",
)

# Examples per operation and role: enough to reach past the generated ids into the seeded objects and to
# vary bodies, few enough that the whole run stays within a few minutes. Valid input (positive) and input
# that breaks the schema on purpose (negative: wrong types, missing fields, bad path segments).
MAX_EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 8, schemathesis.GenerationMode.NEGATIVE: 4}
ROLES = ["anonymous", "street_staff", "community_x_staff", "liaison_a", "member"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HIGH_RATES = {"login": "100000/min", "need_submit": "100000/min", "need_track": "100000/min"}


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    with django_db_blocker.unblock():  # the schema view reads nothing, but pytest-django asks
        return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_test_transaction():
    """Requests through the WSGI application close the database connection when they finish, which would end
    the test's transaction; Django's test client disconnects the same handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings, monkeypatch):
    """Rate limits raised (not switched off: the throttles still run) so that fuzzing reaches the endpoints."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **HIGH_RATES}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF's scoped throttle copies the rates when it is imported; the project's reads the setting per request.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(cast, community_x, community_y, unit_a, unit_b, street_staff) -> dict[str, list]:
    """Objects of every kind in every status, in the scopes of the cast: what each path parameter may name."""
    category = CategoryFactory(name="助老服务")
    street = community_x.street
    needs = [
        NeedFactory(community=community_x, category=category, status=Need.Status.SUBMITTED),
        NeedFactory(community=community_y, category=category, status=Need.Status.SUBMITTED),
    ]
    for status in (Need.Status.DISPATCHED, Need.Status.ACCEPTED, Need.Status.COMPLETED, Need.Status.CLOSED):
        now = datetime.datetime.now(datetime.UTC)
        needs.append(
            NeedFactory(
                community=community_x,
                category=category,
                status=status,
                unit=unit_a,
                dispatched_at=now,
                accepted_at=None if status == Need.Status.DISPATCHED else now,
                completed_at=now if status in (Need.Status.COMPLETED, Need.Status.CLOSED) else None,
                result="已上门修好" if status in (Need.Status.COMPLETED, Need.Status.CLOSED) else "",
                closed_at=now if status == Need.Status.CLOSED else None,
                rating=5 if status == Need.Status.CLOSED else None,
                showcased_at=now if status == Need.Status.CLOSED else None,
            )
        )
    resources = [ResourceFactory(unit=unit_a, category=category), ResourceFactory(unit=unit_b, category=category)]
    projects = [
        ProjectFactory(street=street, community=community_x, category=category, status=status)
        for status in ServiceProject.Status.values
    ]
    open_project = next(p for p in projects if p.status == ServiceProject.Status.OPEN)
    claims = [
        ClaimFactory(project=open_project, unit=unit_a, status=ProjectClaim.Status.APPROVED),
        ClaimFactory(project=open_project, unit=unit_b, status=ProjectClaim.Status.PENDING),
    ]
    activities = [ActivityFactory(claim=claims[0])]
    reviews = [ReviewFactory(claim=claims[0])]
    meetings = [
        MeetingFactory(title="街道联席会议", organiser=street_staff),
        MeetingFactory(
            title="上季度联席会议",
            organiser=street_staff,
            start=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30),
            end=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30, hours=-2),
            status=JointMeeting.Status.HELD,
            minutes="会议议定：协调开放停车位。",
        ),
    ]
    for meeting in meetings:
        InvitationFactory(meeting=meeting, unit=unit_a, status=Invitation.Status.CONFIRMED)
        InvitationFactory(meeting=meeting, unit=unit_b)
    resolutions = [ResolutionFactory(meeting=meetings[1], owner=unit_a)]
    members = [
        PartyMemberFactory(user=cast["member"], residence_community=community_x, work_unit=unit_a),
        PartyMemberFactory(residence_community=community_y, status=PartyMember.Status.PENDING),
    ]
    posts = [PostFactory(community=community_x), PostFactory(community=community_y)]
    logs = [ServiceLogFactory(member=members[0], post=posts[0], verified=False)]
    return {
        "needs": [n.pk for n in needs],
        "tracking": [(n.tracking_code, n.contact_phone[-4:]) for n in needs],
        "resources": [r.pk for r in resources],
        "projects": [p.pk for p in projects],
        "claims": [c.pk for c in claims],
        "activities": [a.pk for a in activities],
        "reviews": [r.pk for r in reviews],
        "meetings": [m.pk for m in meetings],
        "resolutions": [r.pk for r in resolutions],
        "members": [m.pk for m in members],
        "posts": [p.pk for p in posts],
        "service-logs": [log.pk for log in logs],
        "units": [unit_a.pk, unit_b.pk],
        "communities": [community_x.pk, community_y.pk],
        "streets": [street.pk],
        "categories": [category.pk],
    }


# Fields of request bodies that name an object, and the seeded objects they may name.
REFERENCES = {
    "category": "categories",
    "community": "communities",
    "residence_community": "communities",
    "street": "streets",
    "unit": "units",
    "owner": "units",
    "work_unit": "units",
    "resource": "resources",
    "project": "projects",
    "claim": "claims",
    "meeting": "meetings",
    "member": "members",
    "post": "posts",
    "wish": "needs",
}


def _aimed_bodies(strategy, world: dict[str, list]):
    """The same cases with the body's references pointing at seeded objects, so that a create or a move
    gets past "no such object" to the permission checks and the services."""

    def aim(drawn):
        case, pick = drawn
        if isinstance(case.body, dict):
            for field, collection in REFERENCES.items():
                if field in case.body and world.get(collection):
                    case.body[field] = world[collection][pick % len(world[collection])]
        return case

    return st.one_of(strategy, st.tuples(strategy, st.integers(0, 7)).map(aim))


def _strategy(operation, world: dict[str, list], mode):
    """Generated cases, and as many again aimed at the seeded objects, so that detail endpoints and their
    workflow moves are reached and not only answered 404."""
    generated = _aimed_bodies(operation.as_strategy(mode), world)
    path = operation.path.removeprefix("/api/v1/")
    collection = path.split("/")[0]
    if "{tracking_code}" in path:
        aimed = [
            operation.as_strategy(mode, path_parameters={"tracking_code": code}, query={"phone_last4": digits})
            if operation.method.upper() == "GET"
            else _aimed_bodies(operation.as_strategy(mode, path_parameters={"tracking_code": code}), world)
            for code, digits in world["tracking"]
        ]
    elif "{id}" in path and world.get(collection):
        aimed = [
            _aimed_bodies(operation.as_strategy(mode, path_parameters={"id": pk}), world) for pk in world[collection]
        ]
    else:
        return generated
    return st.one_of(generated, st.one_of(aimed))


def _run(strategy, headers: dict[str, str], mode) -> Callable[[], None]:
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_within_its_schema(role, api_schema, world, cast, unthrottled, in_test_transaction):
    user = cast[role]
    headers = {} if role == "anonymous" else {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
    failures = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in MAX_EXAMPLES:
            try:
                _run(_strategy(operation, world, mode), headers, mode)()
            except Unsatisfiable:
                assert mode == schemathesis.GenerationMode.NEGATIVE  # nothing to break: no parameters, no body
            # Every operation runs; each failure is reported with the request that reproduces it.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations >= 70
    assert not failures, f"{len(failures)} operations broke the contract as {role}:\n\n" + "\n\n".join(failures)

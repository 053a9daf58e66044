"""Every state change a screen offers has its API counterpart (issue 13, "Must hold").

Two tables map each admin action (every registered ModelAdmin's `get_actions`) and each form that changes
state (a portal or public page whose view accepts POST) to the API route that does the same — its URL name
(DRF's `<basename>-<action>`, see each app's `api/urls.py`) and the method. The test fails when an action
or a form is in neither its table nor EXEMPT (a new one must say where its API is), when a row names a
route the API does not have, or a method that route does not answer.

Exports map to the list they export (the API reads what the workbook holds, filtered and paged).
`delete_selected` is not an alliance workflow step: records are withdrawn, closed or rejected through their
services (which the API offers); bulk deletion is the superuser's correction of rows entered by mistake.
"""

from __future__ import annotations

import inspect

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

POST, PATCH, GET, DELETE = "post", "patch", "get", "delete"

# "app_label.model:action" -> (API URL name, method)
ADMIN_ACTIONS: dict[str, tuple[str, str]] = {
    "authtoken.tokenproxy:revoke": ("api-token", DELETE),  # a client revokes its own token
    "members.assessment:approve_selected": ("assessment-approve", POST),
    "members.assessment:submit_selected": ("assessment-submit", POST),
    "members.memberunit:approve": ("unit-approve", POST),
    "members.memberunit:reject": ("unit-reject", POST),
    "members.memberunit:export_xlsx": ("unit-list", GET),
    "members.memberunit:export_import_layout": ("unit-list", GET),
    "demands.need:export_xlsx": ("need-list", GET),
    "demands.need:reject": ("need-reject", POST),
    "demands.need:showcase": ("need-showcase", POST),
    "demands.need:unshowcase": ("need-unshowcase", POST),
    "demands.resource:withdraw": ("resource-withdraw", POST),
    "demands.resource:restore": ("resource-restore", POST),
    "demands.booking:approve": ("booking-approve", POST),
    "demands.booking:decline": ("booking-decline", POST),
    "demands.booking:cancel": ("booking-cancel", POST),
    "projects.projectclaim:approve": ("claim-approve", POST),
    "projects.projectclaim:reject": ("claim-reject", POST),
    "projects.projectclaim:export_claim_table": ("claim-list", GET),
    "projects.serviceproject:export_claim_table": ("claim-list", GET),
    "projects.serviceproject:open_for_claims": ("project-open", POST),
    "projects.serviceproject:start": ("project-start", POST),
    "projects.serviceproject:finish": ("project-finish", POST),
    "projects.serviceproject:mark_demonstration": ("project-demonstration", POST),
    "meetings.jointmeeting:cancel": ("meeting-cancel", POST),
    "meetings.jointmeeting:reschedule": ("meeting-move", POST),
    "meetings.jointmeeting:export_attendance": ("meeting-detail", GET),
    "meetings.resolution:mark_done": ("resolution-done", POST),
    "meetings.resolution:mark_done_with_result": ("resolution-done", POST),
    "meetings.resolution:forward": ("resolution-forward", POST),
    "meetings.resolution:decline_forwarded": ("resolution-decline", POST),
    "members.agreement:renew": ("agreement-renew", POST),
    "volunteers.partymember:verify": ("party-member-verify", POST),
    "volunteers.partymember:reject": ("party-member-reject", POST),
    "volunteers.partymember:export_import_layout": ("party-member-list", GET),
    "volunteers.servicelog:verify": ("service-log-verify", POST),
    "volunteers.servicelog:reject": ("service-log-reject", POST),
}

# "namespace:url name" -> (API URL name, method)
FORMS: dict[str, tuple[str, str]] = {
    "portal:login": ("api-token", POST),
    "portal:logout": ("api-token", DELETE),
    "portal:need_create": ("need-list", POST),
    "portal:need_accept": ("need-accept", POST),
    "portal:need_decline": ("need-decline", POST),
    "portal:need_complete": ("need-complete", POST),
    "portal:resource_create": ("resource-list", POST),
    "portal:resource_edit": ("resource-detail", PATCH),
    "portal:resource_withdraw": ("resource-withdraw", POST),
    "portal:resource_restore": ("resource-restore", POST),
    "portal:venue_week": ("venue-bookings", POST),
    "portal:venue_hours": ("venue-detail", PATCH),
    "portal:venue_closure_add": ("venue-closures", POST),
    "portal:venue_closure_remove": ("venue-closures-remove", POST),
    "portal:booking_approve": ("booking-approve", POST),
    "portal:booking_decline": ("booking-decline", POST),
    "portal:booking_cancel": ("booking-cancel", POST),
    "portal:unit_edit": ("unit-detail", PATCH),
    "portal:unit_apply": ("unit-list", POST),
    "portal:assessment_remark": ("assessment-remark", POST),
    "portal:project_claim": ("project-claims", POST),
    "portal:claim_withdraw": ("claim-withdraw", POST),
    "portal:activity_create": ("activity-list", POST),
    "portal:meeting_answer": ("meeting-attendance", POST),
    "portal:resolution_progress": ("resolution-progress", POST),
    "portal:member_register": ("party-member-list", POST),
    "portal:member_move": ("party-member-move", POST),
    "portal:post_claim": ("post-claims", POST),
    "portal:post_leave": ("post-leave", POST),
    "portal:wish_claim": ("wish-take-on", POST),
    "portal:wish_complete": ("wish-complete", POST),
    "portal:hours_log": ("service-log-list", POST),
    "needs:new": ("public-need-submit", POST),
    "needs:rate": ("public-need-rating", POST),
}

# What changes state on a screen and has no API counterpart on purpose, and why.
EXEMPT: dict[str, str] = {
    "axes.accessattempt:unlock": "lifting a sign-in lockout is the platform's security, not alliance data",
    "alliance.notification:retry": "delivering a message again is the platform's plumbing, not alliance data",
    "members.assessment:recompute": "scores are computed by the quarterly task; an API client reads them",
    "members.quarterlyreport:rebuild": "the API's report endpoint builds the workbook on first request",
    "members.unitmembership:send_password_link": "a password link goes to a person, by mail, never to a client",
    "meetings.meetingseries:plan_ahead": "the nightly task plans each series ahead; clients read the meetings",
    "portal:password_change": "a password is changed in the browser; API clients sign in with a token",
    "portal:password_set": "a password-set link is for a person in a browser",
    "portal:password_forgot": "a password-set link is for a person in a browser",
    "portal:password_code_request": "a recovery code by text message is for a person in a browser",
    "portal:password_code_reset": "a recovery code by text message is for a person in a browser",
    "portal:notifications_read": "the reader's own inbox on the site; messages reach clients by mail and SMS",
    "portal:calendar_renew": "a new secret calendar address is the person's own; /api/v1/me/ gives the live one",
    "needs:track": "looks a need up (no change); the API's is GET public-need-track",
}


def _walk(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace, pattern


def _api_routes() -> dict[str, set[str]]:
    """Every API URL name (a DRF view's: `cls` is set by DRF's as_view) with the methods its route answers."""
    routes: dict[str, set[str]] = {}
    for namespace, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "cls", None)
        if namespace or view_class is None:
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions is not None:  # a viewset's route: the methods mapped to its actions
            methods = set(actions)
        else:
            methods = {m for m in view_class.http_method_names if hasattr(view_class, m)}
        routes.setdefault(pattern.name, set()).update(methods)
    return routes


def _accepts_post(callback) -> bool:
    """Whether a page's view takes a POST: a class-based view with `post`, a function under
    require_http_methods/require_POST that allows it, or one that reads the method itself."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    function = callback
    while function is not None:
        for cell in function.__closure__ or ():
            allowed = cell.cell_contents
            # require_http_methods' request_method_list: the method names it lets through
            if (
                isinstance(allowed, list | tuple)
                and allowed
                and all(isinstance(m, str) and m.isupper() for m in allowed)
            ):
                return "POST" in allowed
        if getattr(function, "__wrapped__", None) is None:
            break
        function = function.__wrapped__
    source = inspect.getsource(function)
    return 'request.method == "POST"' in source or 'request.method != "POST"' in source


def _admin_actions() -> set[str]:
    from django.contrib.auth import get_user_model

    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(username="root", is_staff=True, is_superuser=True)
    names = set()
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.get_actions(request):
            if action != "delete_selected":
                names.add(f"{model._meta.label_lower}:{action}")
    return names


def _forms() -> set[str]:
    names = set()
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace in {"portal", "needs"} and _accepts_post(pattern.callback):
            names.add(f"{namespace}:{pattern.name}")
    return names


def test_every_admin_action_has_its_row():
    assert _admin_actions() - set(ADMIN_ACTIONS) - set(EXEMPT) == set()


def test_every_form_that_changes_state_has_its_row():
    assert _forms() - set(FORMS) - set(EXEMPT) == set()


def test_the_tables_hold_no_stale_rows():
    # A row whose action or form is gone would hide a new one of the same name later.
    assert set(ADMIN_ACTIONS) - _admin_actions() == set()
    assert set(FORMS) - _forms() == set()
    assert set(EXEMPT) - _admin_actions() - _forms() == set()


@pytest.mark.parametrize(("screen", "api"), sorted({**ADMIN_ACTIONS, **FORMS}.items()))
def test_the_api_counterpart_exists(screen, api):
    name, method = api
    methods = _api_routes().get(name)
    named = methods is not None
    assert named, f"{screen}: no API route named {name}"
    answers = method in methods
    assert answers, f"{screen}: {name} answers {sorted(methods)}, not {method.upper()}"

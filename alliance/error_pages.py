"""The platform's own error pages (400, 403, 404, 500 and the CSRF refusal), wired in alliance/urls.py as
`handler400` … `handler500` and in settings as CSRF_FAILURE_VIEW.

Under /api/ every error answers JSON, `{"detail": …}`, in the user's language (alliance/api/errors.py).
Elsewhere the page reads as the platform, in the language LocaleMiddleware chose, and offers the way back
that fits where the visitor was: the admin index under the admin site, the portal's home under the portal,
the public home everywhere else (templates/errors/way_back.html words the links).

500 renders its template without the request: no context processor runs, so a failing database or session
store cannot break the page that reports the failure."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.csrf import requires_csrf_token

from .api import errors as api_errors

ADMIN = "admin"
PORTAL = "portal"
PUBLIC = "public"


def area_of(request: HttpRequest) -> str:
    """Which part of the platform the visitor was in, from the address alone (no database)."""
    if request.path.startswith(reverse("admin:index")):
        return ADMIN
    if request.path.startswith(reverse("portal:home")):
        return PORTAL
    return PUBLIC


def _page(request: HttpRequest, template: str, status: int, **context) -> HttpResponse:
    return render(request, template, {"area": area_of(request), "status": status, **context}, status=status)


@requires_csrf_token  # the footer's language switch carries a token even when the middleware never ran
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api_errors.is_api(request):
        return api_errors.error_json(400)
    return _page(request, "400.html", 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api_errors.is_api(request):
        return api_errors.error_json(403)
    # The services' refusals carry a reason written for the user, already translated (alliance.permissions).
    return _page(request, "403.html", 403, reason=str(exception))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api_errors.is_api(request):
        return api_errors.not_found(request, exception)
    # Http404's own message is written for developers ("No Need matches the given query."): not shown.
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if api_errors.is_api(request):
        return api_errors.error_json(500)
    return HttpResponseServerError(loader.get_template("500.html").render({"area": area_of(request), "status": 500}))


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without its token (the page stayed open past the session, cookies
    refused). The reason Django gives is for developers and stays in the log."""
    if api_errors.is_api(request):
        return api_errors.error_json(403)
    return _page(request, "403_csrf.html", 403)

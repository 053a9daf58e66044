"""One mapping from domain errors to HTTP answers, for every endpoint."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alliance.errors import Conflict, DomainError, InvalidInput, RateLimited


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RateLimited):
        response = Response({"detail": exc.message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, InvalidInput | DomainError):
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        # A model's full_clean() inside a service: field errors where there are fields, else detail.
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # A refusal of the input as a whole (a search term with a NUL character): one shape for every error,
        # `{"detail": …}` or field errors, never a bare list.
        return Response({"detail": " ".join(str(m) for m in exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads the body (over DATA_UPLOAD_MAX_MEMORY_SIZE): Django would answer an HTML page.
        return Response({"detail": _("The request is too large.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        # get_object_or_404 says "No Need matches the given query." in English whatever the user's language
        # (Django does not translate it, and DRF passes it on): say it in their language, naming the kind of
        # object by its verbose name. Not found and not visible read the same (nothing leaks).
        return Response({"detail": not_found_message(context.get("view"))}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": _("This object is still referred to by other records and cannot be deleted.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def not_found_message(view) -> str:
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is None:
        try:
            model = getattr(view.get_queryset(), "model", None)
        except Exception:  # a view without a queryset (or one that needs what this request lacks)
            model = None
    if model is None:
        return str(exceptions.NotFound.default_detail)
    return _("No such %(object)s, or it is not visible to you.") % {"object": model._meta.verbose_name}


# Where alliance/urls.py mounts the API (the versioned endpoints, the schema and its docs).
API_PREFIX = "/api/"

# What an error outside DRF's own handling says under /api/: DRF's default messages, which DRF translates.
_DETAILS = {
    400: exceptions.ParseError.default_detail,
    403: exceptions.PermissionDenied.default_detail,
    404: exceptions.NotFound.default_detail,
    500: exceptions.APIException.default_detail,
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_json(status_code: int) -> JsonResponse:
    """The API's answer to an error Django handles before or after DRF (an unmatched address, a bad Host
    header, a CSRF refusal, an uncaught exception): `{"detail": …}` in the active language."""
    return JsonResponse(
        {"detail": str(_DETAILS[status_code])}, status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An address under /api/ that no route matches (`/api/v1/needs/abc/`) answers in the API's shape,
    `{"detail": …}`; pages get Django's page. The project's `handler404` is alliance.error_pages, which
    calls this under /api/ and renders the platform's page elsewhere."""
    if is_api(request):
        return error_json(404)
    return defaults.page_not_found(request, exception)

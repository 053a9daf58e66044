"""One mapping from domain errors to HTTP answers, for every endpoint."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alliance.errors import Conflict, DomainError, InvalidInput


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
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
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": _("This object is still referred to by other records and cannot be deleted.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's 404 (`handler404`): an address under /api/ that no route matches (`/api/v1/needs/abc/`)
    answers in the API's shape, `{"detail": …}`; pages keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": str(exceptions.NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.page_not_found(request, exception)

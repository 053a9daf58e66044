"""The OpenAPI schema's one place for error answers (SPEC "Fixed interfaces": 400, 401/403, 404, 409, 429).

Every endpoint answers errors through one handler (`alliance.api.errors`) in one of two shapes — `{"detail":
message}` or field errors `{field: [message, …]}` — so the schema documents them once, here, from what the
view is (its method, path, authentication, permissions and throttles) rather than per view.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error with one message in the user's language.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Field errors: each field's messages; a list field's item errors keyed by position; `non_field_errors`
# for the input as a whole. Input that is not acceptable as a whole (malformed JSON, a domain rule)
# answers `{"detail": …}`, which fits the same schema.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Bad input: messages per field ({field: [message, …]}) or one message ({detail}).",
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        ]
    },
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers each operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, (component, description) in self._error_responses().items():
            if code not in responses:
                response = self._get_response_for_code(self._component(component), code, direction=direction)
                responses[code] = {**response, "description": str(description)}
        return responses

    def _component(self, name: str) -> dict:
        schema = VALIDATION_ERROR_SCHEMA if name == "ValidationError" else ERROR_SCHEMA
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_responses(self) -> dict[str, tuple[str, object]]:
        view = self.view
        method = self.method
        has_path_parameters = "{" in self.path
        is_list = method == "GET" and self._is_list_view() and not has_path_parameters
        errors: dict[str, tuple[str, object]] = {}
        # Bad input: a body that does not validate, filter values (django-filter answers 400), or a list's
        # page link that is not one (alliance.api.pagination).
        pages = is_list and self._get_paginator() is not None
        if method in UNSAFE_METHODS - {"DELETE"} or (method == "GET" and (self.get_filter_backends() or pages)):
            errors["400"] = ("ValidationError", _("Bad input: the message says what to change."))
        # Bad credentials are refused wherever credentials are read, even on endpoints open to all.
        signed_in_only = not all(issubclass(p, AllowAny) for p in getattr(view, "permission_classes", []))
        if signed_in_only or getattr(view, "authentication_classes", []):
            errors["401"] = ("Error", _("Not signed in, or the credentials are not valid."))
            errors["403"] = ("Error", _("Not allowed."))
        # What the caller may not see is not found (it does not leak); a list's page past the end too.
        if has_path_parameters or is_list:
            errors["404"] = ("Error", _("Not found, or not visible to the caller."))
        # Services refuse a change the object's current state does not allow (a transition from the wrong
        # status, a full project). Anonymous endpoints that only create are never in conflict.
        if method in UNSAFE_METHODS and (has_path_parameters or signed_in_only):
            errors["409"] = ("Error", _("The change conflicts with the current state."))
        # A view that counts requests itself (only stored needs use up a resident's allowance) names its
        # scope without a throttle class.
        if getattr(view, "throttle_classes", []) or getattr(view, "throttle_scope", None):
            errors["429"] = ("Error", _("Too many requests: try again later."))
        return errors

"""The OpenAPI schema's one place for error answers (SPEC "Fixed interfaces": 400, 401/403, 404, 409, 429).

Every endpoint answers errors through one handler (`alliance.api.errors`) in one of two shapes — `{"detail":
message}` or field errors `{field: [message, …]}` — so the schema documents them once, here, from what the
view is (its method, path, authentication, permissions and throttles) rather than per view.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent, force_instance, get_override, is_serializer
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
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


# The operations are grouped by the app that serves them (the tag is the view's app); what each group
# holds, in the reader's language (`?lang=en` or the Accept-Language header, as the site's pages).
TAGS = {
    "alliance": _("The platform: sign-in tokens, the caller (me), categories and the public figures."),
    "members": _("The street, its communities and member units, assessments and the quarterly report."),
    "demands": _("Residents' needs and the units' resources: the four-step workflow and public tracking."),
    "projects": _("Service projects, the units' claims, their activities and commitment reviews."),
    "meetings": _("Joint meetings, invitations and attendance, minutes and resolutions."),
    "volunteers": _("In-service Party members, volunteer posts, micro-wishes and service hours."),
}
DESCRIPTION = _(
    "Read and write the alliance's data from other systems, with the permissions of the signed-in user. "
    'Errors answer {"detail": …} or field errors, in the user\'s language: 400 bad input, 401/403 not '
    "allowed, 404 not found or not visible, 409 conflict with the current state, 429 too many requests."
)


def describe_tags(result: dict, generator, request, public) -> dict:
    """Postprocessing hook (SPECTACULAR_SETTINGS): the groups and the API's description in the reader's
    language, rendered per request (settings cannot hold translated text)."""
    used = {tag for path in result.get("paths", {}).values() for op in path.values() for tag in op.get("tags", [])}
    result["tags"] = [{"name": name, "description": str(text)} for name, text in TAGS.items() if name in used]
    result.setdefault("info", {})["description"] = str(DESCRIPTION)
    return result


# Sample values by field name for the default request examples (the apps' own examples take precedence).
SAMPLES = {
    "reason": "不属于联盟服务范围，已转相关部门",
    "comment": "服务及时，态度很好",
    "commitment": "每月组织医护人员义诊一次，每次不少于4人",
    "result": "已安排志愿者上门服务，居民表示满意。",
    "title": "楼道灯坏了",
    "description": "三单元楼道灯不亮，老人晚上上下楼不方便。",
    "text": "已召开协调会，正在推进。",
    "note": "已召开协调会，正在推进。",
    "contact_name": "李大爷",
    "contact_phone": "13700000001",
    "phone": "13700000001",
    "phone_last4": "0001",
    "address": "桥头街12号3单元",
    "place": "柳巷街道党群服务中心三楼会议室",
    "purpose": "社区议事协商会",
    "username": "liaison",
    "password": "demo-pass-2026",
    "name": "山西饭店",
}


def example_value(serializer: serializers.BaseSerializer) -> dict:
    """A request body the serializer accepts in shape: each writable field with a sample of its type."""
    body = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        value = _sample(name, field)
        if value is not None:
            body[name] = value
    return body


def _sample(name: str, field: serializers.Field):
    if isinstance(field, serializers.BaseSerializer):
        if isinstance(field, serializers.ListSerializer):
            return [example_value(field.child)]
        return example_value(field)
    if isinstance(field, serializers.FileField | serializers.HiddenField):
        return None  # a file goes as multipart form data, not in a JSON example; a hidden field is not sent
    if isinstance(field, serializers.BooleanField):
        return True
    if isinstance(field, serializers.ChoiceField):
        choices = list(field.choices)
        if isinstance(field, serializers.MultipleChoiceField):
            return choices[:1]
        return choices[0] if choices else None
    if isinstance(field, serializers.ManyRelatedField):
        return [1]
    if isinstance(field, serializers.RelatedField | serializers.IntegerField):
        return 1
    if isinstance(field, serializers.DecimalField):
        return str(Decimal("2.0").quantize(Decimal(1).scaleb(-(field.decimal_places or 0))))
    if isinstance(field, serializers.FloatField):
        return 2.0
    if isinstance(field, serializers.DateTimeField):
        return "2026-05-20T09:00:00+08:00"
    if isinstance(field, serializers.DateField):
        return datetime.date(2026, 5, 20).isoformat()
    if isinstance(field, serializers.TimeField):
        return "09:00"
    if isinstance(field, serializers.EmailField):
        return "liaison@example.cn"
    if isinstance(field, serializers.ListField):
        item = _sample(name, field.child)
        return [] if item is None else [item]
    if isinstance(field, serializers.DictField | serializers.JSONField):
        return {}
    if isinstance(field, serializers.CharField):
        return SAMPLES.get(name, str(field.label or name))
    return None


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers each operation can give, a group (tag) per app,
    a summary for every operation and an example for every request body."""

    def get_tags(self) -> list[str]:
        return [type(self.view).__module__.split(".")[0]]

    def get_summary(self) -> str | None:
        """An operation declared without a summary (extend_schema(summary=…) wins) gets one from what it
        does to which object, in the reader's language."""
        model = self._model()
        action = getattr(self.view, "action", None)
        if model is not None and action in _SUMMARIES:
            return _SUMMARIES[action] % {
                "object": model._meta.verbose_name,
                "objects": model._meta.verbose_name_plural,
            }
        if model is not None and action in ACTIONS:
            # A workflow step: its name and the object, both in the reader's language ("派单：需求").
            return gettext_now("%(action)s: %(object)s") % {
                "action": ACTIONS[action],
                "object": model._meta.verbose_name,
            }
        description = (self.get_description() or "").strip()
        if description:
            # The first sentence of the description (its own language), at most one line.
            first = description.split("\n")[0]
            for stop in ("。", ". ", "："):
                first = first.split(stop)[0]
            return first.rstrip(".")
        if model is not None and action:
            return gettext_now("%(action)s: %(object)s") % {
                "action": action.replace("_", " "),
                "object": model._meta.verbose_name,
            }
        return type(self.view).__name__.removesuffix("View")

    def get_examples(self) -> list[OpenApiExample]:
        """The default example of a request body, for a write declared without examples of its own
        (extend_schema(examples=…) replaces this method; a serializer's own examples are left to apply)."""
        if self.method not in UNSAFE_METHODS - {"DELETE"}:
            return []
        serializer = force_instance(self.get_request_serializer())
        if not is_serializer(serializer) or get_override(serializer, "examples", []):
            return []
        value = example_value(serializer)
        if not value:
            return []
        return [OpenApiExample("example", value=value, request_only=True, summary=gettext_now("Example"))]

    def _model(self):
        if not isinstance(self.view, GenericAPIView):
            return None  # a plain APIView has no serializer to guess (drf-spectacular would warn)
        serializer = self._get_serializer()
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is None:  # an action's own serializer (a reason, a unit): the object it answers with
            responses = self.get_response_serializers()
            if isinstance(responses, dict):
                responses = next((r for code, r in responses.items() if str(code).startswith("2")), None)
            model = getattr(getattr(responses, "Meta", None), "model", None)
        if model is None:  # or the viewset's object
            view_serializer = getattr(self.view, "serializer_class", None)
            model = getattr(getattr(view_serializer, "Meta", None), "model", None)
        if model is None:
            model = getattr(getattr(self.view, "queryset", None), "model", None)
        return model

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
        # A GET that checks query parameters of its own (`?street=` of the public figures) says so.
        queried = method == "GET" and getattr(view, "checks_query_parameters", False)
        if (
            method in UNSAFE_METHODS - {"DELETE"}
            or (method == "GET" and (self.get_filter_backends() or pages))
            or queried
        ):
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


_SUMMARIES = {
    "list": _("List of %(objects)s"),
    "retrieve": _("One %(object)s"),
    "create": _("Create a %(object)s"),
    "update": _("Replace a %(object)s"),
    "partial_update": _("Change a %(object)s"),
    "destroy": _("Delete a %(object)s"),
}

# The workflow steps' names (the viewsets' @action functions), for the summaries. A step missing here is
# summarised by its description's first sentence, or by its name.
ACTIONS = {
    "dispatch_to_unit": pgettext_lazy("api action", "Dispatch"),
    "accept": pgettext_lazy("api action", "Accept"),
    "decline": pgettext_lazy("api action", "Decline"),
    "complete": pgettext_lazy("api action", "Complete"),
    "reject": pgettext_lazy("api action", "Reject"),
    "showcase": pgettext_lazy("api action", "Show on the showcase"),
    "unshowcase": pgettext_lazy("api action", "Remove from the showcase"),
    "suggestions": pgettext_lazy("api action", "Suggested units"),
    "approve": pgettext_lazy("api action", "Approve"),
    "withdraw": pgettext_lazy("api action", "Withdraw"),
    "restore": pgettext_lazy("api action", "Restore"),
    "verify": pgettext_lazy("api action", "Verify"),
    "done": pgettext_lazy("api action", "Mark done"),
    "reopen": pgettext_lazy("api action", "Reopen"),
    "progress": pgettext_lazy("api action", "Add a progress note"),
    "attendance": pgettext_lazy("api action", "Record attendance"),
    "claim": pgettext_lazy("api action", "Claim"),
    "submit": pgettext_lazy("api action", "Submit"),
    "return_": pgettext_lazy("api action", "Return"),
    "adjust": pgettext_lazy("api action", "Adjust"),
    "remark": pgettext_lazy("api action", "Remark"),
    "open": pgettext_lazy("api action", "Open for claims"),
    "start": pgettext_lazy("api action", "Start"),
    "finish": pgettext_lazy("api action", "Finish"),
    "demonstration": pgettext_lazy("api action", "Mark as a demonstration project"),
    "cancel": pgettext_lazy("api action", "Cancel"),
    "move": pgettext_lazy("api action", "Move"),
    "hold": pgettext_lazy("api action", "Mark held"),
    "minutes": pgettext_lazy("api action", "Record the minutes"),
    "leave": pgettext_lazy("api action", "Leave"),
    "close": pgettext_lazy("api action", "Close"),
    "take_on": pgettext_lazy("api action", "Take on"),
}

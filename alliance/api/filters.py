"""Filters shared by the apps' APIs."""

from __future__ import annotations

import datetime

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django_filters import fields
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.mixins import ListModelMixin
from rest_framework.settings import api_settings


class IsoDateTimeField(fields.IsoDateTimeField):
    """An ISO 8601 time in UTC. PostgreSQL refuses offsets beyond ±15:59 (Python takes up to ±23:59), and an
    aborted query is a 500: the time is compared in UTC, and one that UTC cannot hold is invalid input."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=field` or `-field`, one field at a time, from the view's `ordering_fields` only: each such
    order (ended by the primary key, see `alliance.api.pagination`) has an index of its own. Several fields
    at once would need an index per combination, so they answer 400; a field the view does not offer is
    ignored, as before. A view without `ordering_fields` offers none (DRF would offer every serializer
    field, none of them indexed)."""

    def get_valid_fields(self, queryset, view, context=None):
        if getattr(view, "ordering_fields", None) is None:
            return []
        return super().get_valid_fields(queryset, view, context)

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if request.query_params.get(self.ordering_param) and ordering and len(ordering) > 1:
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("Order by one field at a time: %(fields)s.") % {"fields": ", ".join(ordering)}
                    ]
                }
            )
        return ordering


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds the filterset and its form — a deep copy of every filter, then
    a form field for each — on every request, whatever the query string holds: a fifth of an API list page
    (issue 12). A list asked without any of its filters' parameters is answered with the queryset as it is,
    which is what that form answers for empty input (every filter skips an empty value) unless a filter is
    required — those filtersets are always built."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if (
            filterset_class is not None
            and not (_parameters_of(filterset_class, view) & request.query_params.keys())
            and not _has_required(filterset_class)
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


_PARAMETERS: dict[type, frozenset[str]] = {}


def _parameters_of(filterset_class, view) -> frozenset[str]:
    """Every query parameter the filterset's filters read (its filters are fixed when the class is made).
    Kept per class for the classes the code declares; the ones django-filter makes anew for every request
    from a view's `filterset_fields` would only fill the memory."""
    names = _PARAMETERS.get(filterset_class)
    if names is None:
        found: set[str] = set()
        for name, filter_ in filterset_class.base_filters.items():
            found |= _filter_parameters(name, filter_)
        names = frozenset(found)
        if filterset_class is getattr(view, "filterset_class", None):
            _PARAMETERS[filterset_class] = names
    return names


def _has_required(filterset_class) -> bool:
    return any(filter_.extra.get("required") for filter_ in filterset_class.base_filters.values())


class KnownParameters(filters.BaseFilterBackend):
    """A list answers 400 to a query parameter it does not read, naming it: `?tracking_cod=…` silently
    ignored would answer the whole list as if it were the one need asked for. What a list reads is what it
    documents: its filterset's filters, `search` and `ordering` where the view offers them, its paginator's
    parameters, `format`, and what the view reads itself (`extra_query_parameters`). Only lists are checked: a retrieve or an action ignores the query string.

    First in REST_FRAMEWORK's DEFAULT_FILTER_BACKENDS, so the refusal comes before any filter reads its
    value; a list with filter backends of its own names this one among them."""

    def filter_queryset(self, request, queryset, view):
        if not is_list(view, request):
            return queryset
        allowed = known_parameters(view, request, queryset)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                [
                    _("Unknown query parameter: %(names)s. This list accepts: %(allowed)s.")
                    % {"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
                ]
            )
        return queryset


def is_list(view, request) -> bool:
    action = getattr(view, "action", None)
    if action is not None:
        return action == "list"
    # A generic list view (not a viewset): a GET without the object's address.
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    return request.method in {"GET", "HEAD"} and isinstance(view, ListModelMixin) and lookup not in view.kwargs


def known_parameters(view, request, queryset) -> set[str]:
    """Every query parameter a list reads (see KnownParameters)."""
    # A list that reads a parameter itself (the assessments' `year` and `quarter`) names it on the view.
    names = {api_settings.URL_FORMAT_OVERRIDE, *getattr(view, "extra_query_parameters", ())}
    for backend_class in getattr(view, "filter_backends", []):
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset_class = backend.get_filterset_class(view, queryset)
            if filterset_class is not None:
                names |= _parameters_of(filterset_class, view)
        elif isinstance(backend, filters.SearchFilter) and getattr(view, "search_fields", None):
            names.add(backend.search_param)
        elif isinstance(backend, filters.OrderingFilter) and getattr(view, "ordering_fields", None):
            names.add(backend.ordering_param)
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_size_query_param", "page_query_param", "cursor_query_param"):
        name = getattr(paginator, attribute, None)
        if name:
            names.add(name)
    return {name for name in names if name}


def _filter_parameters(name: str, filter_: django_filters.Filter) -> set[str]:
    # A range filter reads one parameter per bound (`date_after`/`date_before`, `x_min`/`x_max`).
    widget = filter_.field_class.widget
    suffixes = getattr(widget, "suffixes", None)
    if suffixes:
        return {f"{name}_{suffix}" if suffix else name for suffix in suffixes}
    return {name}

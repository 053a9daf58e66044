"""What every app's admin builds on: the admin classes on the django-unfold theme (`ModelAdmin`,
`HistoryAdmin`, `TabularInline`, `ReadOnlyInline`: every screen of the project derives
from these, tests/alliance/test_admin_theme.py fails on one that does not), the mixin through which each
ModelAdmin asks the one permission path (`ScopedAdminMixin`, with `run_service` and `ask_reason` for
actions), the scoped list filter, and the label of a row of totals."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from copy import copy
from datetime import date, datetime, time
from functools import cached_property, lru_cache
from math import ceil
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_list import _coerce_field_name
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    get_fields_from_path,
    lookup_field,
    quote,
    unquote,
)
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import DataError, connections, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model
from unfold import admin as unfold_admin
from unfold import utils as unfold_utils
from unfold.templatetags import unfold_list

from .. import permissions
from ..api import pagination as api_pagination
from ..forms import REFUSALS, refusal_message
from ..pagination import page_of
from ..periods import ZONE, Quarter
from . import frame


class ModelAdmin(unfold_admin.ModelAdmin):
    """A screen on the django-unfold theme: its sidebar, change list, form widgets and look."""

    # unfold's row template asks `cl.model_admin.list_sections|length` twice a row; an attribute unfold
    # does not define, each failed lookup went through Django's slow path (dir() of the admin).
    list_sections: tuple = ()

    @admin.display(description=unfold_admin.ModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, obj: models.Model) -> str:
        # unfold renders the same checkbox widget through the form renderer's templates once per row
        # (≈ 10 % of a 50-row list's time); the markup differs only by the value, so it is rendered once
        # per language and the row's primary key put in its place.
        return mark_safe(_checkbox_markup(get_language()).replace(_PK_MARK, escape(str(obj.pk))))


class HistoryAdmin(SimpleHistoryAdmin, ModelAdmin):
    """A screen of a model with history: simple-history's pages on unfold's templates, in the order
    unfold's documentation gives (history first, so its views and URLs win)."""


class TabularInline(unfold_admin.TabularInline):
    """An inline table on unfold's markup."""


class ReasonForm(forms.Form):
    """The reason asked by every action that refuses or cancels (see `ScopedAdminMixin.ask_reason`)."""

    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, help_text: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text


# --- Change lists that do not count a big table ------------------------------------------------------
# Django's change list runs an exact COUNT(*) of the filtered rows for its paginator, and another of the
# whole table for "N total": at a million service logs, seconds per request. A list counts at most
# COUNT_CAP rows instead and never pages deeper than that (OFFSET stays bounded); an unfiltered list on
# PostgreSQL that reaches the cap shows the planner's estimate of the table's rows.

COUNT_CAP = 10_000
# Rows per page of a totals page's grouping that grows with the city (`ScopedAdminMixin.totals_groups`).
TOTALS_PER_PAGE = 50


class ApproximateCount(int):
    """A number of rows that is not exact: "more than 10000" when counting stopped at the cap, "about
    4998000" when it is PostgreSQL's estimate. An int for every comparison the admin makes (Django's
    templates print it through str()); says what it is where shown."""

    def __new__(cls, value: int, *, estimated: bool) -> ApproximateCount:
        count = super().__new__(cls, value)
        count.estimated = estimated
        return count

    def __str__(self) -> str:
        if self.estimated:
            return gettext("about %(count)d") % {"count": int(self)}
        return gettext("more than %(count)d") % {"count": COUNT_CAP}


def _count_key(queryset) -> str | None:
    """The cache key of a change list's count past the cap: the API's key of the same query (its SQL with
    the parameters, alliance.api.pagination), in a namespace of its own (what is kept differs)."""
    key = api_pagination._estimate_key(queryset.order_by())
    return key and f"alliance:admin:count:{key.rpartition(':')[2]}:{COUNT_CAP}"


class CappedCountPaginator(Paginator):
    """The change list's paginator: counts at most COUNT_CAP + 1 rows (one bounded query whatever the
    table's size), pages no deeper than COUNT_CAP rows."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        # A count past the cap is kept in the cache for the list's query (scope and filters are in its SQL),
        # as the API keeps its estimates (alliance/api/pagination.py): the next pages and the next visits
        # of a big list do not count its first 10,001 rows again (~3 ms at district scale). Exact counts,
        # under the cap, are never kept.
        key = _count_key(queryset)
        kept = api_pagination._cached_estimate(key) if key else None
        if isinstance(kept, tuple) and len(kept) == 2:
            return ApproximateCount(kept[0], estimated=kept[1])
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted <= COUNT_CAP:
            if key:
                api_pagination._counted_exactly(key)
            return counted
        estimate = self._estimate(queryset)
        count = ApproximateCount(estimate or counted, estimated=estimate is not None)
        if key:
            api_pagination._keep_estimate(key, (int(count), count.estimated))
        return count

    @staticmethod
    def _estimate(queryset) -> int | None:
        """The planner's row estimate of the table, for a list without any filter (street staff opening it)."""
        connection = connections[queryset.db]
        if connection.vendor != "postgresql" or queryset.query.where or queryset.query.distinct:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
            )
            row = cursor.fetchone()
        return row[0] if row and row[0] > COUNT_CAP else None

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, max(1, ceil(COUNT_CAP / self.per_page)))


# --- Change lists drawn once per page, not once per cell ----------------------------------------------
# unfold's result list (unfold/templatetags/unfold_list.py, 0.91) rebuilds every column header — labels,
# three sort links each through urlencode — for every row, reverses each row's change URL and merges the
# preserved filters into it separately, and renders each boolean icon through a template: at 50 rows and
# 8 columns that was most of an admin list's time (bench/RESULTS.md, issue 12). `result_list` below is
# unfold's, the same markup, with what does not change from row to row computed once per page. It is
# drawn by `{% alliance_result_list cl %}` (alliance/templatetags/alliance_admin_list.py) from
# templates/admin/change_list.html.

# A primary key no URL or row holds, put where a row's own key goes in markup made once per page.
_PK_MARK = "alliance-pk-0c7f3e"


@lru_cache(maxsize=8)
def _checkbox_markup(language: str | None) -> str:
    # `language` is only the cache key: the aria-label is a lazy translation rendered in it.
    return unfold_admin.checkbox.render(admin.helpers.ACTION_CHECKBOX_NAME, _PK_MARK)


class _Row:
    """What `items_for_result` needs of the page, worked out once: each column's name, header text and
    cell classes; the empty value; the boolean icons; the change URL with the preserved filters."""

    def __init__(self, cl: ChangeList, headers: list[dict]) -> None:
        model_admin = cl.model_admin
        self.cl = cl
        self.empty_value_display = model_admin.get_empty_value_display()
        ordering_field = getattr(model_admin, "ordering_field", None)
        hide_ordering_field = getattr(model_admin, "hide_ordering_field", False)
        self.hidden_column = ordering_field if ordering_field and hide_ordering_field else None
        # Each header's text escaped once (most are lazy translations, each cell used to evaluate its own).
        self.columns = [
            (
                index,
                name,
                [f"field-{_coerce_field_name(name, index)}", *unfold_list.ROW_CLASSES],
                conditional_escape(header["text"] if index else _("Select record")),
                conditional_escape(header["text"]),
            )
            for index, (name, header) in enumerate(zip(cl.list_display, headers, strict=True))
        ]
        self._openings: dict[tuple, str] = {}
        if cl.list_display_links is None:
            self.links: set | None = None
        else:
            self.links = set(cl.list_display_links)
        self.pk_attname = cl.lookup_opts.pk.attname
        self.pk_name = cl.model._meta.pk.name
        self._icons: dict[Any, str] = {}
        self._choices: dict[models.Field, dict | bool | None] = {}
        self._url: str | None = None
        self._lookups: dict[Any, Callable[[models.Model], tuple]] = {}

    def lookup(self, name: Any, result: models.Model) -> tuple:
        """`lookup_field(name, result, model_admin)`, with what it finds out about the column (a field of
        the model, a callable, a method of the admin) found out once per page instead of once per cell
        (each failed `get_field` of a callable column raised and caught an exception per row)."""
        getter = self._lookups.get(name)
        if getter is None:
            getter = self._lookups[name] = self._getter(name)
        return getter(result)

    def _getter(self, name: Any) -> Callable[[models.Model], tuple]:
        model_admin = self.cl.model_admin
        try:
            field = _get_non_gfk_field(self.cl.model._meta, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                return lambda result: (None, name, name(result))
            if hasattr(model_admin, name) and name != "__str__":
                method = getattr(model_admin, name)
                return lambda result: (None, method, method(result))
            # An attribute of the row (a property, "__str__", a path through relations): Django's own.
            return lambda result: lookup_field(name, result, model_admin)
        return lambda result: (field, None, getattr(result, name))

    def opening(self, tag: str, classes: list[str], label: str) -> str:
        """`<td class="…" data-label="…">`, the same for most cells of a column: made once per page."""
        key = (tag, label, *classes)
        if key not in self._openings:
            self._openings[key] = f'<{tag} class="{" ".join(classes)}" data-label="{label}">'
        return self._openings[key]

    def link_in_col(self, is_first: bool, field_name: Any) -> bool:
        if self.links is None:
            return False
        if is_first and not self.links:
            return True
        return field_name in self.links

    def url(self, result: models.Model) -> str:
        # unfold's: cl.url_for_result, then add_preserved_filters — the same for every row but its key.
        if self._url is None:
            cl = self.cl
            marked = reverse(
                f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
                args=(_PK_MARK,),
                current_app=cl.model_admin.admin_site.name,
            )
            self._url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, marked)
        return self._url.replace(_PK_MARK, str(quote(getattr(result, self.cl.pk_attname))))

    def icon(self, value: Any) -> str:
        # unfold/helpers/boolean.html, rendered for each of its three looks once per page.
        key = None if value is None or value == "" else bool(value)
        if key not in self._icons:
            self._icons[key] = render_to_string("unfold/helpers/boolean.html", {"value": value})
        return self._icons[key]

    def for_field(self, value: Any, field: models.Field, empty_value_display: str) -> str:
        """unfold.utils.display_for_field, its choices and boolean icons looked up once per page."""
        # `flatchoices` is a property that flattens the field's choices on every access: looked up once.
        if field not in self._choices:
            try:
                self._choices[field] = dict(field.flatchoices or ()) or None
            except TypeError:  # list-like choices: unfold's own path
                self._choices[field] = False
        choices = self._choices[field]
        if choices is False:
            return unfold_utils.display_for_field(value, field, empty_value_display)
        if choices:
            try:
                return choices.get(value, empty_value_display)
            except TypeError:  # a list-like value: unfold's own path
                return unfold_utils.display_for_field(value, field, empty_value_display)
        if isinstance(field, models.BooleanField):
            return self.icon(value)
        return unfold_utils.display_for_field(value, field, empty_value_display)

    def for_value(self, value: Any, empty_value_display: str, boolean: bool) -> str:
        if boolean:
            return self.icon(value)
        return unfold_utils.display_for_value(value, empty_value_display, boolean)


def items_for_result(row: _Row, result: models.Model, form: forms.ModelForm | None) -> Iterable[SafeString]:
    """The cells of one row: unfold's `items_for_result`, with the page's work done once in `row`."""
    cl = row.cl
    first = True
    for _index, field_name, classes, cell_label, header_text in row.columns:
        empty_value_display = row.empty_value_display
        row_classes = list(classes)
        try:
            f, attr, value = row.lookup(field_name, result)
        except ObjectDoesNotExist:
            result_repr = empty_value_display
        else:
            empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
            if f is None or f.auto_created:
                if field_name == "action_checkbox":
                    row_classes = unfold_list.CHECKBOX_CLASSES
                if getattr(attr, "label", False):
                    result_repr = unfold_utils.display_for_label(value, empty_value_display, attr.label)
                elif getattr(attr, "dropdown", False):
                    result_repr = unfold_utils.display_for_dropdown(result, field_name, value, empty_value_display)
                elif getattr(attr, "header", False):
                    result_repr = unfold_utils.display_for_header(value, empty_value_display)
                else:
                    result_repr = row.for_value(value, empty_value_display, getattr(attr, "boolean", False))
                if isinstance(value, date | time):
                    row_classes.append("nowrap")
            else:
                if isinstance(f.remote_field, models.ManyToOneRel):
                    field_val = getattr(result, f.name)
                    result_repr = empty_value_display if field_val is None else field_val
                else:
                    result_repr = row.for_field(value, f, empty_value_display)
                if isinstance(f, models.DateField | models.TimeField | models.ForeignKey):
                    row_classes.append("nowrap")

        if row.link_in_col(first, field_name):
            table_tag = "th" if first else "td"
            first = False
            try:
                url = row.url(result)
            except NoReverseMatch:
                link_or_text = result_repr
            else:
                # format_html('<a href="{}" class="{}" {}>{}</a>', …) as unfold writes it, escaped directly.
                opener = ""
                if cl.is_popup:
                    value = result.serializable_value(str(cl.to_field) if cl.to_field else row.pk_attname)
                    opener = f' data-popup-opener="{_escaped(value)}"'
                link_or_text = SafeString(
                    f'<a href="{_escaped(url)}" class="{_LINK_CLASSES}" {opener}>{_escaped(result_repr)}</a>'
                )
            # format_html('<{}{} data-label="{}">{}</{}>', …) as unfold writes it, the opening made once.
            opening = row.opening(table_tag, row_classes, header_text)
            yield SafeString(f"{opening}{_escaped(link_or_text)}</{table_tag}>")
        else:
            if form and field_name in form.fields and not (field_name == row.pk_name and form[row.pk_name].is_hidden):
                bf = form[field_name]
                result_repr = mark_safe(
                    str(bf) + render_to_string("unfold/helpers/form_errors.html", {"errors": bf.errors})
                )
                row_classes += ["group", "errors"] if bf.errors else []
            if row.hidden_column is not None and field_name == row.hidden_column:
                row_classes.append("!hidden")
            opening = row.opening("td", row_classes, cell_label)
            yield SafeString(f"{opening}{_escaped(result_repr)}</td>")

    if form and not form[row.pk_name].is_hidden:
        yield format_html("<td>{}</td>", form[row.pk_name])


_LINK_CLASSES = " ".join(unfold_list.LINK_CLASSES)


def _escaped(value: Any) -> str:
    """`conditional_escape(value)` without its lazy-argument wrappers (two per call, four hundred cells
    a page): markup kept as it is, anything else escaped as Django's `escape` does (html.escape)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def result_list(context: dict[str, Any], cl: ChangeList) -> dict[str, Any]:
    """unfold's `result_list` (the headers and rows of a change list), with the headers built once."""
    request = context["request"]
    headers_key = frame.headers_key(request, cl)
    headers = frame.kept_headers(headers_key, lambda: list(unfold_list.result_headers(cl)))
    row = _Row(cl, headers)
    if getattr(cl, "formset", None):
        results = [
            unfold_list.UnfoldResultList(res, form, items_for_result(row, res, form))
            for res, form in zip(cl.result_list, cl.formset.forms, strict=False)
        ]
    else:
        results = [unfold_list.UnfoldResultList(res, None, items_for_result(row, res, None)) for res in cl.result_list]
    actions_row = context.get("actions_row")
    return {
        "cl": cl,
        "result_hidden_fields": list(unfold_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
        "rows_html": _rows_html(cl, results, actions_row),
        "headers_key": headers_key,
        "actions_row": actions_row,
        "has_add_permission": cl.model_admin.has_add_permission(request),
    }


# The markup change_list_results.html draws around each row's cells (unfold 0.91), for the plain rows.
_ROW_STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")
_ROW_OPENING = (
    '<tbody class="block relative lg:table-row-group {stripe}" x-data="{{rowOpen: false}}" >\n'
    '<tr class="data-row block border border-base-200 mb-3 relative rounded-default lg:table-row lg:border-none'
    ' lg:mb-0 lg:rounded-none dark:border-base-800">\n'
)
_ROW_CLOSING = "\n</tr>\n</tbody>\n"


def _rows_html(cl: ChangeList, results: list, actions_row: Any) -> SafeString | None:
    """The rows of a plain change list (no editable fields, row actions, sections or drag-to-order) as
    change_list_results.html draws them, joined here: the template's loop cost about as much as working
    out the cells (issue 12). None for the other lists, which the template draws itself."""
    model_admin = cl.model_admin
    if getattr(cl, "formset", None) or actions_row or getattr(model_admin, "ordering_field", None):
        return None
    if len(getattr(model_admin, "list_sections", ()) or ()):
        return None
    openings = [_ROW_OPENING.format(stripe=stripe) for stripe in _ROW_STRIPES]
    return SafeString(
        "".join(f"{openings[index % 2]}{chr(10).join(result)}{_ROW_CLOSING}" for index, result in enumerate(results))
    )


class PeriodFilter(admin.SimpleListFilter):
    """A date filter of fixed ranges (this month, last month, this quarter, this year on the Asia/Shanghai
    calendar): a range condition an index on `field` serves, where `date_hierarchy` scanned the table for
    its distinct years and months on every request. Made per field with `period_filter(field)`, titled
    with the field's own name."""

    field = ""
    PERIODS = (
        ("this_month", _("This month")),
        ("last_month", _("Last month")),
        ("this_quarter", _("This quarter")),
        ("this_year", _("This year")),
    )

    def __init__(self, request, params, model, model_admin) -> None:
        self.title = get_fields_from_path(model, self.field)[-1].verbose_name
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return self.PERIODS

    @staticmethod
    def bounds(period: str | None, today: date) -> tuple[date, date] | None:
        """First day and the day after the last day of `period` around `today`; None for no such period."""
        month_start = today.replace(day=1)
        next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        if period == "this_month":
            return month_start, next_month
        if period == "last_month":
            return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1), month_start
        if period == "this_quarter":
            quarter = Quarter.of(today)
            return quarter.first_day, quarter.next().first_day
        if period == "this_year":
            return date(today.year, 1, 1), date(today.year + 1, 1, 1)
        return None

    def queryset(self, request, queryset):
        bounds = self.bounds(self.value(), timezone.localdate(timezone=ZONE))
        if bounds is None:
            return queryset
        start, end = bounds
        if isinstance(get_fields_from_path(queryset.model, self.field)[-1], models.DateTimeField):
            start, end = (datetime.combine(day, time.min, tzinfo=ZONE) for day in (start, end))
        return queryset.filter(**{f"{self.field}__gte": start, f"{self.field}__lt": end})


def period_filter(field: str) -> type[PeriodFilter]:
    """The `PeriodFilter` of one date or datetime field (a path like "claim__date" follows relations)."""
    return type(f"PeriodFilter_{field}", (PeriodFilter,), {"field": field, "parameter_name": f"{field}_period"})


class ScopedAdminMixin:
    """Admin access decided by `alliance.permissions`, not by Django's model permissions, so that a
    community's staff see and change only their communities' rows — the same answer as portal and API.

    `staff_roles` says who may open the screen at all: "street" (street staff only) or "community"
    (community staff too, scoped by the model's rules). Change lists count through
    `CappedCountPaginator`, without the whole table's count beside the filtered one."""

    staff_roles = "street"
    paginator = CappedCountPaginator
    show_full_result_count = False

    def _may_open(self, request) -> bool:
        if self.staff_roles == "community":
            return permissions.is_staff_member(request.user)
        return permissions.is_street_staff(request.user)

    def has_module_permission(self, request) -> bool:
        return self._may_open(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._may_open(request):
            return False
        return obj is None or permissions.can_view(request.user, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if not self._may_open(request):
            return False
        return obj is None or permissions.can_change(request.user, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._may_open(request) and permissions.can_add(request.user, self.model)

    def has_delete_permission(self, request, obj=None) -> bool:
        if not self._may_open(request):
            return False
        return obj is None or permissions.can_delete(request.user, obj)

    def get_queryset(self, request):
        return permissions.visible(request.user, super().get_queryset(request))

    # --- Pages of one object: what a user may not see answers 404 -----------------------------------
    # Django's admin answers a missing id with a redirect and an object the user may not see with 403
    # (simple-history's pages: 404 and 403), which tells another community's staff which ids exist.
    # Every page of one object first asks the same question as the list: is it in the user's queryset?

    def _visible_object_or_404(self, request, object_id):
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        from_field = to_field if to_field and self.to_field_allowed(request, to_field) else None
        obj = self.get_object(request, unquote(str(object_id)), from_field)
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._visible_object_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._visible_object_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._visible_object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's page of one past version; only SimpleHistoryAdmin routes to it.
        self._visible_object_or_404(request, object_id)
        # django-simple-history saves a posted past version straight back through save_model, which undoes
        # a change without the service that made it (a claim approved by `claim_approve` went back to
        # pending, its place still taken). Past versions are for reading.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        try:
            get_history_model_for_model(self.model)._meta.pk.to_python(version_id)
        except ValidationError:
            raise Http404 from None  # ?history/abc/ was a 500 (a text where the database wants a number)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_changelist_instance(self, request):
        # A date part out of range in the address bar (?date__year=20261, the form of date_hierarchy's
        # links, still honoured) fails only when the count's SQL is built; date_hierarchy used to check it
        # first. Answered like Django's own bad lookups: the list with its error flag, not a 500.
        try:
            return super().get_changelist_instance(request)
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc

    def changelist_view(self, request, extra_context=None):
        # A filter value from the address bar too large for the database (?community=99999999999999999999)
        # is bad input, answered like Django's own bad lookups: the list with an error flag, not a 500.
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        except (OverflowError, DataError):
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")

    def totals_groups(
        self,
        request: HttpRequest,
        *,
        groups: Iterable[tuple[str, Any]],
        rows_of: Callable[[str, Any], Any],
        paged: Iterable[str],
    ) -> tuple[list[dict], QueryDict]:
        """The tables of a totals page over the rows the change list shows with the same filters:
        `rows_of(key, queryset)` gives each grouping's rows summed in SQL; the groupings named in `paged`
        (those that grow with the city: members, units, teams) come a page at a time, each with its own
        `<key>_page` parameter. Returns the groups and the list's filters (without those parameters).
        Raises what the change list raises for bad filters."""
        paged = set(paged)
        filters = request.GET.copy()
        for key in paged:
            filters.pop(f"{key}_page", None)  # the change list would refuse them as unknown lookups
        list_request = copy(request)
        list_request.GET = filters
        queryset = self.get_changelist_instance(list_request).get_queryset(list_request)
        tables = []
        for key, label in groups:
            rows = rows_of(key, queryset)
            page = page_of(rows, request.GET, per_page=TOTALS_PER_PAGE, param=f"{key}_page") if key in paged else None
            rows = page.object_list if page is not None else list(rows)
            for row in rows:
                row["label"] = totals_row_label(key, row)
            tables.append({"key": key, "label": label, "rows": rows, "page": page})
        return tables, filters

    def save_through(self, request, func, **kwargs):
        """Call a service from save_model/delete_model. ModelAdmin cannot turn an exception there into a
        form error, so a refusal becomes an error message and the response goes back to the form."""
        try:
            return func(actor=request.user, **kwargs)
        except REFUSALS as exc:
            request._service_refused = True
            messages.error(request, refusal_message(exc))
            return None

    def save_related(self, request, form, formsets, change) -> None:
        if getattr(request, "_service_refused", False):
            # Nothing was saved; the change message Django builds next reads these lists.
            for formset in formsets:
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_related(request, form, formsets, change)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_service_refused", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_service_refused", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_service_refused", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_delete(request, obj_display, obj_id)

    def run_service(self, request, func, *, success: str, **kwargs) -> bool:
        """Call a service from an admin action and turn its domain error into an admin message."""
        try:
            func(actor=request.user, **kwargs)
        except REFUSALS as exc:
            messages.error(request, refusal_message(exc))
            return False
        messages.success(request, success)
        return True

    def ask_reason(
        self,
        request: HttpRequest,
        objects: Iterable[Any],
        *,
        service: Callable[..., Any],
        object_kwarg: str,
        success: Callable[[Any], str],
        title: str,
        intro: str,
        empty: str,
        describe: Callable[[Any], str],
        detail: Callable[[Any], str] | None = None,
        none_done: str | None = None,
        submit_label: str | None = None,
        help_text: str = "",
        page_of: Any = None,
        back_url: str = "",
    ) -> HttpResponse:
        """Ask for a reason, then call `service(actor=…, <object_kwarg>=obj, reason=…)` for each object —
        the one shape of every "reject / cancel with a reason" screen, on `admin/reason_action.html`.

        As an admin action (`page_of` None) the form is bound only once the page itself was posted
        (`apply`), since Django posts the action to it first; afterwards the list shows again, with
        `none_done` as a warning when no service call went through. As the page of one object (`page_of`),
        every POST is the form, and success goes back to `back_url`."""
        objects = list(objects)
        action = "" if page_of is not None else request.POST.get("action", "")
        submitted = request.method == "POST" and (page_of is not None or "apply" in request.POST)
        form = ReasonForm(request.POST if submitted else None, help_text=help_text)
        if form.is_valid():
            done = sum(
                self.run_service(
                    request,
                    service,
                    **{object_kwarg: obj},
                    reason=form.cleaned_data["reason"],
                    success=success(obj),
                )
                for obj in objects
            )
            if page_of is None:
                if not done and none_done:
                    messages.warning(request, none_done)
                return HttpResponseRedirect(request.get_full_path())
            if done:
                return HttpResponseRedirect(back_url)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "empty": empty,
            "form": form,
            "objects": objects,
            "rows": [(obj, describe(obj), detail(obj) if detail else "") for obj in objects],
            "action": action,
            "opts": self.opts,
            "original": page_of,
            "back_url": back_url,
            "submit_label": submit_label or gettext("Reject"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/reason_action.html", context)


class ScopedChoiceFilter(admin.SimpleListFilter):
    """A list filter on a foreign key whose choices depend on the user (the communities they work for),
    with an optional "none" choice for rows without one. Subclasses name the `field` and give the
    `choices(request)` queryset; values that are not small integers are ignored, never a 500.

    The offered rows are read and formatted once a minute per process and scope (`frame.scoped_choices`),
    not on every request: at city scale a street's staff works for 810 communities, and reading them made
    the lists 1.7–1.8× slower than at district scale (bench/RESULTS.md)."""

    field = ""
    none_label: str | None = None
    # Past this many choices (a city's street staff works for 810 communities) the filter is one <select>
    # in a GET form, not a link per choice: each link is ~350 bytes of HTML and its own query string, and
    # at city scale they were 290 KB and a third of the admin list's time (bench/RESULTS.md).
    LINKS_MAX = 30
    select_template = "admin/scoped_choice_select.html"

    def __init__(self, request: HttpRequest, params: dict, model: type[models.Model], model_admin) -> None:
        self.offered = frame.Choices(0, (), "")
        super().__init__(request, params, model, model_admin)
        self.kept: list[tuple[str, str]] = []
        self.options = ""
        if self.offered.count > self.LINKS_MAX:
            self.template = self.select_template

    def choices_for(self, request):  # pragma: no cover - interface
        raise NotImplementedError

    def lookups(self, request, model_admin):
        self.offered = frame.scoped_choices(self.choices_for(request), links_max=self.LINKS_MAX)
        # Past LINKS_MAX only the <select>'s options are kept (`self.offered.options`), not each pair.
        options = list(self.offered.pairs)
        return [("none", self.none_label), *options] if self.none_label else options

    def has_output(self) -> bool:
        return bool(self.none_label) or self.offered.count > 0

    def get_facet_counts(self, pk_attname, filtered_qs):
        # Django's facets (?_facets=1) count every choice: one aggregate per community. The <select> shows
        # no counts, so past LINKS_MAX none are computed.
        if self.template == self.select_template:
            return {}
        return super().get_facet_counts(pk_attname, filtered_qs)

    def choices(self, changelist) -> Iterable[dict[str, Any]]:
        if self.template != self.select_template:
            yield from super().choices(changelist)
            return
        # The form keeps the list's other filters, search and order; choosing starts again at page 1.
        self.kept = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        ]
        current = self.value()
        # "All" and "none" in the user's language; the rows' options as kept, the current one selected.
        choices = [
            {"value": "", "display": gettext("All"), "selected": not current},
            *({"value": value, "display": label, "selected": current == value} for value, label in self.lookup_choices),
        ]
        head = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((c["value"], mark_safe(" selected") if c["selected"] else "", c["display"]) for c in choices),
        )
        rows = self.offered.options
        if current and current != "none":
            plain = format_html('<option value="{}">', current)
            rows = rows.replace(plain, f"{plain[:-1]} selected>", 1)
        self.options = mark_safe(head + rows)
        yield from choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none" and self.none_label:
            return queryset.filter(**{f"{self.field}__isnull": True})
        if value and value.isdigit() and len(value) < 12:
            return queryset.filter(**{f"{self.field}__pk": int(value)})
        return queryset


class ScopedRelatedFilter(ScopedChoiceFilter):
    """Django's plain filter on a foreign key ("community", "street", "unit", …) lists every row of the
    related table — to street and district staff too, whose lists hold only their streets' rows. This
    one offers the related rows the user may see (`permissions.visible`: the related model's own rules,
    the answer portal and API give), kept like every scoped filter's. The parameter keeps the related
    filter's name (`community__id__exact`) so that links made for it still work; a nullable key offers
    the empty choice as Django's does. Made by `scoped_filter(field)`; `rows` (a selector taking `user=`)
    narrows the offer to the user's scope where the related rules are wider — every signed-in user may
    read every community's name, but community staff work for their own."""

    rows: Callable[..., models.QuerySet] | None = None

    def __init__(self, request: HttpRequest, params: dict, model: type[models.Model], model_admin) -> None:
        key = get_fields_from_path(model, self.field)[-1]
        self.related = key.remote_field.model
        self.title = key.verbose_name
        self.parameter_name = f"{self.field}__{key.target_field.name}__exact"
        if key.null:
            self.none_label = model_admin.get_empty_value_display()
        super().__init__(request, params, model, model_admin)

    def choices_for(self, request):
        if self.rows is not None:
            return self.rows(user=request.user)
        return permissions.visible(request.user, self.related._default_manager.all())


def scoped_filter(field: str, rows: Callable[..., models.QuerySet] | None = None) -> type[ScopedRelatedFilter]:
    """The `ScopedRelatedFilter` of one foreign key (a path like "unit__community" follows relations)."""
    attrs = {"field": field, "rows": staticmethod(rows) if rows is not None else None}
    return type(f"ScopedRelatedFilter_{field}", (ScopedRelatedFilter,), attrs)


def totals_row_label(key: str, row: dict) -> str:
    """The label of a row of totals grouped in SQL (`group_key`, `group_name`); quarters come as 20264."""
    if key == "quarter":
        year, quarter = divmod(row["group_key"], 10)
        return gettext("%(year)d Q%(quarter)d") % {"year": year, "quarter": quarter}
    return row["group_name"] or "—"


class ReadOnlyInline(TabularInline):
    """Rows written by services (a need's timeline, a project's claims, a claim's activities): shown with
    their parent, never edited in the inline. The parent admin already decided who sees the parent, so
    the inline does not ask Django's model permissions again."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def shorten(text: str, length: int) -> str:
    """`text` cut to `length` characters, an ellipsis marking the cut."""
    return text if len(text) <= length else text[: length - 1] + "…"


def truncated_html(text: Any, length: int) -> str | None:
    """A cell of a change list holding long text: at most `length` characters shown (the stylesheet also
    stops the span at its column's width), the full text on hover. None for no text, so the admin shows
    its empty-value dash."""
    if text is None or text == "":
        return None
    full = str(text)
    # format_html's markup, escaped directly (a few cells a row on every list: its lazy-argument checks
    # were a tenth of the rows' work).
    return SafeString(f'<span class="truncate" title="{html.escape(full)}">{html.escape(shorten(full, length))}</span>')


def truncated(field: str, length: int, description: Any, ordering: str | None = None) -> Callable[[Any], str | None]:
    """A column for `list_display` showing `field` (a path like "unit__name" follows relations) through
    `truncated_html` — the one way a change list shows titles, names and descriptions, so that no list
    runs off a 1366 px screen. Sorted by the field itself unless `ordering` says otherwise."""

    def column(obj: Any) -> str | None:
        value = obj
        for part in field.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return truncated_html(value, length)

    column.__name__ = f"{field}_truncated"
    return admin.display(description=description, ordering=ordering or field)(column)


def local_date(value: Any) -> str:
    """A datetime column as its Asia/Shanghai date (2026-11-27): the time of day is on the object's page,
    and the full localised datetime would take a fifth of a laptop's width."""
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else "—"

"""What every admin page draws around its content, worked out once per process rather than once per
request (issue 12: a one-row change list cost half a 50-row one, the frame being the fixed cost).

- `scoped_choices`: the rows a list filter offers the user (the communities they work for: 810 for a
  city's street staff), read and formatted once a minute per process and per scope — as the public
  form's communities are kept (demands/public_choices.py) — so that a change list costs the same
  whatever the number of communities. Saving or deleting a row of the offered model drops them at once
  in this process; other processes see the change within KEEP_SECONDS.
- `Fragment`: a piece of the frame (the sidebar) rendered once per process for each distinct key — the
  key names everything the piece shows (language, the user's name, the links the user may follow, the
  active one) — the request's CSRF token put in its place on every use.

Both are in-process dictionaries of bounded size: nothing to invalidate across machines but what the
keys already say, no network round trip on a hit."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import get_language

# How long the offered rows are kept in a process (a community added elsewhere shows within a minute).
KEEP_SECONDS = 60.0
# Entries kept at most per cache (distinct scopes and fragments); past it the cache starts afresh.
MAX_ENTRIES = 512


@dataclass(frozen=True)
class Choices:
    """What a scoped filter offers: how many rows, and either the (value, label) pairs (few: drawn as
    links) or, past the filter's link limit, the `<option>`s of them all, none selected."""

    count: int
    pairs: tuple[tuple[str, str], ...]
    options: str


NO_CHOICES = Choices(0, (), "")

_choices: dict[str, tuple[float, Choices]] = {}
_choices_lock = threading.Lock()
_watched: set[type[Model]] = set()


def forget() -> None:
    """Read the offered rows again on next use (tests, whose rows come and go; saves of the model)."""
    with _choices_lock:
        _choices.clear()
    with _fragments_lock:
        _fragments.clear()
        _headers.clear()


def _forget_on_change(sender, **kwargs) -> None:
    with _choices_lock:
        _choices.clear()


def _watch(model: type[Model]) -> None:
    if model not in _watched:
        _watched.add(model)
        uid = f"alliance.admin.frame:{model._meta.label}"
        post_save.connect(_forget_on_change, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        post_delete.connect(_forget_on_change, sender=model, weak=False, dispatch_uid=f"{uid}:delete")


def scoped_choices(queryset: QuerySet, *, links_max: int) -> Choices:
    """The rows of `queryset` as a filter offers them. The key is the query itself (its SQL and
    parameters: the user's scope is in them), so two users with the same scope share one entry."""
    _watch(queryset.model)
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        # A scope with no rows (`pk__in` an empty set: district staff run no community's work) has no SQL;
        # it offers nothing, and costs no query.
        return NO_CHOICES
    key = hashlib.sha256(repr((queryset.db, sql, params, links_max)).encode()).hexdigest()
    now = time.monotonic()
    kept = _choices.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    pairs = tuple((str(obj.pk), str(obj)) for obj in queryset)
    if len(pairs) > links_max:
        choices = Choices(len(pairs), (), format_html_join("", '<option value="{}">{}</option>', pairs))
    else:
        choices = Choices(len(pairs), pairs, "")
    with _choices_lock:
        if len(_choices) >= MAX_ENTRIES:
            _choices.clear()
        _choices[key] = (now + KEEP_SECONDS, choices)
    return choices


# --- Fragments of the frame --------------------------------------------------------------------------

# Put where the request's CSRF token goes while a fragment is rendered for the cache: a string no page
# holds otherwise, unchanged by escaping.
CSRF_MARK = "alliancecsrfmark0c7f3e5a9b"

_fragments: dict[Hashable, str] = {}
_fragments_lock = threading.Lock()


class Fragment:
    """A piece of the frame rendered once per distinct `key(context)`. `key` must name everything the
    piece reads from the context — tests/alliance/test_admin_frame.py renders each with and without the
    cache and compares."""

    def __init__(self, name: str, key: Callable[[Any], Hashable]) -> None:
        self.name = name
        self.key = key

    def render(self, context: Any, draw: Callable[[], str]) -> str:
        own_key = self.key(context)
        if own_key is None:  # this page's piece is not one to keep
            return draw()
        key = (self.name, own_key)
        html = _fragments.get(key)
        if html is None:
            with context.push(csrf_token=CSRF_MARK):
                html = draw()
            with _fragments_lock:
                if len(_fragments) >= MAX_ENTRIES:
                    _fragments.clear()
                _fragments[key] = html
        if CSRF_MARK in html:
            request = context.get("request")
            token = get_token(request) if request is not None else ""
            html = html.replace(CSRF_MARK, token)
        return html


# What the sidebar (unfold's admin/nav_sidebar.html and the templates it includes) reads of the context
# besides the navigation and the user: the site's settings, the same on every page.
SIDEBAR_READS = (
    "site_url",
    "site_title",
    "site_header",
    "site_subheader",
    "site_logo",
    "site_icon",
    "site_symbol",
    "site_dropdown",
    "branding",
    "theme",
    "account_links",
    "extra_userlinks",
    "sidebar_show_all_applications",
    "is_popup",
    "templates",
)


def _sidebar_key(context: Any) -> Hashable | None:
    navigation = context.get("sidebar_navigation")
    if not navigation or context.get("show_languages") or context.get("sidebar_show_search"):
        # Drawn each time: the app list of a user without navigation, the language forms (they carry
        # the page's address) and the search box (it reads the browser's name).
        return None
    user = context["request"].user
    links = tuple(
        (
            str(group.get("title") or ""),
            tuple(
                (str(item["title"]), str(item["link"]), item.get("icon"), item["active"], item["has_permission"])
                for item in group["items"]
            ),
        )
        for group in navigation
    )
    person = (
        user.get_full_name(),
        user.get_username(),
        user.email,
        user.has_usable_password(),
        getattr(user, "avatar_url", None),
    )
    return (get_language(), links, person, tuple(repr(context.get(name)) for name in SIDEBAR_READS))


# --- A change list's headers and actions bar ------------------------------------------------------------

_headers: dict[Hashable, list] = {}


def headers_key(request: Any, cl: Any) -> Hashable | None:
    """What a change list's column headers depend on: the screen, the language, the columns and the
    address (the sort links keep every parameter); None when they are not to be kept (a POST)."""
    if request.method != "GET":
        return None
    model_admin = cl.model_admin
    return (
        type(model_admin),
        get_language(),
        request.GET.urlencode(),
        tuple(cl.list_display),
        tuple(cl.sortable_by) if cl.sortable_by is not None else None,
        cl.is_popup,
    )


def kept_headers(key: Hashable | None, make: Callable[[], list]) -> list:
    """unfold's `result_headers` of the change list, made once per process for each `headers_key`."""
    if key is None:
        return make()
    headers = _headers.get(key)
    if headers is None:
        headers = make()
        with _fragments_lock:
            if len(_headers) >= MAX_ENTRIES:
                _headers.clear()
            _headers[key] = headers
    return headers


def _result_headers_key(context: Any) -> Hashable | None:
    # unfold/helpers/change_list_headers.html reads the headers, their number sorted, and two attributes of
    # the screen (drag-to-order, sections), all named by the headers' key.
    return context.get("headers_key")


def _actions_key(context: Any) -> Hashable | None:
    """What the bar of actions (unfold's change_list_actions.html and Django's actions.html) shows: the
    actions the user may run, the counts of rows in its notes, and the screen's settings."""
    request = context["request"]
    cl = context.get("cl")
    form = context.get("action_form")
    if cl is None or request.method != "GET" or (form is not None and form.is_bound):
        return None
    actions = tuple((str(value), str(label)) for value, label in form.fields["action"].choices) if form else None
    return (
        type(cl.model_admin),
        get_language(),
        actions,
        str(cl.result_count),
        len(cl.result_list),
        bool(cl.search_fields),
        cl.has_filters,
        tuple(repr(context.get(name)) for name in ACTIONS_READS),
    )


def _filters_key(context: Any) -> Hashable | None:
    """What the panel of filters (unfold's change_list_filter.html) shows: each filter's kind, title and
    the choices it offers (the rows read for it this request, or the kept options of a scoped one), the
    address (each link keeps the other parameters), the language and today's date (the date filters'
    links). Not kept when it shows counts (facets: read from the rows each time)."""
    request = context["request"]
    cl = context.get("cl")
    if cl is None or request.method != "GET" or cl.add_facets:
        return None
    specs = tuple(
        (
            type(spec),
            str(spec.title),
            spec.template,
            tuple(getattr(spec, "lookup_choices", None) or ()),
            getattr(getattr(spec, "offered", None), "options", None),
        )
        for spec in cl.filter_specs
    )
    return (
        type(cl.model_admin),
        get_language(),
        timezone.localdate(),
        request.GET.urlencode(),
        specs,
        cl.has_active_filters,
        cl.is_facets_optional,
        cl.is_popup,
    )


def _header_key(context: Any) -> Hashable | None:
    """What the header of a change list (unfold's header.html: the title, the count of results, the
    buttons of the screen — captured before it as `nav_global_side` — and the menu of actions) shows.
    Other pages draw theirs each time."""
    request = context["request"]
    cl = context.get("cl")
    if cl is None or request.method != "GET":
        return None
    user = request.user
    # The header's link to the inbox shows the count of my unread notifications: counted on every page
    # (alliance.context_processors.platform gives it as a function, called at most once a request).
    unread = context.get("unread_notifications")
    return (
        unread() if callable(unread) else unread,
        type(cl.model_admin),
        get_language(),
        request.get_full_path(),
        str(cl.result_count),
        str(cl.full_result_count),
        cl.show_full_result_count,
        type(cl.paginator).__name__,
        getattr(request, "current_app", None),
        user.get_username(),
        user.get_short_name() if hasattr(user, "get_short_name") else "",
        tuple(repr(context.get(name)) for name in HEADER_READS),
    )


HEADER_READS = (
    "opts",
    "original",
    "object",
    "model_admin",
    "adminform",
    "content_title",
    "title",
    "subtitle",
    "has_permission",
    "is_nav_sidebar_enabled",
    "is_popup",
    "is_fullwidth",
    "show_back_button",
    "environment",
    "nav_global",
    "nav_global_side",
    "actions_detail",
    "actions_detail_hide_default",
    "actions_list",
    "actions_list_hide_default",
    "actions_items",
)

ACTIONS_READS = (
    "actions_on_top",
    "is_popup",
    "module_name",
    "selection_note",
    "selection_note_all",
    "actions_selection_counter",
)

FRAGMENTS = {
    "sidebar": Fragment("sidebar", _sidebar_key),
    "headers": Fragment("headers", _result_headers_key),
    "actions": Fragment("actions", _actions_key),
    "filters": Fragment("filters", _filters_key),
    "header": Fragment("header", _header_key),
}

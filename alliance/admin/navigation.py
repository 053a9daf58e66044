"""Who sees which link of the admin's sidebar (settings.UNFOLD["SIDEBAR"]): the questions the screens
themselves ask (`ScopedAdminMixin.staff_roles`), through the one permission path.

`install(site)` also makes the frame every admin page draws cheaper (issue 12: the frame was a fixed
cost of every change list): the sidebar's configuration is resolved once per language, not deep-copied and
reversed link by link on every request, and each distinct permission question is asked once per request;
the app list Django's `each_context` builds for every page (a reverse and the model permissions of every
registered screen, two queries for the screens on Django's own permissions) is built only when a
template reads it — with settings.UNFOLD's own navigation, only the index page does."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from unfold import settings as unfold_settings

from .. import permissions


def street_staff(request: HttpRequest) -> bool:
    return permissions.is_street_staff(request.user)


def staff_member(request: HttpRequest) -> bool:
    return permissions.is_staff_member(request.user)


def street_or_district_staff(request: HttpRequest) -> bool:
    # Street staff assignments (members/admin/organisation.py, _AssignmentAdmin) and the quarterly reports
    # (members/admin/reports.py): the screens of the streets a street's or a district's staff oversee.
    return permissions.is_street_staff(request.user) or permissions.is_district_staff(request.user)


def district_staff_or_superuser(request: HttpRequest) -> bool:
    # District staff assignments (members/admin/organisation.py, DistrictStaffAdmin).
    return bool(request.user.is_superuser) or permissions.is_district_staff(request.user)


def superuser(request: HttpRequest) -> bool:
    # Accounts and groups are the superusers' screens (alliance/admin/accounts.py).
    return request.user.is_active and request.user.is_superuser


# What unfold's sidebar template reads of a group and of an item besides what the settings give: present
# (and empty) so that each lookup finds its key instead of failing through Django's slow path.
GROUP_DEFAULTS = {"collapsible": False, "separator": False, "badge": None}
ITEM_DEFAULTS = {"badge": None, "link_callback": None, "badge_callback": None, "active": False}


@lru_cache(maxsize=8)
def _resolved(site: AdminSite, language: str | None) -> tuple[tuple[dict, tuple[dict, ...]], ...]:
    """settings.UNFOLD's navigation with its lazy titles and links made text in `language` (the cache's
    key: they are evaluated in the active one). Permission callbacks are kept as given."""
    resolved = []
    for group in site._get_value(site._get_config("SIDEBAR").get("navigation")):
        head = {**GROUP_DEFAULTS, **group, "title": str(group.get("title") or "")}
        del head["items"]
        items = tuple(
            {**ITEM_DEFAULTS, **item, "title": str(item["title"]), "link": str(item["link"])} for item in group["items"]
        )
        resolved.append((head, items))
    return tuple(resolved)


def _permission(question: str | Callable | None, request: HttpRequest, asked: dict) -> bool:
    """unfold's `_call_permission_callback`, each question answered once per request."""
    if question is None:
        return True
    if question not in asked:
        check = import_string(question) if isinstance(question, str) else question
        asked[question] = check(request) == True  # noqa: E712 - unfold's test: a true value, not truthy
    return asked[question]


def sidebar_list(site: AdminSite, request: HttpRequest) -> list[dict[str, Any]]:
    """unfold's `get_sidebar_list` for a navigation of plain links (the project's): the same groups and
    items, `active` and `has_permission` worked out for this request."""
    index_path = reverse(f"{site.name}:index")
    asked: dict = {}
    groups = []
    for group, items in _resolved(site, get_language()):
        shown = []
        for item in items:
            path = urlparse(item["link"]).path
            active = (path == request.path == index_path) or (
                path != "" and path in request.path and path != index_path
            )
            shown.append(
                {**item, "active": active, "has_permission": _permission(item.get("permission"), request, asked)}
            )
        groups.append({**group, "items": shown})
    return groups


def _keep_config(site: AdminSite) -> None:
    """unfold's `_get_config`, reading settings.UNFOLD merged with unfold's defaults once per process (and
    again when the setting is replaced, as tests do) — unfold merges them afresh for each of the 26 keys
    every page asks for. The values are resolved per request as before (callables are called)."""
    kept: dict[str, tuple[Any, dict]] = {}

    def get_config(key: str, *args: Any) -> Any:
        given = getattr(settings, site.settings_name, None)
        entry = kept.get(site.settings_name)
        if entry is None or entry[0] is not given:
            entry = kept[site.settings_name] = (given, unfold_settings.get_config(site.settings_name))
        config = entry[1]
        if config.get(key):
            return site._get_value(config[key], *args)
        return None

    site._get_config = get_config


def install(site: AdminSite) -> None:
    """Put the cheaper sidebar and the lazy app list on `site` (the project's, from alliance.admin)."""
    _keep_config(site)
    config = site._get_config("SIDEBAR") or {}
    navigation = config.get("navigation")
    plain = (
        isinstance(navigation, list)
        and not site._get_config("TABS")
        and all(
            not callable(item.get("link")) and "items" not in item and "badge" not in item and "active" not in item
            for group in navigation
            for item in group["items"]
        )
    )
    if plain:  # anything richer (tabs, badges, nested items) keeps unfold's own
        site.get_sidebar_list = lambda request: sidebar_list(site, request)
    if not config.get("show_all_applications"):
        django_app_list = site.get_app_list

        def get_app_list(request: HttpRequest, app_label: str | None = None):
            return SimpleLazyObject(lambda: django_app_list(request, app_label))

        site.get_app_list = get_app_list

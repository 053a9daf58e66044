"""What `/api/v1/me/` says of the caller. Apps add their part (units, communities, …) at start-up."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from . import permissions, site

Contributor = Callable[[object, dict], None]
_contributors: list[Contributor] = []


def register(contributor: Contributor) -> Contributor:
    if contributor not in _contributors:
        _contributors.append(contributor)
    return contributor


def describe(user, request: HttpRequest | None = None) -> dict:
    """The caller as `/api/v1/me/` answers. Contributors give addresses as site paths; they are made full
    here, on the address the request came in on when SITE_URL is unset (alliance.site)."""
    roles = []
    if user.is_superuser:
        roles.append("superuser")
    if permissions.is_street_staff(user):
        roles.append("street_staff")
    if permissions.is_district_staff(user):
        roles.append("district_staff")
    if permissions.is_community_staff(user):
        roles.append("community_staff")
    data: dict = {
        "username": user.get_username(),
        "is_staff": permissions.is_staff_member(user),
        "roles": roles,
        "units": [],
        "communities": [],
        "member": None,
        "calendar_url": None,
    }
    for contributor in _contributors:
        contributor(user, data)
    if data["calendar_url"]:
        data["calendar_url"] = site.absolute(data["calendar_url"], request)
    return data

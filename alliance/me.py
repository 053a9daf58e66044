"""What `/api/v1/me/` says of the caller. Apps add their part (units, communities, …) at start-up."""

from __future__ import annotations

from collections.abc import Callable

from . import permissions

Contributor = Callable[[object, dict], None]
_contributors: list[Contributor] = []


def register(contributor: Contributor) -> Contributor:
    if contributor not in _contributors:
        _contributors.append(contributor)
    return contributor


def describe(user) -> dict:
    roles = []
    if user.is_superuser:
        roles.append("superuser")
    if permissions.is_street_staff(user):
        roles.append("street_staff")
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
    return data

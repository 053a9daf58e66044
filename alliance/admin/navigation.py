"""Who sees which link of the admin's sidebar (settings.UNFOLD["SIDEBAR"]): the questions the screens
themselves ask (`ScopedAdminMixin.staff_roles`), through the one permission path."""

from __future__ import annotations

from django.http import HttpRequest

from .. import permissions


def street_staff(request: HttpRequest) -> bool:
    return permissions.is_street_staff(request.user)


def staff_member(request: HttpRequest) -> bool:
    return permissions.is_staff_member(request.user)


def superuser(request: HttpRequest) -> bool:
    # Accounts and groups are the superusers' screens (alliance/admin/accounts.py).
    return request.user.is_active and request.user.is_superuser

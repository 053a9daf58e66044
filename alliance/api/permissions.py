"""DRF's side of the one permission path: every question goes to `alliance.permissions`."""

from __future__ import annotations

from rest_framework import permissions as drf

from alliance import permissions


class ObjectPermissions(drf.BasePermission):
    """Reads: the view's queryset is already narrowed by `permissions.visible` (what is not there is
    404). Writes: `can_add` for the model, `can_change` / `can_delete` for the object.
    Views marked `public_read = True` may be read without signing in. Actions named in the view's
    `service_checked_actions` are decided by the service they call (a liaison may accept a need they may
    not edit), so only visibility is checked here."""

    def has_permission(self, request, view) -> bool:
        if request.method in drf.SAFE_METHODS:
            return getattr(view, "public_read", False) or bool(request.user and request.user.is_authenticated)
        if not (request.user and request.user.is_authenticated):
            return False
        if getattr(view, "action", None) == "create":
            model = view.get_queryset().model
            return permissions.can_add(request.user, model)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in drf.SAFE_METHODS or getattr(view, "action", None) in getattr(
            view, "service_checked_actions", ()
        ):
            return True
        if request.method == "DELETE":
            return permissions.can_delete(request.user, obj)
        return permissions.can_change(request.user, obj)

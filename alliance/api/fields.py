"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from rest_framework import serializers

from alliance import permissions


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference in a request body to an object the caller may see. One they may not see is refused as if
    it did not exist (400, the field's own message), so that a create neither leaks its existence nor
    answers the 404 of an object that is not in the URL."""

    def get_queryset(self):
        request = self.context.get("request")
        return permissions.visible(getattr(request, "user", None), super().get_queryset())

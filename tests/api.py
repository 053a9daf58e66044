"""The API client of a test: signed in as `user` (none, or an anonymous user: a visitor)."""

from __future__ import annotations

from rest_framework.test import APIClient


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None and user.is_authenticated:
        client.force_authenticate(user)
    return client

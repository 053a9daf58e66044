"""The pages of one object in the admin site (change, delete, history, one past version), asked by staff
who may see the object and by staff who may not. What a user may not see answers 404 (ARCHITECTURE.md),
exactly like an id that does not exist, so that another community's staff cannot tell which ids exist."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from .conftest import client_for

MISSING_ID = 987654321


def object_page_urls(obj: models.Model, object_id) -> dict[str, str]:
    info = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
    urls = {
        "change": reverse(f"{info}_change", args=[object_id]),
        "delete": reverse(f"{info}_delete", args=[object_id]),
        "history": reverse(f"{info}_history", args=[object_id]),
    }
    if hasattr(obj, "history"):
        record = obj.history.latest("history_date")
        urls["version"] = reverse(f"{info}_simple_history", args=[object_id, record.history_id])
    return urls


def statuses(user, obj: models.Model, object_id) -> dict[str, int]:
    client = client_for(user)
    return {name: client.get(url).status_code for name, url in object_page_urls(obj, object_id).items()}


def history_page(user, obj: models.Model) -> str:
    response = client_for(user).get(object_page_urls(obj, obj.pk)["history"])
    assert response.status_code == 200
    return response.content.decode()

"""Street A's rows reach nobody outside its street and district (issue 14, "Must hold"), on every list:
every API list route of the router and every admin change list, walked as the staff of a second street of
the same district (迎泽街道) and as the staff of another district (别区). None of street A's (柳巷街道's)
rows appears — not by id among the rows of its model, nor by name anywhere in the answer.

The authorization matrix (route × role, policy.py) keeps its seven roles: two more roles would add about
30% to its run and an answer of each to every one of its rules; this walk covers what the two roles
would add there, lists, with the world of test_street_scopes.py."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from alliance.api.urls import router

from ..conftest import client_for
from .test_street_scopes import streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

OUTSIDERS = ("yingze_staff", "far_officer")
# Street A's rows by name: its unit, meetings and quarterly report's job. (Street and community names are
# public reference data — SPEC's `GET /api/v1/communities/`, the need form, list filters' choices — and
# are not counted.)
A_NAMES = ("柳巷单位", "柳巷联席会", "柳巷街道联席会", "柳巷季度报表")
# Public, read-only reference lists (SPEC "Fixed interfaces"): every community and category, for anyone.
PUBLIC_LISTS = {"categories", "communities"}


def _a_rows(things) -> dict[str, set[int]]:
    """Street A's objects by model label."""
    a = things["s1"]
    rows: dict[str, set[int]] = {}
    for obj in (*(a[key] for key in a), a["claim"].project):
        rows.setdefault(obj._meta.label_lower, set()).add(obj.pk)
    return rows


def _api_lists() -> list[tuple[str, type]]:
    lists = []
    for prefix, viewset, _basename in router.registry:
        if hasattr(viewset, "list") and not prefix.startswith("public") and prefix not in PUBLIC_LISTS:
            lists.append((f"/api/v1/{prefix}/", viewset))
    return lists


def _model_of(viewset) -> str | None:
    serializer = getattr(viewset, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    model = getattr(meta, "model", None) or getattr(getattr(viewset, "queryset", None), "model", None)
    return model._meta.label_lower if model is not None else None


def _ids(body) -> set[int]:
    rows = body.get("results", []) if isinstance(body, dict) else body
    return {row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)}


def test_the_walk_covers_the_lists():
    paths = [path for path, _viewset in _api_lists()]
    assert {"/api/v1/needs/", "/api/v1/units/", "/api/v1/meetings/", "/api/v1/claims/"} <= set(paths)
    assert len(paths) >= 15
    assert len(admin.site._registry) >= 30


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_api_list_shows_street_as_rows(streets, who):  # noqa: F811
    things, users = streets
    a_rows = _a_rows(things)
    client = APIClient()
    client.force_authenticate(type(users[who]).objects.get(pk=users[who].pk))
    checked = 0
    for path, viewset in _api_lists():
        response = client.get(path, {"page_size": 200})
        assert response.status_code == 200, (path, response.status_code)  # every list answers staff, scoped
        if not response["Content-Type"].startswith("application/json"):
            continue
        checked += 1
        text = response.content.decode()
        assert [name for name in A_NAMES if name in text] == [], path
        label = _model_of(viewset)
        if label in a_rows:
            assert _ids(response.json()) & a_rows[label] == set(), path
    assert checked >= 10


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_admin_changelist_shows_street_as_rows(streets, who):  # noqa: F811
    things, users = streets
    a_rows = _a_rows(things)
    client = client_for(users[who])
    opened = 0
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if response.status_code != 200:
            # A screen this staff member may not open is refused outright (they are signed-in staff: no
            # redirect to the login page), exactly where its admin says so.
            assert response.status_code == 403, (opts.label_lower, response.status_code)
            assert not admin.site._registry[model].has_module_permission(response.wsgi_request), opts.label_lower
            continue
        opened += 1
        listed = {obj.pk for obj in response.context["cl"].result_list}
        assert listed & a_rows.get(opts.label_lower, set()) == set(), opts.label_lower
        text = response.content.decode()
        assert [name for name in A_NAMES if name in text] == [], opts.label_lower
    assert opened >= 15

"""The admin's frame and change lists drawn with the page's work done once (issue 12) look exactly as
unfold draws them: the same cells, links, boolean icons, checkboxes, editable fields and headers as
unfold's own `result_list`, the same sidebar as unfold's `get_sidebar_list`, and the app list still there
where a page shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from unfold.sites import UnfoldAdminSite
from unfold.templatetags import unfold_list

from alliance.admin import base
from alliance.admin.navigation import sidebar_list
from alliance.models import Category, Notification
from demands.models import Need

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory


def _drawn(result: dict) -> tuple[list, list]:
    headers = [{**h, "text": str(h["text"])} for h in result["result_headers"]]
    return headers, [[str(cell) for cell in row] for row in result["results"]]


def _both(client, url: str) -> tuple[tuple, tuple]:
    """The change list at `url` as this project draws it and as unfold's own `result_list` would."""
    response = client.get(url)
    assert response.status_code == 200
    context = {"request": response.wsgi_request, "actions_row": None}
    cl = response.context["cl"]
    with translation.override("zh-hans"):
        return _drawn(base.result_list(context, cl)), _drawn(unfold_list.result_list(context, cl))


@pytest.mark.parametrize(
    ("query", "rows", "shown"),
    [
        ("", 4, "&lt;b&gt;不是标签&lt;/b&gt;"),  # the default order, no filters; a title escaped
        # Sorted by two columns and filtered: each row's link keeps the filters.
        ("?o=-2.3&status__exact=submitted", 3, "?_changelist_filters=o%3D-2.3%26status__exact%3Dsubmitted"),
    ],
)
def test_the_needs_list_is_drawn_as_unfold_draws_it(street_staff, community_x, query, rows, shown):
    for n in range(3):
        NeedFactory(community=community_x, title=f"楼道灯坏了需要维修{n}" * 2)
    NeedFactory(community=community_x, title="<b>不是标签</b>", status=Need.Status.REJECTED)  # escaped
    ours, unfolds = _both(client_for(street_staff), reverse("admin:demands_need_changelist") + query)
    assert ours == unfolds
    assert len(ours[1]) == rows
    assert shown in "".join(cell for row in ours[1] for cell in row)


def test_the_service_logs_list_with_boolean_icons_is_drawn_as_unfold_draws_it(street_staff, community_x):
    member = PartyMemberFactory(residence_community=community_x)
    ServiceLogFactory(member=member, hours=Decimal("1.5"), verified=True)
    ServiceLogFactory(member=member, hours=Decimal(2), verified=False, description="")
    ours, unfolds = _both(client_for(street_staff), reverse("admin:volunteers_servicelog_changelist"))
    assert ours == unfolds
    assert len(ours[1]) == 2
    cells = "".join(ours[1][0] + ours[1][1])
    assert "check_small" in cells and "close_small" in cells  # one verified, one not: both icons


def test_an_editable_list_is_drawn_as_unfold_draws_it(root):
    Category.objects.create(name="助老", code="elder", sort_order=2)
    Category.objects.create(name="助学", code="study", sort_order=1, is_active=False)
    ours, unfolds = _both(client_for(root), reverse("admin:alliance_category_changelist"))
    assert ours == unfolds
    assert 'name="form-0-sort_order"' in "".join(ours[1][0])


def test_a_list_without_links_is_drawn_as_unfold_draws_it(street_staff):
    Notification.objects.create(recipient=street_staff, subject="<i>通知</i>", body="")
    ours, unfolds = _both(client_for(street_staff), reverse("admin:alliance_notification_changelist"))
    assert ours == unfolds


def test_a_row_checkbox_is_unfolds_with_the_rows_key(street_staff, community_x):
    need = NeedFactory(community=community_x)
    model_admin = admin.site._registry[type(need)]
    with translation.override("zh-hans"):
        ours = model_admin.action_checkbox(need)
        unfolds = base.unfold_admin.checkbox.render(admin.helpers.ACTION_CHECKBOX_NAME, str(need.pk))
    assert ours == unfolds
    assert f'value="{need.pk}"' in ours and 'aria-label="选择此条记录"' in ours


@pytest.mark.parametrize("path", ["/admin/", "/admin/demands/need/", "/admin/volunteers/servicelog/1/change/"])
@pytest.mark.parametrize("role", ["street_staff", "community_x_staff", "liaison_a", "root"])
def test_the_sidebar_is_unfolds_for_every_role_and_page(request, role, path):
    request_ = RequestFactory().get(path)
    request_.user = request.getfixturevalue(role)
    with translation.override("zh-hans"):
        ours = sidebar_list(admin.site, request_)
        unfolds = UnfoldAdminSite.get_sidebar_list(admin.site, request_)

    def shown(groups: list[dict]) -> list:
        return [
            (str(g["title"]), [(str(i["title"]), str(i["link"]), i["active"], i["has_permission"]) for i in g["items"]])
            for g in groups
        ]

    assert shown(ours) == shown(unfolds)
    assert any(item[2] for group in shown(ours) for item in group[1])  # the page's own link is marked


def test_the_app_pages_still_list_their_screens(street_staff):
    client = client_for(street_staff)
    page = client.get(reverse("admin:app_list", args=["demands"]))
    assert page.status_code == 200
    assert 'href="/admin/demands/need/"' in page.content.decode()
    assert client.get("/admin/nosuchapp/").status_code == 404

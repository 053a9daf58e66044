"""The admin site wears django-unfold (issue 11, "a maintained admin theme"): every screen is built on its
classes, the sidebar shows each person the screens they may open, the palette is the public site's red,
and the header keeps the staff member's 通知 (N) on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.test import RequestFactory
from unfold import admin as unfold_admin
from unfold.sites import UnfoldAdminSite

from alliance import notifications
from members.models import District, Street
from members.services import district_staff_add

from ..conftest import client_for
from ..factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = {"alliance", "members", "demands", "projects", "meetings", "volunteers"}


def test_the_admin_site_is_unfolds():
    assert isinstance(admin.site, UnfoldAdminSite)


def test_every_registered_screen_and_inline_is_built_on_unfold():
    """A new plain `admin.ModelAdmin` or `admin.TabularInline` would drop the theme's markup on its pages."""
    assert len(admin.site._registry) >= 30
    plain = [type(a).__name__ for a in admin.site._registry.values() if not isinstance(a, unfold_admin.ModelAdmin)]
    assert plain == []
    # Some screens choose their inlines per object (get_inlines): every inline class the apps define counts.
    inlines = [cls for cls in _subclasses(InlineModelAdmin) if cls.__module__.split(".")[0] in PROJECT_APPS]
    assert len(inlines) >= 15
    assert [i.__name__ for i in inlines if not issubclass(i, unfold_admin.BaseInlineMixin)] == []


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def _sidebar_links(user) -> dict[str, bool]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {
        str(item["link"]): item["has_permission"]
        for group in admin.site.get_sidebar_list(request)
        for item in group["items"]
    }


@pytest.fixture
def district_staff(root, street_staff):
    """Staff of the district the street staff's street belongs to (issue 14)."""
    district = District.objects.create(name="迎泽区")
    Street.objects.filter(staff__user=street_staff).update(district=district)
    user = UserFactory(username="district_staff")
    district_staff_add(user=user, district=district, actor=root)
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("role", ["street_staff", "community_x_staff", "liaison_a", "root", "district_staff"])
def test_the_sidebar_shows_each_person_the_screens_they_may_open(request, role):
    """Every registered screen has a link in the sidebar, shown exactly to those its admin lets in (the same
    question to alliance.permissions); the workbench and the inbox go to all staff."""
    user = request.getfixturevalue(role)
    links = _sidebar_links(user)
    http = RequestFactory().get("/admin/")
    http.user = user
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert links.pop(url) == model_admin.has_module_permission(http), (role, url)
    staff = role != "liaison_a"
    assert links == {"/admin/": staff, "/admin/inbox/": staff}


def test_the_sidebar_is_in_chinese_and_grouped_by_app(street_staff):
    page = client_for(street_staff).get("/admin/").content.decode()
    sidebar = page[page.index('id="nav-sidebar-apps"') :]
    for title in (
        "工作台",
        "我的通知",
        "需求与资源",
        "需求",
        "成员单位",
        "服务时长记录",
        "季度报表",
        "后台任务",
        "系统管理",
    ):
        assert f"{title}\n" in sidebar or f">{title}<" in sidebar, title
    assert 'href="/admin/demands/need/"' in sidebar and 'href="/admin/inbox/"' in sidebar


def test_the_palette_is_the_public_sites_red():
    public = (ROOT / "static/css/alliance.css").read_text()
    red = re.search(r"--red:\s*(#[0-9a-f]{6})", public).group(1)
    dark = re.search(r"--red-dark:\s*(#[0-9a-f]{6})", public).group(1)
    primary = settings.UNFOLD["COLORS"]["primary"]
    assert list(primary) == ["50", "100", "200", "300", "400", "500", "600", "700", "800", "900", "950"]
    assert (primary["600"], primary["700"]) == (red, dark)


def test_the_palette_and_the_stylesheet_reach_the_page(street_staff):
    page = client_for(street_staff).get("/admin/").content.decode()
    assert "--color-primary-600: rgb(200, 22, 29);" in page  # #c8161d, written by unfold
    assert '<link href="/static/admin/css/alliance-admin.css" rel="stylesheet">' in page
    assert '<link href="/static/unfold/css/styles.css" rel="stylesheet">' in page


@pytest.mark.parametrize("page", ["changelist", "change", "history"])
def test_the_header_shows_the_unread_count_on_every_page(community_x_staff, unit_a, page):
    notifications.notify(recipient=community_x_staff, subject="新单位申请", body="详情", url="/admin/", by_sms=False)
    url = {
        "changelist": "/admin/members/memberunit/",
        "change": f"/admin/members/memberunit/{unit_a.pk}/change/",
        "history": f"/admin/members/memberunit/{unit_a.pk}/history/",
    }[page]
    response = client_for(community_x_staff).get(url)
    assert response.status_code == 200
    header = response.content.decode().split('id="header-inner"', 1)[1]
    assert '<a href="/admin/inbox/" class="inbox-link">通知 (1)</a>' in header


def test_signing_in_on_the_admin_login_page_opens_the_workbench(client, street_staff):
    page = client.get("/admin/login/").content.decode()
    assert '<input type="hidden" name="next" value="/admin/" form="login-form">' in page
    assert 'id="login-form"' in page
    response = client.post(
        "/admin/login/", {"username": street_staff.username, "password": "pw-for-tests-2026", "next": "/admin/"}
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_the_admin_is_light_only(street_staff):
    """The project's pages are drawn for the light theme: unfold offers no dark switch."""
    page = client_for(street_staff).get("/admin/").content.decode()
    assert '<html lang="zh-hans" dir="ltr" class="light"' in page
    assert "switchTheme('dark')" not in page

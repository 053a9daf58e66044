"""The staff workbench (工作台) in a real browser: street staff sign in to the admin, read the "needs to
dispatch" count, click it and land on the needs list filtered to exactly those needs; community staff
see only their community's count.

Elements are found by data attributes, hrefs and ids, never by interface text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from demands.models import Need

from ..demands.factories import NeedFactory
from ..factories import MemberUnitFactory
from .test_portal import PASSWORD


@pytest.fixture
def live(transactional_db, live_server) -> str:
    return live_server.url


def sign_in_admin(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("#login-form [type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def rows(community, n: int) -> None:
    NeedFactory.create_batch(n, community=community)
    NeedFactory(community=community, unit=MemberUnitFactory(community=community), status=Need.Status.COMPLETED)


def test_street_staff_follow_the_dispatch_count_to_the_filtered_needs(
    page: Page, live: str, street_staff, community_x, community_y
) -> None:
    rows(community_x, 3)
    rows(community_y, 2)
    waiting = Need.objects.filter(status=Need.Status.SUBMITTED).count()
    assert waiting == 5

    sign_in_admin(page, live, street_staff.username)
    card = page.locator("li[data-todo='needs_to_dispatch'] a")
    expect(card.locator(".workbench-count")).to_have_text(str(waiting))

    card.click()
    expect(page).to_have_url(re.compile(r"/admin/demands/need/\?status__exact=submitted$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(waiting)


def test_community_staff_see_only_their_communitys_count(
    page: Page, live: str, community_x_staff, community_x, community_y
) -> None:
    rows(community_x, 2)
    rows(community_y, 4)

    sign_in_admin(page, live, community_x_staff.username)
    card = page.locator("li[data-todo='needs_to_dispatch'] a")
    expect(card.locator(".workbench-count")).to_have_text("2")
    card.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)

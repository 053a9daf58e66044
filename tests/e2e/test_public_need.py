"""A resident's path on a phone with JavaScript off: the poster's link opens the need form with the community
chosen, the form gives a tracking code, the code and four digits show where the need stands.

Elements are found by form field names and data attributes, never by interface text."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from demands import services
from demands.models import Need

from ..factories import CategoryFactory

PHONE = (390, 844)


@pytest.fixture
def live(transactional_db, live_server) -> str:
    cache.clear()  # the live server shares this process's rate-limit counts
    return live_server.url


@pytest.fixture
def phone_page(browser: Browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": PHONE[0], "height": PHONE[1]})
    try:
        yield context.new_page()
    finally:
        context.close()


def fits_the_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]


def test_resident_submits_a_need_and_follows_it_on_a_phone_without_javascript(
    phone_page: Page, live: str, community_x, community_y
) -> None:
    page = phone_page
    category = CategoryFactory(code="repairs", name="水电维修")

    response = page.goto(f"{live}/needs/new/?community={community_y.pk}")
    assert response is not None and response.ok
    form = page.locator("main form.need-form")
    expect(form.locator("select[name=community]")).to_have_value(str(community_y.pk))
    expect(form.locator("input[name=website]")).not_to_be_in_viewport()  # the honeypot
    fits_the_screen(page, "main form.need-form")

    form.locator("select[name=category]").select_option(str(category.pk))
    form.locator("input[name=title]").fill("楼道灯坏了")
    form.locator("textarea[name=description]").fill("三单元楼道灯不亮，老人晚上上下楼不方便。")
    form.locator("input[name=contact_name]").fill("赵秀兰")
    form.locator("input[name=contact_phone]").fill("139 1234 5678")
    form.locator("input[name=address]").fill("柳北小区5号楼2单元")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/needs/submitted/$"))
    need = Need.objects.get()
    assert (need.community_id, need.status, need.contact_phone) == (community_y.pk, "submitted", "13912345678")
    code = services.format_tracking_code(need.tracking_code)
    expect(page.locator("[data-tracking-code]")).to_have_text(code)
    fits_the_screen(page, "[data-tracking-code]")

    # Later, perhaps on another phone: the code and the last four digits of the phone.
    page.goto(f"{live}/needs/track/")
    track = page.locator("main form.track-form")
    track.locator("input[name=code]").fill(code.lower())
    track.locator("input[name=phone_last4]").fill("5678")
    track.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/needs/track/$"))  # posted: the digits stay out of the address
    expect(page.locator("main [data-status=submitted]").first).to_be_visible()
    expect(page.locator("main h1")).to_have_text("楼道灯坏了")
    expect(page.locator("ol.timeline > li")).to_have_count(1)
    expect(page.locator("ol.timeline > li[data-status=submitted]")).to_be_visible()
    fits_the_screen(page, "ol.timeline")
    body = page.locator("body").inner_text()
    assert "赵秀兰" not in body and "13912345678" not in body and "柳北小区" not in body

"""A resident opening `/` on a 390×844 phone sees the button to submit a need without scrolling, and the
page (figures and charts included) does not scroll sideways.

Elements are found by ids and data attributes, never by interface text."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from demands.models import Need

from ..demands.factories import NeedFactory
from ..factories import MemberUnitFactory
from ..projects.factories import ActivityFactory, ClaimFactory

PHONE = (390, 844)


@pytest.fixture
def live(transactional_db, live_server) -> str:
    cache.clear()  # the live server shares this process's cache: no figures left from another test
    return live_server.url


@pytest.fixture
def phone_page(browser: Browser):
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_submit_button_is_above_the_fold_on_a_phone(phone_page: Page, live: str, community_x, language) -> None:
    # Some months with numbers, so the charts draw bars and values.
    today = timezone.localdate()
    claim = ClaimFactory()
    ActivityFactory(claim=claim, date=today.replace(day=1), beneficiaries=12345)
    ActivityFactory(claim=claim, date=date(today.year - 1, today.month, 28), beneficiaries=88)
    NeedFactory(status=Need.Status.COMPLETED, unit=MemberUnitFactory(), completed_at=timezone.now())

    page = phone_page
    page.set_extra_http_headers({"Accept-Language": language})
    response = page.goto(f"{live}/")
    assert response is not None and response.status == 200

    submit = page.locator("#home-submit-need")
    expect(submit).to_be_visible()
    expect(submit).to_be_in_viewport(ratio=1)
    box = submit.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE[1]
    assert page.evaluate("window.scrollY") == 0
    track = page.locator("#home-track-need")
    expect(track).to_be_in_viewport(ratio=1)
    assert submit.get_attribute("href") == "/needs/new/" and track.get_attribute("href") == "/needs/track/"

    # Nothing pushes the page wider than the phone: not the figures, not the twelve bars of each chart.
    expect(page.locator("[data-chart]")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    for chart in page.locator("[data-chart] svg").all():
        chart_box = chart.bounding_box()
        assert chart_box is not None and chart_box["x"] >= 0 and chart_box["x"] + chart_box["width"] <= PHONE[0]

"""A liaison's main path through the portal, and the public home on a phone, in a real browser.

Elements are found by form field names, hrefs and data (unit names, numbers), never by interface text:
the interface is Chinese by default and changes with the catalogues."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from members.models import MemberUnit

PASSWORD = "pw-for-tests-2026"  # UserFactory's


@pytest.fixture
def live(transactional_db, live_server) -> str:
    return live_server.url


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/portal/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    # main holds the sign-in form; the header's sign-out and the footer's language switch are forms too.
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))


def test_liaison_updates_the_address_and_party_member_count_of_their_unit(
    page: Page, live: str, liaison_a, unit_a, unit_b
) -> None:
    sign_in(page, live, liaison_a.username)

    # The "My units" panel of the portal home lists unit_a, and only unit_a.
    panel_link = page.locator(f"main a[href='/portal/units/{unit_a.pk}/']")
    expect(panel_link).to_have_text(unit_a.name)
    expect(page.locator(f"main a[href='/portal/units/{unit_b.pk}/']")).to_have_count(0)
    panel_link.click()
    expect(page).to_have_url(re.compile(rf"/portal/units/{unit_a.pk}/$"))
    expect(page.locator("h1")).to_have_text(unit_a.name)

    page.locator(f"a[href='/portal/units/{unit_a.pk}/edit/']").click()
    expect(page).to_have_url(re.compile(rf"/portal/units/{unit_a.pk}/edit/$"))
    new_address = "迎泽区柳巷南路 88 号"
    page.locator("input[name=address]").fill(new_address)
    page.locator("input[name=party_member_count]").fill("27")
    page.locator("main form button[type=submit]").click()

    # Back on the unit's page: the success message and the new figures.
    expect(page).to_have_url(re.compile(rf"/portal/units/{unit_a.pk}/$"))
    expect(page.locator(".message.success")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(new_address)
    expect(facts.locator("dd", has_text=re.compile(r"^27$"))).to_have_count(1)

    unit = MemberUnit.objects.get(pk=unit_a.pk)
    assert (unit.address, unit.party_member_count) == (new_address, 27)
    record = unit.history.first()
    assert record is not None
    assert record.history_user == liaison_a
    assert (record.address, record.party_member_count) == (new_address, 27)


def test_public_home_shows_the_figures_on_a_phone_without_javascript(
    browser: Browser, live: str, unit_a, unit_b
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        response = page.goto(f"{live}/")
        assert response is not None and response.ok

        figures = page.locator("section.figures")
        expect(figures).to_be_visible()
        # Two active units (12 Party members each, the factory's) in two communities.
        expect(figures.locator(".figure[data-key=communities] .value")).to_have_text("2")
        expect(figures.locator(".figure[data-key=units] .value")).to_have_text("2")
        expect(figures.locator(".figure[data-key=party_members] .value")).to_have_text("24")

        # Nothing of the figures is cut off at the right edge of the phone's screen.
        box = figures.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        # The way in for liaisons is reachable without JavaScript.
        expect(page.locator("main a[href='/portal/login/']")).to_be_visible()
    finally:
        context.close()

"""Every surface works under the Content-Security-Policy, in a real browser: the admin (index and unfold's
sidebar, a change list, a change form, a history page), the portal, the public pages and the API docs. Each page is watched
for console messages, uncaught errors and `securitypolicyviolation` events — there must be none — and is
checked for what its scripts do (the admin's date shortcuts, Swagger UI's operations, ReDoc's menu), so a
page that silently lost its JavaScript fails too.

Elements are found by ids, classes, names and data attributes, never by interface text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from demands import services as need_services
from meetings.models import Invitation, JointMeeting

from ..demands.factories import NeedFactory
from ..factories import CategoryFactory
from ..meetings.factories import InvitationFactory, MeetingFactory

PASSWORD = "pw-for-tests-2026"  # UserFactory's

# Runs before any script of the page, outside its policy (Playwright injects it through the debugger).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class Watched:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        directives = [d.strip() for d in response.headers["content-security-policy"].split(";")]
        # Scripts from this origin only; on the admin site also eval, for unfold's Alpine.js (alliance/security.py).
        scripts = "script-src 'self' 'unsafe-eval'" if "/admin/" in url else "script-src 'self'"
        assert scripts in directives, url

    def assert_clean(self, allowed_violations: tuple[str, ...] = ()) -> None:
        """No console message, no uncaught error and no policy violation on the page so far, except the
        violations named (each must then happen, with its console message, and nothing else may)."""
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__violations")
        assert [v.split(" ")[:2] for v in violations] == [v.split(" ") for v in allowed_violations]
        console = [m for m in self.console if not any(v.split(" ")[1] in m for v in allowed_violations)]
        assert (console, self.errors) == ([], [])
        self.console.clear()


@pytest.fixture
def live(transactional_db, live_server) -> str:
    cache.clear()  # the live server shares this process's rate-limit counts
    return live_server.url


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    result = Watched(page)

    def on_console(message) -> None:
        # The browser's own request for /favicon.ico (the platform has no icon) is not the page's doing.
        if not message.location.get("url", "").endswith("/favicon.ico"):
            result.console.append(f"{message.type}: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and result.errors.append(f"{r.status} {r.url}"))
    try:
        yield result
    finally:
        context.close()


def sign_in(watched: Watched, url: str, username: str) -> None:
    page = watched.page
    page.goto(url)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator(
        "form input[type=submit], main form button[type=submit], #login-form button[type=submit]"
    ).first.click()
    expect(page.locator("input[name=password]")).to_have_count(0)


def test_the_admin_works_under_the_policy(watched: Watched, live: str, street_staff, unit_a, community_x) -> None:
    category = CategoryFactory(code="repairs", name="水电维修")
    NeedFactory(community=community_x, category=category, title="楼道灯坏了")
    page = watched.page
    sign_in(watched, f"{live}/admin/login/", street_staff.username)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    watched.assert_clean()

    # unfold's sidebar (Alpine.js, which needs the admin's 'unsafe-eval'): open on a 1280 px window, folded
    # and unfolded by the header's button, and its links lead to the lists.
    sidebar = page.locator("#nav-sidebar")
    expect(sidebar).to_be_visible()
    toggle = page.locator("#header-inner .material-symbols-outlined.xl\\:block\\!")
    toggle.click()
    expect(sidebar).to_be_hidden()
    toggle.click()
    expect(sidebar).to_be_visible()
    # The user menu at the sidebar's foot opens on a click and holds the sign-out button.
    expect(page.locator("#logout-form")).to_be_hidden()
    page.locator("#nav-sidebar [x-on\\:click='openUserLinks = !openUserLinks']").click()
    expect(page.locator("#logout-form")).to_be_visible()
    sidebar.locator("a[href='/admin/demands/need/']").click()
    expect(page).to_have_url(re.compile(r"/admin/demands/need/$"))
    expect(sidebar.locator("a[href='/admin/demands/need/'].active")).to_be_visible()
    watched.assert_clean()

    # A change list with actions: actions.js ticks every row from the header's box.
    watched.open(f"{live}/admin/demands/need/")
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    expect(page.locator(".action-counter")).to_contain_text("1")
    watched.assert_clean()

    # A change form: the admin's calendar and "today" shortcuts are drawn by its scripts (jsi18n + calendar).
    watched.open(f"{live}/admin/members/memberunit/{unit_a.pk}/change/")
    expect(page.locator("input[name=joined_on]")).to_be_visible()
    expect(page.locator(".datetimeshortcuts").first).to_be_visible()
    # unfold shows the calendar button of the shortcuts (its stylesheet hides the "today" link beside it):
    # the calendar opens, and its own "today" fills the field.
    page.locator(".datetimeshortcuts a[id^=calendarlink]").first.click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    page.locator(".calendarbox .calendar-shortcuts a").nth(1).click()  # yesterday | today | tomorrow
    expect(page.locator("input[name=joined_on]")).to_have_value(timezone.localdate().isoformat())
    watched.assert_clean()

    # simple-history's history page.
    watched.open(f"{live}/admin/members/memberunit/{unit_a.pk}/history/")
    expect(page.locator("#change-history")).to_be_visible()
    watched.assert_clean()

    # DRF's browsable API with the same session: its scripts draw the format drop-down.
    watched.open(f"{live}/api/v1/units/")
    expect(page.locator(".response-info")).to_contain_text(unit_a.name)
    page.locator("#get-form .dropdown-toggle").click()
    expect(page.locator("#get-form .dropdown-menu")).to_be_visible()
    watched.assert_clean()


def test_the_portal_works_under_the_policy(watched: Watched, live: str, liaison_a, unit_a, street_staff) -> None:
    start = timezone.now() - timedelta(days=5)
    held = MeetingFactory(
        title="一季度街道联席会议",
        start=start,
        status=JointMeeting.Status.HELD,
        organiser=street_staff,
        minutes="会议协商了柳巷停车难问题。",
        minutes_written_at=start + timedelta(days=1),
    )
    InvitationFactory(meeting=held, unit=unit_a, status=Invitation.Status.ATTENDED)
    page = watched.page
    sign_in(watched, f"{live}/portal/login/", liaison_a.username)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.locator(f"main a[href='/portal/units/{unit_a.pk}/']")).to_be_visible()
    watched.assert_clean()

    # The calendar address is selected with one click (static/js/alliance.js, no inline handler).
    watched.open(f"{live}/portal/calendar/")
    address = page.locator("input[data-feed-url]").first
    address.click()
    selected = address.evaluate("(input) => input.selectionEnd - input.selectionStart")
    assert selected == len(address.input_value()) > 0
    watched.assert_clean()

    # The printable minutes: A4 from the print stylesheet.
    watched.open(f"{live}/portal/meetings/{held.pk}/minutes/")
    expect(page.locator("[data-print]")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).textAlign") == "center"
    watched.assert_clean()


def test_the_public_pages_work_under_the_policy(watched: Watched, live: str, community_x, unit_a, street_staff) -> None:
    category = CategoryFactory(code="repairs", name="水电维修")
    need = NeedFactory(community=community_x, category=category, title="楼道灯坏了", contact_phone="13912345678")
    need = need_services.need_dispatch(need=need, unit=unit_a, actor=street_staff)
    page = watched.page

    watched.open(f"{live}/")
    expect(page.locator("section.figures")).to_be_visible()
    watched.assert_clean()

    watched.open(f"{live}/needs/new/?community={community_x.pk}")
    expect(page.locator("main form.need-form select[name=community]")).to_have_value(str(community_x.pk))
    watched.assert_clean()

    watched.open(f"{live}/needs/track/")
    page.locator("form.track-form input[name=code]").fill(need.tracking_code)
    page.locator("form.track-form input[name=phone_last4]").fill("5678")
    page.locator("form.track-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(need.title)
    watched.assert_clean()

    watched.open(f"{live}/needs/qr/{community_x.pk}/")
    expect(page.locator("figure.poster-qr svg")).to_be_visible()
    watched.assert_clean()

    watched.open(f"{live}/showcase/")
    watched.assert_clean()


def test_the_api_docs_work_under_the_policy(watched: Watched, live: str) -> None:
    page = watched.page
    watched.open(f"{live}/api/docs/")
    # Swagger UI rendered the schema's operations (its scripts ran and fetched /api/schema/).
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert page.locator(".opblock").count() > 20
    watched.assert_clean()

    watched.open(f"{live}/api/redoc/")
    # ReDoc rendered its menu of operations.
    expect(page.locator("li[data-item-id]").first).to_be_attached(timeout=20_000)
    assert page.locator("li[data-item-id]").count() > 20
    # ReDoc's "API docs by Redocly" badge hard-codes its logo on the vendor's CDN; the policy refuses it on
    # purpose (the docs load nothing from the internet) and ReDoc hides the image when it fails.
    watched.assert_clean(allowed_violations=("img-src https://cdn.redoc.ly/redoc/logo-mini.svg",))

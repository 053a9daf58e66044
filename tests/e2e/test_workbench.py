"""The staff workbench (工作台) in a real browser: street staff sign in to the admin, read the "needs to
dispatch" count, click it and land on the needs list filtered to exactly those needs; community staff
see only their community's count; every chart is drawn (a canvas in each chart's box) under the
Content-Security-Policy with no console message, before and after filtering.

Elements are found by data attributes, hrefs and ids, never by interface text."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from demands.models import Need
from meetings.models import Invitation, JointMeeting, Level

from ..alliance.test_workbench import CHART_KEYS
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, MemberUnitFactory
from ..meetings.factories import InvitationFactory, MeetingFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory
from .test_csp import RECORD_VIOLATIONS
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


def chart_rows(community) -> None:
    """Something for each chart of `community`: needs of two categories (one completed), a claim, a held
    meeting a unit attended, verified service hours."""
    unit = MemberUnitFactory(community=community)
    health, legal = CategoryFactory(), CategoryFactory()
    NeedFactory(community=community, category=health)
    NeedFactory(
        community=community, category=legal, unit=unit, status=Need.Status.COMPLETED, completed_at=timezone.now()
    )
    ClaimFactory(project=ProjectFactory(category=health, community=community, street=community.street), unit=unit)
    meeting = MeetingFactory(
        level=Level.COMMUNITY, community=community, status=JointMeeting.Status.HELD, start=timezone.now()
    )
    InvitationFactory(meeting=meeting, unit=unit, status=Invitation.Status.ATTENDED)
    ServiceLogFactory(member=PartyMemberFactory(residence_community=community, work_unit=unit))


def test_the_charts_are_drawn_under_the_policy_and_follow_the_filter(
    page: Page, live: str, street_staff, community_x, community_y
) -> None:
    chart_rows(community_x)
    chart_rows(community_y)
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: not m.location.get("url", "").endswith("/favicon.ico") and problems.append(f"{m.type}: {m.text}"),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in_admin(page, live, street_staff.username)
    for key in CHART_KEYS:
        figure = page.locator(f"figure.workbench-chart[data-chart='{key}']")
        expect(figure).to_have_class(re.compile(r"\bis-drawn\b"))
        expect(figure.locator(".workbench-chart-canvas canvas")).to_have_count(1)
        # The table stays for screen readers (present, with its rows), out of sight.
        expect(figure.locator("table.workbench-chart-table tbody tr").first).to_be_attached()
        figure.locator(".workbench-chart-canvas").hover()  # the tooltip: plain text, no style attribute
    expect(page.locator(f"a[data-poster='{community_y.pk}']")).to_have_attribute("href", f"/needs/qr/{community_y.pk}/")

    page.locator("#workbench-chart-filter select[name=community]").select_option(str(community_y.pk))
    page.locator("#workbench-chart-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/admin/\?community={community_y.pk}&quarter=$"))
    for key in CHART_KEYS:
        expect(page.locator(f"figure[data-chart='{key}'] .workbench-chart-canvas canvas")).to_have_count(1)
    expect(page.locator("#workbench-chart-filter-error")).to_have_count(0)

    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    assert problems == []


def test_without_javascript_each_chart_is_a_table(browser: Browser, live: str, community_x_staff, community_x) -> None:
    chart_rows(community_x)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_admin(page, live, community_x_staff.username)
        for key in CHART_KEYS:
            figure = page.locator(f"figure.workbench-chart[data-chart='{key}']")
            expect(figure.locator("table.workbench-chart-table")).to_be_visible()
            expect(figure.locator("canvas")).to_have_count(0)
        hours = page.locator("figure[data-chart='hours_by_community'] tbody tr")
        expect(hours).to_have_count(1)
        expect(hours.locator("th")).to_have_text(community_x.name)
    finally:
        context.close()

"""The claim table (认领表) in a real browser: a liaison filters the open projects by a category, opens
one with two places left, claims it with a commitment and sees the places left drop to one.

Elements are found by form field names, hrefs and data attributes, never by interface text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from projects.models import ProjectClaim, ServiceProject

from ..factories import CategoryFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from .test_portal import sign_in


@pytest.fixture
def live(transactional_db, live_server) -> str:
    return live_server.url


def test_liaison_filters_the_claim_table_claims_a_project_and_sees_the_places_drop(
    page: Page, live: str, liaison_a, unit_a, unit_b, community_x
) -> None:
    health = CategoryFactory(name="医疗健康", code="health")
    culture = CategoryFactory(name="文化教育", code="culture")
    wanted = ProjectFactory(title="健康服务在身边", category=health, community=community_x, places=3)
    ClaimFactory(project=wanted, unit=unit_b, status=ProjectClaim.Status.APPROVED)  # 2 of 3 places left
    other = ProjectFactory(title="乐享文化·共创文明", category=culture, community=None, is_demonstration=True)

    sign_in(page, live, liaison_a.username)
    page.locator("main a[href='/portal/projects/']").first.click()
    expect(page).to_have_url(re.compile(r"/portal/projects/$"))
    expect(page.locator(f"li[data-project='{wanted.pk}']")).to_have_count(1)
    expect(page.locator(f"li[data-project='{other.pk}']")).to_have_count(1)

    # Filter by the category: a GET form, the table keeps only that category's projects.
    filters = page.locator("main form[method=get]")
    filters.locator("select[name=category]").select_option(str(health.pk))
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/portal/projects/\?.*category={health.pk}"))
    expect(page.locator(f"li[data-project='{other.pk}']")).to_have_count(0)
    row = page.locator(f"li[data-project='{wanted.pk}']")
    expect(row.locator("[data-places-left]")).to_have_attribute("data-places-left", "2")

    row.locator(f"a[href='/portal/projects/{wanted.pk}/']").click()
    expect(page).to_have_url(re.compile(rf"/portal/projects/{wanted.pk}/$"))
    places_left = page.locator("dl.facts [data-places-left]")
    expect(places_left).to_have_text("2")
    expect(page.locator(f"[data-claimed-units] [data-unit='{unit_b.pk}']")).to_have_text(unit_b.name)

    commitment = "每月派出2名医生到桥头街社区义诊，全年不少于12次。"
    claim_form = page.locator(f"main form[action='/portal/projects/{wanted.pk}/claim/']")
    claim_form.locator("textarea[name=commitment]").fill(commitment)
    claim_form.locator("button[type=submit]").click()

    # My claims: the new claim, pending, with a success message.
    expect(page).to_have_url(re.compile(r"/portal/claims/$"))
    expect(page.locator(".message.success")).to_be_visible()
    claim = ProjectClaim.objects.get(unit=unit_a)
    assert (claim.project_id, claim.status, claim.commitment) == (wanted.pk, ProjectClaim.Status.PENDING, commitment)
    expect(page.locator(f"li[data-claim='{claim.pk}'] .status-pending")).to_have_count(1)

    # The project's page and the claim table both show one place left now.
    page.goto(f"{live}/portal/projects/{wanted.pk}/")
    expect(page.locator("dl.facts [data-places-left]")).to_have_text("1")
    expect(page.locator(f"[data-claimed-units] [data-unit='{unit_a.pk}']")).to_have_text(unit_a.name)
    expect(page.locator(f"main form[action='/portal/projects/{wanted.pk}/claim/']")).to_have_count(0)
    page.goto(f"{live}/portal/projects/?category={health.pk}")
    row = page.locator(f"li[data-project='{wanted.pk}']")
    expect(row.locator("[data-places-left]")).to_have_attribute("data-places-left", "1")
    expect(row.locator(f"[data-my-claim='{claim.pk}']")).to_have_count(1)
    assert ServiceProject.objects.get(pk=wanted.pk).places_taken == 2

"""双报到 in a real browser, on a phone-sized screen: a person registers at their residence community
(an account is made with the phone as its user name and they are signed in), the community verifies
the registration, and the person claims a volunteer post there and sees the places left drop.

Elements are found by form field names, hrefs and data attributes, never by interface text."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from playwright.sync_api import Page, expect

from volunteers import services
from volunteers.models import PartyMember, PostClaim, VolunteerPost

from ..volunteers.factories import PostFactory

PHONE = "13912345678"
PASSWORD = "Liuxiang-Volunteer-2026"


@pytest.fixture
def live(transactional_db, live_server) -> str:
    cache.clear()  # new accounts are rate-limited per client address
    yield live_server.url
    cache.clear()


def test_a_person_registers_is_verified_and_claims_a_post_of_their_community(
    page: Page, live: str, community_x, community_y, unit_a, street_staff
) -> None:
    post = PostFactory(title="楼道文明劝导岗", community=community_x, places=3)
    elsewhere = PostFactory(title="社区图书角值守", community=community_y, places=3)
    page.set_viewport_size({"width": 390, "height": 844})

    # From the sign-in page to the registration form.
    page.goto(f"{live}/portal/login/")
    page.locator("main a[href='/portal/volunteer/register/']").click()
    expect(page).to_have_url(re.compile(r"/portal/volunteer/register/$"))

    form = page.locator("main form[action='/portal/volunteer/register/']")
    form.locator("input[name=name]").fill("李明")
    form.locator("input[name=phone]").fill(PHONE)
    form.locator("select[name=work_unit]").select_option(str(unit_a.pk))
    form.locator("input[name=party_branch]").fill("第二党支部")
    form.locator("select[name=residence_community]").select_option(str(community_x.pk))
    form.locator("input[name=skills]").fill("急救、水电维修")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    form.locator("button[type=submit]").click()

    # Signed in, on the volunteer page: the registration waits for verification, nothing to claim yet.
    expect(page).to_have_url(re.compile(r"/portal/volunteer/$"))
    expect(page.locator(".message.success")).to_be_visible()
    member = PartyMember.objects.get(phone=PHONE)
    assert member.user == get_user_model().objects.get(username=PHONE)
    expect(page.locator(f"li[data-registration='{member.pk}']")).to_have_attribute("data-status", "pending")
    expect(page.locator(f"li[data-post='{post.pk}']")).to_have_count(0)

    # The community's staff verify the registration (here: a street staff member, in the database).
    services.member_verify(member=member, actor=street_staff)

    page.reload()
    expect(page.locator(f"li[data-registration='{member.pk}']")).to_have_attribute("data-status", "verified")
    row = page.locator(f"li[data-post='{post.pk}']")
    expect(row.locator("[data-places-left]")).to_have_attribute("data-places-left", "3")
    expect(page.locator(f"li[data-post='{elsewhere.pk}']")).to_have_count(0)  # another community's post

    row.locator(f"form[action='/portal/volunteer/posts/{post.pk}/claim/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portal/volunteer/\?community=\d+#my-posts$"))
    expect(page.locator(".message.success")).to_be_visible()
    claim = PostClaim.objects.get(member=member)
    expect(page.locator(f"li[data-claim='{claim.pk}']")).to_have_count(1)
    row = page.locator(f"li[data-post='{post.pk}']")
    expect(row.locator("[data-places-left]")).to_have_attribute("data-places-left", "2")
    expect(row.locator(f"[data-my-claim='{claim.pk}']")).to_have_count(1)
    assert VolunteerPost.objects.get(pk=post.pk).places_taken == 1

"""A liaison confirms attendance of a joint meeting in a real browser: signs in, opens the meetings from
the portal home, confirms the invitation of a meeting two days ahead and sees it confirmed — then the
database says so too.

Elements are found by form field names, hrefs and data attributes, never by interface text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from meetings.models import Invitation

from ..meetings.factories import InvitationFactory, MeetingFactory
from .test_portal import sign_in


@pytest.fixture
def live(transactional_db, live_server) -> str:
    return live_server.url


def test_liaison_confirms_the_invitation_of_a_meeting_two_days_ahead(
    page: Page, live: str, liaison_a, unit_a, unit_b
) -> None:
    meeting = MeetingFactory(title="二季度街道联席会议", start=timezone.now() + timedelta(days=2))
    invitation = InvitationFactory(meeting=meeting, unit=unit_a)
    theirs = InvitationFactory(meeting=MeetingFactory(title="柳北社区联席会议"), unit=unit_b)

    sign_in(page, live, liaison_a.username)
    page.locator("main a[href='/portal/meetings/']").first.click()
    expect(page).to_have_url(re.compile(r"/portal/meetings/$"))
    row = page.locator(f"li[data-invitation='{invitation.pk}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "invited")
    expect(page.locator(f"li[data-invitation='{theirs.pk}']")).to_have_count(0)

    row.locator(f"form[action='/portal/meetings/{meeting.pk}/answer/'] button[name=status][value=confirmed]").click()

    # Back on the list: a success message, the invitation confirmed, and only "decline" left to offer.
    expect(page).to_have_url(re.compile(r"/portal/meetings/$"))
    expect(page.locator(".message.success")).to_be_visible()
    row = page.locator(f"li[data-invitation='{invitation.pk}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    expect(row.locator("button[name=status][value=confirmed]")).to_have_count(0)
    expect(row.locator("button[name=status][value=declined]")).to_have_count(1)

    # The meeting's page says the same.
    row.locator(f"a[href='/portal/meetings/{meeting.pk}/']").click()
    expect(page).to_have_url(re.compile(rf"/portal/meetings/{meeting.pk}/$"))
    expect(page.locator(f"#answer li[data-invitation='{invitation.pk}'] [data-status]")).to_have_attribute(
        "data-status", "confirmed"
    )

    invitation = Invitation.objects.get(pk=invitation.pk)
    assert (invitation.status, invitation.responded_by_id) == (Invitation.Status.CONFIRMED, liaison_a.pk)
    assert Invitation.objects.get(pk=theirs.pk).status == Invitation.Status.INVITED

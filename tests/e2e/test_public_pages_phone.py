"""A resident on a 390×844 phone, with JavaScript off, browses the alliance's activities: the section links
are in the top bar, the filter form works as a plain GET form, the page does not scroll sideways, and the
photo's thumbnail loads (a public file, no sign-in).

Elements are found by ids and data attributes, never by interface text."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Browser, Page, expect

from alliance import public_figures
from projects import services as project_services

from ..factories import CategoryFactory
from ..images import photo_bytes
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory

PHONE = (390, 844)


@pytest.fixture
def phone_without_script(browser: Browser):
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_resident_filters_activities_on_a_phone_without_javascript(
    phone_without_script: Page,
    live_server,
    transactional_db,
    settings,
    tmp_path,
    community_x,
    community_y,
    unit_a,
    liaison_a,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    health = CategoryFactory(code="health", name="医疗健康")
    claim = ClaimFactory(project=ProjectFactory(community=community_x, category=health), unit=unit_a)
    shown = project_services.activity_record(
        claim=claim,
        actor=liaison_a,
        data={"date": date(2026, 5, 20), "title": "义诊进社区"},
        photos=[SimpleUploadedFile("现场.jpg", photo_bytes((1200, 900)), content_type="image/jpeg")],
    )
    other = ActivityFactory(claim=ClaimFactory(project=ProjectFactory(community=community_y)), date=date(2026, 6, 1))
    public_figures.refresh()

    page = phone_without_script
    page.goto(f"{live_server.url}/")
    page.locator('[data-section="activities"]').first.click()
    # The stylesheet may still be on its way when the rows are already there: a layout measured then is the
    # unstyled one (the 480-pixel thumbnail at its natural width), so measure once the page has loaded.
    page.wait_for_url("**/activities/")
    page.wait_for_load_state("load")
    expect(page.locator(f'[data-activity="{shown.pk}"]')).to_be_visible()
    expect(page.locator(f'[data-activity="{other.pk}"]')).to_be_visible()
    thumbnail = page.locator(f'[data-activity="{shown.pk}"] img.photo')
    expect(thumbnail).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

    page.locator('#activity-filters select[name="community"]').select_option(str(community_x.pk))
    page.locator("#activity-filters button[type=submit]").click()
    page.wait_for_url(f"**/activities/?*community={community_x.pk}*")
    expect(page.locator(f'[data-activity="{shown.pk}"]')).to_be_visible()
    expect(page.locator(f'[data-activity="{other.pk}"]')).to_have_count(0)
    # The thumbnail came from the public media path, small.
    size = page.evaluate(
        "() => { const i = document.querySelector('img.photo'); return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert max(size) == 480


@pytest.mark.parametrize("section", ["resources", "units", "notices"])
def test_the_other_sections_fit_a_phone(
    phone_without_script: Page, live_server, transactional_db, community_x, unit_a, section
) -> None:
    from django.utils import timezone

    from members.models import Notice

    from ..demands.factories import ResourceFactory

    cache.clear()
    ResourceFactory(unit=unit_a, title="党群服务中心多功能厅可容纳一百人开展各类活动" * 2)
    Notice.objects.create(
        street=community_x.street, title="关于冬季供暖的通知" * 3, body="正文" * 200, publish_from=timezone.now()
    )
    public_figures.refresh()
    page = phone_without_script
    page.goto(f"{live_server.url}/")
    page.locator(f'[data-section="{section}"]').first.click()
    page.wait_for_url(f"**/{section}/")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

"""The residents' pages (the need form, following a need) link to the public sections in their top bar, as
every other public page does — the same include (templates/public/_sections.html), carrying the street."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ["activities", "resources", "units", "notices"]


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


def _topbar_sections(body: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="topnav">(.*?)</nav>', body, re.S)
    assert nav is not None
    return re.findall(r'<a href="([^"]*)" data-section="([^"]*)">', nav.group(1))


@pytest.mark.parametrize("path", ["/needs/new/", "/needs/track/"])
def test_the_residents_pages_link_to_the_four_sections(path, community_x):
    page = Client().get(path)
    assert page.status_code == 200
    assert _topbar_sections(page.content.decode()) == [
        ("/activities/", "activities"),
        ("/resources/", "resources"),
        ("/units/", "units"),
        ("/notices/", "notices"),
    ]


@pytest.mark.parametrize("path", ["/needs/new/", "/needs/track/"])
def test_the_section_links_keep_the_visitors_street(path, community_x):
    street = community_x.street_id
    page = Client().get(path, {"street": street})
    assert _topbar_sections(page.content.decode()) == [
        (f"/activities/?street={street}", "activities"),
        (f"/resources/?street={street}", "resources"),
        (f"/units/?street={street}", "units"),
        (f"/notices/?street={street}", "notices"),
    ]


def test_the_section_links_are_written_once():
    """One include; no template writes the links itself."""
    templates = [
        p
        for p in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in p.parts and p.name != "_sections.html" and "data-section=" in p.read_text()
    ]
    assert templates == []
    including = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in p.parts and '{% include "public/_sections.html" %}' in p.read_text()
    )
    assert including == [
        "demands/templates/demands/public/base.html",
        "templates/public/home.html",
        "templates/public/list_base.html",
    ]

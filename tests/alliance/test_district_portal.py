"""The portal for district staff (issue 14): `/portal/` and each of its pages answer a district's staff
member (no 500, no refusal of a page a signed-in person may open) and show none of another district's
units or meetings; another district's unit, need, claim or meeting is not found, their own district's is
shown. The world is test_street_scopes.py's (迎泽区: 柳巷, 迎泽; 别区: 别区街道)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import Level

from ..conftest import client_for
from .test_street_scopes import streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

# The portal's pages without a parameter, as a signed-in person opens them from its menu.
PAGES = [
    "home",
    "unit_list",
    "council",
    "assessment_list",
    "unit_apply",
    "need_list",
    "resource_list",
    "venue_list",
    "bookings",
    "claim_table",
    "claim_list",
    "meeting_list",
    "resolution_list",
    "calendar",
    "volunteer_home",
    "member_register",
    "hours_log",
    "service_card",
    "notifications",
    "password_change",
]
DETAILS = {"meeting": "meeting_detail", "unit": "unit_detail", "need": "need_detail", "claim": "claim_detail"}
# Whose district holds which streets' things; the rows' own names (communities are public reference data,
# named in the forms' choices, so they are not counted here).
OWN = {"officer": ("s1", "s2"), "far_officer": ("s3",)}
TAGS = {"s1": "柳巷", "s2": "迎泽", "s3": "别区"}


def _row_names(tag: str, page: str = "") -> list[str]:
    # A Party member registering picks their work unit among every member unit (the public site lists
    # them too): unit names are that form's choices, not rows of the district's.
    units = [] if page == "member_register" else [f"{tag}单位"]
    return [*units, f"{tag}联席会", f"{tag}街道联席会"]


@pytest.mark.parametrize("who", list(OWN))
def test_every_portal_page_answers_district_staff_without_another_districts_rows(streets, who):  # noqa: F811
    _things, users = streets
    client = client_for(users[who])
    for page in PAGES:
        response = client.get(reverse(f"portal:{page}"))
        assert response.status_code == 200, page
        body = response.content.decode()
        others = [name for street, tag in TAGS.items() if street not in OWN[who] for name in _row_names(tag, page)]
        assert [name for name in others if name in body] == [], page


@pytest.mark.parametrize("who", list(OWN))
def test_their_districts_things_open_and_another_districts_are_not_found(streets, who):  # noqa: F811
    things, users = streets
    client = client_for(users[who])
    for key, route in DETAILS.items():
        for street in TAGS:
            response = client.get(reverse(f"portal:{route}", args=[things[street][key].pk]))
            assert response.status_code == (200 if street in OWN[who] else 404), (key, street)
    # Their district's meeting shows its title; the unit page its name.
    own = OWN[who][0]
    assert things[own]["meeting"].title in client.get(
        reverse("portal:meeting_detail", args=[things[own]["meeting"].pk])
    ).content.decode("utf-8")
    assert (
        f"{TAGS[own]}单位" in client.get(reverse("portal:unit_detail", args=[things[own]["unit"].pk])).content.decode()
    )


def test_a_district_meeting_shows_in_its_streets_staffs_portal_and_not_in_another_district(streets):  # noqa: F811
    _things, users = streets
    start = timezone.now() + timedelta(days=3)
    meeting = meeting_services.meeting_create(
        actor=users["officer"],
        data={
            "level": Level.DISTRICT,
            "title": "区域化党建指导委员会",
            "start": start,
            "end": start + timedelta(hours=2),
            "place": "区委党校",
        },
    )
    url = reverse("portal:meeting_detail", args=[meeting.pk])
    assert client_for(users["officer"]).get(url).status_code == 200
    assert client_for(users["street_staff"]).get(url).status_code == 200
    assert client_for(users["far_officer"]).get(url).status_code == 404

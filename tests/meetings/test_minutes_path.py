"""Issue 9, finding 5: the portal hid the minutes, the invitee list and the resolutions from an invited
unit that did not attend; `/api/v1/meetings/<id>/` showed all three to any invitee. Both now ask
`alliance.permissions` the one question "meetings.read_minutes" and give the same answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance import permissions
from meetings.models import Invitation, JointMeeting

from ..api import api_client as _api
from ..conftest import client_for
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory

I = Invitation.Status  # noqa: E741
MINUTES = "会议协商了柳巷停车难问题，决定由山西饭店开放夜间停车位。"


@pytest.fixture
def held(unit_a, unit_b, street_staff):
    """A held street meeting: unit_a attended, unit_b was invited and stayed away."""
    start = timezone.now() - timedelta(days=5)
    meeting = MeetingFactory(
        title="一季度街道联席会议",
        start=start,
        status=JointMeeting.Status.HELD,
        organiser=street_staff,
        minutes=MINUTES,
    )
    InvitationFactory(meeting=meeting, unit=unit_a, status=I.ATTENDED)
    InvitationFactory(meeting=meeting, unit=unit_b, status=I.ABSENT)
    ResolutionFactory(meeting=meeting, owner=unit_a, text="开放夜间停车位30个")
    return meeting


def _what_the_api_shows(user, meeting) -> tuple:
    detail = _api(user).get(f"/api/v1/meetings/{meeting.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    resolutions = _api(user).get(f"/api/v1/resolutions/?meeting={meeting.pk}")
    assert resolutions.status_code == 200
    invitees = None if body["invitations"] is None else sorted(row["unit"] for row in body["invitations"])
    return body["minutes"], invitees, [row["text"] for row in resolutions.json()["results"]]


def _what_the_portal_shows(user, meeting) -> tuple:
    response = client_for(user).get(reverse("portal:meeting_detail", args=[meeting.pk]))
    assert response.status_code == 200
    context = response.context
    if not context["may_read_minutes"]:
        assert MINUTES not in response.content.decode()
        assert context["invitations"] == [] and context["resolutions"] == []
        return None, None, []
    return (
        context["meeting"].minutes,
        sorted(inv.unit_id for inv in context["invitations"]),
        [r.text for r in context["resolutions"]],
    )


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b", "street_staff", "community_x_staff"])
def test_api_and_portal_give_the_same_answer(who, cast, held, unit_a, unit_b):
    api = _what_the_api_shows(cast[who], held)
    assert api == _what_the_portal_shows(cast[who], held)
    if who == "liaison_b":  # invited, did not attend: the meeting, not what was decided
        assert api == (None, None, [])
    else:
        assert api == (MINUTES, sorted([unit_a.pk, unit_b.pk]), ["开放夜间停车位30个"])


def test_the_absent_units_liaison_sees_the_meeting_itself(liaison_b, held):
    body = _api(liaison_b).get(f"/api/v1/meetings/{held.pk}/").json()
    assert (body["title"], body["status"], body["minutes"], body["invitations"]) == (held.title, "held", None, None)
    assert _api(liaison_b).get(f"/api/v1/resolutions/{held.resolutions.get().pk}/").status_code == 404


def test_a_resolution_owned_by_the_absent_unit_stays_its_own(liaison_b, unit_b, held):
    """The owner writes progress on what it was given, attended or not (the portal's resolution list)."""
    mine = ResolutionFactory(meeting=held, owner=unit_b, text="柳北社区停车改造")
    rows = _api(liaison_b).get(f"/api/v1/resolutions/?meeting={held.pk}").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]


def test_before_the_meeting_is_held_invitees_see_no_attendance_list_and_staff_do(liaison_a, street_staff, unit_a):
    meeting = MeetingFactory(start=timezone.now() + timedelta(days=3))
    InvitationFactory(meeting=meeting, unit=unit_a, status=I.CONFIRMED)
    assert _api(liaison_a).get(f"/api/v1/meetings/{meeting.pk}/").json()["invitations"] is None
    assert [row["unit"] for row in _api(street_staff).get(f"/api/v1/meetings/{meeting.pk}/").json()["invitations"]] == [
        unit_a.pk
    ]


def test_read_minutes_is_one_question_to_the_permission_layer(cast, held):
    answers = {who: permissions.has_ability(user, "meetings.read_minutes", held) for who, user in cast.items()}
    assert answers == {
        "anonymous": False,
        "liaison_a": True,
        "liaison_b": False,
        "community_x_staff": True,
        "community_y_staff": True,  # a street meeting: every community's staff sees it
        "street_staff": True,
        "member": False,
    }

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.models import Invitation

from ..api import api_client as _api
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory


def test_meetings_visible_and_filtered(cast, meeting_at_nine, unit_b, community_x):
    other = MeetingFactory(level="community", community=community_x)
    InvitationFactory(meeting=other, unit=unit_b)
    rows = _api(cast["liaison_a"]).get("/api/v1/meetings/").json()["results"]
    assert [r["id"] for r in rows] == [meeting_at_nine.pk]
    assert {"id", "level", "kind", "title", "start", "place", "status"} <= set(rows[0])
    staff = _api(cast["street_staff"])
    assert {r["id"] for r in staff.get("/api/v1/meetings/?level=community").json()["results"]} == {other.pk}
    assert {r["id"] for r in staff.get(f"/api/v1/meetings/?unit={unit_b.pk}").json()["results"]} == {other.pk}
    assert staff.get("/api/v1/meetings/?status=nope").status_code == 400
    assert _api(cast["liaison_b"]).get(f"/api/v1/meetings/{meeting_at_nine.pk}/").status_code == 404


def test_attendance_over_the_api(cast, meeting_at_nine, unit_a):
    url = f"/api/v1/meetings/{meeting_at_nine.pk}/attendance/"
    assert (
        _api(cast["liaison_a"]).post(url, {"unit": unit_a.pk, "status": "declined"}, format="json").json()["status"]
        == "declined"
    )
    assert (
        _api(cast["liaison_a"]).post(url, {"unit": unit_a.pk, "status": "attended"}, format="json").status_code == 403
    )
    assert (
        _api(cast["street_staff"]).post(url, {"unit": unit_a.pk, "status": "attended"}, format="json").status_code
        == 409
    )
    assert (
        _api(cast["liaison_b"]).post(url, {"unit": unit_a.pk, "status": "confirmed"}, format="json").status_code == 404
    )
    assert _api(cast["liaison_a"]).post(url, {"unit": unit_a.pk, "status": "maybe"}, format="json").status_code == 400
    assert Invitation.objects.get(meeting=meeting_at_nine, unit=unit_a).status == "declined"


def test_resolutions_with_overdue_filter_and_progress(cast, meeting_at_nine, unit_a, unit_b):
    late = ResolutionFactory(meeting=meeting_at_nine, owner=unit_a, due_date=timezone.localdate() - timedelta(days=1))
    ResolutionFactory(meeting=meeting_at_nine, owner=unit_a)
    theirs = ResolutionFactory(owner=unit_b)
    client = _api(cast["liaison_a"])
    rows = client.get("/api/v1/resolutions/?overdue=true").json()["results"]
    assert [r["id"] for r in rows] == [late.pk] and rows[0]["overdue"] is True
    assert {"id", "meeting", "text", "owner", "due_date", "status", "overdue"} <= set(rows[0])
    assert (
        client.post(f"/api/v1/resolutions/{late.pk}/progress/", {"text": "已协调3个车位"}, format="json").status_code
        == 200
    )
    assert client.post(f"/api/v1/resolutions/{theirs.pk}/progress/", {"text": "x"}, format="json").status_code == 404
    assert client.post(f"/api/v1/resolutions/{late.pk}/done/").status_code == 403
    assert _api(cast["street_staff"]).post(f"/api/v1/resolutions/{late.pk}/done/").json()["status"] == "done"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # (the user's groups from the cache) units of liaison (guardian) + count + page
        ("/api/v1/meetings/", 3),
        ("/api/v1/resolutions/", 3),
    ],
)
def test_list_endpoints_query_count_does_not_grow_with_rows(url, expected, liaison_a, unit_a):
    client = _api(liaison_a)

    def count() -> int:
        client.force_authenticate(type(liaison_a).objects.get(pk=liaison_a.pk))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def grow(n):
        for _ in range(n):
            meeting = MeetingFactory()
            InvitationFactory(meeting=meeting, unit=unit_a)
            ResolutionFactory(meeting=meeting, owner=unit_a)

    grow(1)
    client.get(url)
    few = count()
    grow(10)
    assert few == count() == expected

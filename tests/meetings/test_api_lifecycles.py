"""Issue 13: a joint meeting and its resolutions driven end to end through the API alone — planned, moved,
answered, attended, minuted (held), or cancelled; resolutions recorded, reported on, corrected, done and
reopened — as the right roles, each step tried as a wrong role (exact status and message, nothing
changed), from the wrong state (409) and with bad input (400)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from alliance import public_figures
from meetings.models import Invitation, JointMeeting, Resolution

from ..api import api_client as _api
from .factories import InvitationFactory, MeetingFactory

NOT_ALLOWED = "您没有执行该操作的权限。"
REQUIRED = "该字段是必填项。"


def _stats() -> dict:
    public_figures.refresh()  # the beat entry that follows every service's `changed()`
    return APIClient().get("/api/v1/public/stats/").json()


def _refused(response, code: int, detail) -> None:
    assert (response.status_code, response.json()) == (code, detail)


def _hidden(response) -> None:
    """Not seen: 404 (its wording is the API's generic one, translated with every API error)."""
    assert response.status_code == 404


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat()


def test_a_meeting_is_planned_moved_answered_and_cancelled_through_the_api(cast, community_x, unit_a):
    staff = _api(cast["community_x_staff"])
    liaison = _api(cast["liaison_a"])
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    body = {
        "level": "community",
        "kind": "regular",
        "title": "十一月联席会议",
        "start": _iso(start),
        "end": _iso(start + timedelta(hours=2)),
        "place": "社区党群服务中心",
        "community": community_x.pk,
    }
    _refused(liaison.post("/api/v1/meetings/", body, format="json"), 403, {"detail": NOT_ALLOWED})
    response = staff.post("/api/v1/meetings/", body, format="json")
    assert (response.status_code, response.json()["status"]) == (201, "planned")
    pk = response.json()["id"]
    url = f"/api/v1/meetings/{pk}/"
    InvitationFactory(meeting_id=pk, unit=unit_a)  # invited on the admin's invite page

    # Moving: the meeting's staff; the invited unit's liaison sees it but may not.
    later = start + timedelta(days=1)
    _refused(liaison.post(f"{url}move/", {"start": _iso(later)}, format="json"), 403, {"detail": NOT_ALLOWED})
    _hidden(_api(cast["community_y_staff"]).post(f"{url}move/", {"start": _iso(later)}, format="json"))
    _refused(staff.post(f"{url}move/", {}, format="json"), 400, {"start": [REQUIRED]})
    _refused(
        staff.post(f"{url}move/", {"start": _iso(later), "end": _iso(later - timedelta(hours=1))}, format="json"),
        400,
        {"detail": "会议结束时间须晚于开始时间。"},
    )
    assert JointMeeting.objects.get(pk=pk).start == start
    response = staff.post(f"{url}move/", {"start": _iso(later), "place": "社区会议室"}, format="json")
    assert response.status_code == 200
    moved = response.json()
    assert (moved["start"], moved["end"], moved["place"], moved["status"]) == (
        _iso(later),
        _iso(later + timedelta(hours=2)),
        "社区会议室",
        "planned",
    )

    # Answering: the liaison for the unit, and staff for it too (a phone call); attendance only once begun.
    attendance = f"{url}attendance/"
    response = liaison.post(attendance, {"unit": unit_a.pk, "status": "declined"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "declined")
    response = staff.post(attendance, {"unit": unit_a.pk, "status": "confirmed"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "confirmed")
    _refused(
        staff.post(attendance, {"unit": unit_a.pk, "status": "attended"}, format="json"),
        409,
        {"detail": "会议开始后才能登记出席情况。"},
    )
    _refused(
        staff.post(f"{url}minutes/", {"minutes": "纪要"}, format="json"),
        409,
        {"detail": "会议开始后才能填写会议纪要。"},
    )

    # Cancelling: the meeting's staff, with a reason; then it is neither moved nor cancelled again.
    _refused(liaison.post(f"{url}cancel/", {"reason": "冲突"}, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(staff.post(f"{url}cancel/", {}, format="json"), 400, {"reason": [REQUIRED]})
    _refused(staff.post(f"{url}cancel/", {"reason": "   "}, format="json"), 400, {"reason": ["该字段不能为空。"]})
    assert JointMeeting.objects.get(pk=pk).status == JointMeeting.Status.PLANNED
    response = staff.post(f"{url}cancel/", {"reason": "与区里的会议冲突"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["cancel_reason"]) == (
        200,
        "cancelled",
        "与区里的会议冲突",
    )
    _refused(
        staff.post(f"{url}cancel/", {"reason": "again"}, format="json"),
        409,
        {"detail": "只有在“计划中”状态下才能取消，当前状态为“已取消”。"},
    )
    _refused(
        staff.post(f"{url}move/", {"start": _iso(later)}, format="json"),
        409,
        {"detail": "只有在“计划中”状态下才能调整会议时间地点，当前状态为“已取消”。"},
    )
    assert [r["id"] for r in staff.get("/api/v1/meetings/?status=cancelled").json()["results"]] == [pk]


def test_a_meeting_is_held_through_its_minutes_and_its_resolutions_followed_up(cast, community_x, unit_a):
    staff = _api(cast["community_x_staff"])
    liaison = _api(cast["liaison_a"])
    began = timezone.now() - timedelta(hours=3)
    meeting = MeetingFactory(
        level="community",
        community=community_x,
        start=began,
        end=began + timedelta(hours=2),
        organiser=cast["community_x_staff"],
    )
    InvitationFactory(meeting=meeting, unit=unit_a)
    url = f"/api/v1/meetings/{meeting.pk}/"
    held_before = _stats()["meetings"]

    # Who came: the meeting's staff record it; the liaison may not.
    attendance = f"{url}attendance/"
    _refused(
        liaison.post(attendance, {"unit": unit_a.pk, "status": "attended"}, format="json"),
        403,
        {"detail": "只有负责该会议的工作人员才能登记出席情况。"},
    )
    response = staff.post(attendance, {"unit": unit_a.pk, "status": "attended"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "attended")

    # The minutes make it held (PUT or POST); the liaison may not write them.
    _refused(liaison.put(f"{url}minutes/", {"minutes": "纪要"}, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(staff.put(f"{url}minutes/", {}, format="json"), 400, {"minutes": [REQUIRED]})
    assert JointMeeting.objects.get(pk=meeting.pk).status == JointMeeting.Status.PLANNED
    response = staff.put(f"{url}minutes/", {"minutes": "会议议定：开放夜间停车位30个。"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["minutes"]) == (
        200,
        "held",
        "会议议定：开放夜间停车位30个。",
    )
    assert staff.post(f"{url}minutes/", {"minutes": "补充：由物业负责。"}, format="json").json()["minutes"] == (
        "补充：由物业负责。"
    )
    _refused(
        staff.post(f"{url}cancel/", {"reason": "x"}, format="json"),
        409,
        {"detail": "只有在“计划中”状态下才能取消，当前状态为“已召开”。"},
    )
    assert _stats()["meetings"] == held_before + 1

    # A resolution: recorded by staff, reported on by the owner unit's liaison, corrected, done, reopened.
    due = timezone.localdate() + timedelta(days=30)
    body = {"meeting": meeting.pk, "text": "协调开放夜间停车位", "owner": unit_a.pk, "due_date": due.isoformat()}
    _refused(liaison.post("/api/v1/resolutions/", body, format="json"), 403, {"detail": NOT_ALLOWED})
    response = staff.post("/api/v1/resolutions/", body, format="json")
    assert (response.status_code, response.json()["status"]) == (201, "open")
    resolution = f"/api/v1/resolutions/{response.json()['id']}/"
    pk = response.json()["id"]

    _refused(liaison.post(f"{resolution}progress/", {}, format="json"), 400, {"note": [REQUIRED]})
    assert liaison.post(f"{resolution}progress/", {"note": "已协调3个车位"}, format="json").status_code == 200
    _hidden(_api(cast["liaison_b"]).post(f"{resolution}progress/", {"note": "x"}, format="json"))
    assert Resolution.objects.get(pk=pk).progress.get().text == "已协调3个车位"

    later = due + timedelta(days=30)
    _refused(liaison.patch(resolution, {"due_date": later.isoformat()}, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(
        staff.patch(resolution, {"due_date": "2026-13-01"}, format="json"),
        400,
        {"due_date": ["日期格式错误。请从这些格式中选择：YYYY-MM-DD。"]},
    )
    response = staff.patch(resolution, {"due_date": later.isoformat(), "text": "协调开放夜间停车位50个"}, format="json")
    assert (response.status_code, response.json()["due_date"], response.json()["text"]) == (
        200,
        later.isoformat(),
        "协调开放夜间停车位50个",
    )

    _refused(liaison.post(f"{resolution}done/"), 403, {"detail": NOT_ALLOWED})
    response = staff.post(f"{resolution}done/")
    assert (response.status_code, response.json()["status"]) == (200, "done")
    _refused(
        staff.post(f"{resolution}done/"), 409, {"detail": "只有在“办理中”状态下才能标记完成，当前状态为“已完成”。"}
    )
    _refused(
        staff.patch(resolution, {"text": "改"}, format="json"),
        409,
        {"detail": "只有未完成的议定事项可以修改；该事项当前为已完成。"},
    )
    assert [r["id"] for r in liaison.get("/api/v1/resolutions/?status=done").json()["results"]] == [pk]

    _refused(liaison.post(f"{resolution}reopen/"), 403, {"detail": NOT_ALLOWED})
    response = staff.post(f"{resolution}reopen/")
    assert (response.status_code, response.json()["status"], response.json()["done_at"]) == (200, "open", None)
    _refused(
        staff.post(f"{resolution}reopen/"), 409, {"detail": "只有在“已完成”状态下才能重新打开，当前状态为“办理中”。"}
    )
    assert Invitation.objects.get(meeting=meeting, unit=unit_a).status == Invitation.Status.ATTENDED

"""The liaisons' side of joint meetings in the portal: their units' invitations and the answers to them,
a meeting with its agenda and the open resolutions carried over from earlier meetings (督办), the minutes
for the staff and the units that attended (on the page, printable, as a workbook), and the resolutions
their units own with their progress notes. unit_a lies in community_x (liaison_a), unit_b in
community_y (liaison_b).

Texts are compared as data (titles, names), never as interface literals: the interface is Chinese by
default and its catalogue is filled separately."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib import messages as message_levels
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings.models import Invitation, JointMeeting, Level, Resolution, ResolutionProgress
from members import services as member_services

from ..conftest import client_for
from ..factories import MemberUnitFactory, UserFactory
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory

I = Invitation.Status  # noqa: E741
M = JointMeeting.Status


def _messages(response) -> list:
    return list(get_messages(response.wsgi_request))


def _levels(response) -> list[int]:
    return [m.level for m in _messages(response)]


def _answer(client, invitation: Invitation, status: str, unit=None):
    return client.post(
        reverse("portal:meeting_answer", args=[invitation.meeting_id]),
        {"unit": (unit or invitation.unit).pk, "status": status},
    )


@pytest.fixture
def future(unit_a):
    """A planned street meeting in two days, unit_a invited."""
    meeting = MeetingFactory(title="二季度街道联席会议", start=timezone.now() + timedelta(days=2))
    return InvitationFactory(meeting=meeting, unit=unit_a)


@pytest.fixture
def held(unit_a, unit_b, street_staff):
    """A held meeting with minutes and a resolution: unit_a attended, unit_b was absent."""
    start = timezone.now() - timedelta(days=5)
    meeting = MeetingFactory(
        title="一季度街道联席会议",
        start=start,
        status=M.HELD,
        organiser=street_staff,
        agenda="通报一季度工作\n协商停车难问题",
        minutes="会议协商了柳巷停车难问题，决定由山西饭店开放夜间停车位。",
        minutes_written_at=start + timedelta(days=1),
    )
    InvitationFactory(meeting=meeting, unit=unit_a, status=I.ATTENDED)
    InvitationFactory(meeting=meeting, unit=unit_b, status=I.ABSENT)
    ResolutionFactory(meeting=meeting, owner=unit_a, text="开放夜间停车位30个")
    return meeting


# --- Invitations ------------------------------------------------------------------------------------


def test_liaison_sees_the_invitations_of_own_units_only(liaison_a, unit_a, unit_b, future):
    other = InvitationFactory(meeting=MeetingFactory(title="柳北社区联席会议"), unit=unit_b)
    response = client_for(liaison_a).get(reverse("portal:meeting_list"))
    assert response.status_code == 200
    assert [inv.pk for inv in response.context["upcoming"]] == [future.pk]
    body = response.content.decode()
    assert future.meeting.title in body
    assert other.meeting.title not in body and unit_b.name not in body


def test_upcoming_meetings_come_first_nearest_at_the_top(liaison_a, unit_a, future):
    later = InvitationFactory(meeting=MeetingFactory(start=timezone.now() + timedelta(days=20)), unit=unit_a)
    past = InvitationFactory(meeting=MeetingFactory(start=timezone.now() - timedelta(days=20)), unit=unit_a)
    response = client_for(liaison_a).get(reverse("portal:meeting_list"))
    assert [inv.pk for inv in response.context["upcoming"]] == [future.pk, later.pk]
    assert [inv.pk for inv in response.context["past"]] == [past.pk]
    body = response.content.decode()
    assert body.index(f'data-invitation="{future.pk}"') < body.index(f'data-invitation="{past.pk}"')


def test_liaison_confirms_then_declines_a_future_planned_meeting(liaison_a, future):
    client = client_for(liaison_a)
    response = _answer(client, future, I.CONFIRMED)
    assert response.status_code == 302 and _levels(response) == [message_levels.SUCCESS]
    future.refresh_from_db()
    assert (future.status, future.responded_by_id) == (I.CONFIRMED, liaison_a.pk)
    assert future.responded_at is not None

    response = _answer(client, future, I.DECLINED)
    assert _levels(response)[-1] == message_levels.SUCCESS  # (the first answer's message is still unread)
    future.refresh_from_db()
    assert future.status == I.DECLINED


def test_the_answer_returns_to_the_page_it_was_given_on_and_never_off_site(liaison_a, future):
    client = client_for(liaison_a)
    url = reverse("portal:meeting_answer", args=[future.meeting_id])
    data = {"unit": future.unit_id, "status": I.CONFIRMED}
    response = client.post(url, {**data, "next": reverse("portal:meeting_list")})
    assert response["Location"] == reverse("portal:meeting_list")
    response = client.post(url, {**data, "next": "https://evil.example/"})
    assert response["Location"] == reverse("portal:meeting_detail", args=[future.meeting_id])


def test_the_list_offers_answers_only_while_the_meeting_is_planned_and_ahead(liaison_a, unit_a, future):
    cancelled = InvitationFactory(meeting=MeetingFactory(status=M.CANCELLED, cancel_reason="台风"), unit=unit_a)
    response = client_for(liaison_a).get(reverse("portal:meeting_list"))
    body = response.content.decode()
    answer_url = reverse("portal:meeting_answer", args=[future.meeting_id])
    assert f'action="{answer_url}"' in body
    assert f'action="{reverse("portal:meeting_answer", args=[cancelled.meeting_id])}"' not in body


@pytest.mark.parametrize("when", ["past", "begun", "cancelled", "held"])
def test_answer_is_refused_with_a_message_once_the_meeting_is_not_ahead(liaison_a, unit_a, when):
    start = {"past": timedelta(days=-3), "begun": timedelta(minutes=-5)}.get(when, timedelta(days=2))
    status = {"cancelled": M.CANCELLED, "held": M.HELD}.get(when, M.PLANNED)
    meeting = MeetingFactory(start=timezone.now() + start, status=status)
    invitation = InvitationFactory(meeting=meeting, unit=unit_a)
    response = _answer(client_for(liaison_a), invitation, I.CONFIRMED)
    assert response.status_code == 302 and _levels(response) == [message_levels.ERROR]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_at) == (I.INVITED, None)


def test_liaison_cannot_answer_for_another_units_invitation(liaison_a, unit_a, unit_b):
    meeting = MeetingFactory()
    InvitationFactory(meeting=meeting, unit=unit_a)
    theirs = InvitationFactory(meeting=meeting, unit=unit_b)
    response = _answer(client_for(liaison_a), theirs, I.DECLINED)
    assert response.status_code == 302 and _levels(response) == [message_levels.ERROR]
    theirs.refresh_from_db()
    assert theirs.status == I.INVITED


def test_a_meeting_only_another_unit_is_invited_to_answers_404(liaison_a, unit_b):
    theirs = InvitationFactory(meeting=MeetingFactory(), unit=unit_b)
    client = client_for(liaison_a)
    assert _answer(client, theirs, I.CONFIRMED).status_code == 404
    assert client.get(reverse("portal:meeting_detail", args=[theirs.meeting_id])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == I.INVITED


def test_an_unknown_status_is_refused_with_a_message(liaison_a, future):
    response = _answer(client_for(liaison_a), future, I.ATTENDED)  # staff record attendance, not liaisons
    assert _levels(response) == [message_levels.ERROR]
    future.refresh_from_db()
    assert future.status == I.INVITED


def test_answering_needs_a_signed_in_user_and_a_post(liaison_a, future):
    url = reverse("portal:meeting_answer", args=[future.meeting_id])
    anonymous = client_for(None).post(url, {"unit": future.unit_id, "status": I.CONFIRMED})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("portal:login"))
    assert client_for(liaison_a).get(url).status_code == 405
    future.refresh_from_db()
    assert future.status == I.INVITED


# --- A meeting ------------------------------------------------------------------------------------


def test_meeting_page_shows_the_facts_agenda_and_my_invitation_with_its_buttons(liaison_a, future):
    meeting = future.meeting
    JointMeeting.objects.filter(pk=meeting.pk).update(agenda="通报工作\n\n协商停车难问题")
    response = client_for(liaison_a).get(reverse("portal:meeting_detail", args=[meeting.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert meeting.title in body and meeting.place in body
    assert "<li>通报工作</li>" in body and "<li>协商停车难问题</li>" in body
    local = timezone.localtime(meeting.start)
    assert local.strftime("%Y-%m-%d %H:%M") in body  # shown in Asia/Shanghai time
    assert [inv.pk for inv in response.context["my_invitations"]] == [future.pk]
    assert f'action="{reverse("portal:meeting_answer", args=[meeting.pk])}"' in body
    assert not response.context["may_read_minutes"]


def test_meeting_page_carries_open_resolutions_of_earlier_meetings_and_hides_done_ones(
    liaison_a, unit_a, unit_b, community_x, community_y
):
    earlier = MeetingFactory(
        level=Level.COMMUNITY, community=community_x, start=timezone.now() - timedelta(days=30), status=M.HELD
    )
    still_open = ResolutionFactory(meeting=earlier, owner=unit_b, text="修缮桥头街路灯")
    ResolutionFactory(meeting=earlier, owner=unit_a, text="清理楼道杂物", status=Resolution.Status.DONE)
    overdue = ResolutionFactory(
        meeting=earlier, owner=unit_a, text="增设减速带", due_date=timezone.localdate() - timedelta(days=2)
    )
    elsewhere = MeetingFactory(
        level=Level.COMMUNITY, community=community_y, start=timezone.now() - timedelta(days=30), status=M.HELD
    )
    ResolutionFactory(meeting=elsewhere, owner=unit_b, text="柳北社区停车改造")
    street = MeetingFactory(level=Level.STREET, start=timezone.now() - timedelta(days=30), status=M.HELD)
    ResolutionFactory(meeting=street, owner=unit_a, text="街道层面的议定事项")

    meeting = MeetingFactory(level=Level.COMMUNITY, community=community_x)
    InvitationFactory(meeting=meeting, unit=unit_a)
    response = client_for(liaison_a).get(reverse("portal:meeting_detail", args=[meeting.pk]))
    assert [r.pk for r in response.context["carried"]] == [overdue.pk, still_open.pk]
    body = response.content.decode()
    assert "修缮桥头街路灯" in body and "增设减速带" in body
    assert "清理楼道杂物" not in body and "柳北社区停车改造" not in body and "街道层面的议定事项" not in body
    start = body.index(f'data-resolution="{overdue.pk}"')
    assert "data-overdue" in body[start : body.index("</li>", start)]


# --- Minutes --------------------------------------------------------------------------------------


def test_minutes_are_shown_to_a_unit_that_attended(liaison_a, unit_a, unit_b, held):
    client = client_for(liaison_a)
    response = client.get(reverse("portal:meeting_detail", args=[held.pk]))
    body = response.content.decode()
    assert response.context["may_read_minutes"]
    assert held.minutes in body and "开放夜间停车位30个" in body
    assert reverse("portal:minutes_print", args=[held.pk]) in body
    assert reverse("portal:minutes_xlsx", args=[held.pk]) in body

    response = client.get(reverse("portal:minutes_print", args=[held.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/static/css/minutes_print.css"' in body  # A4, in a stylesheet the CSP allows
    assert held.minutes in body and held.title in body and held.place in body
    assert "通报一季度工作" in body and "开放夜间停车位30个" in body
    assert unit_a.name in body and unit_b.name in body  # the attendance list
    assert response.context["organiser"] == held.organiser.get_username()
    assert 'href="/portal/"' not in body  # no portal navigation on the printed page


def test_minutes_are_404_for_a_unit_that_was_absent_or_not_invited(liaison_b, held, root):
    client = client_for(liaison_b)
    response = client.get(reverse("portal:meeting_detail", args=[held.pk]))
    assert response.status_code == 200  # unit_b was invited: the meeting is visible ...
    assert held.minutes not in response.content.decode()  # ... its minutes are not
    assert client.get(reverse("portal:minutes_print", args=[held.pk])).status_code == 404
    assert client.get(reverse("portal:minutes_xlsx", args=[held.pk])).status_code == 404

    outsider = UserFactory(username="outsider")
    member_services.unit_membership_add(unit=MemberUnitFactory(name="未受邀单位"), user=outsider, actor=root)
    stranger = client_for(outsider)
    for name in ("meeting_detail", "minutes_print", "minutes_xlsx"):
        assert stranger.get(reverse(f"portal:{name}", args=[held.pk])).status_code == 404


def test_street_staff_read_the_minutes(street_staff, held):
    assert client_for(street_staff).get(reverse("portal:minutes_print", args=[held.pk])).status_code == 200


def test_a_planned_meetings_minutes_are_404(liaison_a, future):
    Invitation.objects.filter(pk=future.pk).update(status=I.ATTENDED)
    assert client_for(liaison_a).get(reverse("portal:minutes_print", args=[future.meeting_id])).status_code == 404


def test_minutes_workbook_opens_and_lists_the_attendance(liaison_a, unit_a, unit_b, held):
    response = client_for(liaison_a).get(reverse("portal:minutes_xlsx", args=[held.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    meeting_sheet, attendance, resolutions = (list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets)
    assert len(workbook.worksheets) == 3
    assert any(row[1] == held.title for row in meeting_sheet)
    assert any(held.minutes in str(row[1]) for row in meeting_sheet)
    statuses = {row[0]: row[1] for row in attendance[1:]}
    assert set(statuses) == {unit_a.name, unit_b.name}
    assert statuses[unit_a.name] == str(I.ATTENDED.label) and statuses[unit_b.name] == str(I.ABSENT.label)
    assert [(row[0], row[1]) for row in resolutions[1:]] == [("开放夜间停车位30个", unit_a.name)]


def test_minutes_workbook_escapes_formulas(liaison_a, held):
    JointMeeting.objects.filter(pk=held.pk).update(minutes='=HYPERLINK("http://evil")\n第二段')
    response = client_for(liaison_a).get(reverse("portal:minutes_xlsx", args=[held.pk]))
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert ("", "第二段") in rows or (None, "第二段") in rows
    assert all(not str(row[1]).startswith("=") for row in rows)


# --- Resolutions ------------------------------------------------------------------------------------


def test_resolution_list_shows_my_units_resolutions_overdue_marked(liaison_a, unit_a, unit_b):
    mine = ResolutionFactory(owner=unit_a, text="开放夜间停车位", due_date=timezone.localdate() - timedelta(days=1))
    done = ResolutionFactory(owner=unit_a, text="已办结事项", status=Resolution.Status.DONE)
    ResolutionFactory(owner=unit_b, text="别家单位的事项")
    ResolutionProgress.objects.create(resolution=mine, author=liaison_a, text="已开放15个")
    response = client_for(liaison_a).get(reverse("portal:resolution_list"))
    assert [r.pk for r in response.context["resolutions"]] == [mine.pk, done.pk]  # open ones first
    body = response.content.decode()
    assert "别家单位的事项" not in body and "已开放15个" in body
    start = body.index(f'data-resolution="{mine.pk}"')
    assert body[start:].startswith(f'data-resolution="{mine.pk}" data-overdue')
    assert f'action="{reverse("portal:resolution_progress", args=[mine.pk])}"' in body
    assert f'action="{reverse("portal:resolution_progress", args=[done.pk])}"' not in body


def test_liaison_writes_progress_on_own_resolution(liaison_a, unit_a):
    resolution = ResolutionFactory(owner=unit_a)
    url = reverse("portal:resolution_progress", args=[resolution.pk])
    response = client_for(liaison_a).post(url, {"text": "  已协调开放15个车位  "})
    assert response.status_code == 302 and _levels(response) == [message_levels.SUCCESS]
    assert response["Location"].endswith(f"#resolution-{resolution.pk}")
    note = ResolutionProgress.objects.get(resolution=resolution)
    assert (note.text, note.author_id) == ("已协调开放15个车位", liaison_a.pk)


def test_empty_progress_is_refused_with_a_message(liaison_a, unit_a):
    resolution = ResolutionFactory(owner=unit_a)
    response = client_for(liaison_a).post(reverse("portal:resolution_progress", args=[resolution.pk]), {"text": " "})
    assert _levels(response) == [message_levels.ERROR]
    assert not ResolutionProgress.objects.exists()


def test_liaison_cannot_write_progress_on_another_units_resolution(liaison_a, unit_a, unit_b):
    # unit_a was at the meeting: it sees unit_b's resolution, but does not own it.
    shared = MeetingFactory(status=M.HELD, start=timezone.now() - timedelta(days=3))
    InvitationFactory(meeting=shared, unit=unit_a, status=I.ATTENDED)
    visible = ResolutionFactory(meeting=shared, owner=unit_b)
    hidden = ResolutionFactory(owner=unit_b)  # a meeting unit_a was not invited to
    client = client_for(liaison_a)
    response = client.post(reverse("portal:resolution_progress", args=[visible.pk]), {"text": "代为填写"})
    assert response.status_code == 302 and _levels(response) == [message_levels.ERROR]
    assert client.post(reverse("portal:resolution_progress", args=[hidden.pk]), {"text": "代为填写"}).status_code == 404
    assert not ResolutionProgress.objects.exists()


# --- The portal home --------------------------------------------------------------------------------


def test_portal_home_shows_the_meetings_panel(liaison_a, unit_a, future):
    resolution = ResolutionFactory(owner=unit_a, text="开放夜间停车位")
    response = client_for(liaison_a).get(reverse("portal:home"))
    body = response.content.decode()
    assert reverse("portal:meeting_detail", args=[future.meeting_id]) in body
    assert f'data-resolution="{resolution.pk}"' in body
    assert reverse("portal:calendar") in body


# --- Query counts ---------------------------------------------------------------------------------


def test_meeting_list_query_count_does_not_grow_with_rows(liaison_a, unit_a):
    def invite(count: int) -> None:
        for days in range(count):
            InvitationFactory(meeting=MeetingFactory(start=timezone.now() + timedelta(days=days + 1)), unit=unit_a)
            InvitationFactory(meeting=MeetingFactory(start=timezone.now() - timedelta(days=days + 1)), unit=unit_a)

    client = client_for(liaison_a)
    url = reverse("portal:meeting_list")
    invite(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    invite(10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["upcoming"]) == 11 and len(response.context["past"]) == 11
    # session, user, groups, unread notifications, the liaison's units (guardian), the upcoming
    # invitations joined with meeting and unit, the past ones' count and their page (joined) — the same
    # however many invitations.
    assert len(many) == len(few)


def test_resolution_list_query_count_does_not_grow_with_rows(liaison_a, unit_a):
    def resolve(count: int) -> None:
        for resolution in ResolutionFactory.create_batch(count, owner=unit_a):
            ResolutionProgress.objects.create(resolution=resolution, author=liaison_a, text="进展")
            ResolutionProgress.objects.create(resolution=resolution, author=None, text="进展二")

    client = client_for(liaison_a)
    url = reverse("portal:resolution_list")
    resolve(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    resolve(10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["resolutions"]) == 11
    # session, user, groups, unread notifications, the liaison's units (guardian), the page's count, the
    # page of resolutions joined with meeting and owner, their progress notes joined with their authors
    # (one prefetch) — the same however many resolutions and notes.
    assert len(many) == len(few)

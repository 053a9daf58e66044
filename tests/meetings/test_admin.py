"""Staff's screens of the joint meetings: planning meetings and inviting units, cancelling and moving
them (the invitees are told), attendance and minutes after the meeting, resolutions followed up until
done (督办), series planned ahead, the reminder ledger and the attendance rates. Community staff work on
their communities' meetings and see the street's."""

from __future__ import annotations

import io
from datetime import date, time, timedelta

import pytest
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings import selectors
from meetings.models import (
    Invitation,
    JointMeeting,
    Level,
    MeetingAttachment,
    MeetingSeries,
    Reminder,
    Resolution,
    ResolutionProgress,
)

from ..conftest import client_for
from ..factories import MemberUnitFactory
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory, SeriesFactory, local

M = JointMeeting.Status
I = Invitation.Status  # noqa: E741
MEETINGS = "admin:meetings_jointmeeting_changelist"
SERIES = "admin:meetings_meetingseries_changelist"
RESOLUTIONS = "admin:meetings_resolution_changelist"
REMINDERS = "admin:meetings_reminder_changelist"
RATES = "admin:meetings_jointmeeting_attendance_rates"


def _change(meeting: JointMeeting) -> str:
    return reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _action(client, url: str, action: str, objects, **data):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **data})


def _form_data(response) -> dict:
    """What the browser would post back from a rendered change page: the main form's and every inline
    formset's current values, management forms included."""
    data: dict = {}

    def add(form) -> None:
        for field in form:
            value = field.value()
            if value is None or value is False or field.field.disabled:
                continue
            if value is True:
                data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            else:
                data[field.html_name] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


@pytest.fixture
def past_meeting(street_staff, unit_a, unit_b):
    """A street meeting that began two days ago: attendance and minutes can be recorded."""
    start = timezone.now() - timedelta(days=2)
    meeting = MeetingFactory(title="上季度联席会议", start=start, organiser=street_staff)
    InvitationFactory(meeting=meeting, unit=unit_a, status=I.CONFIRMED)
    InvitationFactory(meeting=meeting, unit=unit_b)
    return meeting


@pytest.fixture
def meeting_x(community_x, unit_a):
    meeting = MeetingFactory(title="桥头街社区大党委会议", level=Level.COMMUNITY, community=community_x)
    InvitationFactory(meeting=meeting, unit=unit_a)
    return meeting


@pytest.fixture
def meeting_y(community_y, unit_b):
    meeting = MeetingFactory(title="柳北社区大党委会议", level=Level.COMMUNITY, community=community_y)
    InvitationFactory(meeting=meeting, unit=unit_b)
    return meeting


@pytest.fixture
def street_meeting(db):
    return MeetingFactory(title="街道区域化党建联席会议", level=Level.STREET)


# --- Every screen renders --------------------------------------------------------------------------


def test_every_meetings_changelist_and_add_page_renders_for_street_staff(
    street_staff, past_meeting, meeting_x, unit_a, liaison_a
):
    earlier = MeetingFactory(start=past_meeting.start - timedelta(days=90), status=M.HELD)
    carried = ResolutionFactory(meeting=earlier, owner=unit_a, due_date=timezone.localdate() - timedelta(days=1))
    resolution = ResolutionFactory(meeting=past_meeting, owner=unit_a)
    ResolutionProgress.objects.create(resolution=resolution, author=liaison_a, text="已协调停车位20个")
    series = SeriesFactory(organiser=street_staff)
    reminder = Reminder.objects.create(kind=Reminder.Kind.MEETING_24H, meeting=meeting_x, recipient=liaison_a)
    client = client_for(street_staff)

    for model in ("jointmeeting", "meetingseries", "resolution", "reminder"):
        assert client.get(reverse(f"admin:meetings_{model}_changelist")).status_code == 200
    for model in ("jointmeeting", "meetingseries"):
        assert client.get(reverse(f"admin:meetings_{model}_add")).status_code == 200
    for model, obj in (
        ("jointmeeting", past_meeting),
        ("jointmeeting", meeting_x),
        ("meetingseries", series),
        ("resolution", resolution),
        ("reminder", reminder),
    ):
        assert client.get(reverse(f"admin:meetings_{model}_change", args=[obj.pk])).status_code == 200
    for model, obj in (("jointmeeting", past_meeting), ("meetingseries", series), ("resolution", resolution)):
        assert client.get(reverse(f"admin:meetings_{model}_history", args=[obj.pk])).status_code == 200
    for page in ("invite", "reschedule", "cancel"):
        assert client.get(reverse(f"admin:meetings_jointmeeting_{page}", args=[meeting_x.pk])).status_code == 200
    assert client.get(reverse(RATES)).status_code == 200

    page = client.get(_change(past_meeting)).content.decode()
    assert carried.text in page  # 督办: the open resolution of the earlier meeting is on this one's page
    assert (
        "已协调停车位20个"
        in client.get(reverse("admin:meetings_resolution_change", args=[resolution.pk])).content.decode()
    )
    # Resolutions are decided at a meeting; the reminder ledger is written by the scan only.
    assert client.get(reverse("admin:meetings_resolution_add")).status_code == 403
    assert client.get(reverse("admin:meetings_reminder_add")).status_code == 403
    # A meeting is cancelled, never deleted: its invitees were told it exists.
    assert client.get(reverse("admin:meetings_jointmeeting_delete", args=[meeting_x.pk])).status_code == 403
    actions = client.get(reverse(MEETINGS)).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _label in actions]


@pytest.mark.parametrize("who", ["liaison_a", "member"])
def test_people_who_are_not_staff_do_not_enter_the_meetings_admin(who, cast, meeting_x):
    client = client_for(cast[who])
    for url in (reverse(MEETINGS), reverse(SERIES), reverse(RESOLUTIONS), reverse(RATES), _change(meeting_x)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- Who sees what ----------------------------------------------------------------------------------


def test_community_staff_see_their_communitys_meetings_and_the_streets(
    community_x_staff, meeting_x, meeting_y, street_meeting
):
    client = client_for(community_x_staff)
    shown = set(client.get(reverse(MEETINGS)).context["cl"].result_list)
    assert shown == set(selectors.meetings_visible_to(user=community_x_staff))  # the one permission path
    assert shown == {meeting_x, street_meeting}

    assert client.get(_change(meeting_x)).context["has_change_permission"] is True
    # The street's meeting is theirs to read, not to change.
    street_page = client.get(_change(street_meeting))
    assert street_page.status_code == 200 and street_page.context["has_change_permission"] is False
    assert client.get(reverse("admin:meetings_jointmeeting_cancel", args=[street_meeting.pk])).status_code == 403


def test_community_staff_cannot_open_or_act_on_another_communitys_meeting(community_x_staff, meeting_y):
    client = client_for(community_x_staff)
    response = client.get(_change(meeting_y))
    assert response.status_code == 404  # like a missing id: existence does not leak
    assert meeting_y.title not in client.get(reverse(MEETINGS)).content.decode()
    for page in ("invite", "reschedule", "cancel"):
        assert client.get(reverse(f"admin:meetings_jointmeeting_{page}", args=[meeting_y.pk])).status_code == 404

    _action(client, reverse(MEETINGS), "cancel", [meeting_y], apply="1", reason="不该取消")
    client.post(reverse("admin:meetings_jointmeeting_cancel", args=[meeting_y.pk]), {"reason": "不该取消"})
    meeting_y.refresh_from_db()
    assert meeting_y.status == M.PLANNED


def test_the_reminder_ledger_is_for_street_staff_only(community_x_staff, meeting_x, liaison_a):
    Reminder.objects.create(kind=Reminder.Kind.MEETING_24H, meeting=meeting_x, recipient=liaison_a)
    assert client_for(community_x_staff).get(reverse(REMINDERS)).status_code == 403


# --- Planning a meeting -----------------------------------------------------------------------------


def _add_form(**changes) -> dict:
    day = timezone.localdate() + timedelta(days=7)
    data = {
        "level": Level.STREET,
        "kind": "regular",
        "title": "区域化党建联席会议（第二季度）",
        "community": "",
        "sector": "",
        "start_0": day.isoformat(),
        "start_1": "09:00",
        "end_0": day.isoformat(),
        "end_1": "10:30",
        "place": "柳巷街道党群服务中心三楼会议室",
        "agenda": "通报上季度工作\n议定下季度事项",
    }
    return {**data, **changes}


def test_adding_a_meeting_with_invited_units_creates_the_invitations(street_staff, unit_a, unit_b):
    response = client_for(street_staff).post(
        reverse("admin:meetings_jointmeeting_add"), _add_form(units=[unit_a.pk, unit_b.pk])
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    meeting = JointMeeting.objects.get(title="区域化党建联席会议（第二季度）")
    assert meeting.organiser == street_staff and meeting.status == M.PLANNED
    assert timezone.localtime(meeting.start).time() == time(9, 0)  # 09:00 Asia/Shanghai
    assert set(meeting.invitations.values_list("unit_id", flat=True)) == {unit_a.pk, unit_b.pk}
    assert set(meeting.invitations.values_list("status", flat=True)) == {I.INVITED}


def test_community_staff_plan_meetings_of_their_community_inviting_their_units_only(
    community_x_staff, community_x, community_y, unit_a, unit_b
):
    client = client_for(community_x_staff)
    form = client.get(reverse("admin:meetings_jointmeeting_add")).context["adminform"].form
    assert set(form.fields["units"].queryset) == {unit_a}
    assert set(form.fields["community"].queryset) == {community_x}

    # Another community's unit is not a choice: the form says so and nothing is written.
    refused = client.post(
        reverse("admin:meetings_jointmeeting_add"),
        _add_form(level=Level.COMMUNITY, community=community_x.pk, units=[unit_b.pk]),
    )
    assert refused.status_code == 200 and "units" in refused.context["adminform"].form.errors
    # A street meeting is the street's to plan: the service refuses it, as a message, not a 500.
    street = client.post(reverse("admin:meetings_jointmeeting_add"), _add_form(units=[unit_a.pk]))
    assert street.status_code == 302 and _messages(street)
    assert not JointMeeting.objects.exists()

    ok = client.post(
        reverse("admin:meetings_jointmeeting_add"),
        _add_form(level=Level.COMMUNITY, community=community_x.pk, units=[unit_a.pk]),
    )
    assert ok.status_code == 302
    meeting = JointMeeting.objects.get()
    assert meeting.community == community_x and meeting.organiser == community_x_staff
    assert list(meeting.invitations.values_list("unit_id", flat=True)) == [unit_a.pk]


def test_a_meeting_that_ends_before_it_starts_is_refused_with_a_form_error(street_staff):
    response = client_for(street_staff).post(reverse("admin:meetings_jointmeeting_add"), _add_form(end_1="08:00"))
    assert response.status_code == 200 and "end" in response.context["adminform"].form.errors
    assert not JointMeeting.objects.exists()


def test_invite_page_invites_more_units(street_staff, meeting_x, unit_a, unit_b):
    client = client_for(street_staff)
    url = reverse("admin:meetings_jointmeeting_invite", args=[meeting_x.pk])
    offered = client.get(url).context["form"].fields["units"].queryset
    assert unit_b in offered and unit_a not in offered  # already invited
    response = client.post(url, {"units": [unit_b.pk]})
    assert response.status_code == 302 and response["Location"] == _change(meeting_x)
    assert set(meeting_x.invitations.values_list("unit_id", flat=True)) == {unit_a.pk, unit_b.pk}


# --- Editing, minutes, attendance, resolutions --------------------------------------------------------


def test_the_change_form_edits_the_title_but_start_and_place_only_move_by_rescheduling(street_staff, meeting_x):
    client = client_for(street_staff)
    page = client.get(_change(meeting_x))
    form = page.context["adminform"].form
    assert "title" in form.fields and not {"start", "end", "place"} & set(form.fields)
    data = _form_data(page)
    data.update(title="桥头街社区大党委会议（改）", start_0="2030-01-01", place="别处")
    response = client.post(_change(meeting_x), data)
    assert response.status_code == 302
    before = meeting_x.start
    meeting_x.refresh_from_db()
    assert meeting_x.title == "桥头街社区大党委会议（改）"
    assert meeting_x.start == before and meeting_x.place == "柳巷街道党群服务中心三楼会议室"
    assert meeting_x.schedule_version == 1


def test_minutes_written_after_the_meeting_make_it_held(street_staff, past_meeting):
    client = client_for(street_staff)
    data = _form_data(client.get(_change(past_meeting)))
    data["minutes"] = "会议通报了上季度共建项目进展。"
    assert client.post(_change(past_meeting), data).status_code == 302
    past_meeting.refresh_from_db()
    assert past_meeting.status == M.HELD and past_meeting.minutes_written_at is not None


def test_minutes_cannot_be_written_before_the_meeting(street_staff, meeting_x):
    form = client_for(street_staff).get(_change(meeting_x)).context["adminform"].form
    assert "minutes" not in form.fields


def test_attendance_recorded_in_the_admin_changes_the_invitation(street_staff, past_meeting, unit_a, unit_b, member):
    guest = InvitationFactory(meeting=past_meeting, unit=None, person=member)  # a person: no unit to record
    client = client_for(street_staff)
    data = _form_data(client.get(_change(past_meeting)))
    rows = {data[f"invitations-{i}-id"]: i for i in range(int(data["invitations-TOTAL_FORMS"]))}
    data[f"invitations-{rows[str(guest.pk)]}-attendance"] = I.ATTENDED  # its select is disabled: ignored
    came = Invitation.objects.get(meeting=past_meeting, unit=unit_a)
    away = Invitation.objects.get(meeting=past_meeting, unit=unit_b)
    data[f"invitations-{rows[str(came.pk)]}-attendance"] = I.ATTENDED
    data[f"invitations-{rows[str(away.pk)]}-attendance"] = I.ABSENT
    response = client.post(_change(past_meeting), data)
    assert response.status_code == 302, _messages(response)
    came.refresh_from_db()
    away.refresh_from_db()
    assert (came.status, away.status) == (I.ATTENDED, I.ABSENT)
    assert came.responded_by == street_staff
    guest.refresh_from_db()
    assert guest.status == I.INVITED
    assert came.history.first().history_user == street_staff


def test_attendance_is_not_offered_before_the_meeting_has_begun(street_staff, meeting_x):
    page = client_for(street_staff).get(_change(meeting_x))
    (invitations,) = [f for f in page.context["inline_admin_formsets"] if f.formset.model is Invitation]
    assert "attendance" not in flatten_fieldsets(invitations.fieldsets)
    data = _form_data(page)
    data["invitations-0-attendance"] = I.ATTENDED  # posted anyway
    client_for(street_staff).post(_change(meeting_x), data)
    assert meeting_x.invitations.get().status == I.INVITED


def test_adding_a_resolution_inline_creates_it(street_staff, past_meeting, unit_a):
    client = client_for(street_staff)
    data = _form_data(client.get(_change(past_meeting)))
    due = timezone.localdate() + timedelta(days=30)
    data.update(
        {"resolutions-2-0-text": "协调开放停车位", "resolutions-2-0-owner": unit_a.pk, "resolutions-2-0-due_date": due}
    )
    response = client.post(_change(past_meeting), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    resolution = Resolution.objects.get(meeting=past_meeting)
    assert (resolution.text, resolution.owner, resolution.due_date) == ("协调开放停车位", unit_a, due)
    assert resolution.status == Resolution.Status.OPEN


def test_the_meetings_resolutions_show_their_status_and_overdue_marker(street_staff, past_meeting, unit_a):
    late = ResolutionFactory(meeting=past_meeting, owner=unit_a, due_date=timezone.localdate() - timedelta(days=3))
    page = client_for(street_staff).get(_change(past_meeting))
    (listed,) = [
        f for f in page.context["inline_admin_formsets"] if f.formset.model is Resolution and f.formset.initial_forms
    ]
    (row,) = listed.formset.queryset
    assert row == late and row.is_overdue is True


def test_staff_file_attachments_with_the_meeting(street_staff, past_meeting, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(street_staff)
    data = _form_data(client.get(_change(past_meeting)))
    data.update(
        {
            "attachments-TOTAL_FORMS": "1",
            "attachments-0-title": "签到表",
            "attachments-0-file": SimpleUploadedFile("sign-in.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        }
    )
    assert client.post(_change(past_meeting), data).status_code == 302
    (attachment,) = past_meeting.attachments.all()
    assert attachment.title == "签到表" and attachment.file.name.endswith(".pdf")


def test_an_attachment_that_is_not_an_allowed_type_is_refused_and_nothing_stored(
    street_staff, past_meeting, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(street_staff)
    data = _form_data(client.get(_change(past_meeting)))
    data.update(
        {
            "attachments-TOTAL_FORMS": "1",
            "attachments-0-title": "签到表",
            "attachments-0-file": SimpleUploadedFile(
                "sign-in.pdf", b"<html>not a pdf</html>", content_type="text/html"
            ),
        }
    )
    response = client.post(_change(past_meeting), data)
    assert response.status_code == 200
    expected = "“sign-in.pdf”不是允许的文件类型（PDF, JPEG, PNG, WebP, Excel (.xlsx), Word (.docx)）。"
    (attachments,) = [f for f in response.context["inline_admin_formsets"] if f.formset.model is MeetingAttachment]
    assert attachments.formset.errors == [{"file": [expected]}]
    assert not past_meeting.attachments.exists()
    assert not (tmp_path / "media").exists()


# --- Cancel and reschedule ----------------------------------------------------------------------------


def test_cancel_action_asks_a_reason_then_cancels_and_tells_the_invitees(street_staff, meeting_x, liaison_a):
    client = client_for(street_staff)
    asked = _action(client, reverse(MEETINGS), "cancel", [meeting_x])
    assert asked.status_code == 200 and list(asked.context["objects"]) == [meeting_x]
    no_reason = _action(client, reverse(MEETINGS), "cancel", [meeting_x], apply="1", reason="")
    assert no_reason.status_code == 200 and no_reason.context["form"].errors
    meeting_x.refresh_from_db()
    assert meeting_x.status == M.PLANNED

    done = _action(client, reverse(MEETINGS), "cancel", [meeting_x], apply="1", reason="与区委会议冲突")
    assert done.status_code == 302
    meeting_x.refresh_from_db()
    assert meeting_x.status == M.CANCELLED and meeting_x.cancel_reason == "与区委会议冲突"
    notice = Reminder.objects.get(meeting=meeting_x, recipient=liaison_a)
    assert notice.kind == Reminder.Kind.MEETING_CANCELLED


def test_cancelling_a_held_meeting_is_refused_with_a_message(street_staff, past_meeting):
    JointMeeting.objects.filter(pk=past_meeting.pk).update(status=M.HELD)
    response = client_for(street_staff).post(
        reverse("admin:meetings_jointmeeting_cancel", args=[past_meeting.pk]), {"reason": "x"}
    )
    assert response.status_code == 302 and _messages(response)
    past_meeting.refresh_from_db()
    assert past_meeting.status == M.HELD


def test_reschedule_action_moves_the_meeting_and_raises_its_schedule_version(street_staff, meeting_x, liaison_a):
    client = client_for(street_staff)
    asked = _action(client, reverse(MEETINGS), "reschedule", [meeting_x])
    assert asked.status_code == 200 and asked.context["meeting"] == meeting_x
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = _action(
        client,
        reverse(MEETINGS),
        "reschedule",
        [meeting_x],
        apply="1",
        start=f"{day}T15:00",
        end=f"{day}T16:30",
        place="桥头街社区党群服务站",
    )
    assert response.status_code == 302
    meeting_x.refresh_from_db()
    assert timezone.localtime(meeting_x.start).isoformat().startswith(f"{day}T15:00")
    assert meeting_x.place == "桥头街社区党群服务站" and meeting_x.schedule_version == 2
    assert Reminder.objects.get(meeting=meeting_x, recipient=liaison_a).kind == Reminder.Kind.MEETING_MOVED


def test_reschedule_page_refuses_an_end_before_the_start_and_keeps_the_place_when_left_empty(street_staff, meeting_x):
    client = client_for(street_staff)
    url = reverse("admin:meetings_jointmeeting_reschedule", args=[meeting_x.pk])
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    wrong = client.post(url, {"start": f"{day}T15:00", "end": f"{day}T14:00", "place": ""})
    assert wrong.status_code == 200 and "end" in wrong.context["form"].errors
    meeting_x.refresh_from_db()
    assert meeting_x.schedule_version == 1

    assert client.post(url, {"start": f"{day}T15:00", "end": f"{day}T16:00", "place": ""}).status_code == 302
    meeting_x.refresh_from_db()
    assert meeting_x.schedule_version == 2 and meeting_x.place == "柳巷街道党群服务中心三楼会议室"


def test_reschedule_action_asks_for_one_meeting(street_staff, meeting_x, street_meeting):
    response = _action(client_for(street_staff), reverse(MEETINGS), "reschedule", [meeting_x, street_meeting])
    assert response.status_code == 302 and _messages(response)


def test_export_attendance_writes_one_row_per_invitation(street_staff, past_meeting, unit_a):
    response = _action(client_for(street_staff), reverse(MEETINGS), "export_attendance", [past_meeting])
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and unit_a.name in {r[4] for r in rows[1:]}


# --- Resolutions --------------------------------------------------------------------------------------


def test_mark_done_closes_the_open_resolutions(street_staff, past_meeting, unit_a):
    open_ = ResolutionFactory(meeting=past_meeting, owner=unit_a)
    response = _action(client_for(street_staff), reverse(RESOLUTIONS), "mark_done", [open_])
    assert response.status_code == 302
    open_.refresh_from_db()
    assert open_.status == Resolution.Status.DONE and open_.done_at is not None


def test_community_staff_cannot_mark_done_a_resolution_of_the_streets_meeting(
    community_x_staff, street_meeting, unit_a
):
    resolution = ResolutionFactory(meeting=street_meeting, owner=unit_a)
    response = _action(client_for(community_x_staff), reverse(RESOLUTIONS), "mark_done", [resolution])
    assert response.status_code == 302 and _messages(response)
    resolution.refresh_from_db()
    assert resolution.status == Resolution.Status.OPEN


def test_the_overdue_filter_finds_open_resolutions_past_due(street_staff, past_meeting, unit_a):
    late = ResolutionFactory(meeting=past_meeting, owner=unit_a, due_date=timezone.localdate() - timedelta(days=1))
    ResolutionFactory(meeting=past_meeting, owner=unit_a)
    done_late = ResolutionFactory(
        meeting=past_meeting, owner=unit_a, due_date=date(2020, 1, 1), status=Resolution.Status.DONE
    )
    shown = client_for(street_staff).get(reverse(RESOLUTIONS), {"overdue": "yes"}).context["cl"].result_list
    assert list(shown) == [late] and done_late not in shown


# --- Series -------------------------------------------------------------------------------------------


def test_plan_ahead_plans_the_occurrences_once(street_staff, community_x, unit_a):
    series = SeriesFactory(organiser=street_staff, community=community_x)
    series.invited_units.set([unit_a])
    client = client_for(street_staff)
    first = _action(client, reverse(SERIES), "plan_ahead", [series])
    planned = series.meetings.count()
    assert first.status_code == 302 and planned >= 6
    assert any(str(planned) in m for m in _messages(first))
    assert Invitation.objects.filter(meeting__series=series, unit=unit_a).count() == planned

    second = _action(client, reverse(SERIES), "plan_ahead", [series])
    assert series.meetings.count() == planned
    assert any("0" in m for m in _messages(second))


def test_adding_a_series_plans_its_meetings_right_away(community_x_staff, community_x, unit_a):
    response = client_for(community_x_staff).post(
        reverse("admin:meetings_meetingseries_add"),
        {
            "title": "桥头街社区大党委联席会议",
            "level": Level.COMMUNITY,
            "kind": "regular",
            "community": community_x.pk,
            "sector": "",
            "recurrence": MeetingSeries.Recurrence.MONTHLY,
            "day_of_month": 10,
            "start_time": "14:30",
            "duration_minutes": 90,
            "place": "桥头街社区党群服务站",
            "agenda": "居民需求梳理",
            "invited_units": [unit_a.pk],
            "starts_on": timezone.localdate().replace(day=1).isoformat(),
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    series = MeetingSeries.objects.get()
    assert series.organiser == community_x_staff
    assert series.meetings.count() >= 6
    assert all(m.community_id == community_x.pk for m in series.meetings.all())


def test_community_staff_cannot_add_a_street_series(community_x_staff):
    response = client_for(community_x_staff).post(
        reverse("admin:meetings_meetingseries_add"),
        {
            "title": "街道联席会议",
            "level": Level.STREET,
            "kind": "regular",
            "recurrence": MeetingSeries.Recurrence.QUARTERLY,
            "day_of_month": 15,
            "start_time": "09:00",
            "duration_minutes": 90,
            "place": "街道",
            "starts_on": timezone.localdate().replace(day=1).isoformat(),
            "is_active": "on",
        },
    )
    assert response.status_code == 302 and _messages(response)
    assert not MeetingSeries.objects.exists() and not JointMeeting.objects.exists()


# --- Attendance rates ---------------------------------------------------------------------------------


def test_the_attendance_rates_page_shows_each_units_rate_per_quarter(street_staff, unit_a, unit_b):
    # Two held meetings in the second quarter of 2025 (Asia/Shanghai): unit_a came to one of them.
    first = MeetingFactory(start=local(date(2025, 4, 15), time(9)), status=M.HELD)
    second = MeetingFactory(start=local(date(2025, 6, 15), time(9)), status=M.HELD)
    InvitationFactory(meeting=first, unit=unit_a, status=I.ATTENDED)
    InvitationFactory(meeting=second, unit=unit_a, status=I.ABSENT)
    InvitationFactory(meeting=second, unit=unit_b, status=I.ATTENDED)
    # Planned or cancelled meetings do not count.
    InvitationFactory(meeting=MeetingFactory(start=local(date(2025, 5, 1), time(9))), unit=unit_a)

    response = client_for(street_staff).get(reverse(RATES))
    (group,) = response.context["groups"]
    assert group["key"] == "2025-Q2"
    rows = {row["unit_id"]: row for row in group["rows"]}
    assert (rows[unit_a.pk]["invited"], rows[unit_a.pk]["attended"], rows[unit_a.pk]["percent"]) == (2, 1, 50.0)
    assert rows[unit_b.pk]["percent"] == 100.0
    assert "50.0%" in response.content.decode()


def test_community_staff_see_the_rates_of_their_units_only(community_x_staff, unit_a, unit_b):
    meeting = MeetingFactory(start=local(date(2025, 4, 15), time(9)), status=M.HELD)
    InvitationFactory(meeting=meeting, unit=unit_a, status=I.ATTENDED)
    InvitationFactory(meeting=meeting, unit=unit_b, status=I.ATTENDED)
    (group,) = client_for(community_x_staff).get(reverse(RATES)).context["groups"]
    assert [row["unit_id"] for row in group["rows"]] == [unit_a.pk]


# --- Query counts ---------------------------------------------------------------------------------------


def _meetings(n: int, community, street_staff) -> None:
    for _ in range(n):
        meeting = MeetingFactory(level=Level.COMMUNITY, community=community, organiser=street_staff)
        InvitationFactory(meeting=meeting, unit=MemberUnitFactory(community=community))
        ResolutionFactory(meeting=meeting, owner=MemberUnitFactory(community=community))
        Reminder.objects.create(kind=Reminder.Kind.MEETING_24H, meeting=meeting, recipient=street_staff)
        SeriesFactory(organiser=street_staff, community=community)


@pytest.mark.parametrize(
    ("who", "changelist"),
    [
        *((who, url) for who in ("street_staff", "community_x_staff") for url in (MEETINGS, SERIES, RESOLUTIONS)),
        ("street_staff", REMINDERS),  # the ledger is street staff's only
    ],
)
def test_changelist_query_counts_do_not_grow_with_rows(who, changelist, cast, community_x):
    client = client_for(cast[who])
    _meetings(2, community_x, cast["street_staff"])
    client.get(reverse(changelist))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(changelist)).status_code == 200
    _meetings(10, community_x, cast["street_staff"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(changelist))
    assert response.status_code == 200 and len(response.context["cl"].result_list) >= 12
    # session, user, groups, (community staff: their communities), the filters' choices (communities),
    # the date hierarchy, the counts, and one page of rows joined with what the columns show — the
    # meeting's community and its invitations counted in SQL; a series' community and its meetings
    # counted; a resolution's meeting and owner with `is_overdue` annotated; a reminder's meeting,
    # resolution, recipient and notification: none per row.
    assert len(many) == len(few)


def test_attendance_rates_page_query_count_does_not_grow_with_rows(street_staff, community_x):
    client = client_for(street_staff)
    _meetings(2, community_x, street_staff)
    JointMeeting.objects.update(status=M.HELD)
    client.get(reverse(RATES))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(RATES))
    _meetings(10, community_x, street_staff)
    JointMeeting.objects.update(status=M.HELD)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(RATES))
    assert sum(len(g["rows"]) for g in response.context["groups"]) == 12
    # session, user, groups, one grouped query for the rates.
    assert len(many) == len(few)


# Django's admin ignores a filter value it cannot use (the list is shown), or goes back to the list with
# its error flag (?e=1) for a lookup the database refuses.
SHOWN = (200, None)


def flagged(changelist: str) -> tuple[int, str]:
    return (302, reverse(changelist) + "?e=1")


@pytest.mark.parametrize(
    ("url", "params", "answer"),
    [
        (MEETINGS, {"community": "99999999999999999999"}, SHOWN),
        (MEETINGS, {"community": "abc"}, SHOWN),
        (MEETINGS, {"start__year": "abc"}, flagged(MEETINGS)),
        (MEETINGS, {"start__year": "20261", "start__month": "13"}, flagged(MEETINGS)),
        (MEETINGS, {"status__exact": "nonsense"}, SHOWN),
        (SERIES, {"community": "-1"}, SHOWN),
        (RESOLUTIONS, {"overdue": "maybe", "owner_community": "99999999999999999999"}, SHOWN),
        (RESOLUTIONS, {"due_date__year": "x"}, flagged(RESOLUTIONS)),
        (REMINDERS, {"recorded_at__month": "x"}, flagged(REMINDERS)),
    ],
)
def test_bad_filter_values_never_answer_500(url, params, answer, street_staff, meeting_x):
    response = client_for(street_staff).get(reverse(url), params)
    assert (response.status_code, response.get("Location")) == answer


@pytest.mark.parametrize("page", ["invite", "reschedule", "cancel"])
def test_pages_of_a_meeting_that_does_not_exist_are_404(page, street_staff):
    url = reverse(f"admin:meetings_jointmeeting_{page}", args=[999999])
    assert client_for(street_staff).get(url).status_code == 404

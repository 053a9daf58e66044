"""Series planning, attendance and its rates, resolutions carried to the next agenda (督办)."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from alliance.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from meetings import selectors, services
from meetings.models import Invitation, JointMeeting, MeetingSeries

from .factories import InvitationFactory, MeetingFactory, ResolutionFactory, SeriesFactory, local


def test_series_plans_its_occurrences_once_and_leaves_a_changed_one_alone(street_staff, unit_a, community_x):
    series = SeriesFactory(organiser=street_staff, community=community_x, day_of_month=10, start_time=time(14, 30))
    series.invited_units.set([unit_a])
    until = timezone.localdate().replace(day=1) + timedelta(days=100)
    planned = services.series_plan(series=series, until=until)
    assert len(planned) >= 3
    first = planned[0]
    assert timezone.localtime(first.start).time() == time(14, 30) and timezone.localtime(first.start).day == 10
    assert Invitation.objects.filter(meeting=first, unit=unit_a).exists()
    assert services.series_plan(series=series, until=until) == []

    moved_start = first.start + timedelta(days=2)
    services.meeting_reschedule(
        meeting=first, actor=street_staff, start=moved_start, end=moved_start + timedelta(hours=1)
    )
    assert services.series_plan(series=series, until=until) == []
    others = series.meetings.exclude(pk=first.pk)
    assert all(timezone.localtime(m.start).day == 10 for m in others)


def test_quarterly_series_plans_every_third_month(street_staff):
    series = SeriesFactory(organiser=street_staff, recurrence=MeetingSeries.Recurrence.QUARTERLY, level="street")
    start = timezone.localdate().replace(day=1)
    planned = services.series_plan(series=series, until=date(start.year + 1, start.month, 1))
    months = [(m.occurrence.year * 12 + m.occurrence.month) for m in planned]
    assert all(b - a == 3 for a, b in itertools.pairwise(months))
    # A quarter's meeting whose day (the 10th) has passed this month is not planned after the fact.
    assert len(planned) == (5 if timezone.localdate().day <= series.day_of_month else 4)


def test_attendance_rates_per_unit_and_quarter(unit_a, unit_b, street_staff):
    def held(day):
        start = local(day, time(9, 0))
        return MeetingFactory(start=start, end=start + timedelta(hours=1), status="held", organiser=street_staff)

    q1 = [held(date(2026, 1, 15)), held(date(2026, 2, 15)), held(date(2026, 3, 15))]
    for meeting, status in zip(q1, ["attended", "attended", "absent"], strict=True):
        InvitationFactory(meeting=meeting, unit=unit_a, status=status)
        InvitationFactory(meeting=meeting, unit=unit_b, status="attended")
    cancelled = MeetingFactory(status="cancelled", organiser=street_staff)
    InvitationFactory(meeting=cancelled, unit=unit_a, status="invited")
    rates = {(r["unit_id"], r["year"], r["quarter"]): r for r in selectors.attendance_rates()}
    assert rates[(unit_a.pk, 2026, 1)]["invited"] == 3 and rates[(unit_a.pk, 2026, 1)]["attended"] == 2
    assert rates[(unit_a.pk, 2026, 1)]["rate"] == pytest.approx(2 / 3)
    assert rates[(unit_b.pk, 2026, 1)]["rate"] == 1.0


def test_open_resolutions_stay_on_the_next_agenda_until_done(street_staff, unit_a):
    earlier = MeetingFactory(
        start=timezone.now() - timedelta(days=90), end=timezone.now() - timedelta(days=90, hours=-1)
    )
    later = MeetingFactory(start=timezone.now() - timedelta(days=10), end=timezone.now() - timedelta(days=10, hours=-1))
    nxt = MeetingFactory(start=timezone.now() + timedelta(days=20))
    open_one = ResolutionFactory(meeting=earlier, owner=unit_a, due_date=timezone.localdate() - timedelta(days=5))
    done_one = ResolutionFactory(meeting=earlier, owner=unit_a, status="done")
    recent = ResolutionFactory(meeting=later, owner=unit_a)
    carried = list(selectors.carried_resolutions(meeting=nxt))
    assert carried == [open_one, recent]
    assert carried[0].is_overdue and not carried[1].is_overdue
    assert done_one not in carried
    services.resolution_done(resolution=open_one, actor=street_staff)
    assert list(selectors.carried_resolutions(meeting=nxt)) == [recent]
    community = MeetingFactory(level="community", start=timezone.now() + timedelta(days=20))
    assert list(selectors.carried_resolutions(meeting=community)) == []


def test_answering_and_recording_attendance(meeting_at_nine, unit_a, liaison_a, liaison_b, street_staff):
    invitation = services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="declined", actor=liaison_a)
    assert invitation.status == "declined"
    with pytest.raises(PermissionDenied):
        services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="attended", actor=liaison_a)
    with pytest.raises(TransitionNotAllowed):  # the meeting has not begun
        services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="attended", actor=street_staff)
    from django.http import Http404

    with pytest.raises(Http404):
        services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="confirmed", actor=liaison_b)
    JointMeeting.objects.filter(pk=meeting_at_nine.pk).update(
        start=timezone.now() - timedelta(hours=1), end=timezone.now() + timedelta(hours=1)
    )
    meeting_at_nine.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="confirmed", actor=liaison_a)
    assert (
        services.attendance_set(meeting=meeting_at_nine, unit=unit_a, status="attended", actor=street_staff).status
        == "attended"
    )


def test_minutes_only_after_the_meeting_and_not_for_a_cancelled_one(meeting_at_nine, street_staff):
    with pytest.raises(TransitionNotAllowed):
        services.minutes_record(meeting=meeting_at_nine, actor=street_staff, minutes="纪要")
    with pytest.raises(InvalidInput):
        services.minutes_record(meeting=meeting_at_nine, actor=street_staff, minutes="  ")
    past = MeetingFactory(start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=1))
    meeting = services.minutes_record(meeting=past, actor=street_staff, minutes="会议议定三项事项")
    assert meeting.status == "held" and meeting.minutes_written_at


def test_moving_and_cancelling_need_a_planned_meeting_and_staff(meeting_at_nine, liaison_a, street_staff):
    start = meeting_at_nine.start + timedelta(days=1)
    with pytest.raises(PermissionDenied):
        services.meeting_reschedule(
            meeting=meeting_at_nine, actor=liaison_a, start=start, end=start + timedelta(hours=1)
        )
    with pytest.raises(InvalidInput):
        services.meeting_reschedule(meeting=meeting_at_nine, actor=street_staff, start=start, end=start)
    services.meeting_cancel(meeting=meeting_at_nine, actor=street_staff, reason="改期")
    with pytest.raises(TransitionNotAllowed):
        services.meeting_reschedule(
            meeting=meeting_at_nine, actor=street_staff, start=start, end=start + timedelta(hours=1)
        )
    with pytest.raises(TransitionNotAllowed):
        services.meeting_cancel(meeting=meeting_at_nine, actor=street_staff, reason="again")

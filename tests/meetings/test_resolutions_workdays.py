"""Resolutions on working days (alliance.workdays): a due date on a day off falls due on the next working
day — for the owner's reminders, the overdue flag and "done on time" in the assessment. Spring Festival
2026: 15–23 February off, Saturday 14 February worked."""

from __future__ import annotations

from datetime import date, time

import pytest

from alliance import workdays
from alliance.periods import Quarter
from meetings import selectors, services
from meetings.models import Reminder

from ..conftest import client_for
from .factories import MeetingFactory, ResolutionFactory, local

pytestmark = pytest.mark.usefixtures("china_calendar")

HOLIDAY_SUNDAY = date(2026, 2, 22)  # its deadline: Tuesday 24 February


def _kinds() -> list[str]:
    return sorted(Reminder.objects.values_list("kind", flat=True))


def test_the_owner_is_reminded_three_working_days_before_and_on_the_working_day_it_falls_due(unit_a, liaison_a):
    ResolutionFactory(meeting=MeetingFactory(minutes="会议纪要"), owner=unit_a, due_date=HOLIDAY_SUNDAY)
    # Wednesday 11: the next three working days are 12, 13 and the make-up Saturday 14.
    assert services.reminders_send_due(now=local(date(2026, 2, 11), time(9))) == 0
    # Thursday 12: Friday 13, Saturday 14 and Tuesday 24 are the three working days left.
    assert services.reminders_send_due(now=local(date(2026, 2, 12), time(8))) == 1
    assert _kinds() == ["resolution_3d"]
    # Nothing on the due date itself, a holiday; the "due today" reminder comes on Tuesday 24.
    assert services.reminders_send_due(now=local(HOLIDAY_SUNDAY, time(9))) == 0
    assert services.reminders_send_due(now=local(date(2026, 2, 24), time(7, 59))) == 0
    assert services.reminders_send_due(now=local(date(2026, 2, 24), time(8))) == 1
    assert _kinds() == ["resolution_3d", "resolution_due"]


def test_a_resolution_due_on_a_holiday_is_overdue_only_after_the_next_working_day(street_staff, unit_a, time_machine):
    late = ResolutionFactory(owner=unit_a, due_date=date(2026, 2, 13))
    holiday = ResolutionFactory(owner=unit_a, due_date=HOLIDAY_SUNDAY)
    client = client_for(street_staff)
    time_machine.move_to(local(date(2026, 2, 24), time(17)))
    rows = client.get("/api/v1/resolutions/", {"overdue": "true"}).json()["results"]
    assert [(row["id"], row["overdue"]) for row in rows] == [(late.pk, True)]
    time_machine.move_to(local(date(2026, 2, 25), time(9)))
    rows = client.get("/api/v1/resolutions/", {"overdue": "true"}).json()["results"]
    assert sorted(row["id"] for row in rows) == sorted([late.pk, holiday.pk])
    assert selectors.overdue_before(date(2026, 2, 25)) == date(2026, 2, 25)
    assert selectors.overdue_before(date(2026, 2, 24)) == date(2026, 2, 15)


def test_done_on_the_working_day_after_a_holiday_due_date_counts_as_on_time(unit_a):
    on_time = ResolutionFactory(owner=unit_a, due_date=HOLIDAY_SUNDAY, status="done")
    late = ResolutionFactory(owner=unit_a, due_date=date(2026, 2, 13), status="done")
    on_time.done_at = local(date(2026, 2, 24), time(16))
    late.done_at = local(date(2026, 2, 14), time(9))  # the make-up Saturday after a Friday due date
    for resolution in (on_time, late):
        resolution.save()
    rows = list(selectors.unit_quarter_resolutions(street_id=unit_a.community.street_id, quarter=Quarter(2026, 1)))
    assert rows == [{"owner_id": unit_a.pk, "due": 2, "done_on_time": 1}]


def test_the_deadline_expression_has_one_branch_per_run_of_days_off(db):
    # The first quarter of 2026: 13 weekends, New Year's 1–3 January (with the Sunday 4 worked) and the
    # Spring Festival — the three days of New Year join no weekend, the festival swallows its weekends.
    runs = workdays.days_off_runs(date(2026, 1, 1), date(2026, 3, 31))
    assert runs[0] == (date(2026, 1, 1), date(2026, 1, 3))
    assert (date(2026, 2, 15), date(2026, 2, 23)) in runs
    assert len(selectors.deadline_of_due_date(date(2026, 1, 1), date(2026, 3, 31)).cases) == len(runs)

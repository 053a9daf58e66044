"""The needs' service-level clock on working days (alliance.workdays): 2 working days to dispatch and to
accept, 7 working days to complete "on time" — around the Spring Festival of 2026 (15–23 February off,
Saturday 14 February worked), and with a staff override."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db.models import Q

from alliance import workdays
from alliance.periods import ZONE, Quarter
from demands import indicators, selectors, services
from demands.models import Need, NeedSlaFlag

from ..conftest import client_for
from .factories import NeedFactory

pytestmark = pytest.mark.usefixtures("china_calendar")


def at(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=ZONE)


def _backdate(need: Need, **fields) -> None:
    Need.objects.filter(pk=need.pk).update(**fields)


def _overdue_ids(user) -> set[int]:
    return {need.pk for need in selectors.needs_visible_to(user=user) if need.is_overdue}


def test_a_need_submitted_before_the_holiday_is_overdue_only_after_two_working_days(
    community_x, community_x_staff, street_staff, time_machine
):
    need = NeedFactory(community=community_x)
    _backdate(need, submitted_at=at(2, 13, 10, 0))  # Friday before the Spring Festival
    # Calendar days would have flagged it on Sunday 15; the make-up Saturday is its first working day, the
    # Tuesday after the holiday its second.
    for moment in (at(2, 15, 11), at(2, 20, 12), at(2, 24, 9, 59)):
        time_machine.move_to(moment)
        assert _overdue_ids(street_staff) == set()
        assert services.needs_flag_overdue() == 0
    assert selectors.due_at(Need.objects.get(pk=need.pk)) == at(2, 24, 10, 0)
    time_machine.move_to(at(2, 24, 10, 1))
    assert _overdue_ids(street_staff) == {need.pk}
    assert services.needs_flag_overdue() == 1
    assert NeedSlaFlag.objects.get().stage == NeedSlaFlag.Stage.DISPATCH
    # The admin's "overdue" filter and the API's say the same.
    listed = client_for(street_staff).get("/api/v1/needs/", {"overdue": "true"}).json()["results"]
    assert [(row["id"], row["overdue"]) for row in listed] == [(need.pk, True)]


def test_the_make_up_saturday_counts_for_a_dispatched_need(community_x, unit_a, street_staff, time_machine):
    need = NeedFactory(community=community_x, status=Need.Status.DISPATCHED, unit=unit_a)
    _backdate(need, submitted_at=at(2, 11, 9), dispatched_at=at(2, 12, 15, 0))  # Thursday 15:00
    time_machine.move_to(at(2, 14, 14, 59))  # the make-up Saturday, second working day
    assert _overdue_ids(street_staff) == set()
    time_machine.move_to(at(2, 14, 15, 1))
    assert _overdue_ids(street_staff) == {need.pk}
    assert services.needs_flag_overdue() == 1
    assert NeedSlaFlag.objects.get().stage == NeedSlaFlag.Stage.ACCEPT


def test_a_staff_override_moves_the_deadline(
    community_x, street_staff, time_machine, django_capture_on_commit_callbacks
):
    need = NeedFactory(community=community_x)
    _backdate(need, submitted_at=at(2, 13, 10, 0))
    # The street stays closed on Tuesday 24 (a local day off): the deadline moves to Wednesday.
    workdays.override_save(day=date(2026, 2, 24), is_working_day=False, note="街道调休", actor=street_staff)
    time_machine.move_to(at(2, 24, 10, 1))
    assert _overdue_ids(street_staff) == set()
    time_machine.move_to(at(2, 25, 10, 1))
    assert _overdue_ids(street_staff) == {need.pk}
    # And a Sunday worked instead makes an earlier one overdue sooner.
    sunday = NeedFactory(community=community_x)
    _backdate(sunday, submitted_at=at(3, 5, 16, 0))  # Thursday: due Monday 16:00, or Sunday if it is worked
    time_machine.move_to(at(3, 8, 17))
    assert sunday.pk not in _overdue_ids(street_staff)
    with django_capture_on_commit_callbacks(execute=True):  # the caches are dropped when the write commits
        workdays.override_save(day=date(2026, 3, 8), is_working_day=True, note="志愿服务日", actor=street_staff)
    assert sunday.pk in _overdue_ids(street_staff)


def test_the_work_queue_orders_by_working_day_deadline_on_its_index(community_x, unit_a, street_staff, time_machine):
    """The queue sorts on the clock's start (need_queue_idx); a later start never has an earlier working-day
    deadline, so the order is the deadlines' order even across the holiday."""
    time_machine.move_to(at(2, 25, 9))
    before = NeedFactory(community=community_x)
    _backdate(before, submitted_at=at(2, 13, 18))  # due 24 Feb 18:00
    holiday = NeedFactory(community=community_x)
    _backdate(holiday, submitted_at=at(2, 17, 12))  # on a holiday: due 26 Feb 00:00
    dispatched = NeedFactory(community=community_x, status=Need.Status.DISPATCHED, unit=unit_a)
    _backdate(dispatched, submitted_at=at(2, 1), dispatched_at=at(2, 24, 8))  # due 26 Feb 08:00
    queue = list(selectors.need_queue(user=street_staff))
    assert queue == [before, holiday, dispatched]
    assert [selectors.due_at(n) for n in queue] == [at(2, 24, 18), at(2, 26), at(2, 26, 8)]
    assert [n.is_overdue for n in queue] == [True, False, False]


def test_completion_on_time_counts_seven_working_days_in_the_assessment(community_x, unit_a, liaison_a, time_machine):
    # Dispatched on the Friday before the holiday: 7 working days end on Monday 2 March at 10:00 (the two
    # make-up Saturdays count, the nine days off do not).
    time_machine.move_to(at(2, 12, 9))  # submitted in the quarter
    kept, late, old = (
        NeedFactory(community=community_x, status=Need.Status.ACCEPTED, unit=unit_a, dispatched_at=at(2, 13, 10))
        for _ in range(3)
    )
    time_machine.move_to(at(3, 2, 9, 59))
    services.need_complete(need=kept, actor=liaison_a, result="已修好")
    time_machine.move_to(at(3, 2, 10, 1))
    services.need_complete(need=late, actor=liaison_a, result="已修好")
    # A need written by a bulk path (no decision stored) is judged by calendar days: within 7 days here.
    _backdate(old, status=Need.Status.COMPLETED, completed_at=at(2, 19))
    assert dict(Need.objects.values_list("pk", "completed_in_time")) == {kept.pk: True, late.pk: False, old.pk: None}
    street_id = community_x.street_id
    assert indicators.needs_on_time(street_id, Quarter(2026, 1)) == {unit_a.pk: Decimal("0.6667")}
    figures = selectors.report_need_figures(street_id=street_id, quarter=Quarter(2026, 1))
    assert (figures["completed"], figures["completed_on_time"]) == (3, 2)
    on_time = dict(selectors.report_needs(street_id=street_id, quarter=Quarter(2026, 1)).values_list("pk", "on_time"))
    assert on_time == {kept.pk: True, late.pk: False, old.pk: True}


def test_the_overdue_filter_is_one_range_on_the_clocks_start(db, time_machine):
    """The calendar is read in Python, once per query: the database sees one cutoff moment (the index
    need_open_queue_idx serves it; tests/alliance/test_query_plans.py checks the plans at scale)."""
    time_machine.move_to(at(2, 24, 10, 1))
    assert selectors.overdue_q() == Q(waiting_since__lt=at(2, 13, 10, 1))

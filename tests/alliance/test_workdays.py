"""The working-day calendar (alliance.workdays): the official schedule with its make-up days (调休), the
fallback for a year the calendar package does not know, staff overrides, and the caches' invalidation."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from alliance import workdays
from alliance.models import WorkdayOverride
from alliance.periods import ZONE

from ..conftest import client_for

pytestmark = pytest.mark.usefixtures("china_calendar")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZONE)


# --- The official schedule ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_spring_festival_2026_holidays_are_days_off_and_its_make_up_saturdays_are_working_days():
    # 春节 2026: 15–23 February off; Saturday 14 and Saturday 28 February are worked (调休).
    assert all(not workdays.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert workdays.is_working_day(date(2026, 2, 13))  # Friday before
    assert workdays.is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert workdays.is_working_day(date(2026, 2, 24))  # Tuesday after
    assert workdays.is_working_day(date(2026, 2, 28))  # make-up Saturday
    assert not workdays.is_working_day(date(2026, 3, 1))  # an ordinary Sunday
    assert workdays.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


@pytest.mark.django_db
def test_spring_festival_2025_holidays_and_the_make_up_sunday_and_saturday():
    # 春节 2025: 28 January – 4 February off; Sunday 26 January and Saturday 8 February worked.
    assert all(not workdays.is_working_day(date(2025, 1, 28) + timedelta(days=i)) for i in range(8))
    assert workdays.is_working_day(date(2025, 1, 26))
    assert workdays.is_working_day(date(2025, 2, 8))
    assert not workdays.is_working_day(date(2025, 2, 9))
    assert workdays.next_working_day(date(2025, 1, 27)) == date(2025, 2, 5)


@pytest.mark.django_db
def test_a_two_working_day_clock_started_before_the_spring_festival_runs_out_after_it():
    friday = at(2026, 2, 13, 10, 0)
    assert workdays.add_working_days(friday, 1) == at(2026, 2, 14, 10, 0)  # the make-up Saturday
    assert workdays.add_working_days(friday, 2) == at(2026, 2, 24, 10, 0)
    # Started on a holiday: the clock starts at 00:00 of the first working day after it.
    assert workdays.add_working_days(at(2026, 2, 17, 15, 30), 0) == at(2026, 2, 24)
    assert workdays.add_working_days(at(2026, 2, 17, 15, 30), 2) == at(2026, 2, 26)
    # A moment in UTC is read on the Shanghai clock: 16:30 UTC on the 13th is 00:30 on the 14th there.
    assert workdays.add_working_days(datetime(2026, 2, 13, 16, 30, tzinfo=UTC), 1) == at(2026, 2, 24, 0, 30)


@pytest.mark.django_db
def test_the_cutoff_says_overdue_exactly_when_the_deadline_has_passed():
    """`s < clock_cutoff(now, n)` ⟺ `add_working_days(s, n) < now`, over the Spring Festival weeks, at whole
    and odd minutes, at midnights and on days off."""
    rng = random.Random(14)
    base = at(2026, 2, 1)
    moments = [base + timedelta(minutes=rng.randrange(0, 40 * 24 * 60)) for _ in range(300)]
    moments += [at(2026, 2, d) for d in range(10, 28)]  # midnights, working days and holidays
    for n in (0, 1, 2, 3):
        for now in moments[::7]:
            cutoff = workdays.clock_cutoff(now, n)
            for start in moments:
                assert (start < cutoff) == (workdays.add_working_days(start, n) < now), (start, now, n)


@pytest.mark.django_db
def test_deadlines_on_a_day_off_move_to_the_next_working_day_and_runs_of_days_off():
    assert workdays.deadline_day(date(2026, 2, 13)) == date(2026, 2, 13)
    assert workdays.deadline_day(date(2026, 2, 15)) == date(2026, 2, 24)
    assert workdays.days_off_runs(date(2026, 2, 10), date(2026, 2, 20)) == [(date(2026, 2, 15), date(2026, 2, 23))]
    assert workdays.working_day_after(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert workdays.working_day_before(date(2026, 2, 24), 2) == date(2026, 2, 13)


# --- A year the package does not know ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_year_the_package_does_not_know_counts_monday_to_friday_and_logs_once(caplog):
    assert not workdays.is_official_year(2099)
    assert workdays.is_official_year(2026)
    workdays._warned.discard(2099)
    with caplog.at_level(logging.WARNING, logger="alliance.workdays"):
        assert workdays.is_working_day(date(2099, 1, 1))  # a Thursday: no holiday known
        assert not workdays.is_working_day(date(2099, 1, 3))  # Saturday
        workdays.forget_here()  # even read again, the year is reported once per process
        assert workdays.add_working_days(at(2099, 1, 2, 9), 2) == at(2099, 1, 6, 9)  # Fri → Tue
    assert [r.getMessage() for r in caplog.records].count(
        "workdays: no official holiday schedule for 2099; counting Monday to Friday plus staff overrides"
    ) == 1


@pytest.mark.django_db
def test_overrides_fill_in_a_year_the_package_does_not_know(street_staff):
    workdays.override_save(day=date(2099, 1, 1), is_working_day=False, note="元旦", actor=street_staff)
    workdays.override_save(day=date(2099, 1, 4), is_working_day=True, note="调休上班", actor=street_staff)
    assert not workdays.is_working_day(date(2099, 1, 1))
    assert workdays.is_working_day(date(2099, 1, 4))  # a Sunday
    assert workdays.working_days_between(date(2098, 12, 31), date(2099, 1, 5)) == 3  # 2, 4, 5 January


# --- Staff overrides ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_override_changes_the_answer_at_once_and_is_kept_in_history(street_staff):
    friday = date(2026, 2, 13)
    assert workdays.add_working_days(at(2026, 2, 12, 10), 2) == at(2026, 2, 14, 10)
    override = workdays.override_save(day=friday, is_working_day=False, note="街道停电", actor=street_staff)
    assert not workdays.is_working_day(friday)
    assert workdays.add_working_days(at(2026, 2, 12, 10), 2) == at(2026, 2, 24, 10)
    # A second word on the same day replaces the first.
    workdays.override_save(day=friday, is_working_day=True, note="恢复上班", actor=street_staff)
    assert WorkdayOverride.objects.get().note == "恢复上班"
    assert workdays.is_working_day(friday)
    workdays.override_delete(override=override, actor=street_staff)
    assert not WorkdayOverride.objects.exists()
    assert workdays.is_working_day(friday)
    kinds = list(override.history.order_by("history_id").values_list("history_type", "history_user__username"))
    assert kinds == [("+", "street_staff"), ("~", "street_staff"), ("-", "street_staff")]


@pytest.mark.django_db
def test_only_street_staff_change_the_calendar(community_x_staff, liaison_a):
    for actor in (community_x_staff, liaison_a):
        with pytest.raises(PermissionDenied):
            workdays.override_save(day=date(2026, 3, 2), is_working_day=False, actor=actor)
    assert not WorkdayOverride.objects.exists()
    assert workdays.is_working_day(date(2026, 3, 2))


@pytest.mark.django_db
def test_other_processes_drop_their_copy_when_the_shared_version_changes(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(workdays.monotonic_time, "monotonic", lambda: clock[0])
    workdays.forget_here()
    day = date(2026, 3, 2)
    assert workdays.is_working_day(day)
    # Another process writes an override: its row, and a new version in the shared cache.
    WorkdayOverride.objects.create(day=day, is_working_day=False)
    cache.set(workdays.VERSION_KEY, uuid.uuid4().hex, None)
    assert workdays.is_working_day(day)  # this process checked the version a moment ago
    clock[0] += workdays.CHECK_EVERY + 1
    assert not workdays.is_working_day(day)


@pytest.mark.django_db
def test_without_the_shared_cache_a_process_reloads_after_max_age(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(workdays.monotonic_time, "monotonic", lambda: clock[0])

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    workdays.forget_here()
    day = date(2026, 3, 3)
    assert workdays.is_working_day(day)
    monkeypatch.setattr(workdays.cache, "get", unreachable)
    WorkdayOverride.objects.create(day=day, is_working_day=False)
    clock[0] += workdays.CHECK_EVERY + 1
    assert workdays.is_working_day(day)  # nothing says it changed yet
    clock[0] += workdays.MAX_AGE
    assert not workdays.is_working_day(day)


# --- The admin screen --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_street_staff_add_a_local_day_off_in_the_admin_and_community_staff_cannot(
    street_staff, community_x_staff, time_machine
):
    time_machine.move_to(at(2098, 6, 1, 9))  # neither 2098 nor 2099 is in the package
    client = client_for(street_staff)
    page = client.get(reverse("admin:alliance_workdayoverride_changelist"))
    assert page.status_code == 200
    warnings = [str(m) for m in page.context["messages"]]
    assert len(warnings) == 2 and "2098" in warnings[0] and "2099" in warnings[1]
    response = client.post(
        reverse("admin:alliance_workdayoverride_add"),
        {"day": "2098-06-02", "is_working_day": "", "note": "社区活动日"},
    )
    assert response.status_code == 302
    assert not workdays.is_working_day(date(2098, 6, 2))
    assert WorkdayOverride.objects.get().history.get().history_user == street_staff
    # The same day again: a form error, nothing changed.
    again = client.post(reverse("admin:alliance_workdayoverride_add"), {"day": "2098-06-02", "is_working_day": "on"})
    assert again.status_code == 200 and again.context["adminform"].form.errors["day"]
    assert not workdays.is_working_day(date(2098, 6, 2))
    assert client_for(community_x_staff).get(reverse("admin:alliance_workdayoverride_changelist")).status_code == 403


@pytest.mark.django_db
def test_the_overrides_list_costs_the_same_queries_for_3_and_30_rows(street_staff, django_assert_num_queries):
    client = client_for(street_staff)
    url = reverse("admin:alliance_workdayoverride_changelist")
    client.get(url)  # warm the caches (content types, the user's groups, the session)
    for size in (3, 30):
        WorkdayOverride.objects.all().delete()
        WorkdayOverride.objects.bulk_create(
            WorkdayOverride(day=date(2026, 3, 2) + timedelta(days=i), is_working_day=False) for i in range(size)
        )
        # 1 the user, 2 the capped count, 3 the page of rows, 4 the unread notifications (the inbox badge).
        with django_assert_num_queries(4):
            assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_with_several_streets_one_streets_staff_cannot_move_every_streets_calendar(
    street_staff, root, django_capture_on_commit_callbacks
):
    """The calendar is one for the platform: the staff of one street among several (迎泽街道's here) would
    move 柳巷街道's service-level clocks too. Staff who run every street still change it."""
    from members import services as member_services
    from members.models import Street

    from ..factories import UserFactory

    yingze = Street.objects.create(name="迎泽街道")
    yingze_staff = UserFactory(username="yingze_staff")
    member_services.street_staff_add(user=yingze_staff, street=yingze, actor=root)
    with pytest.raises(PermissionDenied) as refused:
        workdays.override_save(day=date(2026, 3, 2), is_working_day=False, actor=yingze_staff)
    assert "工作日历由所有街道共用" in str(refused.value)
    client = client_for(yingze_staff)
    assert client.get(reverse("admin:alliance_workdayoverride_changelist")).status_code == 200  # they read it
    assert (
        client.post(
            reverse("admin:alliance_workdayoverride_add"), {"day": "2026-03-02", "is_working_day": ""}
        ).status_code
        == 403
    )
    assert not WorkdayOverride.objects.exists() and workdays.is_working_day(date(2026, 3, 2))

    (liuxiang,) = Street.objects.exclude(pk=yingze.pk)  # street_staff's
    member_services.street_staff_add(user=yingze_staff, street=liuxiang, actor=root)
    runs_both = type(yingze_staff).objects.get(pk=yingze_staff.pk)
    with django_capture_on_commit_callbacks(execute=True):
        workdays.override_save(day=date(2026, 3, 2), is_working_day=False, actor=runs_both)
    assert not workdays.is_working_day(date(2026, 3, 2))

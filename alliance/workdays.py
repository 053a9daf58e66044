"""Working days (工作日) of mainland China: the clock of every service level the platform keeps — needs
dispatched and accepted within 2 working days, resolutions' reminders before their due date, "on time" in
the units' assessment.

- The official schedule comes from the `chinesecalendar` package (module `chinese_calendar`): the State
  Council's holidays and their make-up working days (调休) for each year it knows. The schedule of a year is
  published late the year before, so the package may not know a year yet: such a year falls back to
  Monday–Friday (logged once per process and year) instead of raising — a clock must never stop the site.
- Staff overrides (`WorkdayOverride`, street staff in the admin — with several streets, only staff who run
  every street, since the calendar is one for all) win over both: a local day off, a make-up
  day, or next year's official schedule typed in before the package knows it.
- Days are read on the Asia/Shanghai clock, whatever the server's or the request's time zone.
- Each year's days off are computed once per process. Writing an override drops them at once in the
  writing process and, through a version in the shared cache, in every other process within CHECK_EVERY
  seconds (or MAX_AGE when the cache cannot be reached).

A clock counts working time only. `add_working_days(moment, n)` is the same time of day on the n-th
working day after the moment's day; a moment on a day off starts the clock at 00:00 of the next working
day. A need submitted on Friday 13 February 2026 at 10:00 — the Saturday after is the Spring Festival's
make-up day, then nine days off — is due on Saturday 14 at 10:00 after one working day, and on Tuesday 24
at 10:00 after two. The function never decreases as its start moves later: that is what lets one index on
the clock's start order the needs by their due time (demands.selectors.QUEUE_ORDER)."""

from __future__ import annotations

import logging
import threading
import time as monotonic_time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import history, permissions
from .models import WorkdayOverride
from .periods import ZONE

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
# How often a process asks the shared cache whether an override changed, and how long it trusts its own
# copy when the cache cannot be reached.
CHECK_EVERY = 5.0
MAX_AGE = 300.0
VERSION_KEY = "alliance:workdays:version"
# The longest official break is nine days (Spring Festival 2026); a search for a working day that walks
# further than this met a calendar with every day marked off by mistake, and stops rather than hang.
SEARCH_LIMIT = 400

_lock = threading.Lock()
_years: dict[int, frozenset[date]] = {}
_warned: set[int] = set()
_state: dict[str, object] = {"version": None, "checked": float("-inf"), "loaded": float("-inf")}


# --- The calendar of a year -------------------------------------------------------------------------


def _year_days(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += DAY


def official_days_off(year: int) -> frozenset[date] | None:
    """The year's days off by the State Council's schedule (weekends, holidays, less the make-up working
    days), or None when the calendar package does not know the year."""
    try:
        import chinese_calendar
    except ImportError:  # a missing dependency degrades to the fallback like an unknown year
        return None
    try:
        return frozenset(day for day in _year_days(year) if not chinese_calendar.is_workday(day))
    except NotImplementedError:  # "no available data for year …"
        return None


def is_official_year(year: int) -> bool:
    """Whether the official schedule of `year` is known (otherwise: weekends and the overrides only)."""
    return official_days_off(year) is not None


def _load_year(year: int) -> frozenset[date]:
    days = official_days_off(year)
    if days is None:
        if year not in _warned:
            _warned.add(year)
            logger.warning(
                "workdays: no official holiday schedule for %s; counting Monday to Friday plus staff overrides",
                year,
            )
        days = frozenset(day for day in _year_days(year) if day.weekday() >= 5)
    off = set(days)
    overrides = WorkdayOverride.objects.filter(day__gte=date(year, 1, 1), day__lte=date(year, 12, 31))
    for day, working in overrides.values_list("day", "is_working_day"):
        if working:
            off.discard(day)
        else:
            off.add(day)
    return frozenset(off)


def _refresh() -> None:
    """Forget the cached years when another process wrote an override (or when they are MAX_AGE old and
    the shared cache cannot say)."""
    now = monotonic_time.monotonic()
    if now - _state["checked"] < CHECK_EVERY:
        return
    _state["checked"] = now
    try:
        version = cache.get(VERSION_KEY)
    except Exception:  # the cache is down: keep what we have, up to MAX_AGE
        version = _state["version"]
    if version != _state["version"] or now - _state["loaded"] > MAX_AGE:
        with _lock:
            _years.clear()
            _state["version"], _state["loaded"] = version, now


def days_off(year: int) -> frozenset[date]:
    """The days of `year` nobody works: official schedule (or the weekend fallback) with the overrides."""
    _refresh()
    days = _years.get(year)
    if days is None:
        days = _load_year(year)
        with _lock:
            _years[year] = days
    return days


def forget_here() -> None:
    """Drop this process's cached years (they are read again on the next question)."""
    with _lock:
        _years.clear()
        _state["checked"], _state["loaded"] = float("-inf"), monotonic_time.monotonic()


def forget() -> None:
    """Drop the cached years here and tell the other processes to drop theirs (after an override changed).
    A cache outage must not fail the staff member's write: the others then catch up within MAX_AGE."""
    forget_here()
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("workdays: could not tell other processes that an override changed", exc_info=True)


# --- Days ------------------------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    if isinstance(day, datetime):
        day = timezone.localtime(day, ZONE).date()
    return day not in days_off(day.year)


def _walk(day: date, step: timedelta) -> Iterator[date]:
    for _i in range(SEARCH_LIMIT):
        day += step
        yield day
    logger.error("workdays: no working day within %s days of %s; check the overrides", SEARCH_LIMIT, day)


def next_working_day(day: date, *, include: bool = False) -> date:
    """The first working day after `day` (or `day` itself when `include` and it is one)."""
    if include and is_working_day(day):
        return day
    last = day
    for last in _walk(day, DAY):
        if is_working_day(last):
            return last
    return last


def previous_working_day(day: date, *, include: bool = False) -> date:
    """The last working day before `day` (or `day` itself when `include` and it is one)."""
    if include and is_working_day(day):
        return day
    last = day
    for last in _walk(day, -DAY):
        if is_working_day(last):
            return last
    return last


def working_day_after(day: date, n: int) -> date:
    """The n-th working day after `day` (n ≥ 0; 0 is `day` itself, whatever it is)."""
    for _i in range(n):
        day = next_working_day(day)
    return day


def working_day_before(day: date, n: int) -> date:
    """The n-th working day before `day` (n ≥ 0; 0 is `day` itself, whatever it is)."""
    for _i in range(n):
        day = previous_working_day(day)
    return day


def working_days_between(a: date, b: date) -> int:
    """How many working days come after `a` up to and including `b` (Monday → Wednesday of a plain week:
    2); negative when `b` is before `a`."""
    if b < a:
        return -working_days_between(b, a)
    count, day = 0, a + DAY
    while day <= b:
        # Whole years at a time: a span of years costs a set lookup per day off, not a call per day.
        year_end = min(b, date(day.year, 12, 31))
        off = sum(1 for d in days_off(day.year) if day <= d <= year_end)
        count += (year_end - day).days + 1 - off
        day = year_end + DAY
    return count


def deadline_day(day: date) -> date:
    """The day a deadline that falls on `day` really ends: `day`, or the first working day after it when it
    is a day off (民法典 art. 203: a period whose last day is a holiday ends on the day after the holiday)."""
    return next_working_day(day, include=True)


def days_off_runs(first: date, last: date) -> list[tuple[date, date]]:
    """The runs of consecutive days off that touch [first, last], each as (its first day, its last day),
    in order: what a query needs to move deadlines off holidays in SQL (a few ranges, not a row per day)."""
    runs: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if is_working_day(day):
            day += DAY
            continue
        start = previous_working_day(day) + DAY
        end = next_working_day(day) - DAY
        runs.append((start, end))
        day = end + DAY
    return runs


# --- Moments ---------------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE)


def add_working_days(moment: datetime, n: int) -> datetime:
    """When a clock of `n` working days started at `moment` runs out (Asia/Shanghai): the same time of day
    on the n-th working day after the moment's day; from 00:00 of the next working day when the moment
    falls on a day off. n = 0 gives the moment the clock really starts."""
    if n < 0:
        raise ValueError("add_working_days counts forward only")
    local = timezone.localtime(moment, ZONE)
    day = local.date()
    if is_working_day(day):
        start = local
    else:
        day = next_working_day(day)
        start = _midnight(day)
    # Asia/Shanghai keeps no daylight saving time: whole days keep the time of day.
    return start + (working_day_after(day, n) - day)


def clock_cutoff(now: datetime, n: int) -> datetime:
    """The start before which a clock of `n` working days has run out at `now`: a clock that started at
    `s` is overdue exactly when `s < clock_cutoff(now, n)`, i.e. when `add_working_days(s, n) < now`. One
    moment per query, so "overdue" stays a range on the clock's start (an index), not a function of each
    row."""
    if n < 0:
        raise ValueError("clock_cutoff counts back only")
    local = timezone.localtime(now, ZONE)
    day = local.date()
    if is_working_day(day) and local.time() > time(0):
        anchor, offset = day, local - _midnight(day)
    else:
        # At 00:00 or on a day off, the working time so far ends with the last working day before.
        anchor, offset = previous_working_day(day), DAY
    return _midnight(working_day_before(anchor, n)) + offset


# --- Staff overrides (writes) ----------------------------------------------------------------------


def _require_street_staff(actor) -> None:
    # One calendar for the whole platform: with several streets, only staff who run all of them change it.
    if not permissions.is_street_staff(actor):
        raise PermissionDenied(_("Only street staff change the working-day calendar."))
    if not permissions.can_add(actor, WorkdayOverride):
        raise PermissionDenied(
            _("The working-day calendar is shared by every street: only staff who run every street change it.")
        )


def override_save(*, day: date, is_working_day: bool, note: str = "", actor) -> WorkdayOverride:
    """Say that `day` is (or is not) a working day here, whatever the national schedule says; a second
    override of the same day replaces the first. Every clock reads it at once (`forget` after commit)."""
    _require_street_staff(actor)
    with transaction.atomic(), history.acting(actor, "working-day override"):
        # update_or_create locks the day's row; two requests creating the same day at once end with one row
        # (its get_or_create retries the read on the unique constraint's IntegrityError).
        override, _created = WorkdayOverride.objects.update_or_create(
            day=day, defaults={"is_working_day": is_working_day, "note": (note or "").strip()[:100]}
        )
        transaction.on_commit(forget)
    return override


def override_delete(*, override: WorkdayOverride, actor) -> None:
    """Back to the national schedule for that day."""
    _require_street_staff(actor)
    with transaction.atomic(), history.acting(actor, "working-day override removed"):
        current = WorkdayOverride.objects.select_for_update().filter(pk=override.pk).first()
        if current is not None:
            current.delete()
        transaction.on_commit(forget)

"""`alliance.periods.Quarter`: the one quarter type. Its boundaries are Asia/Shanghai calendar days
whatever the server's or the database's clock, and its start/end work as a half-open filter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models.functions import ExtractQuarter, ExtractYear
from django.utils import timezone, translation

from alliance.models import Notification
from alliance.periods import QUARTER_CHOICES, Quarter

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- Which quarter a moment is in ------------------------------------------------------------------


def test_23_30_on_31_march_in_beijing_is_q1_though_it_is_15_30_utc():
    moment = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    assert moment.astimezone(SHANGHAI) == datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)
    assert Quarter.of(moment) == Quarter(2026, 1)


def test_midnight_starting_1_april_in_beijing_is_q2():
    assert Quarter.of(datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI)) == Quarter(2026, 2)
    # The same instant written in UTC is still 31 March there: the local day decides.
    assert Quarter.of(datetime(2026, 3, 31, 16, 0, tzinfo=UTC)) == Quarter(2026, 2)


def test_a_utc_moment_just_before_utc_midnight_is_already_next_year_in_beijing():
    assert Quarter.of(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)) == Quarter(2026, 4)
    assert Quarter.of(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == Quarter(2027, 1)
    assert Quarter.of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == Quarter(2027, 1)


def test_a_date_and_a_naive_datetime_are_taken_as_local_days():
    assert Quarter.of(date(2026, 3, 31)) == Quarter(2026, 1)
    assert Quarter.of(date(2026, 4, 1)) == Quarter(2026, 2)
    assert Quarter.of(datetime(2026, 3, 31, 23, 59)) == Quarter(2026, 1)


@pytest.mark.parametrize(
    ("month", "quarter"),
    [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2), (7, 3), (8, 3), (9, 3), (10, 4), (11, 4), (12, 4)],
)
def test_every_month_falls_in_its_quarter(month, quarter):
    assert Quarter.of(date(2026, month, 15)) == Quarter(2026, quarter)
    assert month in Quarter(2026, quarter).months


def test_current_is_the_quarter_of_today_in_shanghai():
    # Even with another zone active (a request could activate one), today is the street's today.
    with timezone.override(ZoneInfo("America/Los_Angeles")):
        current = Quarter.current()
    assert current == Quarter.of(timezone.localdate(timezone=SHANGHAI))
    assert current == Quarter.of(timezone.now())


# --- Its days ----------------------------------------------------------------------------------------

DAYS = {
    1: ((1, 2, 3), date(2026, 1, 1), date(2026, 3, 31)),
    2: ((4, 5, 6), date(2026, 4, 1), date(2026, 6, 30)),
    3: ((7, 8, 9), date(2026, 7, 1), date(2026, 9, 30)),
    4: ((10, 11, 12), date(2026, 10, 1), date(2026, 12, 31)),
}


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_first_and_last_day_and_months_of_every_quarter(quarter):
    months, first, last = DAYS[quarter]
    q = Quarter(2026, quarter)
    assert (q.months, q.first_day, q.last_day) == (months, first, last)


def test_a_leap_years_q1_ends_on_31_march_and_holds_29_february():
    q = Quarter(2028, 1)
    assert q.last_day == date(2028, 3, 31)
    assert Quarter.of(date(2028, 2, 29)) == q


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_start_and_end_are_aware_shanghai_midnights_a_half_open_range(quarter):
    q = Quarter(2026, quarter)
    assert q.start == datetime.combine(q.first_day, datetime.min.time(), tzinfo=SHANGHAI)
    assert q.end == datetime.combine(q.last_day + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    assert timezone.is_aware(q.start) and timezone.is_aware(q.end)
    assert q.end == q.next().start
    assert q.start.utcoffset() == timedelta(hours=8)


def test_q4_ends_at_the_start_of_next_year_and_the_last_allowed_quarter_still_has_an_end():
    assert Quarter(2026, 4).end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert Quarter(2999, 4).last_day == date(2999, 12, 31)
    assert Quarter(2999, 4).end == datetime(3000, 1, 1, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_start_and_end_filter_a_real_table_at_the_boundary():
    """Rows stamped at the Beijing quarter boundary: 23:59:59 on 31 March is Q1, 00:00 on 1 April is Q2,
    on SQLite (stored as UTC text) and PostgreSQL (timestamptz) alike."""
    last_of_q1 = Notification.objects.create(
        subject="q1", body="-", sent_at=datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)
    )
    first_of_q2 = Notification.objects.create(subject="q2", body="-", sent_at=datetime(2026, 4, 1, tzinfo=SHANGHAI))
    last_of_q2 = Notification.objects.create(
        subject="q2-end", body="-", sent_at=datetime(2026, 6, 30, 23, 59, tzinfo=SHANGHAI)
    )
    first_of_q3 = Notification.objects.create(subject="q3", body="-", sent_at=datetime(2026, 7, 1, tzinfo=SHANGHAI))

    def sent_in(q: Quarter) -> set[int]:
        return set(Notification.objects.filter(sent_at__gte=q.start, sent_at__lt=q.end).values_list("pk", flat=True))

    assert sent_in(Quarter(2026, 1)) == {last_of_q1.pk}
    assert sent_in(Quarter(2026, 2)) == {first_of_q2.pk, last_of_q2.pk}
    assert sent_in(Quarter(2026, 3)) == {first_of_q3.pk}
    # And each row agrees with Quarter.of on the moment read back from the database.
    for row in Notification.objects.all():
        assert row.pk in sent_in(Quarter.of(row.sent_at))
    # The SQL grouping the totals and ratings use (ExtractYear/ExtractQuarter) puts each row where Quarter does.
    grouped = Notification.objects.annotate(y=ExtractYear("sent_at"), q=ExtractQuarter("sent_at"))
    assert {row.pk: Quarter(row.y, row.q) for row in grouped} == {
        last_of_q1.pk: Quarter(2026, 1),
        first_of_q2.pk: Quarter(2026, 2),
        last_of_q2.pk: Quarter(2026, 2),
        first_of_q3.pk: Quarter(2026, 3),
    }


# --- Neighbours and order ----------------------------------------------------------------------------


def test_previous_and_next_cross_the_year():
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2026, 2).previous() == Quarter(2026, 1)
    assert Quarter(2026, 2).next() == Quarter(2026, 3)
    q = Quarter(2026, 3)
    assert q.next().previous() == q == q.previous().next()


def test_quarters_order_by_year_then_quarter_and_hash_as_values():
    shuffled = [Quarter(2026, 1), Quarter(2025, 4), Quarter(2026, 3), Quarter(2024, 2), Quarter(2026, 2)]
    assert sorted(shuffled) == [
        Quarter(2024, 2),
        Quarter(2025, 4),
        Quarter(2026, 1),
        Quarter(2026, 2),
        Quarter(2026, 3),
    ]
    assert Quarter(2025, 4) < Quarter(2026, 1) <= Quarter(2026, 1) < Quarter(2026, 2)
    assert max(shuffled) == Quarter(2026, 3)
    assert len({Quarter(2026, 1), Quarter(2026, 1), Quarter(2026, 2)}) == 2
    assert {Quarter(2026, 1): "x"}[Quarter(2026, 1)] == "x"


def test_a_quarter_cannot_be_changed():
    q = Quarter(2026, 1)
    with pytest.raises(AttributeError):
        q.quarter = 2  # type: ignore[misc]


# --- Validation and parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "quarter", "message"),
    [
        (2026, 0, "A quarter is 1 to 4; got 0."),
        (2026, 5, "A quarter is 1 to 4; got 5."),
        (1899, 1, "A quarter's year is 1900 to 2999; got 1899."),
        (20026, 1, "A quarter's year is 1900 to 2999; got 20026."),
        ("2026", 1, "A quarter is given by whole numbers; got year '2026' and quarter 1."),
        (2026, 1.0, "A quarter is given by whole numbers; got year 2026 and quarter 1.0."),
        (2026, True, "A quarter is given by whole numbers; got year 2026 and quarter True."),
    ],
)
def test_an_impossible_quarter_is_refused_with_a_clear_message(year, quarter, message):
    with translation.override("en"), pytest.raises(ValueError) as refused:
        Quarter(year, quarter)
    assert str(refused.value) == message


def test_the_message_is_in_chinese_by_default():
    with pytest.raises(ValueError) as refused:
        Quarter(2026, 5)
    assert str(refused.value) == "季度须为 1 至 4，收到的是 5。"


def test_previous_of_the_first_allowed_quarter_is_refused():
    with translation.override("en"), pytest.raises(ValueError, match="got 1899"):
        Quarter(1900, 1).previous()


@pytest.mark.parametrize("text", ["2026Q3", "2026q3", "2026-Q3", "2026-q3"])
def test_parse_reads_the_written_forms(text):
    assert Quarter.parse(text) == Quarter(2026, 3)


@pytest.mark.parametrize("quarter", [Quarter(2026, 1), Quarter(1900, 4), Quarter(2999, 2)])
def test_str_is_what_parse_reads_back(quarter):
    assert Quarter.parse(str(quarter)) == quarter


def test_str_is_the_machine_form():
    assert str(Quarter(2026, 3)) == "2026Q3"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "Q3",
        "2026Q",
        "2026 Q3",
        " 2026Q3",
        "2026Q3\n",
        "2026/Q3",
        "26Q3",
        "2026Q03",
        "２０２６Q3",
        "2026-3",
        "2026Q3x",
    ],
)
def test_parse_refuses_anything_else_saying_what_it_expects(text):
    with translation.override("en"), pytest.raises(ValueError) as refused:
        Quarter.parse(text)
    assert str(refused.value) == f"{text!r} is not a quarter; write it as 2026Q3 or 2026-Q3."


@pytest.mark.parametrize(
    ("text", "message"), [("2026Q5", "A quarter is 1 to 4; got 5."), ("2026Q0", "A quarter is 1 to 4; got 0.")]
)
def test_parse_of_a_well_formed_impossible_quarter_says_what_is_wrong(text, message):
    with translation.override("en"), pytest.raises(ValueError) as refused:
        Quarter.parse(text)
    assert str(refused.value) == message


def test_parse_refuses_what_is_not_text():
    with translation.override("en"), pytest.raises(ValueError, match="is not a quarter"):
        Quarter.parse(20263)  # type: ignore[arg-type]


# --- Labels ----------------------------------------------------------------------------------------------


def test_label_reads_in_the_active_language():
    q = Quarter(2026, 3)
    assert q.label == "2026年第3季度"  # the interface is Chinese by default
    with translation.override("en"):
        assert q.label == "2026 Q3"


def test_quarter_choices_name_the_quarters_when_shown():
    assert [value for value, _ in QUARTER_CHOICES] == [1, 2, 3, 4]
    assert [str(name) for _, name in QUARTER_CHOICES] == ["第1季度", "第2季度", "第3季度", "第4季度"]
    with translation.override("en"):
        assert str(QUARTER_CHOICES[2][1]) == "Q3"

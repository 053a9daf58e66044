"""Quarters (季度), the period the street counts its work in: the service card (一单一表一卡), commitment
reviews (承诺评议), the quarterly report and the units' assessment.

Every "which quarter is this" and "where does that quarter begin and end" goes through `Quarter`, so the
boundaries are the same everywhere: calendar days in Asia/Shanghai, whatever the clock of the server or
the database says. A need completed at 23:30 on 31 March Beijing time (15:30 UTC) belongs to Q1."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext

# The street's calendar. Named here rather than read from the active time zone: a quarter's bounds must
# not move if a request ever activates another zone.
ZONE = ZoneInfo("Asia/Shanghai")

# Wide enough for any record the platform keeps (and a step either side of the forms' 2000–2100), narrow
# enough that a typo such as 20026 is refused rather than filed in a far future.
MIN_YEAR = 1900
MAX_YEAR = 2999

# 2026Q3, 2026q3, 2026-Q3. ASCII digits only: `\d` would also take full-width and other scripts' digits.
_PARSE = re.compile(r"([0-9]{4})-?[Qq]([0-9])")


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """One quarter of one year; ordered by (year, quarter), hashable, immutable."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        # bool is an int; Quarter(True, 1) is a bug, not a year.
        if type(self.year) is not int or type(self.quarter) is not int:
            raise ValueError(
                gettext("A quarter is given by whole numbers; got year %(year)r and quarter %(quarter)r.")
                % {"year": self.year, "quarter": self.quarter}
            )
        if not 1 <= self.quarter <= 4:
            raise ValueError(gettext("A quarter is 1 to 4; got %(quarter)d.") % {"quarter": self.quarter})
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(
                gettext("A quarter's year is %(min)d to %(max)d; got %(year)d.")
                % {"min": MIN_YEAR, "max": MAX_YEAR, "year": self.year}
            )

    # --- Making one ------------------------------------------------------------------------------------

    @classmethod
    def of(cls, moment: date | datetime) -> Quarter:
        """The quarter a day or a moment falls in. An aware datetime is read on the Asia/Shanghai clock
        first; a naive datetime, like a date, is taken as already local."""
        if isinstance(moment, datetime):  # before `date`: a datetime is a date too
            day = timezone.localtime(moment, ZONE).date() if timezone.is_aware(moment) else moment.date()
        else:
            day = moment
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def current(cls) -> Quarter:
        """The quarter today is in, in Asia/Shanghai."""
        return cls.of(timezone.localdate(timezone=ZONE))

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """ "2026Q3", "2026q3" or "2026-Q3"; anything else is a ValueError saying what is expected."""
        match = _PARSE.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(gettext("%(text)r is not a quarter; write it as 2026Q3 or 2026-Q3.") % {"text": text})
        return cls(int(match[1]), int(match[2]))

    # --- Its days --------------------------------------------------------------------------------------

    @property
    def months(self) -> tuple[int, int, int]:
        first = (self.quarter - 1) * 3 + 1
        return first, first + 1, first + 2

    @property
    def first_day(self) -> date:
        return date(self.year, self.months[0], 1)

    @property
    def last_day(self) -> date:
        return self._day_after() - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """Midnight starting the first day, Asia/Shanghai: filter with `start <= field < end`."""
        return datetime.combine(self.first_day, time.min, tzinfo=ZONE)

    @property
    def end(self) -> datetime:
        """Midnight starting the day after the last day, Asia/Shanghai (excluded: the range is half-open)."""
        return datetime.combine(self._day_after(), time.min, tzinfo=ZONE)

    def _day_after(self) -> date:
        # The first day of the following quarter, computed without building it: 2999Q4 has no next().
        return date(self.year + 1, 1, 1) if self.quarter == 4 else date(self.year, self.months[0] + 3, 1)

    # --- Its neighbours --------------------------------------------------------------------------------

    def previous(self) -> Quarter:
        return Quarter(self.year, self.quarter - 1) if self.quarter > 1 else Quarter(self.year - 1, 4)

    def next(self) -> Quarter:
        return Quarter(self.year, self.quarter + 1) if self.quarter < 4 else Quarter(self.year + 1, 1)

    # --- Saying it ---------------------------------------------------------------------------------------

    def __str__(self) -> str:
        """The machine form, as `parse` reads it back: 2026Q3."""
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        """What people read, in the active language: 2026年第3季度."""
        return gettext("%(year)s Q%(quarter)s") % {"year": self.year, "quarter": self.quarter}


def quarter_name(quarter: int) -> str:
    """A quarter without its year, as a chooser shows it beside a year field: 第3季度."""
    return gettext("Q%(quarter)d") % {"quarter": quarter}


# Choices for a quarter field: made at import, translated when shown.
QUARTER_CHOICES = [(q, lazy(quarter_name, str)(q)) for q in (1, 2, 3, 4)]

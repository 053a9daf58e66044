"""The quarterly report (季度报表) and the units' assessment (按季度考核): where the whole feature is.

Every quarter the street hands the district a workbook of what the alliance did and a score for each member
unit (seed 003: "按季度进行考核"). The pieces, and where each lives:

- **The period** — `alliance.periods.Quarter`: Asia/Shanghai boundaries, `Quarter.of(moment)`, `2026Q3`.
- **The registry** — this module. `alliance` imports no app: each app says at start-up (in its
  `extensions.register()`) what it contributes, computed in SQL from its own selectors:
  - `register_sheet(Sheet)`: a sheet of the workbook — its columns and a function yielding plain rows;
  - `register_summary_figure(SummaryFigure)`: a line of the 汇总 sheet (this quarter, the last, the change);
  - `register_indicator(Indicator)`: an assessment indicator — a raw value per unit for a quarter.
  The sheets are `demands.report_sheets` (需求清单, 资源清单), `projects.report_sheets` (项目认领, 活动记录),
  `meetings.report_sheets` (联席会议与出勤, 议定事项), `volunteers.report_sheets` (在职党员与服务时长) and
  `members.assessments.ASSESSMENT_SHEET` (单位考核); each of those modules (and `members.report_sheets`)
  adds its lines to 汇总 through `figure_from`. The indicators are in each app's `indicators` module.
- **Rendering** — `render_workbook()` below: openpyxl write-only (memory flat however many rows), Chinese
  sheet names in SPEC's order, frozen header, widths, number/date formats, formula-looking text escaped.
  The outward edition (for the district) is made safe by construction: a column declared `contact` is
  left out, a column declared `personal` (a resident's or member's name) is masked, and the document
  properties carry no person.
- **Background work** — `alliance.jobs`: the one job mechanism (a `Job` row with progress and failure
  reason, advanced by a task) that reports, imports and big exports use.
- **The models** live in `members`, the app that owns streets and units: `members.models.QuarterlyReport`
  (period, street, edition, version, file, checksum; one current version per period + street + edition)
  and the assessment models (`AssessmentScheme` of weights per year, `Assessment` per unit and quarter
  with its indicator lines, adjustment and draft → submitted → approved / returned).
- **Writes** — `members.reporting` (request, build and supersede reports; the quarter's close for every
  street) and `members.assessments` (compute, adjust, submit, approve, return).
- **Tasks and beat** — `members.tasks.close_quarter` at 02:00 Asia/Shanghai on the first day of each quarter
  (both editions for every street); `alliance.tasks.run_job` runs any job, `sweep_jobs` requeues lost ones.
- **Surfaces** — the admin (季度报表: 生成季度报表, progress, every version's download, a new version;
  考核方案 and 单位考核 with compute / adjust / submit / approve / return; 后台任务), the API
  (`GET /api/v1/reports/quarterly/<year>/<quarter>/`, `GET /api/v1/assessments/` and its actions), and the
  liaison's `/portal/assessments/` with each indicator explained and a remark before approval.
- **The service card goes out** — `volunteers.services.service_cards_send` (beat, 02:30 on the first day of
  each quarter): each work unit's liaisons get the link to their members' card of the quarter just ended.
- **Speed** — `bench/quarterly_report.py` against an openpyxl write-only floor; figures in bench/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Protocol

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .exports import safe_cell_value
from .masking import mask_name, mask_phone
from .periods import Quarter


class Edition(models.TextChoices):
    INTERNAL = "internal", _("Internal (street office)")
    OUTWARD = "outward", _("Outward (for the district)")


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What every sheet, figure and indicator is asked for: one street's quarter, in one edition."""

    street_id: int
    quarter: Quarter
    edition: str = Edition.INTERNAL

    @property
    def outward(self) -> bool:
        return self.edition == Edition.OUTWARD


class Format:
    """How a column's cells are written (the number format Excel shows them with is below)."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENT = "percent"  # a fraction: 0.25 shows as 25.0%
    DATE = "date"
    DATETIME = "datetime"


NUMBER_FORMATS = {
    Format.INTEGER: "0",
    Format.DECIMAL: "0.00",
    Format.PERCENT: "0.0%",
    Format.DATE: "yyyy-mm-dd",
    Format.DATETIME: "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet.

    `contact`: a phone, an address or any contact detail of a resident, member or liaison — the outward
    edition leaves the column out. `personal`: a person's name — masked (张**) in the outward edition."""

    label: str
    format: str = Format.TEXT
    width: int = 14
    contact: bool = False
    personal: bool = False

    def kept_in(self, context: ReportContext) -> bool:
        return not (self.contact and context.outward)


Row = Sequence[object]


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet of the quarterly workbook. `rows(context)` yields plain rows in the order of `columns`
    (all of them: the renderer drops what the edition must not show), computed in SQL and streamed
    (`.values_list(...).iterator()`): a sheet of 200,000 rows must not be held in memory."""

    key: str
    title: str
    order: int
    columns: tuple[Column, ...]
    rows: Callable[[ReportContext], Iterable[Row]]


@dataclass(frozen=True, slots=True)
class SummaryFigure:
    """A line of 汇总: one number for a street and a quarter (computed for this quarter and the last),
    written with its own `format`; None when it has no value that quarter (an average of no ratings)."""

    key: str
    label: str
    order: int
    value: Callable[[int, Quarter], int | Decimal | None]
    format: str = Format.INTEGER


class IndicatorValues(Protocol):
    def __call__(self, street_id: int, quarter: Quarter) -> Mapping[int, Decimal | None]: ...


@dataclass(frozen=True, slots=True)
class Indicator:
    """An assessment indicator. `values(street_id, quarter)` gives {unit id: raw value} for the street's
    units: a unit missing from the mapping (or mapped to None) has no data for it that quarter — with
    `missing_is_zero` it scored nothing (no claim fulfilled), otherwise the indicator does not apply to
    it (no meeting invited it, so it has no attendance rate) and the other indicators carry the weight.

    Points are `weight × min(value / full_marks, 1)`; the street sets weight and full marks per year
    (`members.models.AssessmentScheme`); `default_weight` and `default_full_marks` seed a new scheme."""

    code: str
    label: str
    explanation: str
    order: int
    values: IndicatorValues
    format: str = Format.DECIMAL
    default_weight: Decimal = Decimal("20")
    default_full_marks: Decimal = Decimal("1")
    missing_is_zero: bool = False


_sheets: dict[str, Sheet] = {}
_figures: dict[str, SummaryFigure] = {}
_indicators: dict[str, Indicator] = {}


def register_sheet(sheet: Sheet) -> Sheet:
    _sheets[sheet.key] = sheet  # by key: a second `ready()` (tests reloading apps) replaces, not doubles
    return sheet


def register_summary_figure(figure: SummaryFigure) -> SummaryFigure:
    _figures[figure.key] = figure
    return figure


def register_indicator(indicator: Indicator) -> Indicator:
    _indicators[indicator.code] = indicator
    return indicator


def sheets() -> list[Sheet]:
    return sorted(_sheets.values(), key=lambda s: (s.order, s.key))


def summary_figures() -> list[SummaryFigure]:
    return sorted(_figures.values(), key=lambda f: (f.order, f.key))


def indicators() -> list[Indicator]:
    return sorted(_indicators.values(), key=lambda i: (i.order, i.code))


def indicator(code: str) -> Indicator | None:
    return _indicators.get(code)


# Rows are fetched from the database this many at a time by every sheet: memory stays flat however long.
CHUNK = 2000


def labels(choices) -> dict[str, str]:
    """{stored value: label} of a TextChoices, translated once per sheet in the language being rendered:
    a sheet maps its status codes per row with a dict look-up, not a query or a Case in SQL."""
    return {value: str(label) for value, label in choices}


def fraction(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole to four places (0.6667 shows as 66.7%), or None when there is no whole: a rate of
    nothing is "no value", not zero. The one rate rule of the figures and the indicators."""
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


# --- The 汇总 sheet ---------------------------------------------------------------------------------------


def change(current: int | Decimal | None, previous: int | Decimal | None) -> Decimal | None:
    """The change against the previous quarter as a fraction (0.25 = +25%); None when there was nothing."""
    if not previous or current is None:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous)


@dataclass(frozen=True, slots=True)
class Formatted:
    """A value with a number format of its own, for a column whose rows differ (汇总 holds counts, rates and
    averages in one column): the renderer writes `value` with `format` instead of the column's."""

    value: object
    format: str


# While 汇总 is written: the figures' sources already computed, by (source, street, quarter).
_sources: ContextVar[dict | None] = ContextVar("report_figure_sources", default=None)


def figure_from(source: Callable[..., Mapping[str, Any]], key: str) -> Callable[[int, Quarter], Any]:
    """A SummaryFigure's value read from a selector that computes several figures in one aggregate
    (`source(street_id=…, quarter=…)` → {key: value}). While 汇总 is written each source runs once per
    quarter, however many of its figures are lines: ten figures of the needs are one query, not ten."""

    def value(street_id: int, quarter: Quarter) -> Any:
        memo = _sources.get()
        if memo is None:
            return source(street_id=street_id, quarter=quarter)[key]
        if (source, street_id, quarter) not in memo:
            memo[source, street_id, quarter] = source(street_id=street_id, quarter=quarter)
        return memo[source, street_id, quarter][key]

    return value


def summary_rows(context: ReportContext) -> Iterator[Row]:
    previous = context.quarter.previous()
    token = _sources.set({})
    try:  # a few dozen lines: made whole, so the memo lives exactly as long as 汇总 is computed
        rows = [
            (str(figure.label), Formatted(now, figure.format), Formatted(before, figure.format), change(now, before))
            for figure in summary_figures()
            for now, before in [
                (figure.value(context.street_id, context.quarter), figure.value(context.street_id, previous))
            ]
        ]
    finally:
        _sources.reset(token)
    yield from rows


SUMMARY = Sheet(
    key="summary",
    # With a context: Django's admin catalogue already says "Summary" (概览) and "Change" (修改, the edit
    # button), and the project's catalogue would otherwise either lose to it or rename the admin's button.
    title=pgettext_lazy("quarterly report", "Summary"),
    order=0,
    columns=(
        Column(_("Figure"), width=28),
        Column(_("This quarter"), Format.DECIMAL, width=14),
        Column(_("Previous quarter"), Format.DECIMAL, width=14),
        Column(pgettext_lazy("quarterly report", "Change"), Format.PERCENT, width=12),
    ),
    rows=summary_rows,
)
register_sheet(SUMMARY)


# --- Rendering --------------------------------------------------------------------------------------------


class Progress(Protocol):
    def __call__(self, *, sheets_done: int, sheets_total: int, rows_written: int) -> None: ...


def _no_progress(**kwargs: int) -> None:
    return None


# Report progress every so many rows: often enough for the admin to see it move, rarely enough that the
# progress UPDATEs cost nothing next to the rows themselves.
PROGRESS_EVERY = 5000

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="C00000")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)


# A mainland mobile number anywhere in a text, not inside a longer run of digits (an id, a credit code).
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def cell_value(column: Column, value: object, context: ReportContext) -> object:
    if isinstance(value, Formatted):
        value = value.value
    if column.personal and context.outward and value:
        # Escaped like any text: a masked "=HYPERLINK(…)" is still a formula to a spreadsheet.
        return safe_cell_value(mask_name(str(value)))
    if isinstance(value, bool):
        # 是 / 否 rather than True / False (a bool is an int too, so before the number formats).
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value, timezone.get_default_timezone()).replace(tzinfo=None)
    if column.format == Format.TEXT and not isinstance(value, str | type(None)):
        value = str(value)
    if isinstance(value, str) and context.outward:
        # Free text (a need's title, a resolution) may hold a number someone typed in: not in the outward
        # edition either. Masked like everywhere else (138****1234).
        value = MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), value)
    if isinstance(value, Decimal):
        value = float(value)  # openpyxl writes Decimal as a number too; float keeps the cell type plain
    return safe_cell_value(value)


@dataclass
class RenderResult:
    sheets: int = 0
    rows: int = 0
    size: int = 0
    checksum: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)


class _CountingWriter:
    """A write-through wrapper that hashes and counts what is written, so the checksum and size come free."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target, self.size, self.digest = target, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False


def render_workbook(
    context: ReportContext,
    target: IO[bytes],
    *,
    title: str = "",
    progress: Progress = _no_progress,
) -> RenderResult:
    """Write the quarter's workbook for `context` into `target` (a binary file) and say what went in."""
    workbook = Workbook(write_only=True)
    # Document properties travel with the file: no person's name (openpyxl puts "openpyxl" as creator).
    workbook.properties.creator = str(_("Party-building alliance platform"))
    workbook.properties.lastModifiedBy = None
    workbook.properties.title = title
    workbook.properties.created = workbook.properties.modified = timezone.now().replace(tzinfo=None)
    result = RenderResult()
    try:
        _write_sheets(workbook, context, result, progress)
    except BaseException:
        # A sheet that failed leaves openpyxl's row writers open on their temporary files; closed here, not
        # by the garbage collector some time later (which warns, writing into a file already gone).
        for worksheet in workbook.worksheets:
            with contextlib.suppress(Exception):  # already failing: the first error is the one to report
                worksheet.close()
        raise
    writer = _CountingWriter(target)
    workbook.save(writer)
    result.size, result.checksum = writer.size, writer.digest.hexdigest()
    return result


def _write_sheets(workbook: Workbook, context: ReportContext, result: RenderResult, progress: Progress) -> None:
    all_sheets = sheets()
    for index, sheet in enumerate(all_sheets):
        kept = [(i, column) for i, column in enumerate(sheet.columns) if column.kept_in(context)]
        worksheet = workbook.create_sheet(title=str(sheet.title)[:31])
        worksheet.freeze_panes = "A2"
        for position, (_i, column) in enumerate(kept, start=1):
            worksheet.column_dimensions[get_column_letter(position)].width = column.width
        header = []
        for _i, column in kept:
            cell = WriteOnlyCell(worksheet, value=str(column.label))
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
            header.append(cell)
        worksheet.append(header)
        formats = [NUMBER_FORMATS.get(column.format) for _i, column in kept]
        # One styled cell per column and format, its value set row by row: write-only mode writes a row out
        # as it is appended, so the cell is free again for the next row (a new cell per value was a tenth of
        # the report's time).
        styled: dict[tuple[int, str], WriteOnlyCell] = {}
        count = 0
        for row in sheet.rows(context):
            cells = []
            for position, ((i, column), column_format) in enumerate(zip(kept, formats, strict=True)):
                raw = row[i]
                number_format = NUMBER_FORMATS.get(raw.format) if isinstance(raw, Formatted) else column_format
                value = cell_value(column, raw, context)
                if not number_format or value == "" or isinstance(value, str):
                    cells.append(value)
                    continue
                cell = styled.get((position, number_format))
                if cell is None:
                    cell = styled[position, number_format] = WriteOnlyCell(worksheet)
                    cell.number_format = number_format
                cell.value = value
                cells.append(cell)
            worksheet.append(cells)
            count += 1
            if count % PROGRESS_EVERY == 0:
                progress(sheets_done=index, sheets_total=len(all_sheets), rows_written=result.rows + count)
        result.rows += count
        result.row_counts[sheet.key] = count
        result.sheets += 1
        progress(sheets_done=index + 1, sheets_total=len(all_sheets), rows_written=result.rows)


def day(value: date | datetime | None) -> date | None:
    """A report's day column from a timestamp: the Asia/Shanghai calendar day."""
    if isinstance(value, datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).date()
    return value

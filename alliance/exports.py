"""Excel exports: an exporter yields a header and plain rows from a selector; one renderer writes them
with openpyxl in write-only mode, so memory stays flat however many rows there are."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@")


def safe_cell_value(value: object) -> object:
    """Plain values for a cell. Text that a spreadsheet would run as a formula (CSV/formula injection)
    is prefixed with an apostrophe; aware datetimes become local naive ones, which openpyxl requires."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_sheet(workbook: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([safe_cell_value(v) for v in row])


def workbook_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]) -> bytes:
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        write_sheet(workbook, title, header, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(
    filename: str, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]
) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    # RFC 6266: the ASCII fallback first, then the UTF-8 name for browsers that read it.
    response["Content-Disposition"] = f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    return response

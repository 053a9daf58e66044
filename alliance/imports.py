"""Excel imports: the street already keeps its units and members in spreadsheets.

An importer names its columns (the file's headers are their labels, in the user's language; the
Chinese and English labels are both accepted), reads a workbook with openpyxl in read-only mode (with
defusedxml installed openpyxl refuses XML entities, so an entity bomb is a refused file, not a hung
worker), checks the file's size and unpacked size before anything else, then streams the rows a batch
at a time: each batch is validated (each bad row gets its reasons; the look-ups cost a constant number of
queries per batch) and written with the app's bulk services (`bulk_create` / `bulk_update` with their
history rows), all in one transaction. However many rows, memory holds one batch and the bad rows' reasons.
Re-importing the same file updates what the first import created instead of creating it again.

`ImportAdminMixin` puts the flow on a ModelAdmin: the upload is checked (a workbook with the needed
columns), stored and handed to a background job (`alliance.jobs`, `run_import_job`) in the mode the user
chose: import if every row is valid, import the valid rows only, or only check. The job's page shows its
progress and outcome and offers the rows to look at (each bad row with its reasons) as a workbook; the
requester gets one message when it is done. A template to download, and an export action in exactly the
import layout, so that export → edit → import round-trips."""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet, TextChoices
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from .exports import FORMULA_PREFIXES, export_later, write_workbook, xlsx_response
from .forms import REFUSALS, refusal_message
from .notifications import notify
from .validators import validate_credit_code, validate_mobile

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
# A 5 MB zip can unpack to gigabytes of XML; openpyxl reads the shared strings whole, so the declared
# unpacked size is checked first (zipfile never inflates an entry beyond its declared size).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 60  # a row whose last cell sits in column XFD would otherwise be 16,384 values wide
# Blank rows between and after the data are skipped, but scanning them is bounded too: a sheet can
# declare a row at 1,048,576 and openpyxl would fill every row before it.
MAX_BLANK_ROWS = 1000
HEADER_LANGUAGES = ("zh-hans", "en")
# Rows validated and written together: the look-ups and writes of a batch are a constant number of
# queries, and a batch is what memory holds.
BATCH_ROWS = 1000
# What a row's write may be refused with (a service's rule), reported with the row's number.
ROW_REFUSALS = (*REFUSALS, Http404)


class ImportRefused(Exception):
    """The whole file is refused (too big, not a workbook, an XML bomb, no usable header); nothing read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImportFailed(Exception):
    """A service refused one row while writing: the transaction is rolled back, nothing is written."""

    def __init__(self, row_number: int, message: str) -> None:
        super().__init__(message)
        self.row_number = row_number
        self.message = message


# --- Cells -------------------------------------------------------------------------------------------


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A cell as text: numbers typed into text columns (a phone kept as a number) lose their ".0", dates
    are ISO, and the apostrophe our exports put before text a spreadsheet would run as a formula goes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_PREFIXES:
        text = text[1:]
    return text


Parser = Callable[[object], object]


def text(max_length: int | None = None) -> Parser:
    def parse(value: object) -> str:
        result = cell_text(value)
        if max_length is not None and len(result) > max_length:
            raise ValidationError(
                _("At most %(limit)d characters; this has %(count)d.") % {"limit": max_length, "count": len(result)}
            )
        return result

    return parse


def phone() -> Parser:
    def parse(value: object) -> str:
        result = re.sub(r"[\s-]", "", cell_text(value))
        if result.startswith("+86"):
            result = result[3:]
        validate_mobile(result)
        return result

    return parse


def credit_code() -> Parser:
    def parse(value: object) -> str:
        result = re.sub(r"\s", "", cell_text(value)).upper()
        validate_credit_code(result)
        return result

    return parse


def email(max_length: int = 254) -> Parser:
    def parse(value: object) -> str:
        result = text(max_length)(value)
        validate_email(result)
        return result

    return parse


def whole_number(minimum: int = 0) -> Parser:
    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a whole number."))
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            candidate = cell_text(value)
            if not re.fullmatch(r"-?[0-9]{1,9}", candidate):
                raise ValidationError(_("Enter a whole number."))
            number = int(candidate)
        if number < minimum:
            raise ValidationError(_("Enter a number of at least %(minimum)d.") % {"minimum": minimum})
        return number

    return parse


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")


def day() -> Parser:
    def parse(value: object) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
            return from_excel(value).date()  # a date cell saved without its date format
        candidate = cell_text(value)
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
        raise ValidationError(_("Enter a date such as 2024-05-01."))

    return parse


def _normal(label: object) -> str:
    return re.sub(r"\s+", "", str(label)).casefold()


def labels_in_every_language(label: object) -> set[str]:
    """A (lazy) label as the user's language, Chinese and English say it, normalised for matching."""
    found = {_normal(label)}
    for language in HEADER_LANGUAGES:
        with translation.override(language):
            found.add(_normal(label))
    return found


def choice(choices: type[TextChoices]) -> Parser:
    """A choice by its label (in Chinese or English) or by its stored value."""

    by_language: dict[str | None, dict[str, str]] = {}

    def parse(value: object) -> str:
        language = translation.get_language()
        if language not in by_language:  # labels resolved once per language, not once per cell
            by_language[language] = {
                **{_normal(stored): stored for stored in choices.values},
                **{spelled: stored for stored, label in choices.choices for spelled in labels_in_every_language(label)},
            }
        wanted = _normal(cell_text(value))
        if wanted in by_language[language]:
            return by_language[language][wanted]
        raise ValidationError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": cell_text(value), "choices": ", ".join(str(label) for label in choices.labels)}
        )

    return parse


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


# --- Columns, rows and the importer ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation: the header in the user's language
    parse: Parser = field(default_factory=text)
    required: bool = False
    # obj -> the cell; None: the attribute named `key`.
    export: Callable[[Any], object] | None = None
    example: object = ""
    # A blank cell in an optional column: text columns store "", the others keep what is stored (a
    # number, a date, a choice) — for a new row that is the model's default.
    blank_keeps: bool = False


@dataclass
class RowResult:
    row_number: int
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    action: str = ""  # "create", "update" or "unchanged", decided while validating
    target: Any = None  # the stored object the row updates
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str, column: Column | None = None) -> None:
        self.errors.append(f"{column.label}: {message}" if column is not None else message)


class Mode(TextChoices):
    """What an upload asks for. Whatever the mode, every row is checked and every bad row listed."""

    ALL = "all", gettext_lazy("Import, if every row is valid")
    VALID = "valid", gettext_lazy("Import the valid rows, leave out the others")
    CHECK = "check", gettext_lazy("Only check the file, write nothing")


@dataclass
class ImportOutcome:
    """What an import did, kept small whatever the file's size: counts, and the listed rows only."""

    mode: str
    rows: int = 0
    batches: int = 0
    actions: Counter = field(default_factory=Counter)  # of the valid rows: create / update / unchanged
    bad_rows: list[tuple[int, list[str]]] = field(default_factory=list)
    noted_rows: list[tuple[int, list[str]]] = field(default_factory=list)
    written: bool = False

    @property
    def valid(self) -> int:
        return self.rows - len(self.bad_rows)

    def message(self) -> str:
        created, updated, unchanged = self.actions["create"], self.actions["update"], self.actions["unchanged"]
        if not self.written:
            return _(
                "Checked %(total)d rows: %(valid)d valid (%(created)d to add, %(updated)d to update, %(unchanged)d "
                "unchanged), %(bad)d not valid. Nothing was written."
            ) % {
                "total": self.rows,
                "valid": self.valid,
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "bad": len(self.bad_rows),
            }
        message = _("Imported: %(created)d added, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
        }
        if self.bad_rows:
            message += " " + ngettext(
                "%(count)d row was not valid and was left out; the result file lists its reasons.",
                "%(count)d rows were not valid and were left out; the result file lists their reasons.",
                len(self.bad_rows),
            ) % {"count": len(self.bad_rows)}
        return message


class ScopedNames:
    """Objects found by their name (communities): a name several objects share is resolved to the one the
    user works for, and a row may only name what the user works for."""

    def __init__(self, objects, *, allowed_ids) -> None:
        self.by_name: dict[str, list] = {}
        for obj in objects:
            self.by_name.setdefault(str(obj.name).strip(), []).append(obj)
        self.allowed_ids = set(allowed_ids)

    def find(self, row: RowResult, column: Column, name: str):
        found = self.by_name.get(name.strip(), [])
        if len(found) > 1:
            found = [obj for obj in found if obj.pk in self.allowed_ids] or found
        if not found:
            row.error(_("“%(name)s” was not found.") % {"name": name}, column)
            return None
        if len(found) > 1:
            row.error(_("several records are named “%(name)s”; the name does not say which.") % {"name": name}, column)
            return None
        if found[0].pk not in self.allowed_ids:
            row.error(_("you do not work for %(name)s; its rows cannot be imported by you.") % {"name": name}, column)
            return None
        return found[0]


class Importer:
    """One kind of row. Subclasses give `model`, `columns`, `sheet_title`, `file_stem`, `job_kind` and the
    hooks `start` (look-ups for the whole file: the communities), `prepare` (look-ups for one batch of
    rows: a constant number of queries however many rows), `clean_row` (resolve names to objects, decide
    create / update / unchanged), `row_key` (what makes two rows the same record), `build` / `change`
    (a row checked by the app's services, not saved), `save` (the services' bulk writes of a batch) and
    `finish` (after the last batch: one message per person to tell)."""

    model: type[Model]
    columns: Sequence[Column] = ()
    sheet_title: Any = ""
    file_stem: Any = ""
    job_kind: str = ""  # the `alliance.jobs` kind its runner is registered under, e.g. "import.units"
    export_kind: str = ""  # the kind of the export in this layout (`alliance.exports.register_export`)
    max_bytes = MAX_BYTES
    batch_rows = BATCH_ROWS

    def __init__(self, *, actor) -> None:
        self.actor = actor

    # --- Layout ---

    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def export_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def export_row(self, obj: Any) -> list[object]:
        return [column.export(obj) if column.export else getattr(obj, column.key) for column in self.columns]

    def export_sheet(self, queryset: QuerySet) -> tuple[str, list[str], Iterator[list[object]]]:
        rows = (self.export_row(obj) for obj in self.export_queryset(queryset).iterator(chunk_size=2000))
        return str(self.sheet_title), self.header(), rows

    def example_row(self) -> list[object]:
        return [column.example() if callable(column.example) else column.example for column in self.columns]

    def template_sheet(self) -> tuple[str, list[str], list[list[object]]]:
        return str(self.sheet_title), self.header(), [self.example_row()]

    # --- Reading ---

    def read(self, file) -> list[RowResult]:
        """Every row of the file's first sheet, validated. Raises `ImportRefused` for a file that cannot
        be read at all; writes nothing. Holds every row: for small files (the template, tests); imports
        go through `execute`, which holds one batch at a time."""
        return [row for batch in self.batches(file) for row in batch]

    def check(self, file) -> None:
        """What the upload checks before queueing the import: a readable workbook with the columns needed.
        Reads the header row only; raises `ImportRefused`."""
        with self._sheet_rows(file) as (_present, rows):
            next(rows, None)

    def batches(self, file) -> Iterator[list[RowResult]]:
        """The file's rows, validated, `batch_rows` at a time: the workbook is streamed, never held."""
        self.start()
        first_of: dict[object, int] = {}
        with self._sheet_rows(file) as (present, raw_rows):
            batch: list[tuple[int, dict[str, object]]] = []
            for item in raw_rows:
                batch.append(item)
                if len(batch) >= self.batch_rows:
                    yield self._validated(batch, present, first_of)
                    batch = []
            if batch:
                yield self._validated(batch, present, first_of)

    def _validated(self, raw_rows, present: set[str], first_of: dict[object, int]) -> list[RowResult]:
        rows = [self._parse(row_number, raw, present) for row_number, raw in raw_rows]
        self.prepare(rows)
        for row in rows:
            self.clean_row(row)
        self._mark_repeats(rows, first_of)
        return rows

    def _size(self, file) -> int:
        if isinstance(file, str | Path):
            return Path(file).stat().st_size
        size = getattr(file, "size", None)
        if size is None:
            position = file.tell()
            file.seek(0, 2)
            size = file.tell()
            file.seek(position)
        return size

    @contextmanager
    def _sheet_rows(self, file) -> Iterator[tuple[set[str], Iterator[tuple[int, dict[str, object]]]]]:
        """The columns present and an iterator over the data rows of the first sheet, read as it goes."""
        if self._size(file) > self.max_bytes:
            raise ImportRefused(
                _("The file is larger than %(limit)d MB; please split it into smaller files.")
                % {"limit": self.max_bytes // (1024 * 1024)}
            )
        not_xlsx = _("This is not an Excel workbook (.xlsx). Please save it as .xlsx and upload it again.")
        if not isinstance(file, str | Path):
            file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ImportRefused(not_xlsx) from exc
        if "xl/workbook.xml" not in names:
            raise ImportRefused(not_xlsx)
        if unpacked > MAX_UNPACKED_BYTES:
            raise ImportRefused(
                _("The workbook unpacks to more than %(limit)d MB; please split it into smaller files.")
                % {"limit": MAX_UNPACKED_BYTES // (1024 * 1024)}
            )
        if not isinstance(file, str | Path):
            file.seek(0)
        workbook = None
        try:
            try:
                workbook = load_workbook(file, read_only=True, data_only=True)
                if not workbook.worksheets:
                    raise ImportRefused(_("The workbook has no sheet."))
                present, rows = self._rows(workbook.worksheets[0])
            except ImportRefused:
                raise
            except Exception as exc:
                raise _unreadable(exc) from exc
            # Outside the conversion above: an error of the caller's (a query in `prepare`) is not the file's.
            yield present, _refusing(rows)
        finally:
            if workbook is not None:
                workbook.close()

    def _rows(self, sheet) -> tuple[set[str], Iterator[tuple[int, dict[str, object]]]]:
        """The header (read now) and the data rows (read as they are asked for)."""
        sheet.reset_dimensions()  # files from some tools declare a wrong size; read what is there
        values_of = enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)
        header_at: dict[int, str] | None = None
        present: set[str] = set()
        blank_run = 0
        for _row_number, values in values_of:
            if all(is_blank(v) for v in values):
                blank_run += 1
                if blank_run > MAX_BLANK_ROWS:
                    break
                continue
            header_at, present = self._header(values)
            break
        if header_at is None:
            raise ImportRefused(_("The first sheet of the workbook is empty."))

        def data_rows() -> Iterator[tuple[int, dict[str, object]]]:
            blank_run = 0
            any_row = False
            for row_number, values in values_of:
                if all(is_blank(v) for v in values):
                    blank_run += 1
                    if blank_run > MAX_BLANK_ROWS:
                        break  # the rest is formatting, not data
                    continue
                blank_run = 0
                any_row = True
                yield row_number, {key: values[i] for i, key in header_at.items() if i < len(values)}
            if not any_row:
                raise ImportRefused(_("The file has a header row but no rows to import."))

        return present, data_rows()

    def _header(self, values: Sequence[object]) -> tuple[dict[int, str], set[str]]:
        by_label: dict[str, str] = {}
        for column in self.columns:
            for label in labels_in_every_language(column.label):
                by_label[label] = column.key
        header_at: dict[int, str] = {}
        for index, value in enumerate(values):
            key = by_label.get(_normal(cell_text(value)).rstrip("*"))
            if key is None:
                continue  # a column of the street's own (notes, a serial number): ignored
            if key in header_at.values():
                raise ImportRefused(
                    _("The column “%(column)s” appears twice in the header row.") % {"column": cell_text(value)}
                )
            header_at[index] = key
        present = set(header_at.values())
        missing = [str(c.label) for c in self.columns if c.required and c.key not in present]
        if missing:
            raise ImportRefused(
                _("The header row lacks these columns: %(columns)s. Download the template to see the layout.")
                % {"columns": ", ".join(missing)}
            )
        return header_at, present

    def _parse(self, row_number: int, raw: dict[str, object], present: set[str]) -> RowResult:
        row = RowResult(row_number=row_number, values={})
        for column in self.columns:
            if column.key not in present:
                continue
            value = raw.get(column.key)
            if is_blank(value):
                if column.required:
                    row.error(_("this column must be filled in."), column)
                elif not column.blank_keeps:
                    row.values[column.key] = ""
                continue
            try:
                row.values[column.key] = column.parse(value)
            except ValidationError as exc:
                row.error(" ".join(str(m) for m in exc.messages), column)
        return row

    def _mark_repeats(self, rows: list[RowResult], first_of: dict[object, int]) -> None:
        """A record named twice in the file is an error on the later row, in any batch."""
        for row in rows:
            key = self.row_key(row)
            if key is None:
                continue
            if key in first_of:
                row.error(
                    _("the same record as row %(row)d; each record may appear once in a file.") % {"row": first_of[key]}
                )
            else:
                first_of[key] = row.row_number

    # --- Hooks ---

    def start(self) -> None:
        """Load what every batch refers to (the communities), once per file."""

    def prepare(self, rows: list[RowResult]) -> None:
        """Load what one batch of rows refers to, in bulk."""

    def clean_row(self, row: RowResult) -> None:
        """Resolve names to objects and decide the row's action; add errors to the row. Runs on rows that
        already have errors too, so that every reason is listed at once."""

    def row_key(self, row: RowResult) -> object | None:
        return None

    def build(self, row: RowResult) -> Model:
        """The new object of a "create" row, checked by the app's service but not saved."""
        raise NotImplementedError

    def change(self, row: RowResult) -> Model:
        """The stored object of an "update" row with `row.changes` applied and checked, not saved."""
        raise NotImplementedError

    def save(self, new: list[Model], changed: list[Model], fields: set[str]) -> None:
        """Write a batch through the app's bulk services: `new` objects, and the `fields` of `changed` ones."""
        raise NotImplementedError

    def write_batch(self, rows: list[RowResult]) -> None:
        """Check each row with the services' rules (`ImportFailed` names a row they refuse), then write the
        batch at once."""
        new, changed, fields = [], [], set()
        for row in rows:
            try:
                if row.action == "create":
                    new.append(self.build(row))
                elif row.action == "update":
                    changed.append(self.change(row))
                    fields.update(row.changes)
            except ROW_REFUSALS as exc:
                raise self.refused(row, exc) from exc
        self.save(new, changed, fields)

    def finish(self) -> None:
        """After the last batch, in the import's transaction: tell whoever must know, once each."""

    # --- Writing ---

    def execute(
        self, file, *, mode: str = Mode.ALL, progress: Callable[[int, int], None] | None = None
    ) -> ImportOutcome:
        """Check every row and, as `mode` says, write them in one transaction, a batch at a time. With
        `Mode.ALL` a bad row anywhere in the file means nothing is written (the batches already written
        are rolled back); `Mode.CHECK` never writes. Raises `ImportRefused` (the file) and `ImportFailed`
        (a row a service refused while writing: everything rolled back)."""
        outcome = ImportOutcome(mode=mode)
        with transaction.atomic():
            for rows in self.batches(file):
                valid = [row for row in rows if row.ok]
                outcome.batches += 1
                outcome.rows += len(rows)
                outcome.actions.update(row.action for row in valid)
                outcome.bad_rows += [(row.row_number, row.errors) for row in rows if not row.ok]
                outcome.noted_rows += [(row.row_number, row.notes) for row in valid if row.notes]
                writing = mode == Mode.VALID or (mode == Mode.ALL and not outcome.bad_rows)
                if writing and valid:
                    self._write(valid)
                if progress is not None:
                    # Inside the transaction: shown when it commits; meanwhile the job's row stays locked,
                    # so a second delivery of the job waits instead of importing the file twice.
                    progress(outcome.batches, outcome.rows)
            outcome.written = mode == Mode.VALID or (mode == Mode.ALL and not outcome.bad_rows)
            if outcome.written:
                self.finish()
            else:
                transaction.set_rollback(True)
        return outcome

    def _write(self, rows: list[RowResult]) -> None:
        try:
            with transaction.atomic():
                self.write_batch(rows)
        except IntegrityError as exc:  # a clash with a row written since the rows were checked
            raise ImportFailed(
                rows[0].row_number, _("The record clashes with one saved in the meantime; please try again.")
            ) from exc

    @staticmethod
    def refused(row: RowResult, exc: Exception) -> ImportFailed:
        """A service's refusal of a row (one of `ROW_REFUSALS`) as the error that names the row."""
        message = _("You may not do this.") if isinstance(exc, Http404) else refusal_message(exc)
        return ImportFailed(row.row_number, message)

    @staticmethod
    def changes(target: Model, values: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
        """The values that differ from the stored object's (related objects compared by key)."""
        changed = {}
        for key in keys:
            if key not in values:
                continue
            new = values[key]
            concrete = target._meta.get_field(key)
            if concrete.is_relation:
                if getattr(target, concrete.attname) != (new.pk if new is not None else None):
                    changed[key] = new
            elif getattr(target, key) != new:
                changed[key] = new
        return changed


def _unreadable(exc: Exception) -> ImportRefused:
    if _caused_by(exc, DefusedXmlException):  # openpyxl wraps it in a ValueError
        logger.warning("Refused an import with forbidden XML: %r", exc)
        return ImportRefused(
            _(
                "The workbook contains XML that is not allowed (entity declarations, as in an “XML "
                "bomb”) and was refused. Please save the data in a new workbook and try again."
            )
        )
    # openpyxl raises almost anything on a damaged file (KeyError, IndexError, ParseError, ...);
    # every such file gets the same clear answer instead of a 500.
    logger.info("Refused an unreadable import: %r", exc)
    return ImportRefused(
        _(
            "The workbook could not be read: it is damaged or not a real .xlsx file. Please open it in "
            "Excel or WPS, save it as .xlsx again and retry."
        )
    )


def _refusing(rows: Iterator[tuple[int, dict[str, object]]]) -> Iterator[tuple[int, dict[str, object]]]:
    """The rows, with a damage found half-way through the sheet refused like one found at the start."""
    try:
        yield from rows
    except ImportRefused:
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc


# --- The job: the upload is imported by a worker ---------------------------------------------------------


def _outcome_workbook(importer: Importer, outcome: ImportOutcome, target) -> None:
    """The rows the person must look at: each bad row with its reasons, and each row with a note."""
    listed = sorted(
        [(number, str(_("Not valid")), reasons) for number, reasons in outcome.bad_rows]
        + [(number, str(_("Note")), notes) for number, notes in outcome.noted_rows]
    )
    sheet = (
        str(_("Rows to look at")),
        [str(_("Row")), pgettext("import row", "Result"), str(_("Reasons"))],
        ([number, result, "; ".join(str(m) for m in messages)] for number, result, messages in listed),
    )
    write_workbook(target, [sheet])


def layout_sheets(importer_class: type[Importer]):
    """The sheets of the export in the import layout, for `alliance.exports.register_export`."""

    def sheets(queryset: QuerySet, user, params: dict):
        return [importer_class(actor=user).export_sheet(queryset)]

    return sheets


def run_import_job(importer_class: type[Importer], job, progress) -> None:
    """The runner of an import job (`jobs.register(kind, partial(run_import_job, SomeImporter))`): import
    the stored upload as its requester, leave the outcome and the rows to look at on the job, tell the
    requester once, and delete the upload. A rerun after a worker died starts again from the file: the
    first attempt's transaction never committed."""
    from . import jobs  # the jobs module imports the admin's models; imports is imported by apps' admins

    payload = job.payload
    name = payload.get("upload", "")
    actor = job.requested_by
    with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
        importer = importer_class(actor=actor)
        try:
            if actor is None or not actor.is_active:
                raise jobs.JobFailed(_("The account that asked for this import is no longer active."))
            if not name or not default_storage.exists(name):
                raise jobs.JobFailed(_("The uploaded file is no longer there; please upload it again."))
            with default_storage.open(name, "rb") as file:
                outcome = importer.execute(
                    file,
                    mode=payload.get("mode", Mode.ALL),
                    progress=lambda batches, rows: progress(steps_done=batches, steps_total=0, rows_done=rows),
                )
            # Again outside the transaction, which a check (or a file with bad rows) rolled back.
            progress(steps_done=outcome.batches, steps_total=outcome.batches, rows_done=outcome.rows)
            _keep_outcome(importer, job, outcome)
            if outcome.mode == Mode.ALL and outcome.bad_rows:
                raise jobs.JobFailed(
                    ngettext(
                        "%(count)d row is not valid, so nothing was imported. The result file lists the reasons; "
                        "correct the file, or import the valid rows only.",
                        "%(count)d rows are not valid, so nothing was imported. The result file lists the reasons; "
                        "correct the file, or import the valid rows only.",
                        len(outcome.bad_rows),
                    )
                    % {"count": len(outcome.bad_rows)}
                )
            if outcome.mode == Mode.VALID and not outcome.valid:
                raise jobs.JobFailed(_("There is no valid row to import."))
        except ImportRefused as exc:
            _tell(job, importer, exc.message, failed=True)
            raise jobs.JobFailed(exc.message) from exc
        except ImportFailed as exc:
            message = _("Row %(row)d was refused: %(reason)s Nothing was imported.") % {
                "row": exc.row_number,
                "reason": exc.message,
            }
            _tell(job, importer, message, failed=True)
            raise jobs.JobFailed(message) from exc
        except jobs.JobFailed as exc:
            _tell(job, importer, str(exc), failed=True)
            raise
        finally:
            if name:
                default_storage.delete(name)
        _tell(job, importer, outcome.message(), failed=False)


def _keep_outcome(importer: Importer, job, outcome: ImportOutcome) -> None:
    from . import jobs

    if not (outcome.bad_rows or outcome.noted_rows):
        jobs.set_outcome(job, outcome.message())
        return
    filename = f"{importer.file_stem}-{_('rows to look at')}-{timezone.localdate().isoformat()}.xlsx"
    with tempfile.TemporaryFile() as target:
        _outcome_workbook(importer, outcome, target)
        target.seek(0)
        jobs.attach_result(job, filename=filename, content=target, outcome=outcome.message())


def _tell(job, importer: Importer, message: str, *, failed: bool) -> None:
    """One message to the person who asked, whatever the file's size."""
    if job.requested_by is None:
        return
    things = importer.model._meta.verbose_name_plural
    notify(
        recipient=job.requested_by,
        subject=(_("The import of %(things)s failed") if failed else _("The import of %(things)s is done"))
        % {"things": things},
        body=message,
        url=reverse("admin:alliance_job_change", args=[job.pk]),
        kind=f"import:{job.pk}",
        by_sms=False,
    )


# --- The admin flow ------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("What to do"), choices=Mode.choices, initial=Mode.ALL, widget=forms.RadioSelect
    )

    def __init__(self, *args, max_bytes: int = MAX_BYTES, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(
                _("This is not an Excel workbook (.xlsx). Please save it as .xlsx and upload it again.")
            )
        if upload.size > self.max_bytes:
            raise ValidationError(
                _("The file is larger than %(limit)d MB; please split it into smaller files.")
                % {"limit": self.max_bytes // (1024 * 1024)}
            )
        return upload


class ImportAdminMixin:
    """Import from Excel and export in the same layout, for a ModelAdmin that also uses
    `ScopedAdminMixin`. Set `importer_class` (with its `job_kind` registered by the app); add
    "export_import_layout" to `actions`. The upload is checked (a workbook, its header) and stored; a
    background job imports it, and the job's page shows its progress, outcome and the rows to look at."""

    importer_class: type[Importer]
    change_list_template = "admin/imports/change_list.html"

    def get_importer(self, request: HttpRequest) -> Importer:
        return self.importer_class(actor=request.user)

    def _import_url(self, suffix: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{suffix}", args=args)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_upload_view), name="{}_{}_import".format(*info)),
            path("import/template/", wrap(self.import_template_view), name="{}_{}_import_template".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.has_add_permission(request):
            extra_context["import_url"] = self._import_url("import")
            extra_context["import_template_url"] = self._import_url("import_template")
        return super().changelist_view(request, extra_context)

    def _require_import(self, request: HttpRequest) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    # --- Template and export ---

    def _filename(self, importer: Importer, what: str) -> str:
        return f"{importer.file_stem}-{what}-{timezone.localdate().isoformat()}.xlsx"

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        self._require_import(request)
        importer = self.get_importer(request)
        return xlsx_response(self._filename(importer, _("template")), [importer.template_sheet()])

    def get_export_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The selected rows that may leave in full (the admin narrows, e.g., to phones the user may see)."""
        return queryset

    @admin.action(description=gettext_lazy("Export the selection in the import layout (Excel)"))
    def export_import_layout(self, request, queryset):
        importer = self.get_importer(request)
        return export_later(
            request,
            importer.export_kind,
            queryset=self.get_export_queryset(request, queryset),
            filename=self._filename(importer, _("export")),
            label=_("Export of %(things)s in the import layout") % {"things": self.opts.verbose_name_plural},
            model_admin=self,
            narrow="get_export_queryset",
        )

    # --- Upload: checked, stored and queued ---

    def import_upload_view(self, request: HttpRequest) -> HttpResponse:
        from . import jobs

        self._require_import(request)
        importer = self.get_importer(request)
        form = UploadForm(request.POST or None, request.FILES or None, max_bytes=importer.max_bytes)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                importer.check(upload)
            except ImportRefused as exc:
                form.add_error("file", exc.message)
            else:
                upload.seek(0)
                name = default_storage.save(f"imports/{secrets.token_hex(16)}.xlsx", upload)
                mode = Mode(form.cleaned_data["mode"])
                job = jobs.create(
                    kind=importer.job_kind,
                    label=_("Import of %(things)s from %(file)s (%(mode)s)")
                    % {"things": self.opts.verbose_name_plural, "file": upload.name, "mode": mode.label},
                    payload={"upload": name, "mode": mode.value, "language": translation.get_language()},
                    actor=request.user,
                )
                messages.success(
                    request,
                    _(
                        "The file is being imported; this page shows how far it is, and you will be told when it is done."
                    ),
                )
                return HttpResponseRedirect(reverse("admin:alliance_job_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import %(things)s from Excel") % {"things": self.opts.verbose_name_plural},
            "opts": self.opts,
            "changelist_url": self._import_url("changelist"),
            "template_url": self._import_url("import_template"),
            "form": form,
            "max_megabytes": importer.max_bytes // (1024 * 1024),
            "header": importer.header(),
            "required": [str(c.label) for c in importer.columns if c.required],
        }
        return TemplateResponse(request, "admin/imports/upload.html", context)

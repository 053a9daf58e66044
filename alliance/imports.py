"""Excel imports: the street already keeps its units and members in spreadsheets.

An importer names its columns (the file's headers are their labels, in the user's language; the
Chinese and English labels are both accepted), reads a workbook with openpyxl in read-only mode (with
defusedxml installed openpyxl refuses XML entities, so an entity bomb is a refused file, not a hung
worker), checks the file's size, unpacked size and row count before anything else, then validates every
row — each bad row gets its reasons — and only then writes, in one transaction, through the app's
services. Re-importing the same file updates what the first import created instead of creating it again.

`ImportAdminMixin` puts the flow on a ModelAdmin: upload → preview (the file kept under
MEDIA_ROOT/imports/<token>.xlsx, bound to the uploader's session) → "Import" or "Import the valid rows
only"; a template to download, and an export action in exactly the import layout, so that export → edit
→ import round-trips."""

from __future__ import annotations

import logging
import re
import secrets
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet, TextChoices
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from .exports import FORMULA_PREFIXES, xlsx_response
from .forms import REFUSALS, refusal_message
from .notifications import bulk as notifications_in_digest
from .validators import validate_credit_code, validate_mobile

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# A 5 MB zip can unpack to gigabytes of XML; openpyxl reads the shared strings whole, so the declared
# unpacked size is checked first (zipfile never inflates an entry beyond its declared size).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 60  # a row whose last cell sits in column XFD would otherwise be 16,384 values wide
# Blank rows between and after the data are skipped, but scanning them is bounded too: a sheet can
# declare a row at 1,048,576 and openpyxl would fill every row before it.
MAX_BLANK_ROWS = 1000
HEADER_LANGUAGES = ("zh-hans", "en")
SESSION_KEY = "alliance_imports"
STALE_AFTER_SECONDS = 24 * 3600
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


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


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Preview:
    rows: list[RowResult]

    @property
    def valid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.ok]

    @property
    def bad_rows(self) -> list[RowResult]:
        return [row for row in self.rows if not row.ok]

    @property
    def actions(self) -> Counter:
        return Counter(row.action for row in self.valid_rows)


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
    """One kind of row. Subclasses give `model`, `columns`, `sheet_title`, `file_stem` and the hooks
    `prepare` (bulk look-ups: a constant number of queries however many rows), `clean_row` (resolve
    names to objects, decide create / update / unchanged), `row_key` (what makes two rows the same
    record) and `write_row` (call the service)."""

    model: type[Model]
    columns: Sequence[Column] = ()
    sheet_title: Any = ""
    file_stem: Any = ""
    max_bytes = MAX_BYTES
    max_rows = MAX_ROWS

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
        rows = (self.export_row(obj) for obj in self.export_queryset(queryset).iterator(chunk_size=500))
        return str(self.sheet_title), self.header(), rows

    def example_row(self) -> list[object]:
        return [column.example() if callable(column.example) else column.example for column in self.columns]

    def template_sheet(self) -> tuple[str, list[str], list[list[object]]]:
        return str(self.sheet_title), self.header(), [self.example_row()]

    # --- Reading ---

    def read(self, file) -> list[RowResult]:
        """Every row of the file's first sheet, validated. Raises `ImportRefused` for a file that cannot
        be read at all; writes nothing."""
        present, raw_rows = self._read_raw(file)
        rows = [self._parse(row_number, raw, present) for row_number, raw in raw_rows]
        self.prepare(rows)
        for row in rows:
            self.clean_row(row)
        self._mark_repeats(rows)
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

    def _read_raw(self, file) -> tuple[set[str], list[tuple[int, dict[str, object]]]]:
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
            workbook = load_workbook(file, read_only=True, data_only=True)
            if not workbook.worksheets:
                raise ImportRefused(_("The workbook has no sheet."))
            return self._rows(workbook.worksheets[0])
        except ImportRefused:
            raise
        except Exception as exc:
            if _caused_by(exc, DefusedXmlException):  # openpyxl wraps it in a ValueError
                logger.warning("Refused an import with forbidden XML: %r", exc)
                raise ImportRefused(
                    _(
                        "The workbook contains XML that is not allowed (entity declarations, as in an “XML "
                        "bomb”) and was refused. Please save the data in a new workbook and try again."
                    )
                ) from exc
            # openpyxl raises almost anything on a damaged file (KeyError, IndexError, ParseError, ...);
            # every such file gets the same clear answer instead of a 500.
            logger.info("Refused an unreadable import: %r", exc)
            raise ImportRefused(
                _(
                    "The workbook could not be read: it is damaged or not a real .xlsx file. Please open it in "
                    "Excel or WPS, save it as .xlsx again and retry."
                )
            ) from exc
        finally:
            if workbook is not None:
                workbook.close()

    def _rows(self, sheet) -> tuple[set[str], list[tuple[int, dict[str, object]]]]:
        sheet.reset_dimensions()  # files from some tools declare a wrong size; read what is there
        header_at: dict[int, str] = {}
        present: set[str] = set()
        raw_rows: list[tuple[int, dict[str, object]]] = []
        blank_run = 0
        header_row = None
        for row_number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if all(is_blank(v) for v in values):
                blank_run += 1
                if blank_run > MAX_BLANK_ROWS:
                    break  # the rest is formatting, not data
                continue
            blank_run = 0
            if header_row is None:
                header_row = row_number
                header_at, present = self._header(values)
                continue
            if len(raw_rows) >= self.max_rows:
                raise ImportRefused(
                    _("The file has more than %(limit)d rows; please split it into several files.")
                    % {"limit": self.max_rows}
                )
            raw_rows.append((row_number, {key: values[i] for i, key in header_at.items() if i < len(values)}))
        if header_row is None:
            raise ImportRefused(_("The first sheet of the workbook is empty."))
        if not raw_rows:
            raise ImportRefused(_("The file has a header row but no rows to import."))
        return present, raw_rows

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

    def _mark_repeats(self, rows: list[RowResult]) -> None:
        first: dict[object, int] = {}
        for row in rows:
            key = self.row_key(row)
            if key is None:
                continue
            if key in first:
                row.error(
                    _("the same record as row %(row)d; each record may appear once in a file.") % {"row": first[key]}
                )
            else:
                first[key] = row.row_number

    # --- Hooks ---

    def prepare(self, rows: list[RowResult]) -> None:
        """Load what the rows refer to, in bulk."""

    def clean_row(self, row: RowResult) -> None:
        """Resolve names to objects and decide the row's action; add errors to the row. Runs on rows that
        already have errors too, so that every reason is listed at once."""

    def row_key(self, row: RowResult) -> object | None:
        return None

    def write_row(self, row: RowResult, actor) -> str:
        raise NotImplementedError

    # --- Writing ---

    def apply(self, valid_rows: Sequence[RowResult], actor=None) -> ImportSummary:
        """Write the rows through the services in one transaction. A refusal of any row rolls back all of
        them (`ImportFailed` names the row)."""
        actor = actor if actor is not None else self.actor
        if any(not row.ok for row in valid_rows):
            raise ValueError("apply() takes valid rows only")
        summary = ImportSummary()
        # Staff told about each imported row (a member waiting for verification) get the day's digest,
        # not one message per row; the people imported (password links) are still told at once.
        with transaction.atomic(), notifications_in_digest():
            for row in valid_rows:
                try:
                    outcome = self.write_row(row, actor)
                except (*REFUSALS, Http404) as exc:
                    message = refusal_message(exc) if not isinstance(exc, Http404) else _("You may not do this.")
                    raise ImportFailed(row.row_number, message) from exc
                except IntegrityError as exc:  # a clash with a row written since the preview
                    raise ImportFailed(
                        row.row_number, _("The record clashes with one saved in the meantime; please try again.")
                    ) from exc
                setattr(summary, outcome, getattr(summary, outcome) + 1)
        return summary

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


# --- The admin flow ------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
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


def import_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _remove_stale_uploads() -> None:
    """Uploads nobody imported or cancelled go after a day."""
    cutoff = time.time() - STALE_AFTER_SECONDS
    for stale in import_dir().glob("*.xlsx"):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:  # another request removed it first
            continue


class ImportAdminMixin:
    """Import from Excel and export in the same layout, for a ModelAdmin that also uses
    `ScopedAdminMixin`. Set `importer_class`; add "export_import_layout" to `actions`."""

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
            path("import/<str:token>/", wrap(self.import_preview_view), name="{}_{}_import_preview".format(*info)),
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

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "changelist_url": self._import_url("changelist"),
            "template_url": self._import_url("import_template"),
            "upload_url": self._import_url("import"),
            **extra,
        }

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
        rows = self.get_export_queryset(request, queryset)
        return xlsx_response(self._filename(importer, _("export")), [importer.export_sheet(rows)])

    # --- Upload, preview, import ---

    def import_upload_view(self, request: HttpRequest) -> HttpResponse:
        self._require_import(request)
        importer = self.get_importer(request)
        form = UploadForm(request.POST or None, request.FILES or None, max_bytes=importer.max_bytes)
        if request.method == "POST" and form.is_valid():
            import_dir().mkdir(parents=True, exist_ok=True)
            _remove_stale_uploads()
            token = secrets.token_hex(16)
            with (import_dir() / f"{token}.xlsx").open("wb") as stored:
                for chunk in form.cleaned_data["file"].chunks():
                    stored.write(chunk)
            uploads = request.session.get(SESSION_KEY, {})
            uploads[token] = self.opts.label_lower
            request.session[SESSION_KEY] = uploads
            return HttpResponseRedirect(self._import_url("import_preview", token))
        context = self._context(
            request,
            _("Import %(things)s from Excel") % {"things": self.opts.verbose_name_plural},
            form=form,
            max_rows=importer.max_rows,
            max_megabytes=importer.max_bytes // (1024 * 1024),
            header=importer.header(),
            required=[str(c.label) for c in importer.columns if c.required],
        )
        return TemplateResponse(request, "admin/imports/upload.html", context)

    def _stored_upload(self, request: HttpRequest, token: str) -> Path:
        if not TOKEN_RE.match(token) or request.session.get(SESSION_KEY, {}).get(token) != self.opts.label_lower:
            raise Http404
        stored = import_dir() / f"{token}.xlsx"
        if not stored.exists():
            self._forget_upload(request, token)
            raise Http404
        return stored

    def _forget_upload(self, request: HttpRequest, token: str) -> None:
        uploads = request.session.get(SESSION_KEY, {})
        if uploads.pop(token, None) is not None:
            request.session[SESSION_KEY] = uploads
        (import_dir() / f"{token}.xlsx").unlink(missing_ok=True)

    def import_preview_view(self, request: HttpRequest, token: str) -> HttpResponse:
        self._require_import(request)
        stored = self._stored_upload(request, token)
        if request.method == "POST" and "cancel" in request.POST:
            self._forget_upload(request, token)
            messages.info(request, _("The import was cancelled; nothing was written."))
            return HttpResponseRedirect(self._import_url("changelist"))
        importer = self.get_importer(request)
        try:
            # Validated again on every step: what is stored may have changed since the preview.
            preview = Preview(importer.read(stored))
        except ImportRefused as exc:
            self._forget_upload(request, token)
            messages.error(request, exc.message)
            return HttpResponseRedirect(self._import_url("import"))
        if request.method == "POST":
            response = self._apply(request, token, importer, preview)
            if response is not None:
                return response
        counts = preview.actions
        context = self._context(
            request,
            _("Check the import of %(things)s") % {"things": self.opts.verbose_name_plural},
            token=token,
            preview=preview,
            total=len(preview.rows),
            valid=len(preview.valid_rows),
            bad_rows=preview.bad_rows,
            noted_rows=[row for row in preview.valid_rows if row.notes],
            to_create=counts["create"],
            to_update=counts["update"],
            unchanged=counts["unchanged"],
            name_key=importer.columns[0].key,
            preview_url=self._import_url("import_preview", token),
        )
        return TemplateResponse(request, "admin/imports/preview.html", context)

    def _apply(self, request: HttpRequest, token: str, importer: Importer, preview: Preview) -> HttpResponse | None:
        if "import_valid" in request.POST:
            rows = preview.valid_rows
        elif "import_all" in request.POST:
            if preview.bad_rows:
                messages.error(
                    request,
                    ngettext(
                        "%(count)d row is not valid, so nothing was imported. Correct the file, or import the "
                        "valid rows only.",
                        "%(count)d rows are not valid, so nothing was imported. Correct the file, or import the "
                        "valid rows only.",
                        len(preview.bad_rows),
                    )
                    % {"count": len(preview.bad_rows)},
                )
                return None
            rows = preview.rows
        else:
            return None
        if not rows:
            messages.error(request, _("There is no valid row to import."))
            return None
        try:
            summary = importer.apply(rows, request.user)
        except ImportFailed as exc:
            messages.error(
                request,
                _("Row %(row)d was refused: %(reason)s Nothing was imported.")
                % {"row": exc.row_number, "reason": exc.message},
            )
            return None
        self._forget_upload(request, token)
        messages.success(
            request,
            _("Imported: %(created)d added, %(updated)d updated, %(unchanged)d unchanged.")
            % {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged},
        )
        return HttpResponseRedirect(self._import_url("changelist"))

"""Excel exports: an exporter yields a header and plain rows from a selector; one renderer writes them
with openpyxl in write-only mode, so memory stays flat however many rows there are.

A big export (needs, units, members, the claim table, service cards) runs as a background job
(`alliance.jobs`): the admin action only records which rows were chosen (`export_later`: their ids, or
for "select all" the list's filters) and sends the user to the job's page; the worker narrows the rows again to what the requester may see now
(`alliance.permissions`), writes the workbook to a file and leaves it on the job for download. An app
registers each kind with `register_export(kind, model, sheets)`; `sheets(queryset, user, params)` gives
the exporter's sheets, masked as the synchronous export masks them."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from . import replica

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@")


def safe_cell_value(value: object) -> object:
    """Plain values for a cell. Text that a spreadsheet would run as a formula (CSV/formula injection)
    is prefixed with an apostrophe; aware datetimes become local naive ones, which openpyxl requires."""
    # Text and numbers first, by exact type: most cells, and this runs for every cell of every export.
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if kind is int or kind is float:
        return value
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


Sheet = tuple[str, Sequence[str], Iterable[Sequence[object]]]


def choice_labels(model: type[Model], field: str) -> dict[object, str]:
    """A field's choice labels in the active language, looked up once for a whole export: the model's
    `get_FOO_display()` translates and re-hashes the choices on every call (a sixth of the needs export's time)."""
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def write_workbook(target, sheets: Iterable[Sheet]) -> None:
    """Write the sheets to `target` (a path or a binary file), a row at a time."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        write_sheet(workbook, title, header, rows)
    workbook.save(target)


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    buffer = io.BytesIO()
    write_workbook(buffer, sheets)
    return buffer.getvalue()


def xlsx_response(
    filename: str, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]
) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    # RFC 6266: the ASCII fallback first, then the UTF-8 name for browsers that read it.
    response["Content-Disposition"] = f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    return response


# --- Big exports as background jobs ---------------------------------------------------------------------

SheetsOf = Callable[[QuerySet, Any, dict], Iterable[Sheet]]


@dataclass(frozen=True)
class ExportKind:
    model: type[Model] | None  # None: an export of no chosen rows (every unit's card), scoped by `sheets`
    sheets: SheetsOf


_kinds: dict[str, ExportKind] = {}


def register_export(kind: str, model: type[Model] | None, sheets: SheetsOf) -> None:
    """An export the worker can make: `sheets(queryset, user, params)` over the chosen rows of `model`
    (`queryset` None for a kind without a model)."""
    from . import jobs  # the jobs module imports this one

    _kinds[kind] = ExportKind(model, sheets)
    jobs.register(kind, _run_export)


# The admin's "select all N" posts this field as "1": the action's queryset is then the whole filtered
# change list, which at city scale is a million rows.
SELECT_ACROSS = "select_across"


def export_later(
    request: HttpRequest,
    kind: str,
    *,
    queryset: QuerySet | None,
    filename: str,
    label: str,
    params: dict | None = None,
    model_admin: Any = None,
    narrow: str = "",
) -> HttpResponse:
    """The admin action's answer: record which rows were chosen and queue the export; the user follows it
    on the job's page.

    A selection of rows is stored as their ids (a page of the list at most). "Select all N" of the change
    list of `model_admin` (the action's admin) is stored as the list's filters — its query string — and
    not as ids: the worker evaluates them again for the requester. `narrow` names a method of the admin,
    `(request, queryset) -> queryset`, that narrowed the action's rows further (the import layout leaves
    out the phones the user may not see in full): the worker applies it too."""
    from . import jobs

    selection: dict[str, Any]
    if model_admin is not None and request.POST.get(SELECT_ACROSS) == "1":
        opts = model_admin.model._meta
        selection = {"changelist": {"model": opts.label_lower, "query": request.GET.urlencode(), "narrow": narrow}}
    else:
        ids = list(queryset.order_by().values_list("pk", flat=True).distinct()) if queryset is not None else []
        selection = {"ids": ids}
    job = jobs.create(
        kind=kind,
        label=label,
        payload={
            **selection,
            "filename": filename,
            "params": params or {},
            "language": translation.get_language(),
        },
        actor=request.user,
    )
    messages.success(
        request, _("The export is being written; this page shows how far it is and offers the file when it is ready.")
    )
    return HttpResponseRedirect(reverse("admin:alliance_job_change", args=[job.pk]))


def _changelist_rows(actor, changelist: dict) -> QuerySet:
    """The rows of an admin change list for `actor` with the stored filters (search, list filters), as the
    list itself would show them to this user now: the admin's own queryset (its scope), its filters."""
    from django.contrib import admin
    from django.contrib.admin.options import IncorrectLookupParameters

    from . import jobs

    try:
        model = apps.get_model(changelist["model"])
    except (LookupError, ValueError) as exc:
        raise jobs.JobFailed(_("This kind of export is no longer available.")) from exc
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        raise jobs.JobFailed(_("This kind of export is no longer available."))
    request = HttpRequest()
    request.method = "GET"
    request.user = actor
    request.GET = QueryDict(changelist.get("query", ""))
    opts = model._meta
    request.path = request.path_info = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if not model_admin.has_view_or_change_permission(request):
        raise jobs.JobFailed(_("You may no longer see this list."))

    class Filtered(model_admin.get_changelist(request)):
        def get_results(self, request: HttpRequest) -> None:
            """Not the page nor its counts: only the filtered queryset is wanted."""

    list_display = model_admin.get_list_display(request)
    try:
        rows = Filtered(
            request,
            model,
            list_display,
            model_admin.get_list_display_links(request, list_display),
            model_admin.get_list_filter(request),
            model_admin.date_hierarchy,
            model_admin.get_search_fields(request),
            model_admin.get_list_select_related(request),
            model_admin.list_per_page,
            model_admin.list_max_show_all,
            model_admin.list_editable,
            model_admin,
            model_admin.get_sortable_by(request),
            model_admin.search_help_text,
        ).get_queryset(request)
    except IncorrectLookupParameters as exc:
        raise jobs.JobFailed(_("The list's filters are no longer valid; export the list again.")) from exc
    narrow = changelist.get("narrow")
    if narrow:
        rows = getattr(model_admin, narrow)(request, rows)
    return rows


def _chosen(actor, spec: ExportKind, payload: dict) -> QuerySet | None:
    """The rows to export, narrowed again to what the requester may see now: access may have been withdrawn
    since the request. A select-all is a subquery (its filters), never a list of ids in memory."""
    from . import permissions

    if spec.model is None:
        return None
    visible = permissions.visible(actor, spec.model)
    changelist = payload.get("changelist")
    if changelist:
        return visible.filter(pk__in=_changelist_rows(actor, changelist).order_by().values("pk"))
    return visible.filter(pk__in=payload.get("ids", []))


def _run_export(job, progress) -> None:
    from . import jobs

    spec = _kinds[job.kind]
    actor = job.requested_by
    if actor is None or not actor.is_active:
        raise jobs.JobFailed(_("The account that asked for this export is no longer active."))
    payload = job.payload
    queryset = _chosen(actor, spec, payload)
    written = 0

    def counted(rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
        nonlocal written
        for row in rows:
            yield row
            written += 1
            if written % 5000 == 0:
                progress(steps_done=0, steps_total=0, rows_done=written)

    language = payload.get("language") or settings.LANGUAGE_CODE
    with translation.override(language), tempfile.TemporaryFile() as target:
        sheets = (
            (title, header, counted(rows))
            for title, header, rows in spec.sheets(queryset, actor, payload.get("params", {}))
        )
        with replica.reading(fresh=True):
            write_workbook(target, sheets)
        target.seek(0)
        outcome = _("%(count)d rows exported.") % {"count": written}
        jobs.attach_result(job, filename=payload.get("filename") or "export.xlsx", content=target, outcome=outcome)
    progress(steps_done=1, steps_total=1, rows_done=written)

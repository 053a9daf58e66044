"""The download of a stored quarterly report, shared by the admin and the API."""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse

from alliance.exports import XLSX_CONTENT_TYPE

from . import reporting
from .models import QuarterlyReport


def report_file_response(report: QuarterlyReport) -> FileResponse:
    response = FileResponse(report.file.open("rb"), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(reporting.report_filename(report))}"
    response["Content-Length"] = str(report.size)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

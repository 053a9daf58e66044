"""The demo street's quarterly report builds from the admin button on the embedded default (SQLite in the
demo; whichever database the suite runs on here), with figures in every sheet a street office fills."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client

from alliance import reports
from alliance.periods import Quarter
from members.models import QuarterlyReport, Street


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True


def test_the_demo_streets_report_builds_from_the_admin_button(db, django_capture_on_commit_callbacks):
    call_command("seed_demo", "--password", "pw-2026-demo", stdout=io.StringIO())
    client = Client()
    assert client.login(username="staff", password="pw-2026-demo")
    street = Street.objects.get(name="柳巷街道")
    quarter = Quarter.current()  # the demo's data is of the running quarter and the ones before
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/members/quarterlyreport/build/",
            {"street": street.pk, "period": str(quarter), "editions": ["internal", "outward"]},
        )
    assert response.status_code == 302
    for report in QuarterlyReport.objects.select_related("job"):
        assert report.ready, report.job.failure_reason
        download = client.get(f"/admin/members/quarterlyreport/{report.pk}/download/")
        assert download.status_code == 200
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
        assert len(workbook.sheetnames) == len(reports.sheets())
        # Every sheet has its header and at least one row of the demo's data.
        empty = [name for name in workbook.sheetnames if workbook[name].max_row < 2]
        assert empty == []

"""季度报表 in the admin: street staff build a report with a button, follow its progress in the list,
download every version, and build a new one."""

from __future__ import annotations

import pytest
from django.test import Client

from alliance import jobs
from alliance.models import Job
from alliance.periods import Quarter
from members import reporting
from members.models import QuarterlyReport

LIST = "/admin/members/quarterlyreport/"
BUILD = LIST + "build/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def street(community_x):
    return community_x.street


@pytest.fixture
def staff_client(street_staff) -> Client:
    client = Client()
    client.force_login(street_staff)
    return client


def test_the_build_button_queues_both_editions_of_the_chosen_quarter(
    street, staff_client, django_capture_on_commit_callbacks
):
    previous = Quarter.current().previous()
    page = staff_client.get(BUILD)
    assert page.status_code == 200
    assert page.context["form"]["period"].initial == str(previous)
    response = staff_client.post(
        BUILD, {"street": street.pk, "period": str(previous), "editions": ["internal", "outward"]}
    )
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert sorted(QuarterlyReport.objects.values_list("edition", "year", "quarter", "version")) == [
        ("internal", previous.year, previous.quarter, 1),
        ("outward", previous.year, previous.quarter, 1),
    ]


def test_a_bad_choice_is_shown_on_the_form_and_builds_nothing(street, staff_client):
    response = staff_client.post(BUILD, {"street": street.pk, "period": "2099Q1", "editions": ["internal"]})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["period"]
    assert not QuarterlyReport.objects.exists()


def test_community_staff_cannot_open_the_reports(street, community_x_staff):
    client = Client()
    client.force_login(community_x_staff)
    assert client.get(LIST).status_code == 403
    assert client.get(BUILD).status_code == 403


def test_the_list_shows_progress_and_the_download(street, street_staff, staff_client, django_assert_num_queries):
    done = reporting.report_request(street=street, quarter=Quarter(2026, 2), actor=street_staff)
    jobs.run(done.job_id)
    running = reporting.report_request(street=street, quarter=Quarter(2026, 3), actor=street_staff)
    Job.objects.filter(pk=running.job_id).update(
        status=Job.Status.RUNNING, steps_done=4, steps_total=9, rows_done=12345
    )
    # user (session and groups from the cache); the street filter's choices; the capped count of the
    # filtered list (every admin list's paginator, alliance/admin/base.py); the page of reports with street
    # and job joined; the year and quarter filters' choices;
    # the header's count of my unread notifications (alliance/inbox.py). None of them grows with the
    # reports shown.
    with django_assert_num_queries(7):
        page = staff_client.get(LIST)
    text = page.content.decode()
    assert page.status_code == 200
    assert "运行中：已完成 4/9 张表，已写 12,345 行" in text
    assert f"/admin/members/quarterlyreport/{done.pk}/download/" in text
    assert f"/admin/members/quarterlyreport/{running.pk}/download/" not in text


def test_a_download_is_the_stored_file_under_a_readable_name(street, street_staff, staff_client):
    report = reporting.report_request(street=street, quarter=Quarter(2026, 3), actor=street_staff)
    jobs.run(report.job_id)
    report.refresh_from_db()
    response = staff_client.get(f"{LIST}{report.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == report.file.open("rb").read()
    assert "2026" in response["Content-Disposition"] and response["Content-Disposition"].endswith("v1.xlsx")


def test_a_report_still_being_built_has_no_download(street, street_staff, staff_client):
    report = reporting.report_request(street=street, quarter=Quarter(2026, 3), actor=street_staff)
    assert staff_client.get(f"{LIST}{report.pk}/download/").status_code == 404


def test_a_failed_report_says_why_on_its_page(street, street_staff, staff_client):
    report = reporting.report_request(street=street, quarter=Quarter(2026, 3), actor=street_staff)
    Job.objects.filter(pk=report.job_id).update(status=Job.Status.FAILED, failure_reason="磁盘已满")
    page = staff_client.get(f"{LIST}{report.pk}/change/")
    assert page.status_code == 200
    assert "磁盘已满" in page.content.decode()


def test_the_rebuild_action_makes_the_next_version(street, street_staff, staff_client):
    report = reporting.report_request(street=street, quarter=Quarter(2026, 3), actor=street_staff)
    jobs.run(report.job_id)
    response = staff_client.post(LIST, {"action": "rebuild", "_selected_action": [report.pk]})
    assert response.status_code == 302
    assert list(QuarterlyReport.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, True),
    ]

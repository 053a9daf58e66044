"""GET /api/v1/reports/quarterly/<year>/<quarter>/ exactly as SPEC "Fixed interfaces" gives it."""

from __future__ import annotations

import hashlib
import io

import openpyxl
import pytest
from rest_framework.test import APIClient

from alliance import jobs, permissions
from alliance.models import Job
from alliance.periods import Quarter
from members import services as member_services
from members.models import District, QuarterlyReport, Street

from ..factories import StreetFactory, UserFactory

URL = "/api/v1/reports/quarterly/2026/3/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def street(community_x):
    return community_x.street


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_the_first_request_starts_the_build_and_answers_202(street, street_staff):
    response = api(street_staff).get(URL)
    assert response.status_code == 202
    assert response.json() == {
        "status": "queued",
        "progress": {"sheets_done": 0, "sheets_total": 0, "rows_written": 0},
    }
    report = QuarterlyReport.objects.get()
    assert (report.street, report.year, report.quarter, report.edition, report.requested_by) == (
        street,
        2026,
        3,
        "internal",
        street_staff,
    )
    # Asking again while it is built starts nothing more.
    assert api(street_staff).get(URL).status_code == 202
    assert QuarterlyReport.objects.count() == 1


def test_a_running_build_shows_its_progress(street, street_staff):
    api(street_staff).get(URL)
    Job.objects.update(status=Job.Status.RUNNING, steps_done=3, steps_total=9, rows_done=12345)
    assert api(street_staff).get(URL).json() == {
        "status": "running",
        "progress": {"sheets_done": 3, "sheets_total": 9, "rows_written": 12345},
    }


def test_a_built_report_is_the_workbook(street, street_staff):
    api(street_staff).get(URL)
    jobs.run(QuarterlyReport.objects.get().job_id)
    response = api(street_staff).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == QuarterlyReport.objects.get().checksum
    assert openpyxl.load_workbook(io.BytesIO(content)).sheetnames[0] == "汇总"


def test_the_outward_edition_is_asked_for_by_name(street, street_staff):
    assert api(street_staff).get(URL + "?edition=outward").status_code == 202
    assert QuarterlyReport.objects.get().edition == "outward"


def test_a_failed_build_answers_409_with_the_reason(street, street_staff):
    api(street_staff).get(URL)
    Job.objects.update(status=Job.Status.FAILED, failure_reason="磁盘已满")
    response = api(street_staff).get(URL)
    assert response.status_code == 409
    assert response.json()["status"] == "failed"
    assert "磁盘已满" in response.json()["detail"]
    assert QuarterlyReport.objects.count() == 1  # a GET does not rebuild; staff do, from the admin


@pytest.mark.parametrize("role", ["liaison_a", "community_x_staff", "member"])
def test_everyone_else_signed_in_gets_404(request, street, role):
    response = api(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 404
    assert not QuarterlyReport.objects.exists()


def test_an_anonymous_caller_is_refused_like_every_private_endpoint(street):
    assert api().get(URL).status_code == 403
    assert not QuarterlyReport.objects.exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [("?edition=district", "edition"), ("?street=abc", "street"), ("?street=１", "street")],
)
def test_bad_parameters_are_400_and_change_nothing(street, street_staff, query, field):
    response = api(street_staff).get(URL + query)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not QuarterlyReport.objects.exists()


@pytest.mark.parametrize("path", ["2026/5/", "2026/0/", "1066/1/", "99999/1/"])
def test_a_path_that_names_no_quarter_is_404(street, street_staff, path):
    assert api(street_staff).get(f"/api/v1/reports/quarterly/{path}").status_code == 404


def test_a_quarter_that_has_not_begun_is_400(street, street_staff):
    following = Quarter.current().next()
    response = api(street_staff).get(f"/api/v1/reports/quarterly/{following.year}/{following.quarter}/")
    assert response.status_code == 400
    assert response.json() == {"detail": f"{following} 尚未开始，暂无可报内容。"}


def test_with_several_streets_the_caller_names_one(street, street_staff, root):
    other = StreetFactory(name="坞城街道")
    # Staff of both streets (as a district's staff would be): the caller names one.
    member_services.street_staff_add(user=street_staff, street=other, actor=root)
    response = api(street_staff).get(URL)
    assert response.status_code == 400
    assert list(response.json()) == ["street"]
    assert api(street_staff).get(f"{URL}?street={other.pk}").status_code == 202
    assert QuarterlyReport.objects.get().street == other
    assert api(street_staff).get(f"{URL}?street=999999").status_code == 404


def test_street_staff_get_only_their_streets_report_and_district_staff_name_any_of_theirs(street, street_staff, root):
    other = StreetFactory(name="坞城街道")
    # One street's staff: their street, without naming it; another street's: not there (404).
    assert api(street_staff).get(URL).status_code == 202
    assert api(street_staff).get(f"{URL}?street={other.pk}").status_code == 404
    district = District.objects.create(name="迎泽区")
    Street.objects.filter(pk__in=[street.pk, other.pk]).update(district=district)
    permissions.forget_organisation()
    officer = UserFactory(username="district_officer")
    member_services.district_staff_add(user=officer, district=district, actor=root)
    assert api(officer).get(URL).status_code == 400  # two streets: name one
    assert api(officer).get(f"{URL}?street={other.pk}").status_code == 202
    elsewhere = Street.objects.create(name="别区街道", district=District.objects.create(name="别区"))
    officer = type(officer).objects.get(pk=officer.pk)  # the next request's user object
    assert api(officer).get(f"{URL}?street={elsewhere.pk}").status_code == 404


def test_the_request_costs_a_constant_number_of_queries(street, street_staff, django_assert_num_queries):
    api(street_staff).get(URL)
    jobs.run(QuarterlyReport.objects.get().job_id)
    client = api(street_staff)
    # the streets (at most 2), SAVEPOINT, lock the street, the current version with its job and street,
    # RELEASE SAVEPOINT; the file is then streamed from storage. (The user's groups were read by the first
    # request and are cached on the user.)
    with django_assert_num_queries(5):
        assert client.get(URL).status_code == 200

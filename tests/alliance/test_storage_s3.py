"""Several machines share their files through S3-compatible object storage: with AWS_STORAGE_BUCKET_NAME set,
uploads, quarterly reports, job results and import files go to the bucket (nothing to the local folder), and come back
through the same permission-checked URLs. Against a real S3 server on loopback (moto's server mode)."""

from __future__ import annotations

import importlib.util
import io
import re
import socket
import uuid
from decimal import Decimal

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

import alliance.settings
from alliance import jobs
from alliance.imports import Mode
from alliance.models import Job
from alliance.periods import Quarter
from alliance.storage import PrivateS3Storage
from demands.models import Need, NeedPhoto
from members import reporting
from volunteers.imports import MemberImporter
from volunteers.models import PartyMember

from ..conftest import client_for
from ..demands.conftest import need_in  # noqa: F401 (a fixture)
from ..images import photo_bytes
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

REGION = "us-east-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """A fresh private bucket, and the settings the environment variables give (read by the real settings
    module), in force for the test. The local media folder is left empty by everything below."""
    name = f"alliance-{uuid.uuid4().hex[:12]}"
    environment = {
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": "alliance-test",
        "AWS_SECRET_ACCESS_KEY": "alliance-test-secret",
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    # The real settings module run again under these variables, beside the one in force.
    spec = importlib.util.spec_from_file_location("alliance.settings_with_bucket", alliance.settings.__file__)
    configured = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(configured)
    settings.STORAGES = configured.STORAGES
    settings.MEDIA_ROOT = tmp_path / "media"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="alliance-test",
        aws_secret_access_key="alliance-test-secret",
    )
    client.create_bucket(Bucket=name)
    assert isinstance(default_storage, PrivateS3Storage)
    yield client, name
    assert not (tmp_path / "media").exists()  # nothing went to the local folder


def _stored(bucket, key: str) -> bytes:
    client, name = bucket
    return client.get_object(Bucket=name, Key=key)["Body"].read()


def test_a_need_photo_is_stored_in_the_bucket_and_served_only_to_who_may_see_the_need(
    bucket,
    need_in,  # noqa: F811 (the fixture imported above)
    liaison_a,
    liaison_b,
    community_x_staff,
    community_y_staff,
):
    need = need_in(Need.Status.ACCEPTED)
    api = APIClient()
    api.force_authenticate(liaison_a)
    sent = SimpleUploadedFile("IMG_0001.JPG", photo_bytes((40, 30)), content_type="image/jpeg")
    response = api.post(
        f"/api/v1/needs/{need.pk}/complete/", {"result": "已换好", "photos": [sent]}, format="multipart"
    )
    assert response.status_code == 200, response.content

    photo = NeedPhoto.objects.get(need=need)
    assert re.fullmatch(rf"needs/{need.pk}/[0-9a-f]{{32}}\.jpg", photo.image.name)
    stored = _stored(bucket, photo.image.name)
    assert stored.startswith(b"\xff\xd8\xff")
    client, name = bucket
    grants = client.get_object_acl(Bucket=name, Key=photo.image.name)["Grants"]
    assert [g["Grantee"].get("URI") for g in grants if g["Grantee"].get("URI")] == []  # nothing public

    # The page's link is the platform's own URL, not the bucket's.
    assert photo.image.url == f"/media/{photo.image.name}"
    for who in (liaison_a, community_x_staff):
        download = client_for(who).get(photo.image.url)
        assert download.status_code == 200
        assert download["Content-Type"] == "image/jpeg"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert b"".join(download.streaming_content) == stored
    for who in (liaison_b, community_y_staff):
        assert client_for(who).get(photo.image.url).status_code == 404
    # A name that is not in the bucket under that need's folder is the same 404.
    assert client_for(liaison_a).get(f"/media/needs/{need.pk}/{'0' * 32}.jpg").status_code == 404


def test_a_quarterly_report_is_built_into_the_bucket_and_downloaded(bucket, community_x, street_staff):
    report = reporting.report_request(street=community_x.street, quarter=Quarter(2026, 3), actor=street_staff)
    assert jobs.run(report.job_id)
    report.refresh_from_db()
    assert report.job.status == Job.Status.DONE
    stored = _stored(bucket, report.file.name)
    assert len(stored) == report.size

    response = client_for(street_staff).get(f"/admin/members/quarterlyreport/{report.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == stored
    assert load_workbook(io.BytesIO(body), read_only=True).sheetnames

    # A rebuild of the same version replaces its file in the bucket: one object, the new one.
    Job.objects.filter(pk=report.job_id).update(status=Job.Status.QUEUED)
    assert jobs.run(report.job_id)
    report.refresh_from_db()
    client, name = bucket
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name, Prefix="reports/").get("Contents", [])]
    assert keys == [report.file.name]


def test_an_export_jobs_result_file_is_written_to_the_bucket_and_downloaded(
    bucket, community_x_staff, community_x, unit_a, django_capture_on_commit_callbacks
):
    members = [PartyMemberFactory(residence_community=community_x, work_unit=unit_a) for _ in range(2)]
    for n, member in enumerate(members):
        ServiceLogFactory(member=member, hours=Decimal(n + 1), verified=True)
    client = client_for(community_x_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:volunteers_servicelog_totals_export"), {"query": "verified__exact=1"})
    job = Job.objects.get(kind="volunteers.hours_totals")
    assert job.status == Job.Status.DONE, job.failure_reason
    stored = _stored(bucket, job.result.name)

    response = client.get(reverse("admin:alliance_job_result", args=[job.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == stored
    rows = list(load_workbook(io.BytesIO(body), read_only=True)["按社区"].iter_rows(values_only=True))
    assert rows[1:] == [(community_x.name, 3.0, 2)]


def test_an_import_upload_goes_through_the_bucket_and_is_removed_after_the_job(
    bucket, street_staff, community_x, django_capture_on_commit_callbacks
):
    importer = MemberImporter(actor=street_staff)
    workbook = Workbook()
    workbook.active.append(importer.header())
    values = {
        "name": "张伟",
        "phone": "13712345678",
        "work_unit": "太原某科技公司",
        "residence_community": community_x.name,
    }
    workbook.active.append([values.get(column.key, "") for column in importer.columns])
    content = io.BytesIO()
    workbook.save(content)
    upload = SimpleUploadedFile("导入.xlsx", content.getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(street_staff).post(
            reverse("admin:volunteers_partymember_import"), {"file": upload, "mode": Mode.ALL}
        )
    assert response.status_code == 302
    job = Job.objects.get(kind=importer.job_kind)
    assert job.status == Job.Status.DONE, job.failure_reason
    assert list(PartyMember.objects.values_list("name", "phone")) == [("张伟", "13712345678")]
    client, name = bucket
    assert client.list_objects_v2(Bucket=name, Prefix="imports/").get("Contents", []) == []

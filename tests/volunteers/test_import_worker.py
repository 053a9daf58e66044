"""With a real Celery worker and Redis, on PostgreSQL: an upload is imported by the worker, not by the
request, and a second delivery of the same job (the broker redelivers after a worker died) imports nothing
twice."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from alliance.celery import app as celery_app
from alliance.models import Job, Notification
from volunteers.models import PartyMember

from ..conftest import client_for
from ..factories import CommunityFactory, street_staff_of
from .test_import import _file, _member_file

pytestmark = [
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and PostgreSQL shared with a worker process",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path  # the folder the worker reads the upload from
    return tmp_path


@pytest.fixture
def worker_env(media) -> dict[str, str]:
    return {"MEDIA_ROOT": str(media)}


def test_an_upload_is_imported_by_the_worker_once(worker, media):

    community = CommunityFactory()
    staff = street_staff_of(community.street, username="import-staff")
    response = client_for(staff).post(
        reverse("admin:volunteers_partymember_import"), {"file": _file(_member_file(community, 120)), "mode": "all"}
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == reverse("admin:alliance_job_change", args=[job.pk])

    def finished() -> bool:
        job.refresh_from_db()
        return job.finished

    worker.wait_for(finished, "the worker did not finish")
    assert (job.status, job.attempts, job.rows_done) == (Job.Status.DONE, 1, 120)
    assert PartyMember.objects.filter(residence_community=community).count() == 120
    assert not list((media / "imports").glob("*.xlsx"))  # the upload is gone once imported
    # Delivered again (as after a worker died): the job is finished, nothing is imported twice.
    celery_app.send_task("alliance.tasks.run_job", args=[job.pk])
    celery_app.send_task("alliance.tasks.sweep_jobs")
    time.sleep(3)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.DONE, 1)
    assert PartyMember.objects.count() == 120
    assert Notification.objects.filter(kind=f"import:{job.pk}", recipient=staff).count() == 1

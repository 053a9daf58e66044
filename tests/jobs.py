"""Following a background job as a user does: the request queues it and sends the user to the job's page;
the job runs when the request's transaction commits (Celery eager in tests); its result is downloaded
from the job's page."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from alliance.models import Job


def post_for_job(client, url: str, data: dict) -> Job:
    """POST, run what was queued, follow to the job's page; the job as it ended."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert response.status_code == 200
    job = response.context["original"]
    assert isinstance(job, Job)
    assert response.request["PATH_INFO"] == reverse("admin:alliance_job_change", args=[job.pk])
    job.refresh_from_db()
    return job


def result_of(client, job: Job) -> bytes:
    response = client.get(reverse("admin:alliance_job_result", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return b"".join(response.streaming_content)


def export_through_job(client, url: str, data: dict) -> bytes:
    """An export action: the file its job wrote, downloaded as the user does."""
    job = post_for_job(client, url, data)
    assert job.status == Job.Status.DONE, job.failure_reason
    return result_of(client, job)

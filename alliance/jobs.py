"""The one mechanism for long work: a `Job` row (kind, who asked, status, progress, failure reason) that a
Celery task advances. Reports, imports and big exports all use it; none runs in a web request.

- An app registers a runner for its kind at start-up: `register("members.quarterly_report", build)`. A runner
  takes the job and a `progress(steps_done=, steps_total=, rows_done=)` callback, and raises `JobFailed`
  with a message for the user when the work cannot be done (any other exception is logged and reported as
  an internal error, without its text: that may hold data the requester should not see).
- `create()` writes the row and queues `alliance.tasks.run_job` after commit. If the broker is down the
  row waits: `sweep()` (beat, every few minutes) queues queued jobs nobody picked up and jobs whose worker
  died mid-way (no progress for `STALE_AFTER`).
- A runner may leave an `outcome` (a line for the person who asked) and a result workbook (`attach_result`):
  an export, or the rows an import refused with their reasons. It is downloaded through `result_response`,
  which only the job's requester and street staff reach (`JobRules`).
- `run()` is safe to run twice: it claims the job with a conditional UPDATE, so a second delivery of the
  same message (the broker redelivers after a worker died: `task_acks_late`) finds it taken or finished.
  A runner must itself be idempotent over its own output (the report writes its one file again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import permissions
from .exports import XLSX_CONTENT_TYPE
from .masking import redact
from .models import Job
from .queue import enqueue, enqueue_after_commit

logger = logging.getLogger(__name__)

# A running job that has not reported progress for this long lost its worker; the sweep queues it again.
STALE_AFTER = timedelta(minutes=15)
# A queued job nobody has picked up for this long lost its message (broker down at commit); queue it again.
UNCLAIMED_AFTER = timedelta(minutes=2)
# A job whose worker died this many times is given up rather than crash workers forever.
MAX_ATTEMPTS = 3


class JobFailed(Exception):
    """The work cannot be done; the message is for the person who asked, in their language."""


Progress = Callable[..., None]
Runner = Callable[[Job, Progress], None]

_runners: dict[str, Runner] = {}


def register(kind: str, runner: Runner) -> None:
    _runners[kind] = runner


def create(*, kind: str, label: str, payload: dict | None = None, actor=None) -> Job:
    """Write the job and queue it after commit. Call inside the transaction that needs the work done."""
    from .tasks import run_job  # the task module imports this one

    if kind not in _runners:
        raise LookupError(f"No runner registered for job kind {kind!r}")
    actor = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        job = Job.objects.create(kind=kind, label=label[:200], payload=payload or {}, requested_by=actor)
        enqueue_after_commit(run_job, job.pk)
    return job


class JobRules(permissions.StaffOnlyRules):
    """Staff over every street (a superuser, the street office of one street) follow every job; other
    staff follow the jobs they asked for (their imports and exports, their streets' reports), whose results
    hold only what they may see — another street's staff never see them."""

    def visible(self, user, queryset):
        if permissions.street_scope(user).every_street:
            return queryset
        if not permissions.is_staff_member(user):
            return queryset.none()
        return queryset.filter(requested_by=user)


def attach_result(job: Job, *, filename: str, content, outcome: str = "") -> None:
    """Store the job's result workbook (`content`: an open binary file) under a random name, replacing an
    earlier attempt's; `filename` is the name the download is saved under."""
    if job.result:
        job.result.delete(save=False)
    job.result.save(f"{job.pk}.xlsx", File(content), save=False)
    job.result_name = filename[:200]
    fields = {"result": job.result.name, "result_name": job.result_name}
    if outcome:
        job.outcome = outcome[:500]
        fields["outcome"] = job.outcome
    Job.objects.filter(pk=job.pk).update(**fields)


def set_outcome(job: Job, outcome: str) -> None:
    job.outcome = outcome[:500]
    Job.objects.filter(pk=job.pk).update(outcome=job.outcome)


def result_response(job: Job) -> FileResponse:
    """The download of a job's result: the caller has checked that the user may see the job."""
    response = FileResponse(job.result.open("rb"), content_type=XLSX_CONTENT_TYPE)
    # RFC 6266: the ASCII fallback first, then the UTF-8 name for browsers that read it.
    response["Content-Disposition"] = (
        f"attachment; filename=result.xlsx; filename*=UTF-8''{quote(job.result_name or 'result.xlsx')}"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _claim(job_id: int) -> Job | None:
    """Take the job for this worker: queued, or running with no progress for STALE_AFTER (its worker died)."""
    now = timezone.now()
    stale = now - STALE_AFTER
    taken = Job.objects.filter(
        Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, heartbeat_at__lt=stale),
        pk=job_id,
    ).update(
        status=Job.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        steps_done=0,
        rows_done=0,
    )
    return Job.objects.get(pk=job_id) if taken else None


def _finish(job: Job, status: str, reason: str = "") -> None:
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=status, failure_reason=reason[:500], finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def run(job_id: int) -> bool:
    """Run the job if it is still to do; True when this call finished it."""
    job = _claim(job_id)
    if job is None:
        return False
    if job.attempts > MAX_ATTEMPTS:
        _finish(
            job,
            Job.Status.FAILED,
            _("The work stopped %(count)d times without finishing.") % {"count": job.attempts - 1},
        )
        return False
    runner = _runners.get(job.kind)
    if runner is None:
        _finish(job, Job.Status.FAILED, _("This kind of work is no longer available."))
        return False

    def progress(*, steps_done: int, steps_total: int, rows_done: int) -> None:
        Job.objects.filter(pk=job.pk).update(
            steps_done=steps_done, steps_total=steps_total, rows_done=rows_done, heartbeat_at=timezone.now()
        )

    try:
        runner(job, progress)
    except JobFailed as exc:
        _finish(job, Job.Status.FAILED, redact(str(exc)))
        return True
    except Exception:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(
            job, Job.Status.FAILED, _("An internal error stopped the work; the administrators can read why in the log.")
        )
        return True
    _finish(job, Job.Status.DONE)
    return True


def requeue(job: Job) -> None:
    """Queue an unfinished job again now (the admin's "try again" after a broker outage)."""
    from .tasks import run_job

    enqueue_after_commit(run_job, job.pk)


def sweep() -> int:
    """Queue again what was lost: queued jobs nobody picked up, running jobs whose worker died."""
    from .tasks import run_job

    now = timezone.now()
    lost = Job.objects.filter(
        Q(status=Job.Status.QUEUED, created_at__lt=now - UNCLAIMED_AFTER)
        | Q(status=Job.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    ).values_list("pk", flat=True)[:100]
    sent = 0
    for job_id in lost:
        sent += enqueue(run_job, job_id)
    return sent

"""The Celery app: JSON only, bounded tasks, the periodic schedule in code."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from django.conf import settings
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

# Two queues, each with its own workers, so a long report never delays a reminder: `notifications` for the
# short deliveries people wait for, `jobs` (the default) for everything that may run long. A worker started
# without -Q consumes both (the single-machine setup); the compose file runs one worker per queue.
NOTIFICATIONS_QUEUE = "notifications"
JOBS_QUEUE = "jobs"
TASK_ROUTES = {
    # Any task named deliver_* or *_digests (the notification service's) is a delivery.
    "*.tasks.deliver_*": {"queue": NOTIFICATIONS_QUEUE},
    "*.tasks.*_digests": {"queue": NOTIFICATIONS_QUEUE},
    "meetings.tasks.send_due_reminders": {"queue": NOTIFICATIONS_QUEUE},
    "members.tasks.notify_expiring_agreements": {"queue": NOTIFICATIONS_QUEUE},
    "members.tasks.alert_council_terms_ending": {"queue": NOTIFICATIONS_QUEUE},
    "members.tasks.alert_agreements_ending": {"queue": NOTIFICATIONS_QUEUE},
    # The rest go to the default `jobs` queue; named here so that a reader sees where each one runs.
    "alliance.tasks.run_job": {"queue": JOBS_QUEUE},
    "alliance.tasks.sweep_jobs": {"queue": JOBS_QUEUE},
    "alliance.tasks.refresh_public_figures": {"queue": JOBS_QUEUE},
    "alliance.tasks.fetch_sms_receipts": {"queue": JOBS_QUEUE},
    "alliance.tasks.forget_sms_codes": {"queue": JOBS_QUEUE},
    "members.tasks.close_quarter": {"queue": JOBS_QUEUE},
    "volunteers.tasks.send_service_cards": {"queue": JOBS_QUEUE},
    "demands.tasks.flag_overdue_needs": {"queue": JOBS_QUEUE},
    "demands.tasks.close_expired_needs": {"queue": JOBS_QUEUE},
    "demands.tasks.anonymise_resident_data": {"queue": JOBS_QUEUE},
    "meetings.tasks.plan_series": {"queue": JOBS_QUEUE},
}

app = Celery("alliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=(
        Queue(NOTIFICATIONS_QUEUE, Exchange(NOTIFICATIONS_QUEUE), routing_key=NOTIFICATIONS_QUEUE),
        Queue(JOBS_QUEUE, Exchange(JOBS_QUEUE), routing_key=JOBS_QUEUE),
    ),
    task_default_queue=JOBS_QUEUE,
    task_default_exchange=JOBS_QUEUE,
    task_default_routing_key=JOBS_QUEUE,
    task_routes=TASK_ROUTES,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    timezone="Asia/Shanghai",
    enable_utc=True,
    # A task that hangs (an SMTP server that never answers) must not hold a worker slot forever.
    task_soft_time_limit=240,
    task_time_limit=300,
    # Acknowledge after the work is done, so a worker that dies mid-task leaves the message to redeliver;
    # every task here is written to be safe to run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        # What must not be lost is a row first; this sweep delivers rows that no task delivered
        # (broker down at commit time, worker killed mid-send).
        "deliver-pending-notifications": {
            "task": "alliance.tasks.deliver_pending_notifications",
            "schedule": 60.0,
        },
        # What became of the texts sent through a provider (Tencent PullSmsSendStatus, Aliyun
        # QuerySendDetails), recorded on their notification rows.
        "fetch-sms-receipts": {
            "task": "alliance.tasks.fetch_sms_receipts",
            "schedule": 300.0,
            "options": {"expires": 300.0},
        },
        # Recovery codes and requests older than a day, and old daily counts per number (they hold phones).
        "forget-sms-codes": {
            "task": "alliance.tasks.forget_sms_codes",
            "schedule": crontab(hour=4, minute=10),
        },
        # The public figures, charts and showcase: refreshed here when a write changed them (and when they
        # are PUBLIC_FIGURES_MAX_AGE old), so that no anonymous visit computes them. A run the workers could
        # not start in time is dropped: the next one does the same work.
        "refresh-public-figures": {
            "task": "alliance.tasks.refresh_public_figures",
            "schedule": float(settings.PUBLIC_FIGURES_REFRESH_SECONDS),
            "options": {"expires": float(settings.PUBLIC_FIGURES_REFRESH_SECONDS)},
        },
        # Routine staff-facing alerts (digest=True) wait in the inbox; each person gets one message a day
        # about them, at the end of the working day (the app's timezone is Asia/Shanghai).
        "daily-notification-digests": {
            "task": "alliance.tasks.send_daily_digests",
            "schedule": crontab(hour=18, minute=0),
        },
        # Jobs whose message was lost (broker down at commit) or whose worker died are queued again.
        "sweep-background-jobs": {
            "task": "alliance.tasks.sweep_jobs",
            "schedule": crontab(minute="*/5"),
        },
        # The quarter just ended: its report for every street, the units' assessments, the service cards.
        "close-quarter": {
            "task": "members.tasks.close_quarter",
            "schedule": crontab(minute=0, hour=2, day_of_month=1, month_of_year="1,4,7,10"),
        },
        # 一单一表一卡: each work unit's liaisons get their members' service card of the quarter just ended.
        "send-service-cards": {
            "task": "volunteers.tasks.send_service_cards",
            "schedule": crontab(minute=30, hour=2, day_of_month=1, month_of_year="1,4,7,10"),
        },
        "needs-service-level-clock": {
            "task": "demands.tasks.flag_overdue_needs",
            "schedule": crontab(minute="*/15"),
        },
        "needs-auto-close": {
            "task": "demands.tasks.close_expired_needs",
            "schedule": crontab(minute=5),
        },
        # PIPL art. 19: residents' contact data goes RESIDENT_DATA_RETENTION_DAYS after their need ended.
        "resident-data-retention": {
            "task": "demands.tasks.anonymise_resident_data",
            "schedule": crontab(hour=3, minute=40),
        },
        # Reminders: a scan every 5 minutes finds what is due (never a task scheduled hours ahead, which a
        # Redis visibility timeout would deliver twice).
        "meeting-reminders": {
            "task": "meetings.tasks.send_due_reminders",
            "schedule": crontab(minute="*/5"),
        },
        "meeting-series-planning": {
            "task": "meetings.tasks.plan_series",
            "schedule": crontab(hour=2, minute=15),
        },
        "expiring-agreements-digest": {
            "task": "members.tasks.notify_expiring_agreements",
            "schedule": crontab(hour=8, minute=30),
        },
        # 60 and 30 days before a council term ends (its street's staff) or an agreement ends (its unit's
        # liaisons): a daily scan; the ledger (members.ExpiryAlert) makes each alert go out once.
        "council-terms-ending": {
            "task": "members.tasks.alert_council_terms_ending",
            "schedule": crontab(hour=8, minute=35),
        },
        "agreements-ending-liaisons": {
            "task": "members.tasks.alert_agreements_ending",
            "schedule": crontab(hour=8, minute=40),
        },
    },
)


def _ensure_filesystem_folders() -> None:
    # kombu's filesystem transport fails if its folders are missing when the worker starts.
    options = app.conf.broker_transport_options or {}
    if str(app.conf.broker_url or "").startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
    schedule = app.conf.beat_schedule_filename
    if schedule:
        Path(schedule).parent.mkdir(parents=True, exist_ok=True)


app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare(sender: Celery, **kwargs: object) -> None:
    _ensure_filesystem_folders()

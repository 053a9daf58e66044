"""Two Celery queues so that a long report never delays a reminder: every task is routed to the queue meant
for it, the compose stack runs one worker on each queue and exactly one beat, and a worker started without
-Q (the single-machine and demo setup) still consumes both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alliance.celery import JOBS_QUEUE, NOTIFICATIONS_QUEUE
from alliance.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]

NOTIFICATION_TASKS = [
    "alliance.tasks.deliver_notification",
    "alliance.tasks.deliver_notifications",
    "alliance.tasks.deliver_pending_notifications",
    "alliance.tasks.send_daily_digests",
    "meetings.tasks.send_due_reminders",
    "members.tasks.notify_expiring_agreements",
    "members.tasks.alert_council_terms_ending",
    "members.tasks.alert_agreements_ending",
]
JOB_TASKS = [
    "alliance.tasks.run_job",
    "alliance.tasks.sweep_jobs",
    "alliance.tasks.refresh_public_figures",
    "alliance.tasks.fetch_sms_receipts",
    "alliance.tasks.forget_sms_codes",
    "members.tasks.close_quarter",
    "volunteers.tasks.send_service_cards",
    "demands.tasks.flag_overdue_needs",
    "demands.tasks.close_expired_needs",
    "demands.tasks.anonymise_resident_data",
    "meetings.tasks.plan_series",
]


def _queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize("task_name", NOTIFICATION_TASKS)
def test_deliveries_reminders_and_digests_go_to_the_notifications_queue(task_name):
    assert _queue_of(task_name) == NOTIFICATIONS_QUEUE


@pytest.mark.parametrize("task_name", JOB_TASKS)
def test_reports_imports_exports_and_long_sweeps_go_to_the_jobs_queue(task_name):
    assert _queue_of(task_name) == JOBS_QUEUE


def test_every_registered_task_is_one_of_the_two_lists():
    # A new task must be placed deliberately: listed here (and routed) or it lands on `jobs` unnoticed.
    celery_app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
    ours = {name for name in celery_app.tasks if not name.startswith(("celery.", "tests."))}
    assert ours == set(NOTIFICATION_TASKS) | set(JOB_TASKS)


def test_every_periodic_task_is_routed_to_one_of_the_two_queues():
    for entry in celery_app.conf.beat_schedule.values():
        assert _queue_of(entry["task"]) in {NOTIFICATIONS_QUEUE, JOBS_QUEUE}, entry["task"]


def test_a_worker_without_a_queue_option_consumes_both():
    assert sorted(celery_app.amqp.queues) == sorted([NOTIFICATIONS_QUEUE, JOBS_QUEUE])


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command if isinstance(command, list) else command.split()


def _queues_of(command: list[str]) -> set[str]:
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    return set()


def test_the_compose_stack_runs_one_worker_per_queue_and_one_beat():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: _command(s) for name, s in services.items() if "worker" in _command(s)[:4]}
    consumed = {name: _queues_of(command) for name, command in workers.items()}
    assert consumed == {"worker-notifications": {NOTIFICATIONS_QUEUE}, "worker-jobs": {JOBS_QUEUE}}
    for command in workers.values():
        assert "--concurrency" in command and int(command[command.index("--concurrency") + 1]) >= 1
        assert "-B" not in command and "--beat" not in command  # the schedule comes from the one beat
    beats = [name for name, s in services.items() if _command(s)[:4] == ["celery", "-A", "alliance", "beat"]]
    assert beats == ["beat"]
    for name in ("web", "worker-notifications", "worker-jobs", "beat"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="meetings.tasks.send_due_reminders")
def send_due_reminders() -> int:
    return services.reminders_send_due()


@shared_task(name="meetings.tasks.plan_series")
def plan_series() -> int:
    return services.series_plan_all()

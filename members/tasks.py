from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="members.tasks.notify_expiring_agreements")
def notify_expiring_agreements() -> int:
    return services.agreements_expiring_notify()

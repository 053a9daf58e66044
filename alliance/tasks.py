"""Thin tasks: they take ids and call a service, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import jobs, notifications, passwords, public_figures, sms


@shared_task(name="alliance.tasks.deliver_notification")
def deliver_notification(notification_id: int) -> bool:
    return notifications.deliver(notification_id)


@shared_task(name="alliance.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> int:
    return notifications.deliver_many(notification_ids)


@shared_task(name="alliance.tasks.deliver_pending_notifications")
def deliver_pending_notifications() -> int:
    return notifications.deliver_pending()


@shared_task(name="alliance.tasks.send_daily_digests")
def send_daily_digests() -> int:
    return notifications.send_daily_digests()


# A district's quarterly report writes hundreds of thousands of rows: longer than the default 5 minutes.
@shared_task(name="alliance.tasks.run_job", soft_time_limit=3300, time_limit=3600)
def run_job(job_id: int) -> bool:
    return jobs.run(job_id)


@shared_task(name="alliance.tasks.sweep_jobs")
def sweep_jobs() -> int:
    return jobs.sweep()


@shared_task(name="alliance.tasks.refresh_public_figures")
def refresh_public_figures() -> bool:
    return public_figures.refresh_if_due()


@shared_task(name="alliance.tasks.fetch_sms_receipts")
def fetch_sms_receipts() -> int:
    return sms.fetch_receipts()


@shared_task(name="alliance.tasks.forget_sms_codes")
def forget_sms_codes() -> int:
    return passwords.forget_old_codes() + sms.forget_old_counts()

from __future__ import annotations

from celery import shared_task

from . import reporting, services


@shared_task(name="members.tasks.notify_expiring_agreements")
def notify_expiring_agreements() -> int:
    return services.agreements_expiring_notify()


@shared_task(name="members.tasks.close_quarter")
def close_quarter() -> int:
    """Beat, 02:00 Asia/Shanghai on the first day of each quarter: the quarter just ended is reported."""
    return len(reporting.quarter_close())


@shared_task(name="members.tasks.alert_council_terms_ending")
def alert_council_terms_ending() -> int:
    return services.council_terms_alert()


@shared_task(name="members.tasks.alert_agreements_ending")
def alert_agreements_ending() -> int:
    return services.agreements_alert_liaisons()

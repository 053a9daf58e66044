from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="demands.tasks.flag_overdue_needs")
def flag_overdue_needs() -> int:
    return services.needs_flag_overdue()


@shared_task(name="demands.tasks.close_expired_needs")
def close_expired_needs() -> int:
    return services.needs_close_expired()


@shared_task(name="demands.tasks.anonymise_resident_data")
def anonymise_resident_data() -> int:
    return services.needs_anonymise_expired()

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="demands.tasks.flag_overdue_needs")
def flag_overdue_needs() -> int:
    return services.needs_flag_overdue()


@shared_task(name="demands.tasks.close_expired_needs")
def close_expired_needs() -> int:
    return services.needs_close_expired()


# The first run on a large backlog takes minutes (about 1,200 needs a second on PostgreSQL here), more than
# the default 5-minute limit; each chunk commits on its own, so a run cut short keeps what it did. Below the
# broker's one-hour visibility timeout, so the message is not handed to a second worker meanwhile.
@shared_task(name="demands.tasks.anonymise_resident_data", soft_time_limit=3000, time_limit=3300)
def anonymise_resident_data() -> int:
    return services.needs_anonymise_expired()

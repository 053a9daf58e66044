"""Enqueueing Celery tasks after commit, without letting a broker outage break or stall the request."""

from __future__ import annotations

import logging

from celery import Task
from django.db import transaction

from .breaker import Breaker

logger = logging.getLogger(__name__)

# After a failed publish, later ones in this process are skipped for this long: a write that queues ten
# notifications while Redis is unreachable waits for one connect timeout, not ten.
breaker = Breaker("broker", pause=30)


def enqueue(task: Task, *args: object) -> bool:
    """Send now; on a broker error log it and return False. Callers keep the work as a row, which a
    periodic sweep picks up, so a failed or skipped send here loses nothing."""
    if not breaker.closed():
        logger.info("Broker unavailable a moment ago; %s%r left for the periodic sweep", task.name, args)
        return False
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # kombu raises several unrelated types for "no broker"
        breaker.trip()
        logger.warning("Broker unavailable; %s%r left for the periodic sweep", task.name, args, exc_info=True)
        return False
    return True


def enqueue_after_commit(task: Task, *args: object) -> None:
    """Queue the task once the surrounding transaction commits; nothing is queued if it rolls back."""
    transaction.on_commit(lambda: enqueue(task, *args))

"""Thin tasks of the volunteers app: they call a service and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="volunteers.tasks.send_service_cards")
def send_service_cards() -> int:
    """Beat, at the quarter's close: each work unit's liaisons get the link to their members' card."""
    return services.service_cards_send()

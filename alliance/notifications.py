"""`notify(...)`: the only way the platform tells a person something.

The row is written in the caller's transaction (so a rolled-back change notifies nobody); delivery is a
Celery task queued after commit; `deliver_pending` is the periodic sweep that delivers whatever a task
did not (broker down when the change committed, worker killed mid-send).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import passwords
from .masking import mask_phone, redact
from .models import Notification, Profile
from .queue import enqueue_after_commit
from .sms import send_sms

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A row claimed for sending this long ago belongs to a worker that died; it is sent again.
STALE_CLAIM = timedelta(minutes=10)


def notify(
    *,
    recipient=None,
    subject: str,
    body: str,
    url: str = "",
    kind: str = "",
    email: str | None = None,
    phone: str | None = None,
    by_sms: bool = True,
) -> Notification:
    """Store a notification for `recipient` (a user) or for a bare e-mail / phone (a resident).

    Call it inside the transaction that makes the change; delivery waits for the commit."""
    from .tasks import deliver_notification  # the task module imports this one

    if recipient is not None:
        email = recipient.email if email is None else email
        if phone is None and by_sms:
            phone = Profile.objects.filter(user=recipient).values_list("phone", flat=True).first() or ""
    with transaction.atomic():
        notification = Notification.objects.create(
            recipient=recipient,
            email=email or "",
            phone=(phone or "") if by_sms else "",
            subject=subject[:200],
            body=body,
            url=url,
            kind=kind,
        )
        enqueue_after_commit(deliver_notification, notification.pk)
    return notification


def notify_many(recipients: Iterable, **kwargs) -> list[Notification]:
    return [notify(recipient=user, **kwargs) for user in recipients]


def _claim(notification_id: int) -> bool:
    """Take the row for sending; exactly one worker wins even when a task and the sweep race."""
    now = timezone.now()
    return (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(status=Notification.Status.PENDING)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        == 1
    )


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def deliver(notification_id: int) -> bool:
    """Send one notification by e-mail and text message; True when it went out now."""
    if not _claim(notification_id):
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    text = notification.body
    url = notification.url
    if url == passwords.PASSWORD_LINK:
        # The secret is made here, sent, and forgotten: the row keeps only the marker.
        url = passwords.password_set_path(notification.recipient) if notification.recipient_id else ""
    if url:
        text = f"{text}\n{_absolute(url)}"
    try:
        if notification.email:
            send_mail(
                notification.subject,
                text,
                settings.DEFAULT_FROM_EMAIL,
                [notification.email],
                fail_silently=False,
            )
        if notification.phone:
            send_sms(notification.phone, f"【{notification.subject}】{text}")
    except Exception as exc:
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification_id).update(
            status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
            # A gateway's error may quote the message: what staff and the log see is redacted.
            last_error=redact(f"{type(exc).__name__}: {exc}")[:500],
        )
        logger.warning(
            "Notification %s to %s not delivered (attempt %s): %s",
            notification_id,
            mask_phone(notification.phone) or "e-mail",
            notification.attempts,
            redact(str(exc)),
        )
        return False
    Notification.objects.filter(pk=notification_id).update(status=Notification.Status.SENT, sent_at=timezone.now())
    return True


def pending_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=Notification.Status.PENDING)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_pending(limit: int = 500) -> int:
    """The sweep: deliver what is still pending. Returns how many went out."""
    return sum(1 for pk in pending_ids(limit) if deliver(pk))


def cancel(notification_ids: Iterable[int]) -> int:
    """Withdraw notifications that have not gone out (a reminder for a meeting that moved). A delivery
    that already claimed a row keeps it: the conditional update lets exactly one of the two win."""
    return Notification.objects.filter(pk__in=list(notification_ids), status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED
    )


def mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())

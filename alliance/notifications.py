"""`notify(...)`: the only way the platform tells a person something.

The row is written in the caller's transaction (so a rolled-back change notifies nobody); delivery is a
Celery task queued after commit; `deliver_pending` is the periodic sweep that delivers whatever a task
did not (broker down when the change committed, worker killed mid-send).

Routine alerts would bury staff under single messages (one community inbox showed 564 unread): staff-
facing notifications made with `digest=True` are rows for the inbox at once but are sent only in
`send_daily_digests` — one message per person a day. Each call site says why it is or is not held;
time-critical ones (a need to dispatch, a need overdue, a meeting tomorrow) go out at once, and scans
that find many rows tell each person once with the count. Residents' messages and password links are
never held back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from . import passwords, site
from .masking import mask_phone, redact
from .models import Notification, Profile
from .queue import enqueue_after_commit
from .sms import send_sms

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A row claimed for sending this long ago belongs to a worker that died; it is sent again.
STALE_CLAIM = timedelta(minutes=10)
# The kind of the one message a day that summarises a person's digest rows; not itself listed in the inbox.
DIGEST_KIND = "daily_digest"
# How many subjects the digest message names before "…".
DIGEST_SUBJECTS = 5


def _held_for_digest(recipient, url: str, digest: bool) -> bool:
    # Only accounts that work in the admin read the inbox; a password link must arrive while it is valid.
    if recipient is None or url == passwords.PASSWORD_LINK:
        return False
    return digest and bool(getattr(recipient, "is_staff", False))


def message(
    *,
    recipient=None,
    subject: str,
    body: str,
    url: str = "",
    kind: str = "",
    email: str | None = None,
    phone: str | None = None,
    by_sms: bool = True,
    digest: bool = False,
) -> Notification:
    """The unsaved row of one notification (what `notify` stores; `notify_all` stores several at once)."""
    if recipient is not None:
        email = recipient.email if email is None else email
        if phone is None and by_sms:
            phone = Profile.objects.filter(user=recipient).values_list("phone", flat=True).first() or ""
    return Notification(
        recipient=recipient,
        email=email or "",
        phone=(phone or "") if by_sms else "",
        subject=subject[:200],
        body=body,
        url=url,
        kind=kind,
        in_digest=_held_for_digest(recipient, url, digest),
    )


def notify(**fields: Any) -> Notification:
    """Store a notification for `recipient` (a user) or for a bare e-mail / phone (a resident); `fields`
    are `message`'s.

    Call it inside the transaction that makes the change; delivery waits for the commit. `digest=True`
    (for staff accounts only) keeps it for the inbox and the daily digest instead of sending it now."""
    from .tasks import deliver_notification  # the task module imports this one

    notification = message(**fields)
    with transaction.atomic():
        notification.save()
        if not notification.in_digest:
            enqueue_after_commit(deliver_notification, notification.pk)
    return notification


def notify_all(messages: list[Notification]) -> list[Notification]:
    """Store several notifications made with `message` in one INSERT, in the caller's transaction, and
    queue their delivery after commit as one task per DELIVERY_BATCH rows: a resident's submission
    tells the resident and the community's staff at the cost of one statement. What the task does not
    deliver, the periodic sweep does, as for `notify`."""
    rows = Notification.objects.bulk_create(messages)
    queue_delivery(rows)
    return rows


def notify_many(recipients: Iterable, **kwargs) -> list[Notification]:
    return [notify(recipient=user, **kwargs) for user in recipients]


def queue_delivery(rows: list[Notification]) -> None:
    """Queue the delivery of the rows not held for the digest after commit, DELIVERY_BATCH to a task."""
    from .tasks import deliver_notifications  # the task module imports this one

    due = [row.pk for row in rows if not row.in_digest]
    for start in range(0, len(due), DELIVERY_BATCH):
        enqueue_after_commit(deliver_notifications, due[start : start + DELIVERY_BATCH])


def notify_each(messages: Iterable[dict]) -> list[Notification]:
    """`notify` for many recipients at once, each message its own (`recipient`, `subject`, `body`, `url`,
    `kind`, and optionally `by_sms` and `digest` as in `notify`): the phones in one query, the rows in one
    INSERT, their delivery in one task per DELIVERY_BATCH rows — a scan that tells thousands of people
    costs the same few queries as one that tells ten.

    `recipient` is a user, or anything with the user's `pk`, `email` and `is_staff` (a scan that reads
    thousands of people need not build their model instances); a message with `phone` says the number
    itself and saves the lookup. Returns the rows, in order, with their ids."""
    messages = list(messages)
    if not messages:
        return []
    texted = [m["recipient"].pk for m in messages if m.get("by_sms", True) and "phone" not in m]
    phones = dict(Profile.objects.filter(user__in=texted).values_list("user_id", "phone")) if texted else {}
    rows = [
        Notification(
            recipient_id=m["recipient"].pk,
            email=m["recipient"].email or "",
            phone=(m.get("phone", phones.get(m["recipient"].pk)) or "") if m.get("by_sms", True) else "",
            subject=m["subject"][:200],
            body=m["body"],
            url=m.get("url", ""),
            kind=m.get("kind", ""),
            in_digest=_held_for_digest(m["recipient"], m.get("url", ""), m.get("digest", False)),
        )
        for m in messages
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows)
        queue_delivery(rows)
    return rows


def _claim(notification_ids: list[int]) -> list[int]:
    """Take these rows for sending (those still pending, or claimed by a worker that died); exactly one
    worker wins each row even when tasks and the sweep race: the rows are locked (rows another worker has
    locked are skipped, it is taking them) and updated in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        claimable = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=notification_ids, in_digest=False)
            .filter(
                Q(status=Notification.Status.PENDING)
                | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if claimable:
            Notification.objects.filter(pk__in=claimable).update(
                status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return claimable


def _absolute(url: str) -> str:
    # Delivered outside the request that made the row: SITE_URL, or the last address a request came in on.
    return site.absolute(url)


def _send(notification: Notification, text: str, mail_connection) -> None:
    """E-mail and text one notification; raises what the gateway raised."""
    if notification.email:
        send_mail(
            notification.subject,
            text,
            settings.DEFAULT_FROM_EMAIL,
            [notification.email],
            fail_silently=False,
            connection=mail_connection,
        )
    if notification.phone:
        send_sms(notification.phone, f"【{notification.subject}】{text}")


def _failed(notification: Notification, exc: Exception) -> None:
    failed = notification.attempts >= MAX_ATTEMPTS
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
        # A gateway's error may quote the message: what staff and the log see is redacted.
        last_error=redact(f"{type(exc).__name__}: {exc}")[:500],
    )
    logger.warning(
        "Notification %s to %s not delivered (attempt %s): %s",
        notification.pk,
        mask_phone(notification.phone) or "e-mail",
        notification.attempts,
        redact(str(exc)),
    )


# How many notifications one delivery task takes (`notify_each` queues them in tasks of this many): a
# scan that tells 10,000 people costs 100 tasks, not 10,000, and each batch is claimed, read and marked
# sent in a constant number of queries. Small enough that a slow gateway (a second a message) keeps a
# task well inside the 240 s soft time limit.
DELIVERY_BATCH = 100


def deliver_many(notification_ids: Iterable[int]) -> int:
    """Send these notifications by e-mail and text message, a batch at a time; returns how many went out
    now. Rows another worker sent or is sending are left to it; a row whose send fails waits for the
    sweep (or, after MAX_ATTEMPTS, for staff)."""
    ids = list(notification_ids)
    sent = 0
    for start in range(0, len(ids), DELIVERY_BATCH):
        claimed = _claim(ids[start : start + DELIVERY_BATCH])
        if not claimed:
            continue
        rows = list(Notification.objects.filter(pk__in=claimed).order_by("pk"))
        # Only a password link needs the recipient (its secret is made from the account).
        linked = {row.recipient_id for row in rows if row.url == passwords.PASSWORD_LINK and row.recipient_id}
        recipients = get_user_model().objects.in_bulk(linked) if linked else {}
        done: list[int] = []
        # One SMTP connection for the batch, not one per message; opened on the first send.
        mail_connection = get_connection(fail_silently=False)
        try:
            for row in rows:
                text, url = row.body, row.url
                if url == passwords.PASSWORD_LINK:
                    # The secret is made here, sent, and forgotten: the row keeps only the marker.
                    recipient = recipients.get(row.recipient_id)
                    url = passwords.password_set_path(recipient) if recipient is not None else ""
                if url:
                    text = f"{text}\n{_absolute(url)}"
                try:
                    _send(row, text, mail_connection)
                except Exception as exc:
                    _failed(row, exc)
                else:
                    done.append(row.pk)
        finally:
            try:
                mail_connection.close()
            except Exception:  # a connection that broke mid-batch: its messages are recorded already
                logger.warning("Closing the mail connection failed", exc_info=True)
        if done:
            Notification.objects.filter(pk__in=done).update(status=Notification.Status.SENT, sent_at=timezone.now())
        sent += len(done)
    return sent


def deliver(notification_id: int) -> bool:
    """Send one notification by e-mail and text message; True when it went out now."""
    return deliver_many([notification_id]) == 1


def pending_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=Notification.Status.PENDING)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .filter(in_digest=False)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_pending(limit: int = 500) -> int:
    """The sweep: deliver what is still pending. Returns how many went out."""
    return deliver_many(pending_ids(limit))


def cancel(notification_ids: Iterable[int]) -> int:
    """Withdraw notifications that have not gone out (a reminder for a meeting that moved). A delivery
    that already claimed a row keeps it: the conditional update lets exactly one of the two win."""
    return Notification.objects.filter(pk__in=list(notification_ids), status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED
    )


def mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s own unread notifications read (all, or those of `notification_ids`); ids of other
    people's notifications are ignored. Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def digest_recipient_ids() -> list[int]:
    """Who has notifications waiting for the digest (one query on `notification_digest_idx`)."""
    return list(
        Notification.objects.filter(in_digest=True, status=Notification.Status.PENDING)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )


def send_digest(recipient_id: int) -> Notification | None:
    """Claim the person's waiting digest rows and send ONE message for those still unread: how many, the
    first subjects, the inbox. Safe to run twice and side by side: a row is claimed once (locked rows are
    skipped, the update is conditional), so a second run finds nothing and sends nothing."""
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient_id=recipient_id, in_digest=True, status=Notification.Status.PENDING)
            .order_by("created_at", "id")
            .values_list("pk", "subject", "phone", "read_at")
        )
        if not rows:
            return None
        claimed = Notification.objects.filter(
            pk__in=[pk for pk, *_rest in rows], status=Notification.Status.PENDING
        ).update(status=Notification.Status.SENT, sent_at=timezone.now())
        unread = [(subject, phone) for _pk, subject, phone, read_at in rows if read_at is None]
        if not claimed or not unread:
            # Another run took them (it tells them), or all were read in the inbox already.
            return None
        recipient = get_user_model().objects.get(pk=recipient_id)
        subjects = [subject for subject, _phone in unread[:DIGEST_SUBJECTS]]
        if len(unread) > DIGEST_SUBJECTS:
            subjects.append("…")
        count = len(unread)
        # The platform stores no language per person (Profile has none): the digest speaks the site's
        # language, also when a request in another language happens to run this.
        with translation.override(settings.LANGUAGE_CODE):
            subject = ngettext("%(count)d new notification today", "%(count)d new notifications today", count)
        return notify(
            recipient=recipient,
            subject=subject % {"count": count},
            body="\n".join(subjects),
            url=reverse("admin_inbox"),
            kind=DIGEST_KIND,
            # A text message only for someone whose notifications were meant to reach their phone.
            by_sms=any(phone for _subject, phone in unread),
        )


def send_daily_digests() -> int:
    """The evening task: one digest per person with waiting rows. Returns how many messages were queued."""
    return sum(1 for recipient_id in digest_recipient_ids() if send_digest(recipient_id) is not None)

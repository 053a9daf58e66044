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
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from . import passwords, site, sms
from .masking import mask_phone, redact
from .models import Notification, Profile, SmsStatus
from .queue import enqueue_after_commit

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


def _due() -> Q:
    """Rows a delivery may take now: pending ones whose backoff has run out (a throttled or timed-out text
    waits; so does one held by the daily cap), and rows claimed by a worker that died."""
    now = timezone.now()
    return (
        Q(status=Notification.Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ) | Q(status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)


def _claim(notification_ids: list[int]) -> list[int]:
    """Take these rows for sending (those still pending, or claimed by a worker that died); exactly one
    worker wins each row even when tasks and the sweep race: the rows are locked (rows another worker has
    locked are skipped, it is taking them) and updated in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        claimable = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=notification_ids, in_digest=False)
            .filter(_due())
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


# A text the provider refused for now (throttled, timed out) is tried again after these pauses (by the
# number of attempts so far), the last one repeating: a throttled provider is not hammered every minute.
SMS_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
# Errors after which the text may have gone out all the same (the answer was lost): it stays counted
# against the day's cap.
SMS_MAYBE_SENT = frozenset({"ClientNetworkError", "NetworkError"})


class _UnconfiguredBackend(sms.BaseSmsBackend):
    """Stands in for a provider backend that cannot be built (a credential missing): its texts wait and
    are retried, the e-mails of the batch still go out, and the log says what to fix."""

    name = "unconfigured"

    def __init__(self, problem: Exception) -> None:
        self.problem = problem

    def send(self, message: sms.SmsMessage) -> sms.SmsSent:
        raise sms.SmsTransientError("ImproperlyConfigured", str(self.problem))


def _sms_backend() -> sms.BaseSmsBackend:
    try:
        return sms.get_backend()
    except ImproperlyConfigured as exc:
        logger.error("SMS backend %s is not configured: %s", settings.SMS_BACKEND, exc)
        return _UnconfiguredBackend(exc)


def _backoff(attempts: int) -> timedelta:
    return SMS_BACKOFF[min(max(attempts, 1), len(SMS_BACKOFF)) - 1]


@dataclass
class _Outcome:
    """What became of one row in this round: the fields to write, and whether to try again."""

    fields: dict[str, Any] = dataclass_field(default_factory=dict)
    retry: Exception | None = None  # worth another attempt (e-mail failed, text throttled/timed out)
    refused: sms.SmsError | None = None  # the provider will not send it (a template, a number)
    held: bool = False  # the day's cap for the number is used up: tomorrow
    text_retry: bool = False  # the retry is for the text message (backoff applies)


def _send_email(row: Notification, text: str, mail_connection, outcome: _Outcome) -> None:
    if not row.email or row.email_sent_at is not None:
        return
    try:
        send_mail(
            row.subject, text, settings.DEFAULT_FROM_EMAIL, [row.email], fail_silently=False, connection=mail_connection
        )
    except Exception as exc:
        outcome.retry = exc
    else:
        outcome.fields["email_sent_at"] = timezone.now()


def _send_text(row: Notification, text: str, params: dict[str, str], backend, outcome: _Outcome) -> None:
    """The text message of `row`, if it has one still to send; its outcome into `outcome`."""
    if not row.phone or row.sms_status not in (SmsStatus.NONE, SmsStatus.HELD):
        return
    outcome.fields["sms_provider"] = backend.name
    try:
        template = sms.template_for(row.kind) if backend.uses_templates else None
    except sms.SmsPermanentError as exc:  # a template mapping that names what the platform cannot supply
        outcome.refused = exc
        outcome.fields.update(sms_status=SmsStatus.FAILED, sms_error_code=exc.code)
        return
    if backend.uses_templates and template is None:
        # Never sent as free text: providers send approved templates only. Staff see why on the row.
        outcome.fields.update(sms_status=SmsStatus.NO_TEMPLATE, sms_error_code="no_template")
        logger.info("Notification %s: no SMS template for kind %r, not sent by text", row.pk, row.kind)
        return
    if not sms.take_daily_allowance(row.phone):
        outcome.held = True
        outcome.fields.update(sms_status=SmsStatus.HELD, next_attempt_at=sms.next_day_start())
        logger.warning("Notification %s to %s held: daily SMS cap reached", row.pk, mask_phone(row.phone))
        return
    try:
        sent = backend.send(
            sms.SmsMessage(phone=row.phone, text=f"【{row.subject}】{text}", kind=row.kind, params=params)
        )
    except sms.SmsNoTemplate:
        sms.give_back_allowance(row.phone)
        outcome.fields.update(sms_status=SmsStatus.NO_TEMPLATE, sms_error_code="no_template")
    except sms.SmsPermanentError as exc:
        sms.give_back_allowance(row.phone)
        outcome.refused = exc
        outcome.fields.update(sms_status=SmsStatus.FAILED, sms_error_code=exc.code[:80])
    except Exception as exc:  # transient, or a backend that raised something of its own: try again later
        if getattr(exc, "code", "") not in SMS_MAYBE_SENT:
            sms.give_back_allowance(row.phone)
        outcome.retry, outcome.text_retry = exc, True
        outcome.fields.update(sms_status=SmsStatus.NONE, sms_error_code=str(getattr(exc, "code", ""))[:80])
    else:
        outcome.fields.update(
            sms_status=SmsStatus.ACCEPTED if sent.receipts else SmsStatus.SENT,
            sms_provider=sent.provider,
            sms_message_id=sent.message_id[:80],
            sms_template=sent.template_id[:40],
            sms_error_code="",
            sms_sent_at=timezone.now(),
            next_attempt_at=None,
        )


def _finish(row: Notification, outcome: _Outcome) -> bool:
    """Write the row's outcome; True when it is delivered now."""
    fields = dict(outcome.fields)
    problem = outcome.retry or outcome.refused
    if outcome.retry is not None:
        given_up = row.attempts >= MAX_ATTEMPTS
        fields["status"] = Notification.Status.FAILED if given_up else Notification.Status.PENDING
        if outcome.text_retry:
            if given_up:
                fields["sms_status"] = SmsStatus.FAILED
            else:
                fields["next_attempt_at"] = timezone.now() + _backoff(row.attempts)
    elif outcome.refused is not None:
        fields["status"] = Notification.Status.FAILED
    elif outcome.held:
        # Waiting for tomorrow is not a failed attempt.
        fields.update(status=Notification.Status.PENDING, attempts=F("attempts") - 1)
    else:
        fields.update(status=Notification.Status.SENT, sent_at=timezone.now())
    if problem is not None:
        # A gateway's error may quote the message: what staff and the log see is redacted.
        fields["last_error"] = redact(f"{type(problem).__name__}: {problem}")[:500]
        logger.warning(
            "Notification %s to %s not delivered (attempt %s): %s",
            row.pk,
            mask_phone(row.phone) or "e-mail",
            row.attempts,
            redact(str(problem)),
        )
    Notification.objects.filter(pk=row.pk).update(**fields)
    return problem is None and not outcome.held


# How many notifications one delivery task takes (`notify_each` queues them in tasks of this many): a
# scan that tells 10,000 people costs 100 tasks, not 10,000, and each batch is claimed, read and marked
# sent in a constant number of queries. Small enough that a slow gateway (a second a message) keeps a
# task well inside the 240 s soft time limit.
DELIVERY_BATCH = 100


def deliver_many(notification_ids: Iterable[int]) -> int:
    """Send these notifications by e-mail and text message, a batch at a time; returns how many went out
    now. Rows another worker sent or is sending are left to it; a row whose send fails waits for the
    sweep (after a backoff for a text the provider throttled), or, after MAX_ATTEMPTS or a refusal that
    will not change (a bad template or number), for staff. Each channel is sent once: a retry sends only
    what did not go out."""
    ids = list(notification_ids)
    sent = 0
    backend = None
    for start in range(0, len(ids), DELIVERY_BATCH):
        claimed = _claim(ids[start : start + DELIVERY_BATCH])
        if not claimed:
            continue
        rows = list(Notification.objects.filter(pk__in=claimed).order_by("pk"))
        # Only a password link needs the recipient (its secret is made from the account).
        linked = {row.recipient_id for row in rows if row.url == passwords.PASSWORD_LINK and row.recipient_id}
        recipients = get_user_model().objects.in_bulk(linked) if linked else {}
        if backend is None and any(row.phone for row in rows):
            backend = _sms_backend()
        plain: list[int] = []  # e-mail only, sent: marked together
        # One SMTP connection for the batch, not one per message; opened on the first send.
        mail_connection = get_connection(fail_silently=False)
        try:
            for row in rows:
                text, url = row.body, row.url
                params = {"subject": row.subject, "body": row.body}
                if url == passwords.PASSWORD_LINK:
                    # The secret is made here, sent, and forgotten: the row keeps only the marker.
                    recipient = recipients.get(row.recipient_id)
                    url = passwords.password_set_path(recipient) if recipient is not None else ""
                elif url == passwords.SMS_CODE:
                    # The same for a recovery code: made now, only its digest kept (alliance/passwords.py).
                    url, code = "", passwords.sms_code_for_sending(notification_id=row.pk)
                    if code is None:
                        Notification.objects.filter(pk=row.pk).update(
                            status=Notification.Status.CANCELLED, sms_status=SmsStatus.EXPIRED
                        )
                        continue
                    text = passwords.sms_code_text(code)
                    params.update(code=code, minutes=str(passwords.SMS_CODE_MINUTES))
                if url:
                    params["link"] = _absolute(url)
                    text = f"{text}\n{params['link']}"
                outcome = _Outcome()
                _send_email(row, text, mail_connection, outcome)
                if backend is not None:
                    _send_text(row, text, params, backend, outcome)
                if not row.phone and outcome.retry is None:
                    plain.append(row.pk)
                elif _finish(row, outcome):
                    sent += 1
        finally:
            try:
                mail_connection.close()
            except Exception:  # a connection that broke mid-batch: its messages are recorded already
                logger.warning("Closing the mail connection failed", exc_info=True)
        if plain:
            now = timezone.now()
            Notification.objects.filter(pk__in=plain).update(
                status=Notification.Status.SENT, sent_at=now, email_sent_at=Case(When(email="", then=None), default=now)
            )
        sent += len(plain)
    return sent


def deliver(notification_id: int) -> bool:
    """Send one notification by e-mail and text message; True when it went out now."""
    return deliver_many([notification_id]) == 1


def pending_ids(limit: int = 500) -> list[int]:
    return list(
        Notification.objects.filter(_due())
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

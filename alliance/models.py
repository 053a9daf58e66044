"""What every app shares: the taxonomy of categories, user profiles and notifications."""

from __future__ import annotations

import uuid

import simple_history
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermission, UserObjectPermission
from simple_history.models import HistoricalRecords


class Category(models.Model):
    """The shared taxonomy of needs, resources and projects (医疗健康, 法律服务, 党建联建, …)."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What the platform needs to know of a user beyond django.contrib.auth: where to text them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class SmsStatus(models.TextChoices):
    """What became of a notification's text message."""

    NONE = "", _("No text message")
    # Handed to a backend that reports no receipts (the console in the demo).
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted by the provider, awaiting receipt")
    DELIVERED = "delivered", _("Delivered to the phone")
    UNDELIVERED = "undelivered", _("Not delivered (receipt)")
    FAILED = "failed", _("Refused by the provider")
    NO_TEMPLATE = "no_template", _("Not sent: no SMS template for this kind")
    HELD = "held", _("Held: daily limit for this number reached")
    EXPIRED = "expired", _("Not sent: the code expired before it could be sent")


class Notification(models.Model):
    """A message to one person. The row is written in the transaction of the change that caused it,
    so nothing is lost when the broker is down: a task delivers it after commit, beat sweeps the rest."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Withdrawn before sending")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    kind = models.CharField(_("kind"), max_length=60, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Routine staff-facing alerts (`notify(..., digest=True)`: a unit applied, a member registered, a claim
    # made…) are not sent one by one: they wait in the inbox and go out once a day, summarised
    # (`notifications.send_daily_digests`).
    in_digest = models.BooleanField(_("in the daily digest"), default=False)
    # Each channel keeps its own outcome, so that a retry of the text message does not send the e-mail again.
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    # A failure the provider asks us to wait for (throttled, timed out): no attempt before this time.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # The text message (alliance/sms.py): what the provider answered and, later, the delivery receipt.
    # Database defaults too: rows written by raw SQL (generate_scale, bulk loads) need not name the columns.
    sms_status = models.CharField(
        _("text message"), max_length=12, choices=SmsStatus.choices, default=SmsStatus.NONE, db_default="", blank=True
    )
    sms_provider = models.CharField(_("SMS provider"), max_length=20, blank=True, default="", db_default="")
    sms_template = models.CharField(_("SMS template"), max_length=40, blank=True, default="", db_default="")
    sms_message_id = models.CharField(_("provider message id"), max_length=80, blank=True, default="", db_default="")
    sms_error_code = models.CharField(_("provider error code"), max_length=80, blank=True, default="", db_default="")
    sms_sent_at = models.DateTimeField(_("text message sent at"), null=True, blank=True)
    sms_receipt_at = models.DateTimeField(_("delivery receipt at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_due_idx"),
            # The inbox page (id breaking ties), the unread count (a few rows per person) and the admin's
            # list, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            models.Index(fields=["created_at", "id"], name="notification_recent_idx"),
            # The retention sweep finds residents' messages (no account, a phone) by phone.
            models.Index(
                fields=["phone"],
                condition=models.Q(recipient__isnull=True),
                name="notification_phone_idx",
            ),
            # The daily digest finds the rows still waiting for it, whoever they are for.
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(in_digest=True, status="pending"),
                name="notification_digest_idx",
            ),
            # Receipts name the provider's message id; the receipt scan reads the texts still awaiting one.
            models.Index(
                fields=["sms_message_id"],
                condition=~models.Q(sms_message_id=""),
                name="notification_sms_id_idx",
            ),
            models.Index(
                fields=["sms_provider", "sms_sent_at"],
                condition=models.Q(sms_status="accepted"),
                name="notification_sms_receipt_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def link(self) -> str:
        """The address to show; "" for a password-set link, which only the sent message carries."""
        return self.url if self.url.startswith(("/", "http")) else ""


class SmsDailyCount(models.Model):
    """How many text messages went to one number on one day (Asia/Shanghai): the daily cap, counted with
    a conditional UPDATE so that two workers sending at once cannot both take the last one."""

    phone = models.CharField(_("mobile phone"), max_length=11)
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("text messages"), default=0)

    class Meta:
        verbose_name = _("text messages of a number on a day")
        verbose_name_plural = _("text messages of numbers per day")
        constraints = [models.UniqueConstraint(fields=["phone", "day"], name="sms_daily_count_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.count}"


class SmsCode(models.Model):
    """One request for a password-recovery code (alliance/passwords.py). A row is written for every
    request, also for a number no account has (`user` empty, nothing sent), so that the limit per number
    and the answer are the same either way. The code itself is made when the message is sent and only its
    keyed digest is kept; it works for 10 minutes, once, for at most SMS_CODE_MAX_ATTEMPTS tries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, null=True, blank=True
    )
    phone = models.CharField(_("mobile phone"), max_length=11)
    notification = models.OneToOneField(
        Notification, verbose_name=_("notification"), on_delete=models.SET_NULL, null=True, blank=True
    )
    digest = models.CharField(_("code digest"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("password recovery code")
        verbose_name_plural = _("password recovery codes")
        indexes = [models.Index(fields=["phone", "created_at"], name="smscode_phone_idx")]

    def __str__(self) -> str:
        return str(self.created_at)


# --- History of accounts and permissions ----------------------------------------------------------
# Models of django.contrib.auth and django-guardian keep their history in tables of this app (`register`
# with app="alliance"): who got or lost an account, a group, an object permission — and who gave it.


class AccountHistory(HistoricalRecords):
    """A sign-in saves `last_login` alone: not a change of the account, and a row per sign-in would bury
    the real changes. A password change still leaves a row (without the hash: the field is excluded)."""

    NOT_A_CHANGE = frozenset({"last_login"})

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= self.NOT_A_CHANGE:
            return
        super().post_save(instance, created, using=using, **kwargs)


# The hash never goes into history rows: they are read by more people, and kept longer, than the account.
simple_history.register(
    User,
    app="alliance",
    table_name="alliance_historicaluser",
    records_class=AccountHistory,
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups", "user_permissions"],
)
simple_history.register(Group, app="alliance", table_name="alliance_historicalgroup", m2m_fields=["permissions"])
simple_history.register(UserObjectPermission, app="alliance", table_name="alliance_historicaluserobjectpermission")
simple_history.register(GroupObjectPermission, app="alliance", table_name="alliance_historicalgroupobjectpermission")


def job_result_upload_to(instance: Job, filename: str) -> str:
    # A random name: the file is served only through the permission-checked download, never by its path.
    return f"jobs/{instance.pk}/{uuid.uuid4().hex}.xlsx"


class Job(models.Model):
    """Long work (a quarterly report, an import, a big export) as a row: the request or the beat entry only
    creates it, a task advances it, the admin shows its progress and, if it fails, why. See `alliance.jobs`."""

    class Status(models.TextChoices):
        # With a context: "Running" is already a project's 实施中, "Done" a resolution's 已办结.
        QUEUED = "queued", pgettext_lazy("background job", "Queued")
        RUNNING = "running", pgettext_lazy("background job", "Running")
        DONE = "done", pgettext_lazy("background job", "Done")
        FAILED = "failed", pgettext_lazy("background job", "Failed")

    kind = models.CharField(_("kind"), max_length=60)
    label = models.CharField(_("what"), max_length=200)
    payload = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    steps_total = models.PositiveIntegerField(_("steps"), default=0)
    steps_done = models.PositiveIntegerField(_("steps done"), default=0)
    rows_done = models.PositiveBigIntegerField(_("rows written"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # What the work produced: a line for the person who asked (an import's counts) and, for imports and
    # exports, a workbook (the export, or the rows an import refused with their reasons).
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    result = models.FileField(_("result file"), upload_to=job_result_upload_to, blank=True, max_length=200)
    result_name = models.CharField(_("result file name"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            # The sweep looks for queued and running jobs only: a small partial index, whatever the history.
            models.Index(
                fields=["status", "heartbeat_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="job_unfinished_idx",
            ),
            # The admin's list of jobs, newest first, and one person's jobs.
            models.Index(fields=["created_at", "id"], name="job_recent_idx"),
            models.Index(fields=["requested_by", "created_at", "id"], name="job_requested_by_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def progress(self) -> dict[str, object]:
        return {
            "status": self.status,
            "steps_done": self.steps_done,
            "steps_total": self.steps_total,
            "rows_done": self.rows_done,
            "failure_reason": self.failure_reason,
        }


class PublicSnapshot(models.Model):
    """The last computed public figures, charts and showcase rows (`alliance.public_figures`), one row per
    part: what anonymous visitors read when the cache is cold or unreachable, so that no visit ever runs
    the whole-table aggregates itself. Written only by the refresh; plain JSON (no pickles in the database)."""

    key = models.CharField(_("part"), max_length=40, primary_key=True)
    data = models.JSONField(_("data"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("public figures snapshot")
        verbose_name_plural = _("public figures snapshots")

    def __str__(self) -> str:
        return self.key


class WorkdayOverride(models.Model):
    """A day the street office works or rests against the national schedule (`alliance.workdays`): a local
    day off, a make-up working day, or a year's official schedule entered by hand before the calendar
    package knows it. One row per day; it wins over the package and the weekend rule."""

    day = models.DateField(_("day"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-day"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"

"""Joint meetings (联席会议): series, invitations and attendance, minutes, resolutions (议定事项) followed
up until done (督办), the reminder ledger that makes each reminder go out once, and calendar feeds."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from alliance.uploads import PHOTO_KINDS, UploadField, upload_path
from alliance.workflow import Transition, Transitions


class Level(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    SECTOR = "sector", _("Sector branch")
    COUNCIL = "council", _("Council")


class Kind(models.TextChoices):
    REGULAR = "regular", _("Regular joint meeting")
    CONSULTATION = "consultation", _("Consultation on one problem")
    COUNCIL = "council", _("Council meeting")


class MeetingSeries(models.Model):
    """A recurring meeting — the street's quarterly joint meeting, a community's monthly one. Occurrences
    are planned ahead as ordinary meetings; changing one leaves the others alone."""

    class Recurrence(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")

    title = models.CharField(_("title"), max_length=100)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REGULAR)
    # Which street (or, for a district meeting, which district) the meeting belongs to: the scope street and
    # district staff see it in. A community or sector meeting's street is its community's or sector's.
    street = models.ForeignKey(
        "members.Street", verbose_name=_("street"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    district = models.ForeignKey(
        "members.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, null=True, blank=True
    )
    sector = models.ForeignKey(
        "members.Sector", verbose_name=_("sector branch"), on_delete=models.PROTECT, null=True, blank=True
    )
    recurrence = models.CharField(_("recurrence"), max_length=20, choices=Recurrence.choices)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"), default=10, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=90, validators=[MinValueValidator(15), MaxValueValidator(600)]
    )
    place = models.CharField(_("place"), max_length=200)
    agenda = models.TextField(_("standing agenda"), blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+"
    )
    invited_units = models.ManyToManyField("members.MemberUnit", verbose_name=_("invited units"), blank=True)
    starts_on = models.DateField(_("first month"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["level", "title"]
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")

    def __str__(self) -> str:
        return self.title


class JointMeeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = Transitions(
        Transition("reschedule", [Status.PLANNED], None, _("Moving the meeting"), "change"),
        Transition("cancel", [Status.PLANNED], Status.CANCELLED, _("Cancelling"), "change"),
        Transition("record_minutes", [Status.PLANNED, Status.HELD], Status.HELD, _("Recording the minutes"), "change"),
    )

    series = models.ForeignKey(
        MeetingSeries,
        verbose_name=_("series"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meetings",
    )
    # The month the occurrence was planned for: with `series`, what makes planning idempotent.
    occurrence = models.DateField(_("occurrence"), null=True, blank=True, editable=False)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REGULAR)
    title = models.CharField(_("title"), max_length=100)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    place = models.CharField(_("place"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True, help_text=_("One item per line."))
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        on_delete=models.PROTECT,
        related_name="organised_meetings",
    )
    # Which street (or, for a district meeting, which district) the meeting belongs to: the scope street and
    # district staff see it in. A community or sector meeting's street is its community's or sector's.
    street = models.ForeignKey(
        "members.Street",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    district = models.ForeignKey(
        "members.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    community = models.ForeignKey(
        "members.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    sector = models.ForeignKey(
        "members.Sector",
        verbose_name=_("sector branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    # Raised each time the meeting is moved: reminders are recorded per version, so the reminders of the
    # old time are never sent and the new time gets its own.
    schedule_version = models.PositiveIntegerField(_("schedule version"), default=1, editable=False)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    minutes_written_at = models.DateTimeField(_("minutes written at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        # Both keys one way, so that one index serves the list and its reverse (?ordering=start).
        ordering = ["-start", "-id"]
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="meeting_ends_after_start"),
            models.UniqueConstraint(
                fields=["series", "occurrence"], condition=Q(series__isnull=False), name="meeting_once_per_occurrence"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "start"], name="meeting_due_idx"),
            models.Index(fields=["start", "id"], name="meeting_recent_idx"),
            models.Index(fields=["community", "start", "id"], name="meeting_community_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def agenda_items(self) -> list[str]:
        return [line.strip() for line in self.agenda.splitlines() if line.strip()]


def attachment_upload_to(instance: MeetingAttachment, filename: str) -> str:
    return upload_path("meetings", instance.meeting_id, filename)


class MeetingAttachment(models.Model):
    meeting = models.ForeignKey(
        JointMeeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attachments"
    )
    title = models.CharField(_("title"), max_length=100)
    file = UploadField(_("file"), upload_to=attachment_upload_to, kinds=["pdf", *PHOTO_KINDS, "xlsx", "docx"])
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title


class Invitation(models.Model):
    """A unit (its liaisons answer for it) or a person invited to a meeting, and whether they came."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")

    # Liaisons answer before the meeting; staff record who came once it has begun (and may correct it).
    TRANSITIONS = Transitions(
        Transition(
            "confirm",
            [Status.INVITED, Status.CONFIRMED, Status.DECLINED],
            Status.CONFIRMED,
            _("Confirming"),
            "meetings.answer_invitation",
        ),
        Transition(
            "decline",
            [Status.INVITED, Status.CONFIRMED, Status.DECLINED],
            Status.DECLINED,
            _("Declining"),
            "meetings.answer_invitation",
        ),
        Transition("attended", list(Status), Status.ATTENDED, _("Recording attendance"), "meetings.record_attendance"),
        Transition("absent", list(Status), Status.ABSENT, _("Recording an absence"), "meetings.record_attendance"),
    )

    meeting = models.ForeignKey(
        JointMeeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="invitations"
    )
    unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.INVITED)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting_id", "id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(person__isnull=True))
                | (Q(unit__isnull=True) & Q(person__isnull=False)),
                name="invitation_unit_or_person",
            ),
            models.UniqueConstraint(
                fields=["meeting", "unit"], condition=Q(unit__isnull=False), name="invitation_once_per_unit"
            ),
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="invitation_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit or self.person} @ {self.meeting}"


class Resolution(models.Model):
    """议定事项: what a meeting decided, who owns it, by when — followed up until done (督办)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        # The body could not settle it: it went up to the street's (or the district's) next meeting.
        FORWARDED = "forwarded", _("Forwarded up")
        # An item forwarded up that the higher body would not take on (with its reason, sent back).
        DECLINED = "declined", _("Declined by the higher body")

    TRANSITIONS = Transitions(
        Transition("done", [Status.OPEN], Status.DONE, _("Marking done"), "change"),
        # Marked done too early (the follow-up found it is not): back to open, followed up again.
        Transition("reopen", [Status.DONE], Status.OPEN, _("Reopening"), "change"),
        Transition("forward", [Status.OPEN], Status.FORWARDED, _("Forwarding up"), "meetings.forward_resolution"),
        Transition("decline", [Status.OPEN], Status.DECLINED, _("Declining"), "meetings.decline_forwarded"),
        # The higher body's answer flowing back to the original (made by the system, never a button).
        Transition("forward_done", [Status.FORWARDED], Status.DONE, _("Taking the higher body's result")),
        Transition("forward_declined", [Status.FORWARDED], Status.OPEN, _("Taking the higher body's refusal")),
        Transition("forward_reopened", [Status.DONE], Status.FORWARDED, _("Reopening at the higher body")),
    )

    meeting = models.ForeignKey(
        JointMeeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="resolutions"
    )
    text = models.TextField(_("resolution"), max_length=2000)
    owner = models.ForeignKey(
        "members.MemberUnit", verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="resolutions"
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    result = models.TextField(_("result"), max_length=2000, blank=True)
    # Forwarding up (community → street → district). On the higher body's item: the resolution it came from.
    # On the original: the body it went to (a street, or a district), when, and why; it waits there for
    # that body's next planned meeting when none is planned yet (`services.forwards_attach`).
    forwarded_from = models.ForeignKey(
        "self",
        verbose_name=_("forwarded from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="forwards",
    )
    forward_street = models.ForeignKey(
        "members.Street",
        verbose_name=_("forwarded to the street"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    forward_district = models.ForeignKey(
        "members.District",
        verbose_name=_("forwarded to the district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    forward_note = models.CharField(_("why it is forwarded"), max_length=300, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        constraints = [
            # The backstop against forwarding twice: one live item (not declined) per original at a time.
            models.UniqueConstraint(
                fields=["forwarded_from"],
                condition=Q(forwarded_from__isnull=False) & ~Q(status="declined"),
                name="resolution_one_live_forward",
            ),
        ]
        # Due first with id breaking ties: the list, and behind ?status= (open and overdue ones, the
        # reminders' scan), ?owner= (a unit's own) and ?meeting=.
        indexes = [
            models.Index(fields=["status", "due_date", "id"], name="resolution_due_idx"),
            models.Index(fields=["due_date", "id"], name="resolution_list_idx"),
            models.Index(fields=["owner", "due_date", "id"], name="resolution_owner_idx"),
            models.Index(fields=["meeting", "due_date", "id"], name="resolution_meeting_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:40]


class ResolutionProgress(models.Model):
    resolution = models.ForeignKey(
        Resolution, verbose_name=_("resolution"), on_delete=models.CASCADE, related_name="progress"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True)
    text = models.TextField(_("progress"), max_length=2000)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")

    def __str__(self) -> str:
        return self.text[:40]


class Reminder(models.Model):
    """The ledger of reminders and notices. A row is written — under a unique constraint — in the same
    transaction as the notification it sends, before anything goes out; so a retried, duplicated or
    concurrent scan sends each reminder once."""

    class Kind(models.TextChoices):
        MEETING_24H = "meeting_24h", _("24 hours before the meeting")
        MEETING_1H = "meeting_1h", _("1 hour before the meeting")
        MEETING_MOVED = "meeting_moved", _("Meeting moved")
        MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")
        MINUTES_MISSING = "minutes_missing", _("Minutes missing")
        RESOLUTION_3D = "resolution_3d", _("3 days before a resolution is due")
        RESOLUTION_DUE = "resolution_due", _("Resolution due today")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    meeting = models.ForeignKey(JointMeeting, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    resolution = models.ForeignKey(
        Resolution, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # The meeting's schedule version the reminder was for (0 for resolutions).
    version = models.PositiveIntegerField(_("version"), default=0)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE)
    notification = models.ForeignKey(
        "alliance.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "recipient", "kind", "version"],
                condition=Q(meeting__isnull=False),
                name="reminder_once_per_meeting",
            ),
            models.UniqueConstraint(
                fields=["resolution", "recipient", "kind"],
                condition=Q(resolution__isnull=False),
                name="reminder_once_per_resolution",
            ),
            models.CheckConstraint(
                condition=Q(meeting__isnull=False) | Q(resolution__isnull=False), name="reminder_has_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class CalendarFeed(models.Model):
    """An unguessable, revocable address of a unit's or a person's meetings in iCalendar form."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    unit = models.ForeignKey("members.MemberUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Who made or revoked an address, and when; not the address itself, which opens the calendar.
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(user__isnull=True))
                | (Q(unit__isnull=True) & Q(user__isnull=False)),
                name="calendarfeed_unit_or_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit or self.user}"

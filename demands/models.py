"""The needs list and the resource list (需求清单 / 资源清单) and the need's timeline."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from alliance.uploads import PHOTO_KINDS, UploadField, upload_path
from alliance.validators import validate_mobile
from alliance.workflow import Transition, Transitions


class Need(models.Model):
    """A need, and its path 居民点单 → 社区派单 → 单位接单 → 组织晒单 (seed 001)."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Resident need")
        COMMUNITY = "community", _("Community need")
        UNIT = "unit", _("Unit need")
        MICRO_WISH = "micro_wish", _("Micro-wish")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        DISPATCHED = "dispatched", _("Dispatched")
        ACCEPTED = "accepted", _("Accepted")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")

    # 居民点单、社区派单、单位接单、组织晒单: every allowed move of a need, and who may make it.
    TRANSITIONS = Transitions(
        Transition("dispatch", [Status.SUBMITTED], Status.DISPATCHED, _("Dispatching"), "demands.staff_for_need"),
        Transition("accept", [Status.DISPATCHED], Status.ACCEPTED, _("Accepting"), "demands.act_for_need"),
        Transition("decline", [Status.DISPATCHED], Status.SUBMITTED, _("Declining"), "demands.act_for_need"),
        Transition("complete", [Status.ACCEPTED], Status.COMPLETED, _("Completing"), "demands.act_for_need"),
        Transition(
            "reject", [Status.SUBMITTED, Status.DISPATCHED], Status.REJECTED, _("Rejecting"), "demands.staff_for_need"
        ),
        # Micro-wishes: a verified member takes one on (volunteers' portal) and reports it done.
        Transition("take_wish", [Status.SUBMITTED], Status.ACCEPTED, _("Taking on the wish")),
        Transition(
            "complete_wish", [Status.ACCEPTED], Status.COMPLETED, _("Completing the wish"), "demands.claimant_of_need"
        ),
        # The resident rates the result (tracking code), or the need closes by itself after 7 days.
        Transition("rate", [Status.COMPLETED], Status.CLOSED, _("Rating")),
        Transition("close", [Status.COMPLETED], Status.CLOSED, _("Closing")),
    )

    class Channel(models.TextChoices):
        WEB = "web", _("Public form")
        API = "api", _("API")
        PHONE = "phone", _("Phone call")
        VISIT = "visit", _("Visit")
        STAFF = "staff", _("Entered by staff")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.RESIDENT)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000)
    category = models.ForeignKey(
        "alliance.Category", verbose_name=_("category"), on_delete=models.PROTECT, related_name="needs"
    )
    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, related_name="needs"
    )
    # Personal data: shown in full only to the community's staff, street staff and the unit's liaison.
    contact_name = models.CharField(_("contact name"), max_length=30)
    contact_phone = models.CharField(_("contact phone"), max_length=11, validators=[validate_mobile])
    address = models.CharField(_("address"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
    )
    resource = models.ForeignKey(
        "Resource",
        verbose_name=_("resource"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
    )
    # A micro-wish is taken on by an in-service Party member (volunteers app) rather than a unit.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken on by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wishes_claimed",
    )
    # The member unit whose liaison filed the need as the unit's own (services.need_file_for_unit): its
    # liaisons — every one of them, not only the account that typed it — follow it from the start (NeedRules).
    # PROTECT, like `unit`: units are withdrawn, not deleted, and a unit that filed needs is part of their
    # record; SET_NULL would quietly take the need away from the liaisons who follow it.
    filed_by_unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("filed by unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # need_filed_by_unit_idx below, partial: most needs were not filed by a unit
        related_name="needs_filed",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs_entered",
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Kept 7 working days from dispatch to completion (the unit's "on time", demands.selectors._on_time):
    # decided by the service that completes the need, on the working-day calendar of that moment, so the
    # assessment counts it in SQL. None: not completed, or never dispatched (a micro-wish).
    completed_in_time = models.BooleanField(_("completed on time"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    result = models.TextField(_("result"), max_length=2000, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField(_("comment on the result"), max_length=300, blank=True)
    showcased_at = models.DateTimeField(_("showcased at"), null=True, blank=True)
    # Set when the contact data was replaced, RESIDENT_DATA_RETENTION_DAYS after the need ended
    # (PIPL art. 19: kept no longer than needed); the need itself, its timeline and figures stay.
    anonymised_at = models.DateTimeField(_("contact data removed at"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # When the running service-level clock started (SPEC "Service-level clock"): the submission while it
    # waits to be dispatched, the dispatch while it waits to be accepted, nothing in any other status. The
    # database computes it, so no write path (a service, an import, a bulk update, COPY) can leave it
    # stale. It stores the start, not the due time: the due time counts working days (alliance.workdays),
    # which no generated column can, and which staff may change; both stages allow the same 2 working days
    # (selectors.SLA_WORKING_DAYS) and the due time never decreases as the start moves later, so the start
    # orders the queue exactly as the due time would — overdue needs first, on an index (need_queue_idx).
    waiting_since = models.GeneratedField(
        expression=Case(
            When(status="submitted", then=F("submitted_at")),
            When(status="dispatched", then=F("dispatched_at")),
            default=None,
            output_field=models.DateTimeField(),
        ),
        output_field=models.DateTimeField(null=True),
        db_persist=True,
        verbose_name=_("waiting since"),
    )
    history = HistoricalRecords(excluded_fields=["updated_at", "waiting_since"])

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="need_rating_range"
            ),
            # A need in someone's hands names them: the unit it was dispatched to, or the Party member who
            # took on a micro-wish.
            models.CheckConstraint(
                condition=~Q(status__in=["dispatched", "accepted", "completed"])
                | Q(unit__isnull=False)
                | Q(claimed_by__isnull=False, kind="micro_wish"),
                name="need_unit_when_dispatched",
            ),
        ]
        # Each list's order with the primary key as the tie-breaker, alone and behind the filters the API,
        # the admin and the permission scopes put in front of it (community staff, a unit's liaisons), so
        # a page is read off an index in order, never sorted (tests/alliance/test_query_plans.py).
        indexes = [
            models.Index(fields=["submitted_at", "id"], name="need_recent_idx"),
            models.Index(fields=["status", "submitted_at", "id"], name="need_status_recent_idx"),
            models.Index(fields=["community", "submitted_at", "id"], name="need_community_recent_idx"),
            models.Index(fields=["unit", "submitted_at", "id"], name="need_unit_recent_idx"),
            # The API's ?ordering=status (the primary key breaks ties).
            models.Index(fields=["status", "id"], name="need_status_order_idx"),
            # The staff work queue (selectors.QUEUE_ORDER): needs on a clock first, the longest waiting
            # first — so overdue ones lead — then the rest oldest first. NULLS LAST is PostgreSQL's
            # default for ascending keys, as the queue asks.
            models.Index(fields=["waiting_since", "submitted_at", "id"], name="need_queue_idx"),
            # Only the needs on a clock (submitted or dispatched): the overdue filter and the SLA scan.
            models.Index(
                fields=["waiting_since", "id"], condition=Q(waiting_since__isnull=False), name="need_open_queue_idx"
            ),
            models.Index(fields=["unit", "status"], name="need_unit_idx"),
            # The needs a unit filed, newest first (NeedRules.visible: its liaisons' lists and the portal's).
            models.Index(
                fields=["filed_by_unit", "submitted_at", "id"],
                condition=Q(filed_by_unit__isnull=False),
                name="need_filed_by_unit_idx",
            ),
            # The public showcase, newest first: only the needs staff chose to show.
            models.Index(
                fields=["showcased_at", "id"], condition=Q(showcased_at__isnull=False), name="need_showcase_idx"
            ),
            # The retention sweep's two filters; partial, so they hold only needs still to anonymise.
            models.Index(
                fields=["closed_at"],
                condition=Q(status="closed", anonymised_at__isnull=True),
                name="need_retention_closed_idx",
            ),
            models.Index(
                fields=["rejected_at"],
                condition=Q(status="rejected", anonymised_at__isnull=True),
                name="need_retention_rejected_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NeedEvent(models.Model):
    """One row of a need's timeline: who moved it, when, from where to where, and why."""

    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=20, choices=Need.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Need.Status.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        indexes = [
            # A need's timeline in order, read for each need shown (and not the foreign key's index, then a sort).
            models.Index(fields=["need", "at", "id"], name="needevent_timeline_idx"),
            # Declined needs waiting to be dispatched again (the workbench's count, the admin's filter): a
            # few rows out of millions of timeline entries.
            models.Index(
                fields=["need"],
                condition=Q(from_status="dispatched", to_status="submitted"),
                name="needevent_declined_idx",
            ),
        ]

    def __str__(self) -> str:
        # Labels, not codes: the admin shows this in the need's timeline (issue 11: "— → submitted").
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"


def need_photo_upload_to(instance: NeedPhoto, filename: str) -> str:
    return upload_path("needs", instance.need_id, filename)


class NeedPhoto(models.Model):
    """A photo of the result, added by the unit when it completes the need."""

    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="photos")
    image = UploadField(_("photo"), upload_to=need_photo_upload_to, kinds=PHOTO_KINDS)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name


class NeedSlaFlag(models.Model):
    """A need that waited too long at one stage. Unique per need and stage, so a scan that runs twice,
    or two scans at once, raise the flag — and notify — once."""

    class Stage(models.TextChoices):
        DISPATCH = "dispatch", _("Not dispatched within 2 working days")
        ACCEPT = "accept", _("Not accepted within 2 working days of dispatch")

    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="sla_flags")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    flagged_at = models.DateTimeField(_("flagged at"), auto_now_add=True)

    class Meta:
        ordering = ["-flagged_at"]
        verbose_name = _("overdue flag")
        verbose_name_plural = _("overdue flags")
        constraints = [models.UniqueConstraint(fields=["need", "stage"], name="needslaflag_once")]

    def __str__(self) -> str:
        return f"{self.need} · {self.get_stage_display()}"


class Resource(models.Model):
    """What a unit offers (资源清单): venues, talent, technology, services, funds, goods."""

    class Kind(models.TextChoices):
        VENUE = "venue", _("Venue")
        TALENT = "talent", _("Talent")
        TECHNOLOGY = "technology", _("Technology")
        SERVICE = "service", _("Service")
        FUNDS = "funds", _("Funds")
        GOODS = "goods", _("Goods")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Available")
        WITHDRAWN = "withdrawn", pgettext_lazy("resource", "Withdrawn")

    TRANSITIONS = Transitions(
        Transition("withdraw", [Status.ACTIVE], Status.WITHDRAWN, _("Withdrawing"), "change"),
        Transition("restore", [Status.WITHDRAWN], Status.ACTIVE, _("Restoring"), "change"),
    )

    unit = models.ForeignKey(
        "members.MemberUnit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="resources"
    )
    category = models.ForeignKey(
        "alliance.Category", verbose_name=_("category"), on_delete=models.PROTECT, related_name="resources"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("People, sessions or items at a time; empty if it does not apply."),
    )
    availability = models.CharField(
        _("availability"), max_length=100, blank=True, help_text=_("For example: Saturday mornings")
    )
    is_free = models.BooleanField(_("free of charge"), default=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["unit_id", "-created_at", "id"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        indexes = [
            models.Index(fields=["category", "status"], name="resource_match_idx"),
            # The list's order (also a unit's resources) and the API's two orderings, id breaking ties.
            models.Index(fields=["unit", "-created_at", "id"], name="resource_list_idx"),
            models.Index(fields=["updated_at", "id"], name="resource_updated_idx"),
            models.Index(fields=["title", "id"], name="resource_title_idx"),
        ]

    def __str__(self) -> str:
        return self.title


# --- Shared venues (免费开放场所) ------------------------------------------------------------------


# Why a venue's hours are refused when it would close before it opens (the constraint and the portal form).
HOURS_ORDER_MESSAGE = _("The venue must close after it opens.")


class Venue(models.Model):
    """A venue resource's booking rules: when it opens, on which days, and whether residents see it on the
    public site. Its capacity is the resource's. Only resources of kind venue have one."""

    resource = models.OneToOneField(
        Resource,
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="venue",
        limit_choices_to={"kind": Resource.Kind.VENUE},
    )
    opens_at = models.TimeField(_("opens at"), default=datetime.time(8, 30))
    closes_at = models.TimeField(_("closes at"), default=datetime.time(17, 30))
    weekdays = models.CharField(
        _("opening days"),
        max_length=7,
        default="12345",
        validators=[RegexValidator(r"^(?!.*(.).*\1)[1-7]{1,7}$", _("Digits 1 (Monday) to 7 (Sunday), each once."))],
        help_text=_("Digits of the days it opens: 1 is Monday, 7 is Sunday. 12345 is Monday to Friday."),
    )
    is_public = models.BooleanField(
        _("shown on the public site"),
        default=True,
        help_text=_("Residents see it and its free slots, never who booked."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["resource_id"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="venue_hours_order",
                # Said to the admin, the portal form and the API alike (full_clean validates constraints).
                violation_error_message=HOURS_ORDER_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return self.resource.title

    def opens_on(self, day: datetime.date) -> bool:
        """Open on this weekday (closed days are `VenueClosure` rows, asked by the selectors)."""
        return str(day.isoweekday()) in self.weekdays


class VenueClosure(models.Model):
    """A day the venue is closed although it is an opening day (a holiday, repairs)."""

    venue = models.ForeignKey(Venue, verbose_name=_("venue"), on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["venue_id", "date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["venue", "date"], name="venueclosure_unique_day")]

    def __str__(self) -> str:
        return f"{self.venue} · {self.date}"


class Booking(models.Model):
    """A request for a venue at a time. No two approved bookings of a venue overlap: the services check under
    the venue's row lock, and on PostgreSQL an exclusion constraint over the time range (`booking_no_overlap`, made by
    the migration that creates this table) is the backstop that holds whatever writes the table."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = Transitions(
        Transition("approve", [Status.PENDING], Status.APPROVED, _("Approving"), "demands.decide_booking"),
        Transition("decline", [Status.PENDING], Status.DECLINED, _("Declining"), "demands.decide_booking"),
        Transition(
            "cancel", [Status.PENDING, Status.APPROVED], Status.CANCELLED, _("Cancelling"), "demands.cancel_booking"
        ),
    )

    venue = models.ForeignKey(Venue, verbose_name=_("venue"), on_delete=models.PROTECT, related_name="bookings")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="bookings"
    )
    # Whom the booking is for, when the requester acts for a unit or a community (else: the person).
    unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("for the unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venue_bookings",
    )
    community = models.ForeignKey(
        "members.Community",
        verbose_name=_("for the community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venue_bookings",
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    purpose = models.CharField(_("purpose"), max_length=200)
    people = models.PositiveIntegerField(_("people expected"), validators=[MinValueValidator(1)])
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("venue booking")
        verbose_name_plural = _("venue bookings")
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_time_order")]
        indexes = [
            # A venue's week, and the overlap check: the bookings of a venue around a time.
            models.Index(fields=["venue", "start", "id"], name="booking_venue_idx"),
            # "My bookings", newest first.
            models.Index(fields=["requester", "-start", "id"], name="booking_requester_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.venue} · {self.start:%Y-%m-%d %H:%M}"

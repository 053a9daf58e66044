"""Service projects and the claim table (认领表): claims with commitments (承诺), activities with the
figures the seeds quote (活动, 服务次数, 惠及居民人次), and quarterly commitment reviews (承诺评议)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from alliance.uploads import PHOTO_KINDS, UploadField, upload_path
from alliance.workflow import Transition, Transitions


class ServiceProject(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for claims")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    TRANSITIONS = Transitions(
        Transition("open", [Status.DRAFT], Status.OPEN, _("Opening for claims"), "change"),
        Transition("start", [Status.OPEN], Status.RUNNING, _("Starting"), "change"),
        Transition("finish", [Status.OPEN, Status.RUNNING], Status.FINISHED, _("Finishing"), "change"),
    )

    title = models.CharField(_("title"), max_length=100)
    category = models.ForeignKey(
        "alliance.Category", verbose_name=_("category"), on_delete=models.PROTECT, related_name="projects"
    )
    description = models.TextField(_("description"), max_length=4000)
    street = models.ForeignKey(
        "members.Street", verbose_name=_("street"), on_delete=models.PROTECT, related_name="projects"
    )
    # Empty: the project is street-wide.
    community = models.ForeignKey(
        "members.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        help_text=_("Leave empty for a street-wide project."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    places = models.PositiveSmallIntegerField(
        _("unit places"), default=1, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    # Pending and approved claims, kept by the claim services under the project's row lock; the check
    # constraint below is the database's backstop against more claims than places.
    places_taken = models.PositiveSmallIntegerField(_("places taken"), default=0, editable=False)
    is_demonstration = models.BooleanField(_("demonstration project"), default=False)
    plaque_awarded_on = models.DateField(_("plaque awarded on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    needs = models.ManyToManyField("demands.Need", verbose_name=_("linked needs"), blank=True, related_name="projects")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        # Both keys one way, so that one index serves the list and its reverse (?ordering=starts_on).
        ordering = ["-starts_on", "-id"]
        verbose_name = _("service project")
        verbose_name_plural = _("service projects")
        constraints = [
            models.CheckConstraint(condition=Q(places_taken__lte=F("places")), name="project_places_not_exceeded"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="project_period_order",
                violation_error_message=_("A project cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(plaque_awarded_on__isnull=True) | Q(is_demonstration=True),
                name="project_plaque_only_for_demonstration",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "category"], name="project_table_idx"),
            models.Index(fields=["starts_on", "id"], name="project_recent_idx"),
            models.Index(fields=["status", "starts_on", "id"], name="project_status_recent_idx"),
            # ?ordering=places_left (the annotation `places_left_db`), id breaking ties.
            models.Index(F("places") - F("places_taken"), F("id"), name="project_places_left_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(0, self.places - self.places_taken)


class ProjectClaim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", pgettext_lazy("claim", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("claim", "Withdrawn")
        COMPLETED = "completed", _("Completed")

    # The claims that hold a place.
    HOLDING = (Status.PENDING, Status.APPROVED)

    TRANSITIONS = Transitions(
        Transition("withdraw", [Status.PENDING], Status.WITHDRAWN, _("Withdrawing"), "projects.act_for_claim"),
        Transition("approve", [Status.PENDING], Status.APPROVED, _("Approving"), "change"),
        Transition("reject", [Status.PENDING], Status.REJECTED, _("Rejecting"), "change"),
        # When the project finishes: approved claims are completed, pending ones lapse.
        Transition("complete", [Status.APPROVED], Status.COMPLETED, _("Completing")),
        Transition("lapse", [Status.PENDING], Status.WITHDRAWN, _("Lapsing")),
    )

    project = models.ForeignKey(
        ServiceProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="claims"
    )
    unit = models.ForeignKey(
        "members.MemberUnit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="claims"
    )
    commitment = models.TextField(
        _("commitment"),
        max_length=2000,
        help_text=_("What the unit promises: people, venue hours, money, sessions."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["project_id", "created_at", "id"]
        verbose_name = _("project claim")
        verbose_name_plural = _("project claims")
        constraints = [
            # One claim per unit and project; a withdrawn or rejected claim does not stop a new one.
            models.UniqueConstraint(
                fields=["project", "unit"],
                condition=Q(status__in=["pending", "approved", "completed"]),
                name="projectclaim_one_per_unit",
            ),
        ]
        # The list's order (claims grouped by project, oldest first) alone and behind each of its filters
        # (?project=, ?status= — pending ones are the staff's queue —, ?unit= and a liaison's scope), and
        # the API's ?ordering=created_at; id breaks ties.
        indexes = [
            models.Index(fields=["project", "created_at", "id"], name="projectclaim_list_idx"),
            models.Index(fields=["status", "project", "created_at", "id"], name="projectclaim_status_idx"),
            models.Index(fields=["unit", "project", "created_at", "id"], name="projectclaim_unit_idx"),
            models.Index(fields=["created_at", "id"], name="projectclaim_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.project}"


def activity_photo_upload_to(instance: ActivityPhoto, filename: str) -> str:
    return upload_path("activities", instance.activity_id, filename)


class ServiceActivity(models.Model):
    """What a unit did under an approved claim; these rows feed every figure the seeds quote."""

    claim = models.ForeignKey(
        ProjectClaim, verbose_name=_("claim"), on_delete=models.PROTECT, related_name="activities"
    )
    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=100)
    place = models.CharField(_("place"), max_length=100, blank=True)
    participants = models.PositiveIntegerField(
        _("participants"), default=0, help_text=_("The unit's people taking part.")
    )
    services = models.PositiveIntegerField(_("services given"), default=0)
    beneficiaries = models.PositiveIntegerField(_("residents benefited"), default=0)
    hours = models.DecimalField(
        _("hours"),
        max_digits=6,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(9999)],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("service activity")
        verbose_name_plural = _("service activities")
        indexes = [
            # Newest first with id breaking ties (and the monthly figures' date ranges), alone and per claim.
            models.Index(fields=["date", "id"], name="activity_date_idx"),
            models.Index(fields=["claim", "date", "id"], name="activity_claim_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(
        ServiceActivity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="photos"
    )
    image = UploadField(_("photo"), upload_to=activity_photo_upload_to, kinds=PHOTO_KINDS)
    # A small copy for lists (the public activities page): made from the checked photo when it is recorded
    # (alliance.uploads.thumbnail_of); empty for photos stored before, which lists show at full size.
    thumbnail = UploadField(
        _("thumbnail"), upload_to=activity_photo_upload_to, kinds=PHOTO_KINDS, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name


class CommitmentReview(models.Model):
    """承诺评议: staff's score of how a claim's commitment was kept in one quarter."""

    claim = models.ForeignKey(ProjectClaim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="reviews")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(_("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "-quarter", "id"]
        verbose_name = _("commitment review")
        verbose_name_plural = _("commitment reviews")
        constraints = [
            models.UniqueConstraint(fields=["claim", "year", "quarter"], name="review_once_per_quarter"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="review_score_range"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="review_quarter_range"),
        ]

    def __str__(self) -> str:
        return f"{self.claim} · {self.year}Q{self.quarter}"

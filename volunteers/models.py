"""In-service Party members (在职党员) and their volunteering where they live (双报到): registration at the
residence community, volunteer posts and claims, teams, service hours and the quarterly service card."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from alliance.validators import validate_mobile
from alliance.workflow import Transition, Transitions


class PartyMember(models.Model):
    """A registration (双报到) of an in-service Party member at their residence community. The person is
    identified by the phone; moving community ends one registration and starts another, so the history
    of where they served stays."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", pgettext_lazy("registration", "Rejected")
        ENDED = "ended", _("Moved away")

    ACTIVE = (Status.PENDING, Status.VERIFIED)

    TRANSITIONS = Transitions(
        Transition("verify", [Status.PENDING], Status.VERIFIED, _("Verifying"), "change"),
        Transition("reject", [Status.PENDING], Status.REJECTED, _("Rejecting"), "change"),
        Transition("move_away", ACTIVE, Status.ENDED, _("Moving away"), "volunteers.act_for_member"),
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_registrations",
    )
    name = models.CharField(_("name"), max_length=30)
    phone = models.CharField(_("mobile phone"), max_length=11, validators=[validate_mobile])
    # 关系在单位: the work unit — a member unit, or its name when the unit has not joined the alliance.
    work_unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("work unit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_members",
    )
    work_unit_name = models.CharField(_("work unit (not a member unit)"), max_length=100, blank=True)
    party_branch = models.CharField(_("Party branch"), max_length=100, blank=True)
    # 活动在区域: where they live and serve.
    residence_community = models.ForeignKey(
        "members.Community",
        verbose_name=_("residence community"),
        on_delete=models.PROTECT,
        related_name="party_members",
    )
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    registered_on = models.DateField(_("registered on"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.CharField(_("reason"), max_length=300, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["residence_community_id", "name", "id"]
        verbose_name = _("in-service Party member")
        verbose_name_plural = _("in-service Party members")
        constraints = [
            # One active registration per person and community.
            models.UniqueConstraint(
                fields=["phone", "residence_community"],
                condition=Q(status__in=["pending", "verified"]),
                name="partymember_one_active_per_community",
            ),
        ]
        indexes = [
            # The list's order, alone (street staff), per community (community staff, ?community=) and
            # per status (the verification queue: ?status=pending).
            models.Index(fields=["residence_community", "name", "id"], name="partymember_list_idx"),
            models.Index(fields=["status", "residence_community", "name", "id"], name="partymember_status_idx"),
            models.Index(fields=["work_unit", "residence_community", "name", "id"], name="partymember_unit_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def work_unit_label(self) -> str:
        return self.work_unit.name if self.work_unit_id else self.work_unit_name


class VolunteerPost(models.Model):
    """志愿服务岗位: a post in a community that verified members claim, up to its places."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("post", "Open")
        CLOSED = "closed", pgettext_lazy("post", "Closed")

    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, related_name="volunteer_posts"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    schedule = models.CharField(_("schedule"), max_length=100, help_text=_("For example: every Saturday morning"))
    places = models.PositiveSmallIntegerField(
        _("places"), default=1, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    # Kept by the claim services under the post's row lock; the check constraint is the backstop.
    places_taken = models.PositiveSmallIntegerField(_("places taken"), default=0, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["community_id", "title", "id"]
        verbose_name = _("volunteer post")
        verbose_name_plural = _("volunteer posts")
        constraints = [
            models.CheckConstraint(condition=Q(places_taken__lte=F("places")), name="post_places_not_exceeded"),
        ]
        indexes = [models.Index(fields=["community", "title", "id"], name="post_list_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(0, self.places - self.places_taken)


class PostClaim(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Serving")
        LEFT = "left", _("Left")

    TRANSITIONS = Transitions(
        Transition("leave", [Status.ACTIVE], Status.LEFT, _("Leaving the post"), "volunteers.leave_post")
    )

    post = models.ForeignKey(VolunteerPost, verbose_name=_("post"), on_delete=models.CASCADE, related_name="claims")
    member = models.ForeignKey(
        PartyMember, verbose_name=_("member"), on_delete=models.CASCADE, related_name="post_claims"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["post_id", "claimed_at", "id"]
        verbose_name = _("post claim")
        verbose_name_plural = _("post claims")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "member"], condition=Q(status="active"), name="postclaim_one_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.post}"


class VolunteerTeam(models.Model):
    """志愿服务队: a team of a community or of a unit."""

    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        "members.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
    )
    unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
    )
    members = models.ManyToManyField(PartyMember, verbose_name=_("members"), blank=True, related_name="teams")
    leader = models.ForeignKey(
        PartyMember, verbose_name=_("leader"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who is in a team is personal data too: adding or removing a member leaves a row.
    history = HistoricalRecords(m2m_fields=["members"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        constraints = [
            models.CheckConstraint(
                condition=Q(community__isnull=False) | Q(unit__isnull=False), name="team_of_community_or_unit"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceLog(models.Model):
    """服务时长: hours a member served, verified by their residence community's staff."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("member"), on_delete=models.PROTECT, related_name="service_logs"
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("24"))],
    )
    description = models.CharField(_("what was done"), max_length=300)
    post = models.ForeignKey(VolunteerPost, verbose_name=_("post"), on_delete=models.SET_NULL, null=True, blank=True)
    wish = models.ForeignKey(
        "demands.Need", verbose_name=_("micro-wish"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activity = models.ForeignKey(
        "projects.ServiceActivity",
        verbose_name=_("activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verified = models.BooleanField(_("verified"), default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Staff may refuse hours (not served, logged twice): a rejected log stays on record, unverified, so it
    # counts in no total (every total counts verified hours only) and can be neither verified nor edited.
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("service log")
        verbose_name_plural = _("service logs")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="servicelog_hours_range"),
        ]
        # Newest first with id breaking ties, alone and behind each filter of the list (?member=, ?post=,
        # ?verified= — the unverified ones are the staff's queue; verified with dates, the totals).
        indexes = [
            models.Index(fields=["date", "id"], name="servicelog_recent_idx"),
            models.Index(fields=["verified", "date", "id"], name="servicelog_totals_idx"),
            models.Index(fields=["member", "date", "id"], name="servicelog_member_idx"),
            models.Index(fields=["post", "date", "id"], name="servicelog_post_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.date} · {self.hours}"


# --- Verified hours, summed (issue 12) ------------------------------------------------------------------
# The totals pages, the workbench chart, the public figure and the quarterly report read verified hours
# summed per month instead of aggregating every verified log per request (5 M at city scale). The rows are
# kept exact by the services that change verified hours (`services.count_verified_hours`), in the same
# transaction, with an upsert that adds (no read-modify-write: concurrent verifications cannot lose one);
# migration 0004 filled them from the logs. Months, because the totals page's periods (this month, last
# month, this quarter, this year) are whole months.


class MemberMonthHours(models.Model):
    """Verified hours and verified logs of one registration (双报到) dated in one month."""

    # No index of their own: the unique (member, month) and the (community, month) index lead with them.
    member = models.ForeignKey(
        PartyMember, verbose_name=_("member"), on_delete=models.CASCADE, related_name="month_hours", db_index=False
    )
    # The registration's residence community, copied: it never changes for a registration (moving house
    # starts another), and the community filter and community staff's scope then need no join.
    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    month = models.DateField(_("month"))  # its first day
    hours = models.DecimalField(_("verified hours"), max_digits=12, decimal_places=1, default=Decimal(0))
    services = models.IntegerField(_("services"), default=0)  # signed: a taking-back upsert carries -n

    class Meta:
        verbose_name = _("verified hours of a member in a month")
        verbose_name_plural = _("verified hours of members per month")
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="membermonthhours_one_per_month")]
        indexes = [models.Index(fields=["community", "month"], name="membermonthhours_community_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} · {self.month:%Y-%m} · {self.hours}"


class CommunityMonthHours(models.Model):
    """Verified hours and verified logs of the members of one residence community dated in one month: the
    street-wide figures (a city has ~800 communities) without reading a row per member."""

    # No index of its own: the unique (community, month) leads with it.
    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    month = models.DateField(_("month"))  # its first day
    hours = models.DecimalField(_("verified hours"), max_digits=14, decimal_places=1, default=Decimal(0))
    services = models.IntegerField(_("services"), default=0)  # signed: a taking-back upsert carries -n

    class Meta:
        verbose_name = _("verified hours of a community in a month")
        verbose_name_plural = _("verified hours of communities per month")
        constraints = [models.UniqueConstraint(fields=["community", "month"], name="communitymonthhours_one_per_month")]

    def __str__(self) -> str:
        return f"{self.community_id} · {self.month:%Y-%m} · {self.hours}"


# --- Points (积分, issue 15) ----------------------------------------------------------------------------
# In the volunteers app: members earn most points (verified hours, micro-wishes), and units earn theirs from
# their commitment reviews; the ledger speaks of both, and the volunteers app already reads members and
# units (members) and is read by neither projects nor demands, so the awards' calls into it stay one-way.


class PointsRule(models.Model):
    """积分规则: how many points a street gives per verified source in one year. Scoped like the street's
    assessment scheme (`members.AssessmentScheme`): one per street and year, edited by its street staff;
    `volunteers.points.rule_for` makes a year's rule from the previous year's, or from the defaults."""

    street = models.ForeignKey(
        "members.Street", verbose_name=_("street"), on_delete=models.PROTECT, related_name="points_rules"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    per_hour = models.PositiveSmallIntegerField(
        _("points per verified service hour"), default=1, validators=[MaxValueValidator(1000)]
    )
    per_wish = models.PositiveSmallIntegerField(
        _("points per micro-wish fulfilled"), default=5, validators=[MaxValueValidator(1000)]
    )
    per_review = models.PositiveSmallIntegerField(
        _("points per commitment review at the score or better"), default=10, validators=[MaxValueValidator(1000)]
    )
    review_min_score = models.PositiveSmallIntegerField(
        _("lowest review score that earns points"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-year", "street_id"]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [
            models.UniqueConstraint(fields=["street", "year"], name="pointsrule_one_per_street_year"),
            models.CheckConstraint(
                condition=Q(review_min_score__gte=1, review_min_score__lte=5), name="pointsrule_review_score_range"
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(street)s, points rule %(year)d") % {"street": self.street, "year": self.year})


class LedgerChanged(Exception):
    """An entry of the points ledger was to be changed or deleted: the ledger is append-only."""


class PointsEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerChanged("The points ledger is append-only: write a correction instead.")

    def delete(self):
        raise LedgerChanged("The points ledger is append-only: write a correction instead.")


class PointsEntry(models.Model):
    """One line of the points ledger (积分台账): points a member or a unit earned from one verified source,
    or a correction of an earlier line. Append-only: `save()` of a stored line, `delete()` and the
    queryset's `update()`/`delete()` raise, and a database trigger refuses UPDATE and DELETE (migration
    0006). Each source earns each beneficiary points at most once (the partial unique indexes below); a
    commitment review re-scored below its rule's score and back again adds a withdrawal and a new award,
    each linked to the entry before (`corrects`), never a second unlinked award."""

    class Source(models.TextChoices):
        SERVICE_LOG = "service_log", _("Verified service hours")
        MICRO_WISH = "micro_wish", _("Micro-wish fulfilled")
        REVIEW = "review", _("Commitment review")
        CORRECTION = "correction", _("Correction")

    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points",
        db_index=False,  # led by the (member, year) index
    )
    unit = models.ForeignKey(
        "members.MemberUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points",
        db_index=False,  # led by the (unit, year) index
    )
    # The beneficiary's community and street, copied when the entry is written (a registration never
    # changes community; a unit's is the one it had then): scopes and rankings filter without joins.
    community = models.ForeignKey(
        "members.Community", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=300)
    source_kind = models.CharField(_("source"), max_length=20, choices=Source.choices)
    source_id = models.BigIntegerField(_("source id"))
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,  # SET_NULL would be an UPDATE, which the ledger refuses
        null=True,
        blank=True,
        related_name="+",
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        default_permissions = ("add", "view")
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, unit__isnull=True) | Q(member__isnull=True, unit__isnull=False),
                name="pointsentry_member_or_unit",
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="pointsentry_quarter_range"),
            # Once per source and beneficiary; corrections (of which an entry may have several) excluded.
            models.UniqueConstraint(
                fields=["source_kind", "source_id", "member"],
                condition=Q(corrects__isnull=True, member__isnull=False),
                name="pointsentry_once_per_source_member",
            ),
            models.UniqueConstraint(
                fields=["source_kind", "source_id", "unit"],
                condition=Q(corrects__isnull=True, unit__isnull=False),
                name="pointsentry_once_per_source_unit",
            ),
            # A commitment review's points follow its score (volunteers.points.points_review_scored): the
            # award, its withdrawal, the award again… each linked to the one before. Each entry is followed
            # at most once, so the chain never forks (a second withdrawal or award of the same step).
            models.UniqueConstraint(
                fields=["corrects"], condition=Q(source_kind="review"), name="pointsentry_review_chain_once"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "year", "created_at"], name="pointsentry_member_idx"),
            models.Index(fields=["unit", "year", "created_at"], name="pointsentry_unit_idx"),
            models.Index(fields=["community", "year", "created_at"], name="pointsentry_community_idx"),
            models.Index(fields=["year", "created_at"], name="pointsentry_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} · {self.points:+d}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise LedgerChanged("The points ledger is append-only: write a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerChanged("The points ledger is append-only: write a correction instead.")

    @property
    def source(self) -> str:
        """The stable name of the source clients rely on: "service_log:123", "correction:45"."""
        return f"{self.source_kind}:{self.source_id}"

"""Streets, communities, grids, sector branches, member units, agreements, council seats, unit accounts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from alliance.models import Job
from alliance.periods import Quarter
from alliance.reports import Edition
from alliance.uploads import PHOTO_KINDS, UploadField, upload_path
from alliance.validators import validate_credit_code, validate_mobile
from alliance.workflow import Transition, Transitions


class District(models.Model):
    """A district (区) above its streets: the district's guidance committee (区域化党建指导委员会) coordinates
    the streets' alliances. A street office on its own runs without one (`Street.district` is optional)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class Street(models.Model):
    """A street (街道) and its alliance, led by the street Party Working Committee."""

    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="streets",
    )
    name = models.CharField(_("name"), max_length=60, unique=True)
    alliance_name = models.CharField(_("alliance name"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="communities")
    name = models.CharField(_("name"), max_length=60)
    address = models.CharField(_("address"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["street_id", "sort_order", "id"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_unique_name")]
        # Community staff hold this on each community they work for (django-guardian object permission).
        permissions = [("administer_community", _("Can administer the community"))]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="grids"
    )
    name = models.CharField(_("name"), max_length=60)
    keeper_name = models.CharField(_("grid keeper"), max_length=30, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["community_id", "id"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")]

    def __str__(self) -> str:
        return f"{self.community} / {self.name}"


class Sector(models.Model):
    """A sector branch of the joint meeting (联席分会): military, schools, enterprises, member units, other."""

    class Kind(models.TextChoices):
        MILITARY = "military", _("Military")
        SCHOOL = "school", _("Schools")
        ENTERPRISE = "enterprise", _("Enterprises")
        MEMBER_UNIT = "member_unit", _("Member units")
        OTHER = "other", _("Other")

    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="sectors")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    history = HistoricalRecords()

    class Meta:
        ordering = ["street_id", "id"]
        verbose_name = _("sector branch")
        verbose_name_plural = _("sector branches")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="sector_unique_name")]

    def __str__(self) -> str:
        return self.name


class MemberUnit(models.Model):
    class UnitType(models.TextChoices):
        GOVERNMENT = "government", _("Government organ")
        PUBLIC_INSTITUTION = "public_institution", _("Public institution")
        STATE_ENTERPRISE = "state_enterprise", _("State-owned enterprise")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Non-public enterprise")
        SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
        MILITARY = "military", _("Military unit")
        SCHOOL = "school", _("School")
        HOSPITAL = "hospital", _("Hospital")
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        STREET = "street", _("Street")
        COMMUNITY = "community", _("Community")

    class PartyOrgKind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GENERAL_BRANCH = "general_branch", _("General Party branch")
        BRANCH = "branch", _("Party branch")
        NONE = "none", _("No Party organisation yet")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REJECTED = "rejected", _("Application rejected")

    TRANSITIONS = Transitions(
        Transition("approve", [Status.APPLIED], Status.ACTIVE, _("Approving"), "members.administer_unit"),
        Transition("reject", [Status.APPLIED], Status.REJECTED, _("Rejecting"), "members.administer_unit"),
        Transition("withdraw", [Status.ACTIVE], Status.WITHDRAWN, _("Withdrawing"), "members.administer_unit"),
    )

    name = models.CharField(_("name"), max_length=100)
    # Military units and some institutions have no credit code, so it may be blank; when given it is unique.
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    unit_type = models.CharField(_("unit type"), max_length=30, choices=UnitType.choices)
    level = models.CharField(_("administrative level"), max_length=20, choices=Level.choices)
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("sector branch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="units",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="units"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("what the unit can offer"), blank=True)
    party_org_name = models.CharField(_("Party organisation"), max_length=100, blank=True)
    party_org_kind = models.CharField(
        _("kind of Party organisation"),
        max_length=20,
        choices=PartyOrgKind.choices,
        default=PartyOrgKind.BRANCH,
    )
    secretary_name = models.CharField(_("Party secretary"), max_length=30, blank=True)
    liaison_name = models.CharField(_("liaison"), max_length=30)
    liaison_phone = models.CharField(_("liaison's mobile phone"), max_length=11, validators=[validate_mobile])
    liaison_email = models.EmailField(_("liaison's e-mail"), blank=True)
    party_member_count = models.PositiveIntegerField(_("number of Party members"), default=0)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.APPLIED)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="unit_applications",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["community_id", "name", "id"]
        verbose_name = _("member unit")
        verbose_name_plural = _("member units")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                # A rejected application does not block the unit from applying again.
                condition=~Q(credit_code="") & ~Q(status="rejected"),
                name="memberunit_unique_credit_code",
            ),
        ]
        # The list's order with id breaking ties, alone, per community and per status (applications), and
        # the API's other orderings (?ordering=name / joined_on / party_member_count).
        indexes = [
            models.Index(fields=["status", "community", "name", "id"], name="memberunit_status_idx"),
            models.Index(fields=["community", "name", "id"], name="memberunit_list_idx"),
            models.Index(fields=["name", "id"], name="memberunit_name_idx"),
            models.Index(fields=["joined_on", "id"], name="memberunit_joined_idx"),
            models.Index(fields=["party_member_count", "id"], name="memberunit_party_members_idx"),
        ]

    def __str__(self) -> str:
        return self.name


def agreement_upload_to(instance: Agreement, filename: str) -> str:
    return upload_path("agreements", instance.unit_id, filename)


class Agreement(models.Model):
    """A co-building agreement (共驻共建协议书) between the street and a unit."""

    unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), on_delete=models.CASCADE, related_name="agreements"
    )
    title = models.CharField(_("title"), max_length=100)
    signed_on = models.DateField(_("signed on"))
    term_end = models.DateField(_("term ends on"))
    content = models.TextField(_("content items"), blank=True, help_text=_("One item per line."))
    file = UploadField(_("signed copy"), upload_to=agreement_upload_to, blank=True, kinds=["pdf", *PHOTO_KINDS])
    # Renewal (`services.agreement_renew`): a new version linked to the one it renews, which is kept and
    # marked superseded. One-to-one: an agreement is renewed once (a second renewal renews the new one).
    renews = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["term_end", "id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(condition=Q(term_end__gte=models.F("signed_on")), name="agreement_term_order"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.title}"

    @property
    def content_items(self) -> list[str]:
        return [line.strip() for line in self.content.splitlines() if line.strip()]


class CouncilTerm(models.Model):
    """A term (届) of a street's alliance council, with its dates. A street has one current term (a partial
    unique constraint); its seats make the roster the portal and the public site show."""

    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="council_terms")
    number = models.PositiveSmallIntegerField(_("term number"), validators=[MinValueValidator(1)])
    start = models.DateField(_("starts on"))
    end = models.DateField(_("ends on"))
    is_current = models.BooleanField(_("current term"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["street_id", "-number"]
        verbose_name = _("council term")
        verbose_name_plural = _("council terms")
        constraints = [
            models.UniqueConstraint(fields=["street", "number"], name="councilterm_unique_number"),
            models.UniqueConstraint(
                fields=["street"], condition=Q(is_current=True), name="councilterm_one_current_per_street"
            ),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="councilterm_dates_order"),
        ]

    def __str__(self) -> str:
        return str(_("%(street)s, council term %(number)d") % {"street": self.street, "number": self.number})


class CouncilSeat(models.Model):
    """A seat on the alliance council (理事会), in one of its terms (届)."""

    class Role(models.TextChoices):
        PRESIDENT = "president", _("President")
        EXECUTIVE_VICE_PRESIDENT = "executive_vice_president", _("Executive vice-president")
        VICE_PRESIDENT = "vice_president", _("Vice-president")
        SECRETARY_GENERAL = "secretary_general", _("Secretary-general")
        MEMBER = "member", _("Council member")

    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.CASCADE, related_name="council")
    # Null only for seats recorded before terms existed and not yet placed in one (the migration placed all).
    term = models.ForeignKey(
        CouncilTerm,
        verbose_name=_("council term"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seats",
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), on_delete=models.PROTECT, related_name="council_seats"
    )
    holder_name = models.CharField(_("holder"), max_length=30)
    term_start = models.DateField(_("term starts on"))
    term_end = models.DateField(_("term ends on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["street_id", "role", "id"]
        verbose_name = _("council seat")
        verbose_name_plural = _("council seats")
        constraints = [
            models.CheckConstraint(condition=Q(term_end__gte=models.F("term_start")), name="councilseat_term_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.holder_name}"


class ExpiryAlert(models.Model):
    """The ledger of "ends soon" alerts: a council term to its street's staff, an agreement to its unit's
    liaisons, 60 and then 30 days ahead. Written, under a unique constraint, in the same transaction as the
    notification it sends: a repeated or concurrent scan sends each alert once."""

    class Stage(models.IntegerChoices):
        DAYS_60 = 60, _("60 days before")
        DAYS_30 = 30, _("30 days before")

    term = models.ForeignKey(CouncilTerm, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    stage = models.PositiveSmallIntegerField(_("when"), choices=Stage.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE)
    notification = models.ForeignKey(
        "alliance.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("expiry alert")
        verbose_name_plural = _("expiry alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["term", "stage", "recipient"], condition=Q(term__isnull=False), name="expiryalert_once_per_term"
            ),
            models.UniqueConstraint(
                fields=["agreement", "stage", "recipient"],
                condition=Q(agreement__isnull=False),
                name="expiryalert_once_per_agreement",
            ),
            models.CheckConstraint(
                condition=Q(term__isnull=False, agreement__isnull=True) | Q(term__isnull=True, agreement__isnull=False),
                name="expiryalert_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term or self.agreement} · {self.stage}"


class UnitMembership(models.Model):
    """A user's account at a unit. The row records the role; the access itself is the django-guardian
    object permission that `unit_membership_add` grants with it."""

    class Role(models.TextChoices):
        LIAISON = "liaison", _("Liaison")
        ADMIN = "admin", _("Unit administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="unit_memberships",
    )
    unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.LIAISON)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["unit_id", "id"]
        verbose_name = _("unit account")
        verbose_name_plural = _("unit accounts")
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="unitmembership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"


class CommunityStaff(models.Model):
    """A staff member's assignment to a community. As with units, the row records the assignment and the
    guardian object permission `administer_community` granted with it is what the permission layer reads."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="community_posts",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="staff"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["community_id", "id"]
        verbose_name = _("community staff")
        verbose_name_plural = _("community staff")
        constraints = [models.UniqueConstraint(fields=["user", "community"], name="communitystaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community}"


class StreetStaff(models.Model):
    """A street staff member's assignment to a street: what the street's Party Working Committee staff
    see and change. Street staff see only the streets they are assigned to (`permissions.streets_of`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="street_posts"
    )
    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.CASCADE, related_name="staff")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["street_id", "id"]
        verbose_name = _("street staff")
        verbose_name_plural = _("street staff")
        constraints = [models.UniqueConstraint(fields=["user", "street"], name="streetstaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.street}"


class DistrictStaff(models.Model):
    """A district staff member's assignment to a district: they see and report on every street of it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="district_posts"
    )
    district = models.ForeignKey(District, verbose_name=_("district"), on_delete=models.CASCADE, related_name="staff")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["district_id", "id"]
        verbose_name = _("district staff")
        verbose_name_plural = _("district staff")
        constraints = [models.UniqueConstraint(fields=["user", "district"], name="districtstaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.district}"


def report_upload_to(instance: QuarterlyReport, filename: str) -> str:
    return upload_path("reports", instance.pk, filename)


class QuarterlyReport(models.Model):
    """One version of a street's quarterly workbook (季度报表) in one edition. Built by a background job
    (`alliance.jobs`); the whole feature is described in `alliance.reports`.

    One period + street + edition has one current version (a partial unique constraint): beat firing
    twice or a retried task finds it; rebuilding makes the next version and keeps the old file."""

    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    edition = models.CharField(_("edition"), max_length=10, choices=Edition.choices, default=Edition.INTERNAL)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    job = models.OneToOneField(
        "alliance.Job", verbose_name=_("background job"), on_delete=models.PROTECT, related_name="quarterly_report"
    )
    file = models.FileField(_("file"), upload_to=report_upload_to, blank=True, max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-year", "-quarter", "street_id", "edition", "-version"]
        verbose_name = _("quarterly report")
        verbose_name_plural = _("quarterly reports")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "year", "quarter", "edition", "version"], name="report_unique_version"
            ),
            models.UniqueConstraint(
                fields=["street", "year", "quarter", "edition"],
                condition=Q(is_current=True),
                name="report_one_current_version",
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="report_quarter_1_to_4"),
        ]

    def __str__(self) -> str:
        return str(
            _("%(street)s, %(year)d Q%(quarter)d, %(edition)s, version %(version)d")
            % {
                "street": self.street,
                "year": self.year,
                "quarter": self.quarter,
                "edition": self.get_edition_display(),
                "version": self.version,
            }
        )

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def ready(self) -> bool:
        return self.job.status == Job.Status.DONE and bool(self.file)


# --- The units' quarterly assessment (按季度考核); the whole feature is described in `alliance.reports` ----


class AssessmentScheme(models.Model):
    """The street's scheme for a year: which indicators count and with what weight and full marks. Street
    staff edit it (weights are the street's policy, not constants in code); `members.assessments.scheme_for`
    makes a year's scheme from the previous year's, or from the indicators' defaults."""

    street = models.ForeignKey(
        Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="assessment_schemes"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-year", "street_id"]
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="assessmentscheme_unique_year")]

    def __str__(self) -> str:
        return str(_("%(street)s, assessment scheme %(year)d") % {"street": self.street, "year": self.year})


class AssessmentSchemeItem(models.Model):
    """One indicator of a scheme (its `code` names an indicator registered in `alliance.reports`)."""

    scheme = models.ForeignKey(
        AssessmentScheme, verbose_name=_("assessment scheme"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("indicator"), max_length=40)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)])
    full_marks = models.DecimalField(
        _("full marks at"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("The raw value that earns the whole weight; more earns no more."),
    )
    enabled = models.BooleanField(_("counts"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme_id", "id"]
        verbose_name = _("assessment indicator")
        verbose_name_plural = _("assessment indicators")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="assessmentschemeitem_unique_code"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="assessmentschemeitem_weight_not_negative"),
            models.CheckConstraint(condition=Q(full_marks__gt=0), name="assessmentschemeitem_full_marks_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class Assessment(models.Model):
    """A unit's assessment for one quarter: indicator lines computed from the apps' data, a staff
    adjustment with its reason, and the path draft → submitted → approved (or returned for revision).
    An approved assessment is locked: nothing changes it, not even a recomputation."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", pgettext_lazy("assessment", "Approved")
        RETURNED = "returned", _("Returned for revision")

    TRANSITIONS = Transitions(
        Transition("submit", [Status.DRAFT, Status.RETURNED], Status.SUBMITTED, _("Submitting for approval"), "change"),
        Transition("approve", [Status.SUBMITTED], Status.APPROVED, _("Approving"), "members.approve_assessment"),
        Transition(
            "return", [Status.SUBMITTED], Status.RETURNED, _("Returning for revision"), "members.approve_assessment"
        ),
    )
    # What a recomputation may overwrite: the staff's working copies, not what is under review or approved.
    RECOMPUTABLE = (Status.DRAFT, Status.RETURNED)

    unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), on_delete=models.PROTECT, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    score = models.DecimalField(_("score from the indicators"), max_digits=7, decimal_places=2, default=Decimal("0"))
    adjustment = models.DecimalField(_("adjustment"), max_digits=5, decimal_places=2, default=Decimal("0"))
    adjustment_comment = models.CharField(_("reason for the adjustment"), max_length=500, blank=True)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2, default=Decimal("0"))
    liaison_remark = models.TextField(_("the unit's remark"), max_length=1000, blank=True)
    remarked_at = models.DateTimeField(_("remark made at"), null=True, blank=True)
    return_reason = models.CharField(_("reason for returning"), max_length=500, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-year", "-quarter", "unit_id"]
        verbose_name = _("unit assessment")
        verbose_name_plural = _("unit assessments")
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "quarter"], name="assessment_unique_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="assessment_quarter_1_to_4"),
        ]
        indexes = [
            models.Index(fields=["year", "quarter", "status"], name="assessment_period_idx"),
            # The list's order (the latest quarter first, then by unit), id breaking ties.
            models.Index(fields=["-year", "-quarter", "unit", "id"], name="assessment_list_idx"),
        ]

    def __str__(self) -> str:
        return str(
            _("%(unit)s, %(year)d Q%(quarter)d") % {"unit": self.unit, "year": self.year, "quarter": self.quarter}
        )

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


class AssessmentLine(models.Model):
    """One indicator of one assessment as computed: the raw value, the weight and full marks of the year's
    scheme at that moment (snapshots, so that a later change of the scheme does not rewrite an approved
    assessment), and the points."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("unit assessment"), on_delete=models.CASCADE, related_name="lines"
    )
    code = models.CharField(_("indicator"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4, null=True, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    full_marks = models.DecimalField(_("full marks at"), max_digits=12, decimal_places=2)
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2, default=Decimal("0"))
    applicable = models.BooleanField(_("applies"), default=True)

    class Meta:
        ordering = ["assessment_id", "order", "code"]
        verbose_name = _("indicator line")
        verbose_name_plural = _("indicator lines")
        constraints = [models.UniqueConstraint(fields=["assessment", "code"], name="assessmentline_unique_code")]

    def __str__(self) -> str:
        return self.code


# --- Announcements (通知公告) on the public site -------------------------------------------------------


def notice_upload_to(instance: NoticeAttachment, filename: str) -> str:
    return upload_path("notices", instance.notice_id, filename)


NOTICE_ATTACHMENT_KINDS = ("pdf", "docx", "xlsx", *PHOTO_KINDS)


class Notice(models.Model):
    """An announcement a street's staff publish for residents (通知公告): public from `publish_from` until
    `publish_until` (open-ended when empty). The body is plain text; pages escape it and keep its lines."""

    street = models.ForeignKey(Street, verbose_name=_("street"), on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=10000, help_text=_("Plain text; line breaks are kept."))
    publish_from = models.DateTimeField(_("published from"))
    publish_until = models.DateTimeField(
        _("published until"), null=True, blank=True, help_text=_("Leave empty to keep the notice published.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-publish_from", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_until__isnull=True) | Q(publish_until__gt=models.F("publish_from")),
                name="notice_window_order",
                violation_error_message=_("A notice's publication must end after it starts."),
            ),
        ]
        # The public list and feed: one street's notices, newest first (the window is checked on the rows read).
        indexes = [models.Index(fields=["street", "-publish_from", "-id"], name="notice_street_recent_idx")]

    def __str__(self) -> str:
        return self.title


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=100)
    file = UploadField(_("file"), upload_to=notice_upload_to, kinds=NOTICE_ATTACHMENT_KINDS)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title

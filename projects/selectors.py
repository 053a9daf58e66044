"""Every read of the projects app: narrowed by the permission layer, joined, aggregated in SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    FilteredRelation,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, ExtractQuarter, ExtractYear, RowNumber, TruncMonth

from alliance import permissions
from alliance.periods import Quarter
from alliance.registry import month_span

from .models import ActivityPhoto, CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject


def with_places_left(queryset: QuerySet[ServiceProject]) -> QuerySet[ServiceProject]:
    return queryset.annotate(places_left_db=F("places") - F("places_taken"))


def projects_visible_to(*, user) -> QuerySet[ServiceProject]:
    return with_places_left(
        permissions.visible(user, ServiceProject.objects.select_related("category", "community", "street"))
    )


def claim_table(*, user) -> QuerySet[ServiceProject]:
    """认领表: projects open for claims, demonstration projects first, the most places left next."""
    return (
        projects_visible_to(user=user)
        .filter(status=ServiceProject.Status.OPEN)
        .order_by("-is_demonstration", "-places_left_db", "ends_on", "id")
    )


def project_detail(*, user, pk: int) -> ServiceProject:
    return permissions.get_visible_or_404(user, projects_visible_to(user=user), pk=pk)


def claims_visible_to(*, user) -> QuerySet[ProjectClaim]:
    return permissions.visible(
        user, ProjectClaim.objects.select_related("project__category", "project__community", "unit__community")
    )


def claims_of_my_units(*, user) -> QuerySet[ProjectClaim]:
    return (
        ProjectClaim.objects.filter(unit_id__in=permissions.units_of(user))
        .select_related("project__category", "project__community", "unit")
        .order_by("-created_at", "-id")
    )


def claim_detail(*, user, pk: int) -> ProjectClaim:
    return permissions.get_visible_or_404(user, claims_visible_to(user=user), pk=pk)


def holding_claim(*, project: ServiceProject, unit_id: int) -> ProjectClaim | None:
    return ProjectClaim.objects.filter(project=project, unit_id=unit_id, status__in=ProjectClaim.HOLDING).first()


def claims_of_project(*, project: ServiceProject) -> QuerySet[ProjectClaim]:
    return project.claims.select_related("unit").order_by("created_at", "id")


def activities_visible_to(*, user) -> QuerySet[ServiceActivity]:
    return permissions.visible(
        user, ServiceActivity.objects.select_related("claim__project__category", "claim__unit", "recorded_by")
    )


def reviews_visible_to(*, user) -> QuerySet[CommitmentReview]:
    return permissions.visible(
        user, CommitmentReview.objects.select_related("claim__project", "claim__unit", "reviewer")
    )


# --- Figures ---------------------------------------------------------------------------------------

# What each total is grouped by. An activity's community is its project's, or — for a street-wide
# project — the claiming unit's.
GROUPINGS = {
    "project": {"key": F("claim__project_id"), "name": F("claim__project__title")},
    "unit": {"key": F("claim__unit_id"), "name": F("claim__unit__name")},
    "community": {
        "key": Coalesce("claim__project__community_id", "claim__unit__community_id"),
        "name": Coalesce("claim__project__community__name", "claim__unit__community__name"),
    },
    "category": {"key": F("claim__project__category_id"), "name": F("claim__project__category__name")},
    "quarter": {"key": ExtractYear("date") * 10 + ExtractQuarter("date"), "name": Value("")},
}


def activity_totals_rows(*, by: str, activities: QuerySet[ServiceActivity] | None = None) -> QuerySet:
    """Activities, services, residents benefited, participants and hours per `by` (one of GROUPINGS),
    summed in SQL, in a stable order: read whole or a page at a time. `quarter` keys read 20264 for
    2026 Q4."""
    grouping = GROUPINGS[by]
    qs = activities if activities is not None else ServiceActivity.objects.all()
    return (
        qs.annotate(group_key=grouping["key"], group_name=grouping["name"])
        .values("group_key", "group_name")
        .annotate(
            activities=Count("pk"),
            services=Coalesce(Sum("services"), 0),
            beneficiaries=Coalesce(Sum("beneficiaries"), 0),
            participants=Coalesce(Sum("participants"), 0),
            hours=Coalesce(Sum("hours"), Value(0), output_field=DecimalField(max_digits=12, decimal_places=1)),
        )
        .order_by("group_key", "group_name")
    )


def activity_totals(*, by: str, activities: QuerySet[ServiceActivity] | None = None) -> list[dict]:
    """`activity_totals_rows`, read whole."""
    return list(activity_totals_rows(by=by, activities=activities))


def public_counts() -> dict[str, int]:
    projects = ServiceProject.objects.exclude(status=ServiceProject.Status.DRAFT).aggregate(
        projects=Count("pk"), demonstration=Count("pk", filter=Q(is_demonstration=True))
    )
    claims = ProjectClaim.objects.filter(
        status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED]
    ).count()
    activity = ServiceActivity.objects.aggregate(
        activities=Count("pk"),
        services=Coalesce(Sum("services"), 0, output_field=IntegerField()),
        beneficiaries=Coalesce(Sum("beneficiaries"), 0, output_field=IntegerField()),
    )
    return {**projects, "claims": claims, **activity}


def public_counts_by_street() -> dict[int, dict[str, int]]:
    """`public_counts` of each street (the project's street; a claim's and an activity's project's): three
    grouped queries however many streets there are. A street without a row is absent (0)."""
    per_street: dict[int, dict[str, int]] = {}
    projects = (
        ServiceProject.objects.exclude(status=ServiceProject.Status.DRAFT)
        .values("street_id")
        .annotate(projects=Count("pk"), demonstration=Count("pk", filter=Q(is_demonstration=True)))
        .order_by()
    )
    for row in projects:
        per_street.setdefault(row.pop("street_id"), {}).update(row)
    claims = (
        ProjectClaim.objects.filter(status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED])
        .values("project__street_id")
        .annotate(claims=Count("pk"))
        .order_by()
    )
    for row in claims:
        per_street.setdefault(row["project__street_id"], {})["claims"] = row["claims"]
    activity = (
        ServiceActivity.objects.values("claim__project__street_id")
        .annotate(
            activities=Count("pk"),
            services=Coalesce(Sum("services"), 0, output_field=IntegerField()),
            beneficiaries=Coalesce(Sum("beneficiaries"), 0, output_field=IntegerField()),
        )
        .order_by()
    )
    for row in activity:
        per_street.setdefault(row.pop("claim__project__street_id"), {}).update(row)
    return per_street


def _demonstration() -> QuerySet[ServiceProject]:
    return ServiceProject.objects.filter(is_demonstration=True).exclude(status=ServiceProject.Status.DRAFT)


def demonstration_projects(limit: int = 8) -> QuerySet[ServiceProject]:
    """For the public home: the newest `limit` demonstration projects of every street, with their units
    and figures (no personal data), ordered by street, then newest plaque first — one query: a row number
    per street picks each street's first `limit`."""
    first = (
        _demonstration()
        .annotate(
            place=Window(
                RowNumber(), partition_by=[F("street_id")], order_by=[F("plaque_awarded_on").desc(), F("id").asc()]
            )
        )
        .filter(place__lte=limit)
        .values("pk")
    )
    return (
        _demonstration()
        .filter(pk__in=first)
        .select_related("category", "community")
        .annotate(
            unit_count=Count("claims", filter=Q(claims__status__in=["approved", "completed"]), distinct=True),
            activity_count=Count("claims__activities", distinct=True),
            beneficiary_total=Coalesce(Sum("claims__activities__beneficiaries"), 0),
        )
        .order_by("street_id", "-plaque_awarded_on", "id")
    )


# --- The quarterly report (季度报表) -----------------------------------------------------------------------


def report_projects_q(*, street_id: int, quarter: Quarter) -> Q:
    """The street's projects under way in the quarter: out of draft, and their period meets the quarter."""
    return Q(street_id=street_id, starts_on__lte=quarter.last_day, ends_on__gte=quarter.first_day) & ~Q(
        status=ServiceProject.Status.DRAFT
    )


def report_project_claims(*, street_id: int, quarter: Quarter) -> QuerySet[ServiceProject]:
    """项目认领: the projects under way in the quarter, each joined to its claims made before the quarter
    ended (`claim`, a filtered LEFT JOIN: a project nobody claimed is still a row, with an empty claim).
    `claim_approved_at` is the decision time of an approved (or since completed) claim."""
    return (
        ServiceProject.objects.filter(report_projects_q(street_id=street_id, quarter=quarter))
        .annotate(
            claim=FilteredRelation("claims", condition=Q(claims__created_at__lt=quarter.end)),
            claim_approved_at=Case(
                When(
                    claim__status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED],
                    then=F("claim__decided_at"),
                )
            ),
        )
        .order_by("starts_on", "id", "claim__created_at", "claim__id")
    )


def report_claim_figures(*, street_id: int, quarter: Quarter) -> dict[str, int]:
    """Projects under way; claims approved in the quarter; claims fulfilled — completed claims of projects
    that ended in the quarter (a claim is completed when its project finishes)."""
    figures = ProjectClaim.objects.filter(project__street_id=street_id).aggregate(
        approved=Count(
            "pk",
            filter=Q(
                status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED],
                decided_at__gte=quarter.start,
                decided_at__lt=quarter.end,
            ),
        ),
        completed=Count(
            "pk",
            filter=Q(
                status=ProjectClaim.Status.COMPLETED,
                project__ends_on__gte=quarter.first_day,
                project__ends_on__lte=quarter.last_day,
            ),
        ),
    )
    figures["projects"] = ServiceProject.objects.filter(report_projects_q(street_id=street_id, quarter=quarter)).count()
    return figures


def report_activities(*, street_id: int, quarter: Quarter) -> QuerySet[ServiceActivity]:
    """活动记录: the activities of the street's projects held (dated) in the quarter, in date order."""
    return ServiceActivity.objects.filter(
        claim__project__street_id=street_id, date__gte=quarter.first_day, date__lte=quarter.last_day
    ).order_by("date", "id")


def report_activity_figures(*, street_id: int, quarter: Quarter) -> dict[str, int | Decimal]:
    """Activities held in the quarter and what they gave: services, residents benefited, hours."""
    return report_activities(street_id=street_id, quarter=quarter).aggregate(
        activities=Count("pk"),
        services=Coalesce(Sum("services"), 0),
        beneficiaries=Coalesce(Sum("beneficiaries"), 0),
        hours=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=DecimalField(max_digits=12, decimal_places=1)),
    )


# --- The units' assessment (members.assessments; indicators in projects.indicators) --------------------


def unit_quarter_claims_fulfilled(*, street_id: int, quarter) -> QuerySet:
    """Per unit of the street, its claims completed in `quarter`: a claim is completed (fulfilled) when
    its project finishes with the claim approved; `decided_at` records that moment."""
    return (
        ProjectClaim.objects.filter(
            status=ProjectClaim.Status.COMPLETED,
            unit__community__street_id=street_id,
            decided_at__gte=quarter.start,
            decided_at__lt=quarter.end,
        )
        .values("unit_id")
        .annotate(fulfilled=Count("pk"))
        .order_by("unit_id")
    )


# --- Public charts --------------------------------------------------------------------------------


def activities_per_month(*, months: list[date]) -> dict[int, dict[date, dict[str, int]]]:
    """Activities held and residents benefited in each of `months` (first days), by the activity's date,
    for each street (by the project's street): one grouped query, counts only. Streets and months without
    an activity are absent."""
    rows = (
        ServiceActivity.objects.filter(date__gte=months[0], date__lt=month_span(months)[1].date())
        .annotate(month=TruncMonth("date"))
        .values("claim__project__street_id", "month")
        .annotate(activities=Count("pk"), beneficiaries=Coalesce(Sum("beneficiaries"), 0, output_field=IntegerField()))
        .order_by("claim__project__street_id", "month")
    )
    per_street: dict[int, dict[date, dict[str, int]]] = {}
    for row in rows:
        per_street.setdefault(row["claim__project__street_id"], {})[row["month"]] = {
            "activities": row["activities"],
            "beneficiaries": row["beneficiaries"],
        }
    return per_street


# --- Staff workbench ----------------------------------------------------------------------------------


def workbench_counts(*, user) -> dict[str, int]:
    """Claims waiting for the staff member's approval, in one aggregate query."""
    return permissions.visible(user, ProjectClaim.objects.all()).aggregate(
        to_approve=Count("pk", filter=Q(status=ProjectClaim.Status.PENDING)),
    )


# --- Staff workbench charts (registered in extensions) -----------------------------------------------------

# The claims a chart counts: those made and standing (a rejected or withdrawn claim promised nothing).
STANDING = (ProjectClaim.Status.PENDING, ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED)


def chart_claims_by_category(
    *, user, community_id: int | None = None, quarter: Quarter | None = None
) -> list[tuple[str, int]]:
    """(category name, count) of the standing claims the user may see, by their project's category, in the
    categories' order — one grouped query. A community chosen: claims on its projects or by its units
    (the two ways a claim belongs to a community's staff); a quarter chosen: claims made in it."""
    claims = permissions.visible(user, ProjectClaim.objects.filter(status__in=STANDING))
    if community_id is not None:
        claims = claims.filter(Q(project__community_id=community_id) | Q(unit__community_id=community_id))
    if quarter is not None:
        claims = claims.filter(created_at__gte=quarter.start, created_at__lt=quarter.end)
    rows = (
        claims.values("project__category_id", "project__category__name", "project__category__sort_order")
        .annotate(n=Count("pk"))
        .order_by("project__category__sort_order", "project__category_id")
    )
    return [(row["project__category__name"], row["n"]) for row in rows]


# --- The public activities page (活动风采) ---------------------------------------------------------------


def _public_activities_q() -> Q:
    # Activities are recorded under approved claims only; a claim completed with its project stays shown.
    # A project back in draft (never, today) would hide them.
    return Q(claim__status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED]) & ~Q(
        claim__project__status=ServiceProject.Status.DRAFT
    )


def public_activities(
    *, street_id: int, community_id: int | None = None, category_id: int | None = None, month: date | None = None
) -> QuerySet[ServiceActivity]:
    """A street's activities as residents see them, newest first, with their photos: the unit, the project's
    community and category, the figures — never who recorded them or the unit's contact columns."""
    # The claims first, in a query of their own (projectclaim_status_idx), then the activities of those
    # claims read newest first off activity_date_idx. Joined and filtered in one query, or with the claims
    # as a subquery, the planner gathered and sorted every activity of the street
    # (tests/alliance/test_query_plans.py): the ids are a list here, read when this is called.
    claims = ProjectClaim.objects.filter(
        status__in=[ProjectClaim.Status.APPROVED, ProjectClaim.Status.COMPLETED], project__street_id=street_id
    ).exclude(project__status=ServiceProject.Status.DRAFT)
    if community_id is not None:
        claims = claims.filter(project__community_id=community_id)
    if category_id is not None:
        claims = claims.filter(project__category_id=category_id)
    activities = ServiceActivity.objects.filter(claim_id__in=list(claims.values_list("pk", flat=True)))
    if month is not None:
        following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        activities = activities.filter(date__gte=month, date__lt=following)
    return (
        activities.select_related("claim__unit", "claim__project__category", "claim__project__community")
        .only(
            "id",
            "date",
            "title",
            "place",
            "services",
            "beneficiaries",
            "claim__id",
            "claim__unit__id",
            "claim__unit__name",
            "claim__project__id",
            "claim__project__title",
            "claim__project__category__id",
            "claim__project__category__name",
            "claim__project__community__id",
            "claim__project__community__name",
        )
        .prefetch_related(
            Prefetch("photos", queryset=ActivityPhoto.objects.only("id", "activity_id", "image", "thumbnail"))
        )
        .order_by("-date", "-id")
    )


def activity_is_public(activity_id: int) -> bool:
    """Whether an activity's photos are public (alliance.media): it is one the public page lists."""
    return ServiceActivity.objects.filter(_public_activities_q(), pk=activity_id).exists()

"""Every read of the volunteers app, narrowed by the permission layer and aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, ExtractQuarter, ExtractYear, Rank

from alliance import permissions
from alliance.periods import Quarter

from .models import (
    CommunityMonthHours,
    MemberMonthHours,
    PartyMember,
    PointsEntry,
    PointsRule,
    PostClaim,
    ServiceLog,
    VolunteerPost,
    VolunteerTeam,
)

HOURS = DecimalField(max_digits=10, decimal_places=1)


def members_visible_to(*, user) -> QuerySet[PartyMember]:
    return permissions.visible(user, PartyMember.objects.select_related("residence_community", "work_unit", "user"))


def registrations_of(*, user) -> QuerySet[PartyMember]:
    return (
        PartyMember.objects.filter(user=user).select_related("residence_community", "work_unit").order_by("-created_at")
    )


def active_registration(*, user, community_id: int | None = None, verified: bool = True) -> PartyMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    qs = PartyMember.objects.filter(
        user=user, status__in=[PartyMember.Status.VERIFIED] if verified else PartyMember.ACTIVE
    )
    if community_id is not None:
        qs = qs.filter(residence_community_id=community_id)
    return qs.select_related("residence_community").first()


def posts_visible_to(*, user) -> QuerySet[VolunteerPost]:
    return permissions.visible(user, VolunteerPost.objects.select_related("community")).annotate(
        places_left_db=F("places") - F("places_taken")
    )


def posts_to_claim(*, member: PartyMember) -> QuerySet[VolunteerPost]:
    return (
        VolunteerPost.objects.filter(community_id=member.residence_community_id, status=VolunteerPost.Status.OPEN)
        .annotate(places_left_db=F("places") - F("places_taken"))
        .select_related("community")
        .order_by("-places_left_db", "title")
    )


def claims_of(*, member: PartyMember) -> QuerySet[PostClaim]:
    return member.post_claims.select_related("post__community").order_by("-claimed_at")


def claims_visible_to(*, user) -> QuerySet[PostClaim]:
    return permissions.visible(user, PostClaim.objects.select_related("post", "member"))


def wishes_to_claim(*, member: PartyMember):
    """Micro-wishes of the member's residence community that nobody has taken on yet (no contact data
    is shown until the member takes one on)."""
    from demands.models import Need

    return (
        Need.objects.filter(
            kind=Need.Kind.MICRO_WISH, status=Need.Status.SUBMITTED, community_id=member.residence_community_id
        )
        .defer("contact_name", "contact_phone", "address")
        .select_related("category", "community")
        .order_by("submitted_at")
    )


def wishes_taken_by(*, user):
    from demands.models import Need

    return Need.objects.filter(kind=Need.Kind.MICRO_WISH, claimed_by=user).select_related("category", "community")


def logs_visible_to(*, user) -> QuerySet[ServiceLog]:
    return permissions.visible(user, ServiceLog.objects.select_related("member__residence_community", "post"))


def teams_visible_to(*, user) -> QuerySet[VolunteerTeam]:
    return permissions.visible(user, VolunteerTeam.objects.select_related("community", "unit", "leader"))


# --- Totals (verified hours only) ---------------------------------------------------------------------

GROUPINGS = {
    "member": {"key": F("member_id"), "name": F("member__name")},
    "community": {"key": F("member__residence_community_id"), "name": F("member__residence_community__name")},
    "work_unit": {
        "key": F("member__work_unit_id"),
        "name": Coalesce("member__work_unit__name", "member__work_unit_name"),
    },
    "quarter": {"key": ExtractYear("date") * 10 + ExtractQuarter("date"), "name": Value("")},
    "team": {"key": F("member__teams__id"), "name": F("member__teams__name")},
}


def hours_totals_rows(*, by: str, logs: QuerySet[ServiceLog] | None = None) -> QuerySet:
    """Verified hours and number of services per `by` (member, team, community, work_unit, quarter), one
    row of `group_key, group_name, hours, services` each, in a stable order (work units without a row of
    their own share the key None and differ by name), to be read whole or a page at a time; a quarter
    key reads 20264 for 2026 Q4. Unverified hours never count."""
    grouping = GROUPINGS[by]
    qs = (logs if logs is not None else ServiceLog.objects.all()).filter(verified=True)
    if by == "team":
        qs = qs.filter(member__teams__isnull=False)
    return (
        qs.annotate(group_key=grouping["key"], group_name=grouping["name"])
        .values("group_key", "group_name")
        .annotate(hours=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS), services=Count("pk"))
        .order_by("group_key", "group_name")
    )


def hours_totals(*, by: str, logs: QuerySet[ServiceLog] | None = None) -> list[dict]:
    """`hours_totals_rows`, read whole: for groupings that stay small (a member's quarters, communities)."""
    return list(hours_totals_rows(by=by, logs=logs))


# --- Totals from the monthly sums (models.MemberMonthHours, CommunityMonthHours) -------------------------
# The same figures as `hours_totals_rows` over the verified logs, read from rows kept per member and month
# (and per community and month, for street-wide figures): a page of a grouping reads the sums, not the logs.


@dataclass(frozen=True)
class HoursScope:
    """Whose verified hours a total counts: those `user` may see, narrowed as the service-log list's filters
    narrow the logs — to one residence community, to the months from `start` to before `end` (the list's
    periods are whole months), or to nothing (`none`: the list shows unverified logs only)."""

    user: Any
    community_id: int | None = None
    start: date | None = None
    end: date | None = None
    none: bool = False

    def narrow(self, queryset: QuerySet) -> QuerySet:
        if self.none:
            return queryset.none()
        if self.community_id is not None:
            queryset = queryset.filter(community_id=self.community_id)
        if self.start is not None:
            queryset = queryset.filter(month__gte=self.start)
        if self.end is not None:
            queryset = queryset.filter(month__lt=self.end)
        # A month whose hours were all taken back again keeps a row of zeros; it is no group of its own.
        return queryset.filter(services__gt=0)


def member_month_hours(*, scope: HoursScope) -> QuerySet[MemberMonthHours]:
    return scope.narrow(permissions.visible(scope.user, MemberMonthHours.objects.all()))


def community_month_hours(*, scope: HoursScope) -> QuerySet[CommunityMonthHours] | None:
    """The per-community sums when they answer for the user: street staff see every community's hours.
    Others see their communities' hours and their own elsewhere, which only the per-member sums hold."""
    user = scope.user
    if permissions.street_scope(user).every_street:
        return scope.narrow(CommunityMonthHours.objects.all())
    if permissions.is_community_staff(user) or not (
        permissions.is_street_staff(user) or permissions.is_district_staff(user)
    ):
        return None
    # Staff of some streets: the sums of their streets' communities.
    return scope.narrow(CommunityMonthHours.objects.filter(community_id__in=permissions.seen_communities(user)))


_QUARTER_OF_MONTH = ExtractYear("month") * 10 + ExtractQuarter("month")
SUMMARY_GROUPINGS = {
    "member": {"key": F("member_id"), "name": F("member__name")},
    "community": {"key": F("community_id"), "name": F("community__name")},
    "work_unit": {
        "key": F("member__work_unit_id"),
        "name": Coalesce("member__work_unit__name", "member__work_unit_name"),
    },
    "quarter": {"key": _QUARTER_OF_MONTH, "name": Value("")},
    "team": {"key": F("member__teams__id"), "name": F("member__teams__name")},
}


def hours_summary_rows(*, by: str, scope: HoursScope) -> QuerySet:
    """`hours_totals_rows` (same rows, same order) from the monthly sums: per community and per quarter
    from the communities' sums when they answer for the user, the rest from the members'."""
    grouping = SUMMARY_GROUPINGS[by]
    sums = community_month_hours(scope=scope) if by in ("community", "quarter") else None
    if sums is None:
        sums = member_month_hours(scope=scope)
        if by == "team":
            sums = sums.filter(member__teams__isnull=False)
    return (
        sums.annotate(group_key=grouping["key"], group_name=grouping["name"])
        .values("group_key", "group_name")
        .annotate(
            hours=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS),
            services=Coalesce(Sum("services"), Value(0), output_field=IntegerField()),
        )
        .order_by("group_key", "group_name")
    )


def verified_hours_total(*, scope: HoursScope) -> dict[str, Decimal | int]:
    """All the verified hours and logs of the scope, from the smallest sums that answer."""
    sums = community_month_hours(scope=scope)
    if sums is None:
        sums = member_month_hours(scope=scope)
    return sums.aggregate(
        hours=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS),
        services=Coalesce(Sum("services"), Value(0), output_field=IntegerField()),
    )


def service_card(
    *, year: int, quarter: int, work_unit_id: int | None = None, community_id: int | None = None
) -> QuerySet:
    """一单一表一卡: per member, what they did in their residence community in the quarter (verified hours,
    services, posts held), for the work unit to see. One query."""
    period = Quarter(year, quarter)
    in_quarter = Q(service_logs__verified=True, service_logs__date__range=(period.first_day, period.last_day))
    # Verified members, and those who moved away but served here in the quarter: their hours still count.
    qs = PartyMember.objects.filter(status__in=[PartyMember.Status.VERIFIED, PartyMember.Status.ENDED])
    if work_unit_id is not None:
        qs = qs.filter(work_unit_id=work_unit_id)
    if community_id is not None:
        qs = qs.filter(residence_community_id=community_id)
    return (
        qs.select_related("residence_community", "work_unit")
        .annotate(
            quarter_hours=Coalesce(
                Sum("service_logs__hours", filter=in_quarter), Value(Decimal(0)), output_field=HOURS
            ),
            quarter_services=Count("service_logs", filter=in_quarter),
        )
        .filter(Q(status=PartyMember.Status.VERIFIED) | Q(quarter_services__gt=0))
        .order_by("work_unit__name", "work_unit_name", "name")
    )


def inactive_this_quarter(*, community_ids=None) -> QuerySet[PartyMember]:
    """Verified members with no verified hours this quarter (who the community may want to call)."""
    current = Quarter.current()
    return (
        service_card(year=current.year, quarter=current.quarter)
        .filter(quarter_services=0)
        .filter(**({"residence_community_id__in": list(community_ids)} if community_ids is not None else {}))
    )


def public_counts() -> dict:
    return {
        "members": PartyMember.objects.filter(status=PartyMember.Status.VERIFIED).count(),
        # Every verified hour: the communities' monthly sums, a few thousand rows at city scale.
        "service_hours": float(
            CommunityMonthHours.objects.aggregate(total=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS))[
                "total"
            ]
        ),
    }


def public_counts_by_street() -> dict[int, dict[str, int | float]]:
    """`public_counts` of each street (the member's residence community's street; the hours of the
    communities' monthly sums): two grouped queries however many streets there are. A street without a
    row is absent (0)."""
    per_street: dict[int, dict[str, int | float]] = {}
    members = (
        PartyMember.objects.filter(status=PartyMember.Status.VERIFIED)
        .values("residence_community__street_id")
        .annotate(members=Count("pk"))
        .order_by()
    )
    for row in members:
        per_street.setdefault(row["residence_community__street_id"], {})["members"] = row["members"]
    hours = (
        CommunityMonthHours.objects.values("community__street_id")
        .annotate(total=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS))
        .order_by()
    )
    for row in hours:
        per_street.setdefault(row["community__street_id"], {})["service_hours"] = float(row["total"])
    return per_street


def work_units_with_card(*, quarter: Quarter) -> QuerySet:
    """The member units whose in-service members have a service card for the quarter: verified members,
    and members who moved away but served in the quarter (the card's own rule, `service_card`)."""
    served = Q(
        status=PartyMember.Status.ENDED,
        service_logs__verified=True,
        service_logs__date__range=(quarter.first_day, quarter.last_day),
    )
    return (
        PartyMember.objects.filter(Q(status=PartyMember.Status.VERIFIED) | served, work_unit__isnull=False)
        .values_list("work_unit_id", flat=True)
        .distinct()
    )


# --- The quarterly report (季度报表) -----------------------------------------------------------------------


def _in_quarter(quarter: Quarter, prefix: str = "") -> Q:
    """Monthly sums of verified hours of the quarter's months (`prefix`: the path to the sums)."""
    return Q(**{f"{prefix}month__gte": quarter.first_day, f"{prefix}month__lte": quarter.last_day})


def report_member_hours(*, street_id: int, quarter: Quarter) -> QuerySet[PartyMember]:
    """在职党员与服务时长: one row per registration (双报到) at a community of the street — every verified one
    registered by the quarter's last day, with 0 hours if they served none, and any other (moved away,
    since rejected) that has verified hours dated in the quarter, so the sheet's hours add up to the street's
    total. `quarter_hours` and `quarter_logs` are the verified hours and logs dated in the quarter, summed
    from the member's monthly sums (three rows at most); `work_unit_label` is the member unit's name, or
    the free-text work unit of one that has not joined."""
    in_quarter = _in_quarter(quarter, "month_hours__")
    return (
        PartyMember.objects.filter(residence_community__street_id=street_id)
        .annotate(
            quarter_hours=Coalesce(Sum("month_hours__hours", filter=in_quarter), Value(Decimal(0)), output_field=HOURS),
            quarter_logs=Coalesce(
                Sum("month_hours__services", filter=in_quarter), Value(0), output_field=IntegerField()
            ),
            work_unit_label=Coalesce("work_unit__name", "work_unit_name"),
            year_points=year_points_to(quarter, "member"),
        )
        .filter(Q(status=PartyMember.Status.VERIFIED, registered_on__lte=quarter.last_day) | Q(quarter_logs__gt=0))
        .order_by("residence_community__sort_order", "residence_community_id", "name", "id")
    )


def report_member_figures(*, street_id: int, quarter: Quarter) -> dict[str, int | Decimal]:
    """Verified registrations at the street's communities (registered by the quarter's last day), those
    who served in the quarter, and the verified service hours dated in the quarter (from the monthly sums)."""
    figures = PartyMember.objects.filter(
        residence_community__street_id=street_id,
        status=PartyMember.Status.VERIFIED,
        registered_on__lte=quarter.last_day,
    ).aggregate(verified=Count("pk"))
    figures.update(
        MemberMonthHours.objects.filter(_in_quarter(quarter), community__street_id=street_id, services__gt=0).aggregate(
            serving=Count("member", distinct=True),
            hours=Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS),
        )
    )
    return figures


# --- The units' assessment (members.assessments; indicators in volunteers.indicators) ------------------


def unit_quarter_service_hours(*, street_id: int, quarter: Quarter) -> QuerySet:
    """Per work unit of the street, the verified service hours its in-service Party members gave in
    `quarter` ("关系在单位，活动在区域": the hours count for the unit they work at)."""
    return (
        ServiceLog.objects.filter(
            verified=True,
            member__work_unit__isnull=False,
            member__work_unit__community__street_id=street_id,
            date__gte=quarter.first_day,
            date__lte=quarter.last_day,
        )
        .values("member__work_unit_id")
        .annotate(hours=Coalesce(Sum("hours"), Value(Decimal("0")), output_field=HOURS))
        .order_by("member__work_unit_id")
    )


# --- Staff workbench ----------------------------------------------------------------------------------


def workbench_counts(*, user) -> dict[str, int]:
    """Registrations and service hours waiting for verification: one aggregate query per table."""
    counts = permissions.visible(user, PartyMember.objects.all()).aggregate(
        to_verify=Count("pk", filter=Q(status=PartyMember.Status.PENDING)),
    )
    counts |= permissions.visible(user, ServiceLog.objects.all()).aggregate(
        hours_to_verify=Count("pk", filter=Q(verified=False, rejected_at=None)),
    )
    return counts


# --- Staff workbench charts (registered in extensions) -----------------------------------------------------


def chart_hours_by_community(
    *, user, community_id: int | None = None, quarter: Quarter | None = None
) -> list[tuple[str, Decimal]]:
    """(community name, hours) of the verified service hours the user may see, by the member's residence
    community (whose staff verify them), in the communities' order — one grouped query over the monthly
    sums; communities without hours absent. A quarter chosen: hours served (by the log's date) in it. Over
    several streets the name is "street · community"."""
    scope = HoursScope(
        user=user,
        community_id=community_id,
        start=quarter.first_day if quarter is not None else None,
        end=quarter.next().first_day if quarter is not None else None,
    )
    sums = community_month_hours(scope=scope)
    if sums is None:
        sums = member_month_hours(scope=scope)
    rows = (
        sums.values(
            "community_id",
            "community__name",
            "community__street_id",
            "community__street__name",
            "community__sort_order",
        )
        .annotate(hours=Sum("hours"))
        .order_by("community__street_id", "community__sort_order", "community_id")
    )
    rows = list(rows)
    # Over several streets (district staff) two streets may each have a 桥头街社区: the bar says whose.
    several = len({row["community__street_id"] for row in rows}) > 1
    return [
        (
            f"{row['community__street__name']} · {row['community__name']}" if several else row["community__name"],
            row["hours"],
        )
        for row in rows
    ]


# --- Points (积分, issue 15) ----------------------------------------------------------------------------


def points_visible_to(*, user, year: int) -> QuerySet[PointsEntry]:
    """The year's ledger entries the user may see (a member their own, a liaison their units', staff their
    scope), newest first (the order of the (…, year, created_at) indexes)."""
    return permissions.visible(user, PointsEntry.objects.filter(year=year)).order_by("-created_at", "-id")


def points_of(*, year: int, member: PartyMember | None = None, unit_id: int | None = None) -> QuerySet[PointsEntry]:
    """One member's or one unit's entries of the year, newest first, with the entry each correction corrects."""
    entries = PointsEntry.objects.filter(year=year).select_related("corrects").order_by("-created_at", "-id")
    return entries.filter(member=member) if member is not None else entries.filter(unit_id=unit_id)


def points_balance(*, year: int, member: PartyMember | None = None, unit_id: int | None = None) -> int:
    return points_of(year=year, member=member, unit_id=unit_id).aggregate(total=Coalesce(Sum("points"), 0))["total"]


def _balances_of(entries: QuerySet[PointsEntry], field: str, kind: int) -> QuerySet:
    return (
        entries.filter(**{f"{field}__isnull": False})
        .order_by()
        .values("member_id", "unit_id", name=F(f"{field}__name"), kind=Value(kind))
        .annotate(balance=Sum("points"), rank=Window(Rank(), order_by=Sum("points").desc()))
    )


def points_balances(*, user, year: int) -> QuerySet:
    """One row per member and per unit among the entries the user sees: `member_id`, `unit_id`, `name`,
    `balance` (the year's points, corrections counted) and `rank` (1 = most points; members ranked among
    members, units among units), members first, highest first — one query (two grouped SELECTs, ranked by
    window functions, in a UNION ALL; a window partitioned by the kind made Django group by the window)."""
    entries = permissions.visible(user, PointsEntry.objects.filter(year=year))
    members, units = _balances_of(entries, "member", 0), _balances_of(entries, "unit", 1)
    return members.union(units, all=True).order_by("kind", "-balance", "name", "member_id", "unit_id")


RANKINGS = {
    # Every entry of the community's members and units.
    "community": {"key": "community_id", "name": "community__name", "filter": Q()},
    "unit": {"key": "unit_id", "name": "unit__name", "filter": Q(unit__isnull=False)},
    # The units of each sector branch (行业分会), summed.
    "sector": {"key": "unit__sector_id", "name": "unit__sector__name", "filter": Q(unit__sector__isnull=False)},
}


def points_ranking(*, user, year: int, by: str) -> QuerySet:
    """The year's points per community, unit or sector branch among the entries the user sees: rows of
    `key`, `name`, `total`, `rank`, highest first — one query, summed and ranked in SQL."""
    grouping = RANKINGS[by]
    return (
        permissions.visible(user, PointsEntry.objects.filter(year=year))
        .filter(grouping["filter"])
        .order_by()
        .values(key=F(grouping["key"]), name=F(grouping["name"]))
        .annotate(total=Sum("points"), rank=Window(Rank(), order_by=Sum("points").desc()))
        .order_by("-total", "name", "key")
    )


def points_rules_visible_to(*, user) -> QuerySet[PointsRule]:
    return permissions.visible(user, PointsRule.objects.select_related("street"))


def year_points_to(quarter: Quarter, field: str, outer: str = "pk") -> Subquery:
    """The year's points of the row's member (`field="member"`) or unit (`"unit"`) up to the end of
    `quarter` (a quarter's report reads the same later), for a report's column: a subquery per row over
    the (member|unit, year, …) index."""
    return Subquery(
        PointsEntry.objects.filter(**{field: OuterRef(outer)}, year=quarter.year, quarter__lte=quarter.quarter)
        .order_by()
        .values(field)
        .annotate(total=Sum("points"))
        .values("total")[:1],
        output_field=IntegerField(),
    )

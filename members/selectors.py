"""Every read the members app's views, API, admin and tasks need, narrowed by the permission layer."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance import permissions
from alliance.periods import Quarter

from .models import (
    Agreement,
    Community,
    CommunityStaff,
    CouncilSeat,
    CouncilTerm,
    District,
    ExpiryAlert,
    MemberUnit,
    Notice,
    NoticeAttachment,
    QuarterlyReport,
    Sector,
    Street,
    StreetStaff,
    UnitMembership,
)
from .rules import liaison_unit_ids

EXPIRING_WITHIN_DAYS = 60


def today() -> date:
    return timezone.localdate()


def units_visible_to(*, user) -> QuerySet[MemberUnit]:
    return permissions.visible(user, MemberUnit.objects.select_related("community", "sector"))


def units_of_liaison(*, user) -> QuerySet[MemberUnit]:
    """The units this user holds an account at (what the portal shows as 'my units')."""
    return MemberUnit.objects.filter(pk__in=liaison_unit_ids(user)).select_related("community", "sector")


def unit_detail(*, user, pk: int) -> MemberUnit:
    return permissions.get_visible_or_404(
        user, MemberUnit.objects.select_related("community__street", "sector", "applicant"), pk=pk
    )


def with_renewal(queryset: QuerySet[Agreement]) -> QuerySet[Agreement]:
    """`renewed_by_id`: the version that renewed an agreement (None for the latest), in the list's query."""
    return queryset.annotate(renewed_by_id=Subquery(Agreement.objects.filter(renews=OuterRef("pk")).values("pk")[:1]))


def agreements_visible_to(*, user) -> QuerySet[Agreement]:
    return with_renewal(permissions.visible(user, Agreement.objects.select_related("unit__community")))


def agreements_expiring(*, user=None, within_days: int = EXPIRING_WITHIN_DAYS) -> QuerySet[Agreement]:
    """Agreements whose term ends in the next `within_days` days (today included), soonest first.
    Without a user: all of them, for the daily digest."""
    start = today()
    qs = Agreement.objects.select_related("unit__community").filter(
        term_end__gte=start,
        term_end__lte=start + timedelta(days=within_days),
        unit__status=MemberUnit.Status.ACTIVE,
        superseded_at__isnull=True,  # renewed: the new version is the one that runs
    )
    if user is not None:
        qs = permissions.visible(user, qs)
    return qs.order_by("term_end", "id")


def communities_public() -> QuerySet[Community]:
    return Community.objects.select_related("street")


def communities_administered_by(*, user) -> QuerySet[Community]:
    """The communities whose work this user runs: their streets' as street staff, their own as community
    staff (ids from the cached scopes: no join)."""
    managed = permissions.managed_communities(user)
    if managed is None:
        return Community.objects.select_related("street")
    return Community.objects.filter(pk__in=managed).select_related("street")


def meeting_places(*, user, kind: str) -> QuerySet:
    """The streets (`kind` "street") whose meetings this user plans — those they run as street staff — or
    the districts ("district") whose meetings they plan as district staff."""
    if kind == "district":
        districts = permissions.districts_of(user)
        return District.objects.filter(pk__in=districts) if not user.is_superuser else District.objects.all()
    managed = permissions.managed_streets_of(user)
    return Street.objects.filter(pk__in=managed)


def street_id_of_community(*, community_id: int) -> int | None:
    return Community.objects.filter(pk=community_id).values_list("street_id", flat=True).first()


def communities_seen_by(*, user) -> QuerySet[Community]:
    """The communities whose figures this staff member sees: those they run and, as district staff, every
    community of their district's streets."""
    seen = permissions.seen_communities(user)
    if seen is None:
        return Community.objects.select_related("street")
    return Community.objects.filter(pk__in=seen).select_related("street")


def streets() -> QuerySet[Street]:
    return Street.objects.annotate(
        community_count=Count("communities", distinct=True),
        unit_count=Count("communities__units", filter=Q(communities__units__status="active"), distinct=True),
    ).order_by("id")


def only_street_id() -> int | None:
    """The street of a single-street deployment (None when there are several, or none)."""
    ids = list(Street.objects.order_by("pk").values_list("pk", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


def memberships_of(*, user) -> QuerySet[UnitMembership]:
    return UnitMembership.objects.filter(user=user).select_related("unit")


def memberships_of_unit(*, unit: MemberUnit) -> QuerySet[UnitMembership]:
    return UnitMembership.objects.filter(unit=unit).select_related("user")


def staff_of_community(*, community_id: int):
    """The users to tell about something in a community: its staff, or street staff when it has none."""
    staff = get_user_model().objects.filter(is_active=True, community_posts__community_id=community_id).distinct()
    if staff.exists():
        return staff
    return street_staff_users(community_id=community_id)


def staff_to_tell(*, community_id: int) -> list:
    """The users `staff_of_community` names, evaluated: one query when the community has staff (a
    resident's submission asks on every need), the street's staff in a second only when it has none."""
    # Unique per user and community: no DISTINCT needed. The ordering is the model's, by assignment.
    posts = CommunityStaff.objects.filter(community_id=community_id, user__is_active=True).select_related("user")
    return [post.user for post in posts] or list(street_staff_users(community_id=community_id))


def street_staff_users(*, street_id: int | None = None, community_id: int | None = None):
    """The street staff to tell about something of a street (`street_id`) or of one of its communities
    (`community_id`): that street's staff and the superusers — never another street's staff. Neither given:
    every street staff member (platform-wide news)."""
    assigned = Q(groups__name=permissions.STREET_STAFF_GROUP)
    if street_id is not None:
        assigned &= Q(street_posts__street_id=street_id)
    elif community_id is not None:
        assigned &= Q(street_posts__street__communities=community_id)
    return get_user_model().objects.filter(is_active=True).filter(assigned | Q(is_superuser=True)).distinct()


def street_staff_by_community(*, community_ids) -> dict[int, list]:
    """For each of these communities, the staff of its street and the superusers, in two queries however
    many communities: messages about many units or members go to each street's own staff."""
    community_ids = set(community_ids)
    street_of = dict(Community.objects.filter(pk__in=community_ids).values_list("pk", "street_id"))
    by_street: dict[int, list] = {street_id: [] for street_id in street_of.values()}
    supers: list = []
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__name=permissions.STREET_STAFF_GROUP, street_posts__street_id__in=by_street) | Q(is_superuser=True)
        )
        .annotate(post_street=F("street_posts__street_id"))
        .order_by("pk")
    )
    seen: set[tuple[int, int | None]] = set()
    for user in users:
        if user.is_superuser:
            if (user.pk, None) not in seen:
                seen.add((user.pk, None))
                supers.append(user)
        elif user.post_street in by_street and (user.pk, user.post_street) not in seen:
            seen.add((user.pk, user.post_street))
            by_street[user.post_street].append(user)
    return {
        community_id: by_street[street_id] + [u for u in supers if u not in by_street[street_id]]
        for community_id, street_id in street_of.items()
    }


def community_staff_assignments() -> QuerySet[CommunityStaff]:
    return CommunityStaff.objects.select_related("user", "community")


def public_counts() -> dict[str, int]:
    """What the public home shows of the alliance: no names, only totals."""
    figures = MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE).aggregate(
        units=Count("pk"), party_members=Coalesce(Sum("party_member_count"), 0)
    )
    figures["communities"] = Community.objects.count()
    return figures


def public_counts_by_street() -> dict[int, dict[str, int]]:
    """`public_counts` of each street, by street id: two grouped queries however many streets there are.
    A street without a row is absent (its counts are 0)."""
    per_street: dict[int, dict[str, int]] = {}
    units = (
        MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE)
        .values("community__street_id")
        .annotate(units=Count("pk"), party_members=Coalesce(Sum("party_member_count"), 0))
        .order_by()
    )
    for row in units:
        per_street.setdefault(row["community__street_id"], {}).update(
            units=row["units"], party_members=row["party_members"]
        )
    for row in Community.objects.values("street_id").annotate(communities=Count("pk")).order_by():
        per_street.setdefault(row["street_id"], {})["communities"] = row["communities"]
    return per_street


def public_streets() -> list[dict]:
    """The streets as the public pages name them (no staff, no address), with their district: one query."""
    return [
        {"id": street.pk, "name": street.name, "district": street.district_id, "district_name": street.district.name}
        if street.district_id
        else {"id": street.pk, "name": street.name, "district": None, "district_name": None}
        for street in Street.objects.select_related("district").order_by("id")
    ]


def reports_visible_to(*, user) -> QuerySet[QuarterlyReport]:
    """Quarterly reports with their job (status, progress) and street joined: one query for the list."""
    return permissions.visible(user, QuarterlyReport.objects.select_related("street", "job", "requested_by"))


def report_detail(*, user, pk: int) -> QuarterlyReport:
    return permissions.get_visible_or_404(user, reports_visible_to(user=user), pk=pk)


def report_streets(*, user) -> QuerySet[Street]:
    """The streets whose reports this user may have built: the streets they oversee as street or district
    staff (every street for a superuser)."""
    if not permissions.has_ability(user, "members.build_report"):
        return Street.objects.none()
    return permissions.visible(user, Street.objects.all())


def liaisons_of_units(*, unit_ids) -> QuerySet[UnitMembership]:
    """The accounts of many units at once (one query), with their users, for messages to many units."""
    return UnitMembership.objects.filter(unit_id__in=unit_ids, user__is_active=True).select_related("user", "unit")


# --- The quarterly report (季度报表) -----------------------------------------------------------------------


def report_unit_figures(*, street_id: int, quarter: Quarter) -> dict[str, int]:
    """The street's member units that are active and had joined by the quarter's last day (a unit without a
    joining date counts from when it was entered), and those that joined in the quarter."""
    joined_by_end = Q(joined_on__lte=quarter.last_day) | Q(joined_on__isnull=True, created_at__lt=quarter.end)
    return MemberUnit.objects.filter(community__street_id=street_id, status=MemberUnit.Status.ACTIVE).aggregate(
        active=Count("pk", filter=joined_by_end),
        joined=Count("pk", filter=Q(joined_on__gte=quarter.first_day, joined_on__lte=quarter.last_day)),
    )


# --- Accounts staff attach to a unit or a community ---------------------------------------------------------

ACCOUNTS_SHOWN = 20


def accounts_matching(*, query: str, limit: int = ACCOUNTS_SHOWN) -> QuerySet:
    """Active accounts staff may attach: a query of digits is a phone (exact: the profile's phone or a user
    name that is the phone), anything else a part of the name or of the user name. One query, the profile
    joined; an empty query finds nothing (staff look for someone, they do not browse everyone)."""
    query = (query or "").strip()
    users = get_user_model().objects.filter(is_active=True)
    if not query:
        return users.none()
    if query.isascii() and query.isdigit():
        found = users.filter(Q(profile__phone=query) | Q(username=query))
    else:
        found = users.filter(
            Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(username__icontains=query)
        )
    return found.select_related("profile").order_by("username")[:limit]


# --- Staff workbench ----------------------------------------------------------------------------------


def workbench_counts(*, user) -> dict[str, int]:
    """Unit applications waiting (one aggregate query) and agreements ending within 60 days (one count)."""
    counts = permissions.visible(user, MemberUnit.objects.all()).aggregate(
        applications=Count("pk", filter=Q(status=MemberUnit.Status.APPLIED)),
    )
    counts["agreements_expiring"] = agreements_expiring(user=user).count()
    return counts


REPORTS_READY_WITHIN = timedelta(days=90)


def reports_ready_q(now=None) -> Q:
    """Current versions of quarterly reports built in the last 90 days, ready to download."""
    from alliance.models import Job  # the selectors' module-level imports stay the app's own models

    since = (now or timezone.now()) - REPORTS_READY_WITHIN
    return Q(is_current=True, job__status=Job.Status.DONE, generated_at__gte=since)


def reports_ready(*, user) -> QuerySet[QuarterlyReport]:
    return permissions.visible(user, QuarterlyReport.objects.all()).filter(reports_ready_q())


# --- Council terms (届) and their roster --------------------------------------------------------------

# The roster's order: the president first, the council members last (the order of CouncilSeat.Role).
ROLE_ORDER = Case(
    *(When(role=role, then=Value(i)) for i, role in enumerate(CouncilSeat.Role.values)),
    default=Value(len(CouncilSeat.Role.values)),
    output_field=IntegerField(),
)


def streets_named() -> QuerySet[Street]:
    return Street.objects.order_by("pk").only("pk", "name")


def current_term(*, street_id: int) -> CouncilTerm | None:
    return CouncilTerm.objects.filter(street_id=street_id, is_current=True).select_related("street").first()


def council_roster(*, term: CouncilTerm | None) -> QuerySet[CouncilSeat]:
    """The seats of a term with their units (one query), in the order of the roles. What a roster shows is
    the unit, the role and the holder's name: never a phone or an address (the template reads no more)."""
    if term is None:
        return CouncilSeat.objects.none()
    return (
        CouncilSeat.objects.filter(term=term)
        .select_related("unit")
        .only("id", "role", "holder_name", "unit__id", "unit__name")
        .annotate(role_order=ROLE_ORDER)
        .order_by("role_order", "unit__name", "id")
    )


def streets_of_units(*, unit_ids) -> list[int]:
    return list(
        Street.objects.filter(communities__units__pk__in=unit_ids)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- "Ends soon" alerts: council terms to their street's staff, agreements to their unit's liaisons ---------

ALERT_STAGES = (60, 30)


def alert_stage(end: date, today: date) -> int | None:
    """Which alert is due for something ending on `end`: 30 within 30 days, 60 within 60, else none."""
    days = (end - today).days
    if days < 0:
        return None
    return 30 if days <= 30 else 60 if days <= 60 else None


def terms_ending(*, today: date) -> QuerySet[CouncilTerm]:
    return CouncilTerm.objects.filter(
        is_current=True, end__gte=today, end__lte=today + timedelta(days=max(ALERT_STAGES))
    ).select_related("street")


def agreements_ending(*, today: date) -> QuerySet[Agreement]:
    return Agreement.objects.filter(
        term_end__gte=today,
        term_end__lte=today + timedelta(days=max(ALERT_STAGES)),
        superseded_at__isnull=True,
        unit__status=MemberUnit.Status.ACTIVE,
    ).select_related("unit")


def street_staff_rows(*, street_ids) -> list:
    """(street id, person) of the active staff assigned to these streets, the person as a plain row with
    the fields a notification needs (one query)."""
    return list(
        StreetStaff.objects.filter(street_id__in=street_ids, user__is_active=True)
        .values_list("street_id", "user_id", "user__email", "user__is_staff", "user__profile__phone", named=True)
        .order_by()
    )


def unit_account_rows(*, unit_ids) -> list:
    """(unit id, person) of the active accounts of these units, as plain rows (one query)."""
    return list(
        UnitMembership.objects.filter(unit_id__in=unit_ids, user__is_active=True)
        .values_list("unit_id", "user_id", "user__email", "user__is_staff", "user__profile__phone", named=True)
        .order_by()
    )


def alerts_sent(*, field: str, subject_ids) -> set[tuple[int, int, int]]:
    """(subject id, stage, recipient id) already recorded in the ledger for these terms or agreements."""
    return set(
        ExpiryAlert.objects.filter(**{f"{field}_id__in": subject_ids}).values_list(
            f"{field}_id", "stage", "recipient_id"
        )
    )


# --- The public side: member units, sector branches, communities and notices of one street -------------


def public_communities(*, street_id: int) -> dict[int, str]:
    """A street's communities for the public pages' filters: id -> name, in the street's order."""
    rows = Community.objects.filter(street_id=street_id).order_by("sort_order", "id").values_list("pk", "name")
    return dict(rows)


def public_sectors(*, street_id: int) -> dict[int, str]:
    """A street's sector branches (联席分会): id -> name."""
    return dict(Sector.objects.filter(street_id=street_id).order_by("id").values_list("pk", "name"))


def public_units(*, street_id: int, unit_type: str = "", sector_id: int | None = None) -> QuerySet[MemberUnit]:
    """The street's approved (active) member units, by name: what the public roster shows — name, type,
    sector branch and community. Only those columns are read: no liaison, secretary, phone or address."""
    units = MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE, community__street_id=street_id)
    if unit_type:
        units = units.filter(unit_type=unit_type)
    if sector_id is not None:
        units = units.filter(sector_id=sector_id)
    return (
        units.select_related("sector", "community")
        .only("id", "name", "unit_type", "sector__id", "sector__name", "community__id", "community__name")
        .order_by("name", "id")
    )


def published_q(now=None) -> Q:
    """Notices inside their publication window at `now`."""
    now = now or timezone.now()
    return Q(publish_from__lte=now) & (Q(publish_until__isnull=True) | Q(publish_until__gt=now))


def notices_published(*, street_id: int, now=None) -> QuerySet[Notice]:
    """A street's published notices, newest first (notice_street_recent_idx), with their attachments."""
    return (
        Notice.objects.filter(published_q(now), street_id=street_id)
        .only("id", "street_id", "title", "body", "publish_from", "publish_until", "updated_at")
        .prefetch_related(
            Prefetch("attachments", queryset=NoticeAttachment.objects.only("id", "notice_id", "title", "file"))
        )
        .order_by("-publish_from", "-id")
    )


def notice_published(*, pk: int, now=None) -> Notice | None:
    """One published notice of any street with its attachments, or None (not found or outside its window)."""
    return (
        Notice.objects.filter(published_q(now), pk=pk)
        .select_related("street")
        .prefetch_related(
            Prefetch("attachments", queryset=NoticeAttachment.objects.only("id", "notice_id", "title", "file"))
        )
        .first()
    )


def notice_is_public(notice_id: int) -> bool:
    """Whether a notice's attachments are public now (alliance.media): inside its window."""
    return Notice.objects.filter(published_q(), pk=notice_id).exists()

"""Every read the members app's views, API, admin and tasks need, narrowed by the permission layer."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance import permissions
from alliance.periods import Quarter

from .models import (
    Agreement,
    Community,
    CommunityStaff,
    District,
    MemberUnit,
    QuarterlyReport,
    Street,
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


def agreements_visible_to(*, user) -> QuerySet[Agreement]:
    return permissions.visible(user, Agreement.objects.select_related("unit__community"))


def agreements_expiring(*, user=None, within_days: int = EXPIRING_WITHIN_DAYS) -> QuerySet[Agreement]:
    """Agreements whose term ends in the next `within_days` days (today included), soonest first.
    Without a user: all of them, for the daily digest."""
    start = today()
    qs = Agreement.objects.select_related("unit__community").filter(
        term_end__gte=start,
        term_end__lte=start + timedelta(days=within_days),
        unit__status=MemberUnit.Status.ACTIVE,
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

"""The members app's answers to the permission layer. Nobody calls these directly: they are registered
with `alliance.permissions` in `extensions.register()` and reached through its functions."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Value

from alliance import permissions as p

from .models import Assessment, Community, District, DistrictStaff, MemberUnit, Street, StreetStaff

ADMINISTER_COMMUNITY = "members.administer_community"
CHANGE_UNIT = "members.change_memberunit"


def community_ids(user) -> frozenset[int]:
    """Communities this user works for as community staff."""
    if not p.is_community_staff(user):
        return frozenset()
    return p.object_ids_with_perm(user, ADMINISTER_COMMUNITY, Community)


def street_ids(user) -> frozenset[int]:
    """Every street: what a superuser oversees (the others' streets come with `street_scope`)."""
    if user.is_superuser:
        return frozenset(Street.objects.values_list("pk", flat=True))
    return street_scope(user).streets


def street_scope(user) -> p.StreetScope:
    """The streets a street or district staff member oversees and runs, in one query over the streets (so
    that "every street" is known without another), plus one for their communities when not every street."""
    as_street = p.is_street_staff(user)
    as_district = p.is_district_staff(user)
    rows = Street.objects.annotate(
        run=Exists(StreetStaff.objects.filter(user=user, street=OuterRef("pk"))) if as_street else Value(False),
        over=Exists(DistrictStaff.objects.filter(user=user, district=OuterRef("district_id")))
        if as_district
        else Value(False),
    ).values_list("pk", "district_id", "run", "over")
    every: set[int] = set()
    managed: set[int] = set()
    managed_districts: set[int] = set()
    seen: set[int] = set()
    for pk, district_id, run, over in rows:
        every.add(pk)
        if run:
            managed.add(pk)
            if district_id is not None:
                managed_districts.add(district_id)
        if run or over:
            seen.add(pk)
    every_street = bool(every) and seen == every
    every_managed = bool(every) and managed == every
    communities: set[int] = set()
    managed_communities: set[int] = set()
    if seen and not every_street:
        for pk, street_id in Community.objects.filter(street_id__in=seen).values_list("pk", "street_id"):
            communities.add(pk)
            if street_id in managed:
                managed_communities.add(pk)
    elif every_street and not every_managed and managed:
        managed_communities.update(Community.objects.filter(street_id__in=managed).values_list("pk", flat=True))
    return p.StreetScope(
        streets=frozenset(seen),
        managed=frozenset(managed),
        communities=frozenset(communities),
        managed_communities=frozenset(managed_communities),
        managed_districts=frozenset(managed_districts),
        every_street=every_street,
        every_managed=every_managed,
    )


def district_ids(user) -> frozenset[int]:
    """Districts this user works for as district staff."""
    if user.is_superuser:
        return frozenset(District.objects.values_list("pk", flat=True))
    if not p.is_district_staff(user):
        return frozenset()
    return frozenset(DistrictStaff.objects.filter(user=user).values_list("district_id", flat=True))


def liaison_unit_ids(user) -> frozenset[int]:
    """Units on which this user holds the change permission granted with a unit account."""
    return p.object_ids_with_perm(user, CHANGE_UNIT, MemberUnit)


def acts_for_unit(user, unit) -> bool:
    """Ability "members.act_for_unit": the unit's own business (claims, answers, reports) is its liaisons'.
    `unit` is a MemberUnit or its id."""
    unit_id = getattr(unit, "pk", unit)
    return unit_id is not None and unit_id in liaison_unit_ids(user)


class UnitRules:
    """Street staff: their streets' units (district staff read them); community staff: their communities';
    liaisons: their own units."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(community_id__in=seen) | Q(pk__in=p.listed_units(user)))

    def can_change(self, user, obj: MemberUnit) -> bool:
        return p.manages_community(user, obj.community_id) or obj.pk in liaison_unit_ids(user)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj: MemberUnit) -> bool:
        return p.is_street_staff(user) and p.manages_community(user, obj.community_id)

    def can_administer(self, user, obj: MemberUnit) -> bool:
        """Staff decisions on a unit (approve, reject, withdraw, accounts): its street's staff, or that
        community's."""
        return p.manages_community(user, obj.community_id)


class UnitChildRules:
    """Agreements and unit accounts: seen with their unit, changed by the unit's staff (not its liaison)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.seen_communities(user) is None:
            return queryset
        units = p.visible(user, MemberUnit)
        return queryset.filter(unit__in=units.values("pk"))

    def can_change(self, user, obj) -> bool:
        return UNIT_RULES.can_administer(user, obj.unit)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class CommunityChildRules(p.StreetRules):
    """Grids: everyone reads (street and district staff their streets'); the street's staff and that
    community's staff change."""

    def __init__(self) -> None:
        super().__init__("community__street_id")

    def can_change(self, user, obj) -> bool:
        return p.manages_community(user, obj.community_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class CommunityStaffRules(p.StaffOnlyRules):
    """Who works for which community is decided by the street's staff alone (its district's read it)."""

    def __init__(self) -> None:
        super().__init__("community__street_id")


class StreetStaffRules(p.StaffOnlyRules):
    """Who is staff of a street: seen by the staff of that street and its district, who also assign them
    (members.services.street_staff_add)."""

    def __init__(self) -> None:
        super().__init__("street_id")

    def can_change(self, user, obj) -> bool:
        return obj.street_id in p.streets_of(user)

    def can_add(self, user) -> bool:
        return bool(p.streets_of(user))

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class DistrictStaffRules:
    """Who is staff of a district: seen and assigned by that district's staff (and superusers)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if user.is_authenticated and user.is_superuser:
            return queryset
        return queryset.filter(district_id__in=p.districts_of(user))

    def can_change(self, user, obj) -> bool:
        return p.sees_district(user, obj.district_id)

    def can_add(self, user) -> bool:
        return bool(p.districts_of(user))

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class DistrictRules(p.StreetRules):
    """Districts: everyone signed in reads their names; district staff their own districts and street
    staff the districts of their streets; superusers change them."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if user.is_authenticated and user.is_superuser:
            return queryset
        if p.is_district_staff(user) or p.is_street_staff(user):
            scope = p.street_scope(user)
            if scope.every_street:
                return queryset
            return queryset.filter(
                Q(pk__in=p.districts_of(user))
                | Q(pk__in=Street.objects.filter(pk__in=scope.streets).values("district_id"))
            )
        return queryset

    def can_change(self, user, obj) -> bool:
        return bool(user.is_authenticated and user.is_superuser)

    def can_add(self, user) -> bool:
        return bool(user.is_authenticated and user.is_superuser)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


UNIT_RULES = UnitRules()


class ReportRules(p.StaffOnlyRules):
    """Quarterly reports are the street office's: its staff and its district's see them (the outward
    edition reaches the district through them). Versions are a record: nobody edits or deletes one, a
    rebuild adds the next."""

    def __init__(self) -> None:
        super().__init__("street_id")

    def can_change(self, user, obj) -> bool:
        return False

    def can_delete(self, user, obj) -> bool:
        return False


def builds_reports(user, street) -> bool:
    """Ability "members.build_report": who asks for a street's quarterly report to be built — the street's
    staff and its district's. Without a street: whether the user builds any street's report."""
    if not (p.is_street_staff(user) or p.is_district_staff(user)):
        return False
    if street is None:
        return bool(p.street_scope(user).every_street or p.streets_of(user))
    return p.sees_street(user, getattr(street, "pk", street))


# --- The units' quarterly assessment (members.assessments) -------------------------------------------


class AssessmentRules:
    """Street staff: their streets' (district staff read them); community staff: their communities' units,
    which they also adjust and submit; liaisons: their own units' (read, remark). Approving and returning
    are the street's (an ability)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(unit__community_id__in=seen) | Q(unit_id__in=p.listed_units(user)))

    def can_change(self, user, obj: Assessment) -> bool:
        mine = p.managed_communities(user)
        if mine is None:
            return True
        if not mine:
            return False
        if "unit" in obj._state.fields_cache:  # joined by the selector: no query
            return obj.unit.community_id in mine
        return MemberUnit.objects.filter(pk=obj.unit_id, community_id__in=mine).exists()

    def can_add(self, user) -> bool:
        return False  # made by the computation only

    def can_delete(self, user, obj) -> bool:
        return False  # the street's record; an approved one is final


ASSESSMENT_RULES = AssessmentRules()


def may_approve(user, obj) -> bool:
    """The street's staff approve and return its units' assessments."""
    if not p.is_street_staff(user):
        return False
    if obj is None or p.street_scope(user).every_managed:
        return True
    unit = (
        obj.unit if "unit" in obj._state.fields_cache else MemberUnit.objects.only("community_id").get(pk=obj.unit_id)
    )
    return p.manages_community(user, unit.community_id)


def may_remark(user, obj) -> bool:
    unit_id = getattr(obj, "unit_id", None)
    return unit_id is not None and unit_id in liaison_unit_ids(user)


def may_compute(user, obj) -> bool:
    """The street's staff compute its assessments (`obj`: the street, or None for any street of theirs)."""
    if not p.is_street_staff(user):
        return False
    return obj is None or p.manages_street(user, getattr(obj, "pk", obj))


# --- Council terms (届) and the expiry alerts' ledger (issue 14) ---------------------------------------


class CouncilTermRules:
    """The roster is public: everyone reads terms. The street's own staff (and its district's) keep them."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        return queryset

    def can_change(self, user, obj) -> bool:
        return obj.street_id in p.streets_of(user)

    def can_add(self, user) -> bool:
        return bool(p.streets_of(user))

    def can_delete(self, user, obj) -> bool:
        return False  # a past term is the record of who sat on the council; a new term replaces it


COUNCIL_TERM_RULES = CouncilTermRules()


# --- Notices (通知公告) ------------------------------------------------------------------------------------


class NoticeRules(p.StaffOnlyRules):
    """A street's notices are kept by its own staff (its district's read them in the admin); residents read
    the published ones on the public site, through the public selectors, not through this rule."""

    def __init__(self, street_field: str = "street_id") -> None:
        super().__init__(street_field)

    def can_add(self, user) -> bool:
        return bool(p.managed_streets_of(user))


NOTICE_RULES = NoticeRules()
NOTICE_ATTACHMENT_RULES = NoticeRules("notice__street_id")

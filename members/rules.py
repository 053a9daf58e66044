"""The members app's answers to the permission layer. Nobody calls these directly: they are registered
with `alliance.permissions` in `extensions.register()` and reached through its functions."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
    """Streets this user oversees: assigned as street staff, or in a district they work for."""
    if user.is_superuser:
        return frozenset(Street.objects.values_list("pk", flat=True))
    ids: set[int] = set()
    if p.is_street_staff(user):
        ids.update(StreetStaff.objects.filter(user=user).values_list("street_id", flat=True))
    if p.is_district_staff(user):
        ids.update(Street.objects.filter(district__staff__user=user).values_list("pk", flat=True))
    return frozenset(ids)


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
    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(community_id__in=community_ids(user)) | Q(pk__in=liaison_unit_ids(user)))

    def can_change(self, user, obj: MemberUnit) -> bool:
        return p.is_street_staff(user) or obj.community_id in community_ids(user) or obj.pk in liaison_unit_ids(user)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj: MemberUnit) -> bool:
        return p.is_street_staff(user)

    def can_administer(self, user, obj: MemberUnit) -> bool:
        """Staff decisions on a unit (approve, reject, withdraw, accounts): street staff, or that community's."""
        return p.is_street_staff(user) or obj.community_id in community_ids(user)


class UnitChildRules:
    """Agreements and unit accounts: seen with their unit, changed by the unit's staff (not its liaison)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        units = p.visible(user, MemberUnit)
        return queryset.filter(unit__in=units.values("pk"))

    def can_change(self, user, obj) -> bool:
        return UNIT_RULES.can_administer(user, obj.unit)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class CommunityChildRules(p.StreetRules):
    """Grids: everyone reads; street staff and that community's staff change."""

    def can_change(self, user, obj) -> bool:
        return p.is_street_staff(user) or obj.community_id in community_ids(user)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class CommunityStaffRules(p.StaffOnlyRules):
    """Who works for which community is decided by street staff alone."""


UNIT_RULES = UnitRules()


class ReportRules(p.StaffOnlyRules):
    """Quarterly reports are the street office's: street staff see them (the outward edition reaches the
    district through them). Versions are a record: nobody edits or deletes one, a rebuild adds the next."""

    def can_change(self, user, obj) -> bool:
        return False

    def can_delete(self, user, obj) -> bool:
        return False


def builds_reports(user, street) -> bool:
    """Ability "members.build_report": who asks for a street's quarterly report to be built."""
    return p.is_street_staff(user)


# --- The units' quarterly assessment (members.assessments) -------------------------------------------


class AssessmentRules:
    """Street staff: all; community staff: their communities' units, which they also adjust and submit;
    liaisons: their own units' (read, remark). Approving and returning are the street's (an ability)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(unit__community_id__in=community_ids(user)) | Q(unit_id__in=liaison_unit_ids(user)))

    def can_change(self, user, obj: Assessment) -> bool:
        if p.is_street_staff(user):
            return True
        mine = community_ids(user)
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
    return p.is_street_staff(user)


def may_remark(user, obj) -> bool:
    unit_id = getattr(obj, "unit_id", None)
    return unit_id is not None and unit_id in liaison_unit_ids(user)


def may_compute(user, obj) -> bool:
    return p.is_street_staff(user)


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

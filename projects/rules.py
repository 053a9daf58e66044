"""The projects app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import ProjectClaim, ServiceProject


class ProjectRules:
    """Street staff: their streets' projects (district staff read their district's). Everyone else signed
    in: every published (not draft) project — the claim table is the whole street's. Community staff also
    see their communities' drafts, and change their communities' projects; street-wide projects are the
    street staff's."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.street_scope(user).every_street:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        mine = Q(community_id__in=p.communities_of(user)) if p.is_community_staff(user) else Q(pk__in=[])
        if p.is_street_staff(user) or p.is_district_staff(user):
            return queryset.filter(Q(street_id__in=p.streets_of(user)) | mine)
        return queryset.filter(~Q(status=ServiceProject.Status.DRAFT) | mine)

    def can_change(self, user, obj: ServiceProject) -> bool:
        if obj.community_id is None:  # street-wide: the street's staff
            return p.is_street_staff(user) and p.manages_street(user, obj.street_id)
        return p.manages_community(user, obj.community_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj: ServiceProject) -> bool:
        return (
            p.is_street_staff(user)
            and p.manages_street(user, obj.street_id)
            and obj.status == ServiceProject.Status.DRAFT
        )


class ClaimRules:
    """Claims: the claiming unit's liaisons, the project's staff (its street's staff; community staff for
    their communities' projects) and the staff of the claiming unit's community and street (district staff
    read their district's)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        q = Q(unit_id__in=p.listed_units(user)) | Q(project__community_id__in=seen) | Q(unit__community_id__in=seen)
        streets = p.streets_of(user)
        if streets:  # the street-wide projects of their streets too
            q |= Q(project__street_id__in=streets)
        return queryset.filter(q)

    def can_change(self, user, obj: ProjectClaim) -> bool:
        """Deciding on a claim (approve, reject) is the project's staff's."""
        return PROJECT_RULES.can_change(user, obj.project)

    def can_add(self, user) -> bool:
        return bool(p.units_of(user))  # a claim is the unit's own promise; staff do not make it for it

    def can_delete(self, user, obj) -> bool:
        return False  # withdrawn or rejected, never deleted

    def acts_for_claim(self, user, claim: ProjectClaim) -> bool:
        """Ability "projects.act_for_claim": withdrawing and reporting are the claiming unit's own (its
        liaisons) — the same as "members.act_for_unit" of the claim's unit."""
        return p.has_ability(user, "members.act_for_unit", claim.unit_id)


class ClaimChildRules:
    """Activities and reviews: seen with their claim; activities are the unit's to record (staff may
    correct them), reviews are staff's."""

    def __init__(self, *, unit_writes: bool) -> None:
        self.unit_writes = unit_writes

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.seen_communities(user) is None:
            return queryset
        claims = p.visible(user, ProjectClaim)
        return queryset.filter(claim__in=claims.values("pk"))

    def can_change(self, user, obj) -> bool:
        claim = obj.claim
        if self.unit_writes and CLAIM_RULES.acts_for_claim(user, claim):
            return True
        if p.managed_communities(user) is None:
            return True
        return PROJECT_RULES.can_change(user, claim.project) or p.manages_community(user, claim.unit.community_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user) or (self.unit_writes and bool(p.units_of(user)))

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


PROJECT_RULES = ProjectRules()
CLAIM_RULES = ClaimRules()
ACTIVITY_RULES = ClaimChildRules(unit_writes=True)
REVIEW_RULES = ClaimChildRules(unit_writes=False)

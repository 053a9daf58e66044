"""The projects app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import ProjectClaim, ServiceProject


class ProjectRules:
    """Street staff: every project. Everyone signed in: every published (not draft) project — the claim
    table is the whole street's. Community staff also see their communities' drafts, and change their
    communities' projects; street-wide projects are the street staff's."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        published = ~Q(status=ServiceProject.Status.DRAFT)
        if p.is_community_staff(user):
            return queryset.filter(published | Q(community_id__in=p.communities_of(user)))
        return queryset.filter(published)

    def can_change(self, user, obj: ServiceProject) -> bool:
        return p.is_street_staff(user) or (obj.community_id is not None and obj.community_id in p.communities_of(user))

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj: ServiceProject) -> bool:
        return p.is_street_staff(user) and obj.status == ServiceProject.Status.DRAFT


class ClaimRules:
    """Claims: the claiming unit's liaisons, the project's staff (street staff; community staff for their
    communities' projects) and the staff of the claiming unit's community."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        communities = p.communities_of(user)
        return queryset.filter(
            Q(unit_id__in=p.units_of(user))
            | Q(project__community_id__in=communities)
            | Q(unit__community_id__in=communities)
        )

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
        if p.is_street_staff(user):
            return queryset
        claims = p.visible(user, ProjectClaim)
        return queryset.filter(claim__in=claims.values("pk"))

    def can_change(self, user, obj) -> bool:
        claim = obj.claim
        if self.unit_writes and CLAIM_RULES.acts_for_claim(user, claim):
            return True
        return (
            p.is_street_staff(user)
            or PROJECT_RULES.can_change(user, claim.project)
            or (p.is_community_staff(user) and claim.unit.community_id in p.communities_of(user))
        )

    def can_add(self, user) -> bool:
        return p.is_staff_member(user) or (self.unit_writes and bool(p.units_of(user)))

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


PROJECT_RULES = ProjectRules()
CLAIM_RULES = ClaimRules()
ACTIVITY_RULES = ClaimChildRules(unit_writes=True)
REVIEW_RULES = ClaimChildRules(unit_writes=False)

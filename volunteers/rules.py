"""The volunteers app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import PartyMember


class MemberRules:
    """Registrations: street staff their streets' (district staff read their district's); a community's
    staff those registered there; the person their own; a work unit's liaisons the registrations of its
    members (for the service card, phones masked)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            Q(residence_community_id__in=seen) | Q(user=user) | Q(work_unit_id__in=p.listed_units(user))
        )

    def can_change(self, user, obj: PartyMember) -> bool:
        return p.manages_community(user, obj.residence_community_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj) -> bool:
        return False  # ended or rejected, never deleted: the hours served stay on record

    def can_see_phone(self, user, obj: PartyMember) -> bool:
        """The member and the staff of their residence community (and its street's and district's staff)."""
        return (
            self.can_change(user, obj)
            or (p.is_district_staff(user) and p.sees_community(user, obj.residence_community_id))
            or (obj.user_id is not None and obj.user_id == getattr(user, "pk", None))
        )

    def is_self(self, user, obj: PartyMember) -> bool:
        return obj.user_id is not None and obj.user_id == getattr(user, "pk", None)

    def acts_for(self, user, obj: PartyMember) -> bool:
        """Ability "volunteers.act_for_member": the member themself or their community's staff (moving
        house, logging hours, leaving a post)."""
        return self.is_self(user, obj) or self.can_change(user, obj)


class CommunityThingRules:
    """Posts and teams: everyone signed in reads (members choose posts), street and district staff their
    streets'; their community's staff (and its street's) change."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if not user.is_authenticated:
            return queryset.none()
        if not (p.is_street_staff(user) or p.is_district_staff(user)):
            return queryset
        # Street and district staff: their streets' posts and teams (another street's are not theirs).
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        q = Q(community_id__in=seen)
        if any(f.name == "unit" for f in queryset.model._meta.fields):
            q |= Q(unit__community_id__in=seen)
        return queryset.filter(q)

    def can_change(self, user, obj) -> bool:
        community_id = getattr(obj, "community_id", None)
        if community_id is None and getattr(obj, "unit_id", None) is not None:  # a unit's team
            if p.managed_communities(user) is None:
                return True
            community_id = obj.unit.community_id
        if community_id is None:  # neither a community's nor a unit's: street staff over every street
            return p.is_street_staff(user) and p.street_scope(user).every_managed
        return p.manages_community(user, community_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class MemberChildRules:
    """Post claims and service logs: the member's own and their residence community's staff."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(member__user=user) | Q(member__residence_community_id__in=seen))

    def can_change(self, user, obj) -> bool:
        return MEMBER_RULES.can_change(user, obj.member)

    def can_add(self, user) -> bool:
        return user.is_authenticated

    def can_delete(self, user, obj) -> bool:
        return False


MEMBER_RULES = MemberRules()
COMMUNITY_THING_RULES = CommunityThingRules()
MEMBER_CHILD_RULES = MemberChildRules()


class PointsEntryRules:
    """The points ledger: a member sees their own entries, a liaison their units', staff the entries of
    the communities they see (street and district staff their streets', community staff their own).
    Nobody changes or deletes an entry (append-only); staff add corrections (`volunteers.correct_points`)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        q = Q(member__user=user)
        if seen:
            q |= Q(community_id__in=seen)
        units = p.listed_units(user)
        if units:
            q |= Q(unit_id__in=units)
        return queryset.filter(q)

    def can_change(self, user, obj) -> bool:
        return False

    def can_add(self, user) -> bool:
        return p.is_street_staff(user) or p.is_community_staff(user)

    def can_delete(self, user, obj) -> bool:
        return False


POINTS_ENTRY_RULES = PointsEntryRules()

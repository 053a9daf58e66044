"""The volunteers app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import PartyMember


class MemberRules:
    """Registrations: street staff all; a community's staff those registered there; the person their
    own; a work unit's liaisons the registrations of its members (for the service card, phones masked)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            Q(residence_community_id__in=p.communities_of(user)) | Q(user=user) | Q(work_unit_id__in=p.units_of(user))
        )

    def can_change(self, user, obj: PartyMember) -> bool:
        return p.is_street_staff(user) or obj.residence_community_id in p.communities_of(user)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return False  # ended or rejected, never deleted: the hours served stay on record

    def can_see_phone(self, user, obj: PartyMember) -> bool:
        """The member and the staff of their residence community (and street staff)."""
        return self.can_change(user, obj) or (obj.user_id is not None and obj.user_id == getattr(user, "pk", None))

    def is_self(self, user, obj: PartyMember) -> bool:
        return obj.user_id is not None and obj.user_id == getattr(user, "pk", None)

    def acts_for(self, user, obj: PartyMember) -> bool:
        """Ability "volunteers.act_for_member": the member themself or their community's staff (moving
        house, logging hours, leaving a post)."""
        return self.is_self(user, obj) or self.can_change(user, obj)


class CommunityThingRules:
    """Posts and teams: everyone signed in reads (members choose posts); their community's staff change."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        return queryset if user.is_authenticated else queryset.none()

    def can_change(self, user, obj) -> bool:
        community_id = getattr(obj, "community_id", None)
        return p.is_street_staff(user) or (community_id is not None and community_id in p.communities_of(user))

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class MemberChildRules:
    """Post claims and service logs: the member's own and their residence community's staff."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(Q(member__user=user) | Q(member__residence_community_id__in=p.communities_of(user)))

    def can_change(self, user, obj) -> bool:
        return MEMBER_RULES.can_change(user, obj.member)

    def can_add(self, user) -> bool:
        return user.is_authenticated

    def can_delete(self, user, obj) -> bool:
        return False


MEMBER_RULES = MemberRules()
COMMUNITY_THING_RULES = CommunityThingRules()
MEMBER_CHILD_RULES = MemberChildRules()

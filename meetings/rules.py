"""The meetings app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p
from members.rules import community_ids, liaison_unit_ids

from .models import JointMeeting, Resolution


class MeetingRules:
    """Street staff: every meeting. Community staff: their communities' meetings and the street's.
    Liaisons: the meetings their units are invited to. Anyone: the meetings they are invited to."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        q = Q(invitations__unit_id__in=liaison_unit_ids(user)) | Q(invitations__person=user)
        if p.is_community_staff(user):
            q |= Q(community_id__in=community_ids(user)) | Q(level="street")
        return queryset.filter(pk__in=queryset.model.objects.filter(q).values("pk"))

    def can_change(self, user, obj: JointMeeting) -> bool:
        return p.is_street_staff(user) or (obj.community_id is not None and obj.community_id in community_ids(user))

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return False  # cancelled, never deleted: the invitees were told it exists


class MeetingChildRules:
    """Invitations, attachments, series: seen with their meeting, changed by its staff."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not hasattr(queryset.model, "meeting"):
            return (
                queryset.filter(community_id__in=community_ids(user)) if p.is_community_staff(user) else queryset.none()
            )
        return queryset.filter(meeting__in=p.visible(user, JointMeeting).values("pk"))

    def can_change(self, user, obj) -> bool:
        meeting = getattr(obj, "meeting", None)
        if meeting is None:  # a series
            return p.is_street_staff(user) or (obj.community_id is not None and obj.community_id in community_ids(user))
        return MEETING_RULES.can_change(user, meeting)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class ResolutionRules:
    """Resolutions: seen with their meeting and by the owner unit's liaisons, who write progress on them;
    staff create them and mark them done."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(
            Q(owner_id__in=liaison_unit_ids(user)) | Q(meeting__in=p.visible(user, JointMeeting).values("pk"))
        )

    def can_change(self, user, obj: Resolution) -> bool:
        return MEETING_RULES.can_change(user, obj.meeting)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return False

    def can_report(self, user, obj: Resolution) -> bool:
        """Progress notes: the owner unit's liaisons and the meeting's staff."""
        return obj.owner_id in liaison_unit_ids(user) or self.can_change(user, obj)


MEETING_RULES = MeetingRules()
MEETING_CHILD_RULES = MeetingChildRules()
RESOLUTION_RULES = ResolutionRules()

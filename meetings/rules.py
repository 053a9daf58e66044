"""The meetings app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import Invitation, JointMeeting, Resolution


class MeetingRules:
    """Street staff: every meeting. Community staff: their communities' meetings and the street's.
    Liaisons: the meetings their units are invited to. Anyone: the meetings they are invited to."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        q = Q(invitations__unit_id__in=p.units_of(user)) | Q(invitations__person=user)
        if p.is_community_staff(user):
            q |= Q(community_id__in=p.communities_of(user)) | Q(level="street")
        return queryset.filter(pk__in=queryset.model.objects.filter(q).values("pk"))

    def can_change(self, user, obj: JointMeeting) -> bool:
        return p.is_street_staff(user) or (obj.community_id is not None and obj.community_id in p.communities_of(user))

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return False  # cancelled, never deleted: the invitees were told it exists


def can_read_minutes(user, meeting: JointMeeting) -> bool:
    """Ability "meetings.read_minutes" — the minutes, the attendance list (who was invited, who came) and
    the resolutions of a meeting: the staff who may see the meeting (they run it, held or not), and
    once it is held those who attended it (a unit of theirs, or they in person, marked attended). An
    invitee that did not attend sees the meeting, its agenda and attachments, not what was decided.
    Reads the invitations through `meeting.invitations.all()`, so a prefetch serves it."""
    if not user.is_authenticated:
        return False
    if p.is_staff_member(user):
        return p.is_street_staff(user) or p.can_view(user, meeting)
    if meeting.status != JointMeeting.Status.HELD:
        return False
    units = p.units_of(user)
    return any(
        inv.status == Invitation.Status.ATTENDED and (inv.unit_id in units or inv.person_id == user.pk)
        for inv in meeting.invitations.all()
    )


def minutes_readable(user, queryset: QuerySet) -> QuerySet:
    """The meetings of `queryset` whose minutes `user` may read (`can_read_minutes` as a query)."""
    if p.is_street_staff(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    if p.is_staff_member(user):
        return MEETING_RULES.visible(user, queryset)
    attended = Invitation.objects.filter(
        Q(unit_id__in=p.units_of(user)) | Q(person=user), status=Invitation.Status.ATTENDED
    )
    return queryset.filter(status=JointMeeting.Status.HELD, pk__in=attended.values("meeting_id"))


def can_answer_invitation(user, invitation) -> bool:
    """Ability "meetings.answer_invitation": the invited unit's liaisons (and the meeting's staff)."""
    return (invitation.unit_id is not None and invitation.unit_id in p.units_of(user)) or MEETING_RULES.can_change(
        user, invitation.meeting
    )


def can_record_attendance(user, invitation) -> bool:
    """Ability "meetings.record_attendance": who came is recorded by the meeting's staff."""
    return MEETING_RULES.can_change(user, invitation.meeting)


class MeetingChildRules:
    """Invitations, attachments, series: seen with their meeting, changed by its staff."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not hasattr(queryset.model, "meeting"):
            return (
                queryset.filter(community_id__in=p.communities_of(user))
                if p.is_community_staff(user)
                else queryset.none()
            )
        return queryset.filter(meeting__in=p.visible(user, JointMeeting).values("pk"))

    def can_change(self, user, obj) -> bool:
        meeting = getattr(obj, "meeting", None)
        if meeting is None:  # a series
            return p.is_street_staff(user) or (
                obj.community_id is not None and obj.community_id in p.communities_of(user)
            )
        return MEETING_RULES.can_change(user, meeting)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class ResolutionRules:
    """Resolutions: seen with their meeting's minutes (`can_read_minutes`) and by the owner unit's
    liaisons, who write progress on them; staff create them and mark them done."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.is_street_staff(user):
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        readable = minutes_readable(user, JointMeeting.objects.all())
        return queryset.filter(Q(owner_id__in=p.units_of(user)) | Q(meeting__in=readable.values("pk")))

    def can_change(self, user, obj: Resolution) -> bool:
        return MEETING_RULES.can_change(user, obj.meeting)

    def can_add(self, user) -> bool:
        return p.is_staff_member(user)

    def can_delete(self, user, obj) -> bool:
        return False

    def can_report(self, user, obj: Resolution) -> bool:
        """Progress notes: the owner unit's liaisons and the meeting's staff."""
        return obj.owner_id in p.units_of(user) or self.can_change(user, obj)


MEETING_RULES = MeetingRules()
MEETING_CHILD_RULES = MeetingChildRules()
RESOLUTION_RULES = ResolutionRules()

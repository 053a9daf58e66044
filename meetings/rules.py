"""The meetings app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import Invitation, JointMeeting, Level, Resolution


def _seen_district_meetings(user, prefix: str = "") -> Q:
    """The district-level meetings (through `prefix`, e.g. "meeting__") a street or district staff member
    sees: their own districts' as district staff, the districts of the streets they run as street staff
    (kept in their street scope: no query, no subquery)."""
    districts = p.districts_of(user)
    if p.is_street_staff(user):
        districts |= p.street_scope(user).managed_districts
    return Q(**{f"{prefix}level": Level.DISTRICT, f"{prefix}district_id__in": districts})


def _not_another_districts(user, queryset: QuerySet, prefix: str = "") -> QuerySet:
    """`queryset` (of a staff member overseeing every street) without the district meetings of districts
    they do not oversee: every street is not every district (a district may have no street yet)."""
    if user.is_superuser:
        return queryset
    return queryset.filter(~Q(**{f"{prefix}level": Level.DISTRICT}) | _seen_district_meetings(user, prefix))


class MeetingRules:
    """Street staff: their streets' meetings, and — read-only — the district meetings of their streets'
    districts (what the district decides of the items their streets forwarded). District staff: their
    streets' meetings (read-only) and their districts' own district-level meetings, which they run.
    Community staff: their communities' meetings and their street's. Liaisons: the meetings their units
    are invited to. Anyone: the meetings they are invited to."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.street_scope(user).every_street:
            return _not_another_districts(user, queryset)
        if not user.is_authenticated:
            return queryset.none()
        q = Q(invitations__unit_id__in=p.listed_units(user)) | Q(invitations__person=user)
        if p.is_community_staff(user):
            communities = p.communities_of(user)
            q |= Q(community_id__in=communities) | Q(level=Level.STREET, street__communities__in=communities)
        if p.is_street_staff(user) or p.is_district_staff(user):
            # A district meeting is its district's, whatever street a row may also name.
            q |= (Q(street_id__in=p.streets_of(user)) & ~Q(level=Level.DISTRICT)) | _seen_district_meetings(user)
        return queryset.filter(pk__in=queryset.model.objects.filter(q).values("pk"))

    def can_change(self, user, obj) -> bool:
        """A meeting (or a series): a district's are its district staff's (its streets' staff only read
        it), a community's its community's and street's staff's, a street's or sector branch's its street
        staff's."""
        if obj.level == Level.DISTRICT:
            return (p.is_district_staff(user) and p.sees_district(user, obj.district_id)) or bool(user.is_superuser)
        if obj.community_id is not None:
            return p.manages_community(user, obj.community_id)
        return p.is_street_staff(user) and p.manages_street(user, obj.street_id)

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user) or p.is_district_staff(user)

    def can_delete(self, user, obj) -> bool:
        return False  # cancelled, never deleted: the invitees were told it exists


def _staff_sees(user, meeting: JointMeeting) -> bool:
    # From the ids the meeting carries when they answer (no query); otherwise the rules' query.
    scope = p.street_scope(user)
    if meeting.level == Level.DISTRICT:
        return p.sees_district(user, meeting.district_id) or p.can_view(user, meeting)
    if scope.every_street or (meeting.street_id is not None and meeting.street_id in scope.streets):
        return True
    if p.sees_community(user, meeting.community_id):
        return True
    return p.can_view(user, meeting)


def can_read_minutes(user, meeting: JointMeeting) -> bool:
    """Ability "meetings.read_minutes" — the minutes, the attendance list (who was invited, who came) and
    the resolutions of a meeting: the staff who may see the meeting (they run it, held or not), and
    once it is held those who attended it (a unit of theirs, or they in person, marked attended). An
    invitee that did not attend sees the meeting, its agenda and attachments, not what was decided.
    Reads the invitations through `meeting.invitations.all()`, so a prefetch serves it."""
    if not user.is_authenticated:
        return False
    if p.is_staff_member(user):
        return _staff_sees(user, meeting)
    if meeting.status != JointMeeting.Status.HELD:
        return False
    units = p.units_of(user)
    return any(
        inv.status == Invitation.Status.ATTENDED and (inv.unit_id in units or inv.person_id == user.pk)
        for inv in meeting.invitations.all()
    )


def minutes_readable(user, queryset: QuerySet) -> QuerySet:
    """The meetings of `queryset` whose minutes `user` may read (`can_read_minutes` as a query)."""
    if p.street_scope(user).every_street:
        return _not_another_districts(user, queryset)
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
        if p.street_scope(user).every_street:
            return _not_another_districts(user, queryset, "meeting__" if hasattr(queryset.model, "meeting") else "")
        if not hasattr(queryset.model, "meeting"):  # series: their communities', streets' and districts'
            q = Q(pk__in=[])
            if p.is_community_staff(user):
                q |= Q(community_id__in=p.communities_of(user))
            if p.is_street_staff(user) or p.is_district_staff(user):
                q |= Q(street_id__in=p.streets_of(user)) | Q(district_id__in=p.districts_of(user))
            return queryset.filter(q)
        return queryset.filter(meeting__in=p.visible(user, JointMeeting).values("pk"))

    def can_change(self, user, obj) -> bool:
        meeting = getattr(obj, "meeting", None)
        if meeting is None:  # a series: the same answer as for its meetings
            return MEETING_RULES.can_change(user, obj)
        return MEETING_RULES.can_change(user, meeting)

    def can_add(self, user) -> bool:
        return MEETING_RULES.can_add(user)

    def can_delete(self, user, obj) -> bool:
        return self.can_change(user, obj)


class ResolutionRules:
    """Resolutions: seen with their meeting's minutes (`can_read_minutes`) and by the owner unit's
    liaisons, who write progress on them; staff create them and mark them done. A district meeting's (the
    items forwarded up to it among them) are seen by that district's staff, who decide them, and by the
    staff of its streets, read-only — as the meeting is (`MeetingRules`)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if p.street_scope(user).every_street:
            return _not_another_districts(user, queryset, "meeting__")
        if not user.is_authenticated:
            return queryset.none()
        readable = minutes_readable(user, JointMeeting.objects.all())
        return queryset.filter(Q(owner_id__in=p.units_of(user)) | Q(meeting__in=readable.values("pk")))

    def can_change(self, user, obj: Resolution) -> bool:
        return MEETING_RULES.can_change(user, obj.meeting)

    def can_add(self, user) -> bool:
        return MEETING_RULES.can_add(user)

    def can_delete(self, user, obj) -> bool:
        return False

    def can_report(self, user, obj: Resolution) -> bool:
        """Progress notes: the owner unit's liaisons and the meeting's staff."""
        return obj.owner_id in p.units_of(user) or self.can_change(user, obj)


def can_forward(user, resolution: Resolution) -> bool:
    """Ability "meetings.forward_resolution": the meeting's staff forward what their body cannot settle;
    a district meeting's resolutions have no body above."""
    return resolution.meeting.level != Level.DISTRICT and MEETING_RULES.can_change(user, resolution.meeting)


def can_decline_forwarded(user, resolution: Resolution) -> bool:
    """Ability "meetings.decline_forwarded": the higher meeting's staff, for items forwarded to it."""
    return resolution.forwarded_from_id is not None and MEETING_RULES.can_change(user, resolution.meeting)


MEETING_RULES = MeetingRules()
MEETING_CHILD_RULES = MeetingChildRules()
RESOLUTION_RULES = ResolutionRules()


class ReminderRules(p.StaffOnlyRules):
    """The ledger of reminders: street staff's, each their streets' (of a meeting, or of a resolution's
    meeting)."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if not p.is_street_staff(user):
            return queryset.none()
        if p.street_scope(user).every_street:
            return queryset
        streets = p.streets_of(user)
        return queryset.filter(Q(meeting__street_id__in=streets) | Q(resolution__meeting__street_id__in=streets))


REMINDER_RULES = ReminderRules()

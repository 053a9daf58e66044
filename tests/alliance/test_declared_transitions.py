"""The declared status moves (issue 9, finding 5): every workflow's allowed moves are one table beside its
status TextChoices (`Model.TRANSITIONS`); the services take sources and target from it and refuse with the
one message generated from it. Here every action of every table is tried, through its service, from every
status that is not one of its sources: each is refused with exactly that message and changes nothing.
Moves only the system makes (a need closing itself, claims settled when a project finishes) have no
service that takes a status from outside; they are tried through `alliance.workflow.move` itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone, translation

from alliance import permissions, workflow
from alliance.errors import TransitionNotAllowed
from demands import services as demand_services
from demands.models import Booking, Need, Resource
from meetings import services as meeting_services
from meetings.models import Invitation, JointMeeting, Resolution
from members import assessments as member_assessments
from members import services as member_services
from members.models import Assessment, MemberUnit
from projects import services as project_services
from projects.models import ProjectClaim, ServiceProject
from volunteers import services as volunteer_services
from volunteers.models import PartyMember, PostClaim

from ..demands.factories import NeedFactory, ResourceFactory, VenueFactory
from ..factories import CommunityFactory, MemberUnitFactory
from ..meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, PostFactory


def _system_move(action):
    def call(obj, cast):
        with transaction.atomic():
            return workflow.move(obj, action=action, reason="test")

    return call


def _need(status, cast, **fields):
    """A need at `status`; in someone's hands (a database constraint) it is unit_a's."""
    if status in (Need.Status.DISPATCHED, Need.Status.ACCEPTED, Need.Status.COMPLETED) and "claimed_by" not in fields:
        fields.setdefault("unit", cast["unit_a"])
    return NeedFactory(status=status, community=cast["community_x"], **fields)


def _booking(status, cast):
    """A booking of unit_a's venue, asked for by unit_b's liaison, at `status`."""
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    return Booking.objects.create(
        venue=VenueFactory(resource__unit=cast["unit_a"]),
        requester=cast["liaison_b"],
        start=start,
        end=start + timedelta(hours=1),
        purpose="党课",
        people=10,
        status=status,
    )


def _past_meeting(status, cast):
    start = timezone.now() - timedelta(days=2)
    return MeetingFactory(status=status, start=start, end=start + timedelta(hours=1))


# (model, action) -> (make an object at `status`, call the service as someone allowed to)
CASES = {
    (Need, "dispatch"): (
        lambda s, c: _need(s, c),
        lambda o, c: demand_services.need_dispatch(need=o, unit=c["unit_a"], actor=c["street_staff"]),
    ),
    (Need, "accept"): (
        lambda s, c: _need(s, c, unit=c["unit_a"]),
        lambda o, c: demand_services.need_accept(need=o, actor=c["liaison_a"]),
    ),
    (Need, "decline"): (
        lambda s, c: _need(s, c, unit=c["unit_a"]),
        lambda o, c: demand_services.need_decline(need=o, actor=c["liaison_a"], reason="人手不足"),
    ),
    (Need, "complete"): (
        lambda s, c: _need(s, c, unit=c["unit_a"]),
        lambda o, c: demand_services.need_complete(need=o, actor=c["liaison_a"], result="已修好"),
    ),
    (Need, "reject"): (
        lambda s, c: _need(s, c),
        lambda o, c: demand_services.need_reject(need=o, actor=c["street_staff"], reason="重复"),
    ),
    (Need, "take_wish"): (
        lambda s, c: _need(s, c, kind=Need.Kind.MICRO_WISH),
        lambda o, c: demand_services.need_take_on_wish(need=o, claimant=c["member"]),
    ),
    (Need, "complete_wish"): (
        lambda s, c: _need(s, c, kind=Need.Kind.MICRO_WISH, claimed_by=c["member"]),
        lambda o, c: demand_services.need_complete_wish(need=o, actor=c["member"], result="已送到"),
    ),
    (Need, "rate"): (
        lambda s, c: _need(s, c),
        lambda o, c: demand_services.need_rate(need=o, rating=5),
    ),
    (Need, "close"): (lambda s, c: _need(s, c), _system_move("close")),
    (Resource, "withdraw"): (
        lambda s, c: ResourceFactory(status=s, unit=c["unit_a"]),
        lambda o, c: demand_services.resource_withdraw(resource=o, actor=c["street_staff"]),
    ),
    (Resource, "restore"): (
        lambda s, c: ResourceFactory(status=s, unit=c["unit_a"]),
        lambda o, c: demand_services.resource_restore(resource=o, actor=c["street_staff"]),
    ),
    (Booking, "approve"): (
        lambda s, c: _booking(s, c),
        lambda o, c: demand_services.booking_approve(booking=o, actor=c["liaison_a"]),
    ),
    (Booking, "decline"): (
        lambda s, c: _booking(s, c),
        lambda o, c: demand_services.booking_decline(booking=o, actor=c["liaison_a"], reason="当天闭馆"),
    ),
    (Booking, "cancel"): (
        lambda s, c: _booking(s, c),
        lambda o, c: demand_services.booking_cancel(booking=o, actor=c["liaison_a"]),
    ),
    (ServiceProject, "open"): (
        lambda s, c: ProjectFactory(status=s),
        lambda o, c: project_services.project_open(project=o, actor=c["street_staff"]),
    ),
    (ServiceProject, "start"): (
        lambda s, c: ProjectFactory(status=s),
        lambda o, c: project_services.project_start(project=o, actor=c["street_staff"]),
    ),
    (ServiceProject, "finish"): (
        lambda s, c: ProjectFactory(status=s),
        lambda o, c: project_services.project_finish(project=o, actor=c["street_staff"]),
    ),
    (ProjectClaim, "withdraw"): (
        lambda s, c: ClaimFactory(status=s, unit=c["unit_a"]),
        lambda o, c: project_services.claim_withdraw(claim=o, actor=c["liaison_a"]),
    ),
    (ProjectClaim, "approve"): (
        lambda s, c: ClaimFactory(status=s, unit=c["unit_a"]),
        lambda o, c: project_services.claim_approve(claim=o, actor=c["street_staff"]),
    ),
    (ProjectClaim, "reject"): (
        lambda s, c: ClaimFactory(status=s, unit=c["unit_a"]),
        lambda o, c: project_services.claim_reject(claim=o, actor=c["street_staff"], reason="名额已满"),
    ),
    (ProjectClaim, "complete"): (lambda s, c: ClaimFactory(status=s, unit=c["unit_a"]), _system_move("complete")),
    (ProjectClaim, "lapse"): (lambda s, c: ClaimFactory(status=s, unit=c["unit_a"]), _system_move("lapse")),
    (JointMeeting, "reschedule"): (
        lambda s, c: MeetingFactory(status=s),
        lambda o, c: meeting_services.meeting_reschedule(
            meeting=o,
            actor=c["street_staff"],
            start=o.start + timedelta(days=1),
            end=o.end + timedelta(days=1),
            place="新地点",
        ),
    ),
    (JointMeeting, "cancel"): (
        lambda s, c: MeetingFactory(status=s),
        lambda o, c: meeting_services.meeting_cancel(meeting=o, actor=c["street_staff"], reason="改期"),
    ),
    (JointMeeting, "record_minutes"): (
        _past_meeting,
        lambda o, c: meeting_services.minutes_record(meeting=o, actor=c["street_staff"], minutes="会议纪要"),
    ),
    (Invitation, "confirm"): (
        lambda s, c: InvitationFactory(status=s, unit=c["unit_a"]),
        lambda o, c: meeting_services.attendance_set(
            meeting=o.meeting, unit=c["unit_a"], status=Invitation.Status.CONFIRMED, actor=c["liaison_a"]
        ),
    ),
    (Invitation, "decline"): (
        lambda s, c: InvitationFactory(status=s, unit=c["unit_a"]),
        lambda o, c: meeting_services.attendance_set(
            meeting=o.meeting, unit=c["unit_a"], status=Invitation.Status.DECLINED, actor=c["liaison_a"]
        ),
    ),
    (Resolution, "done"): (
        lambda s, c: ResolutionFactory(status=s),
        lambda o, c: meeting_services.resolution_done(resolution=o, actor=c["street_staff"]),
    ),
    (Resolution, "reopen"): (
        lambda s, c: ResolutionFactory(status=s),
        lambda o, c: meeting_services.resolution_reopen(resolution=o, actor=c["street_staff"]),
    ),
    # Forwarding up (issue 14): a community meeting's resolution goes to the street; an item forwarded from
    # below is declined; the higher body's answer is passed down by the system.
    (Resolution, "forward"): (
        lambda s, c: ResolutionFactory(status=s, meeting=MeetingFactory(level="community", community=c["community_x"])),
        lambda o, c: meeting_services.resolution_forward(resolution=o, actor=c["street_staff"]),
    ),
    (Resolution, "decline"): (
        lambda s, c: ResolutionFactory(status=s, forwarded_from=ResolutionFactory(status=Resolution.Status.FORWARDED)),
        lambda o, c: meeting_services.resolution_decline(resolution=o, actor=c["street_staff"], reason="不予受理"),
    ),
    (Resolution, "forward_done"): (lambda s, c: ResolutionFactory(status=s), _system_move("forward_done")),
    (Resolution, "forward_declined"): (lambda s, c: ResolutionFactory(status=s), _system_move("forward_declined")),
    (Resolution, "forward_reopened"): (lambda s, c: ResolutionFactory(status=s), _system_move("forward_reopened")),
    (MemberUnit, "approve"): (
        lambda s, c: MemberUnitFactory(status=s, community=c["community_x"]),
        lambda o, c: member_services.unit_approve(unit=o, actor=c["street_staff"]),
    ),
    (MemberUnit, "reject"): (
        lambda s, c: MemberUnitFactory(status=s, community=c["community_x"]),
        lambda o, c: member_services.unit_reject(unit=o, actor=c["street_staff"], reason="材料不全"),
    ),
    (MemberUnit, "withdraw"): (
        lambda s, c: MemberUnitFactory(status=s, community=c["community_x"]),
        lambda o, c: member_services.unit_withdraw(unit=o, actor=c["street_staff"]),
    ),
    (Assessment, "submit"): (
        lambda s, c: Assessment.objects.create(unit=c["unit_a"], year=2026, quarter=2, status=s),
        lambda o, c: member_assessments.assessment_submit(assessment=o, actor=c["street_staff"]),
    ),
    (Assessment, "approve"): (
        lambda s, c: Assessment.objects.create(unit=c["unit_a"], year=2026, quarter=2, status=s),
        lambda o, c: member_assessments.assessment_approve(assessment=o, actor=c["street_staff"]),
    ),
    (Assessment, "return"): (
        lambda s, c: Assessment.objects.create(unit=c["unit_a"], year=2026, quarter=2, status=s),
        lambda o, c: member_assessments.assessment_return(assessment=o, actor=c["street_staff"], reason="请核对"),
    ),
    (PartyMember, "verify"): (
        lambda s, c: PartyMemberFactory(status=s),
        lambda o, c: volunteer_services.member_verify(member=o, actor=c["street_staff"]),
    ),
    (PartyMember, "reject"): (
        lambda s, c: PartyMemberFactory(status=s),
        lambda o, c: volunteer_services.member_reject(member=o, actor=c["street_staff"], reason="不属实"),
    ),
    (PartyMember, "move_away"): (
        lambda s, c: PartyMemberFactory(status=s),
        lambda o, c: volunteer_services.member_move(member=o, actor=c["street_staff"], community=CommunityFactory()),
    ),
    (PostClaim, "leave"): (
        lambda s, c: PostClaim.objects.create(post=PostFactory(), member=PartyMemberFactory(), status=s),
        lambda o, c: volunteer_services.post_leave(claim=o, actor=c["street_staff"]),
    ),
}

TABLES = [(model, workflow.transitions_of(model)) for model in apps.get_models() if workflow.transitions_of(model)]
REFUSALS = [
    (model, t.action, status)
    for model, table in TABLES
    for t in table
    for status, _label in model._meta.get_field(table.status_field).flatchoices
    if status not in t.sources
]


def test_every_declared_action_is_tried_here():
    """Each action that some status may not start is tried (recording attendance starts from any)."""
    refusable = {(model, action) for model, action, _status in REFUSALS}
    assert sorted((m.__name__, a) for m, a in refusable) == sorted((m.__name__, a) for m, a in CASES)
    declared = {(m, t.action) for m, table in TABLES for t in table}
    assert declared - refusable == {(Invitation, "attended"), (Invitation, "absent")}


@pytest.mark.parametrize("model, action, status", REFUSALS, ids=[f"{m.__name__}.{a}-from-{s}" for m, a, s in REFUSALS])
def test_each_action_is_refused_from_each_status_outside_its_sources(model, action, status, cast, community_x, unit_a):
    everyone = {**cast, "community_x": community_x, "unit_a": unit_a}
    make, call = CASES[(model, action)]
    obj = make(status, everyone)
    with pytest.raises(TransitionNotAllowed) as refused:
        call(obj, everyone)
    table = model.TRANSITIONS
    assert refused.value.message == table.refusal(model, action, status)
    obj.refresh_from_db()
    assert getattr(obj, table.status_field) == status
    # Nor is it offered: no button or admin action reads a move that the table does not allow from here.
    assert action not in permissions.actions_allowed(everyone["street_staff"], obj)


def test_the_refusal_says_what_was_asked_what_it_needs_and_where_it_stands(street_staff, community_x):
    need = NeedFactory(status=Need.Status.CLOSED, community=community_x)
    with translation.override("en"), pytest.raises(TransitionNotAllowed) as refused:
        demand_services.need_reject(need=need, actor=street_staff, reason="重复")
    assert refused.value.message == (
        "Rejecting is possible only when the status is Submitted / Dispatched; it is Closed now."
    )
    with translation.override("zh-hans"), pytest.raises(TransitionNotAllowed) as refused:
        demand_services.need_reject(need=need, actor=street_staff, reason="重复")
    assert refused.value.message == "只有在“已提交 / 已派单”状态下才能驳回，当前状态为“已办结”。"


def test_actions_allowed_joins_the_table_with_the_abilities(cast, community_x, unit_a):
    need = NeedFactory(status=Need.Status.DISPATCHED, community=community_x, unit=unit_a)
    allowed = {who: permissions.actions_allowed(user, need) for who, user in cast.items()}
    assert allowed == {
        "anonymous": [],
        "liaison_a": ["accept", "decline"],
        "liaison_b": [],
        "community_x_staff": ["reject"],
        "community_y_staff": [],
        "street_staff": ["reject"],
        "member": [],
    }

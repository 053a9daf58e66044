"""The demo data tells one story per object: every seeded timeline reads forwards and ends by now.

Issue 13: need 22 showed 已完成 before 已派单 (it was dispatched and accepted in the future). The test seeds
the demo once and walks every timeline a screen shows — a need's events and dates, a claim from claimed to
decided to its activities and reviews, a meeting to its minutes, a resolution from the meeting through its
progress notes to done, a Party member from registration to verification to posts and service hours — and
lists every step that comes before the one it follows, so that one run names them all.
"""

from __future__ import annotations

import datetime
import io
import itertools

import pytest
from django.core.management import call_command
from django.utils import timezone

from demands.models import Need, NeedEvent
from meetings.models import JointMeeting, Resolution, ResolutionProgress
from projects.models import CommitmentReview, ProjectClaim, ServiceActivity
from volunteers.models import PartyMember, PostClaim, ServiceLog

# The order a need's events go in, one path per final status.
NEED_PATHS = {
    "submitted": ["submitted"],
    "rejected": ["submitted", "rejected"],
    "dispatched": ["submitted", "dispatched"],
    "accepted": ["submitted", "dispatched", "accepted"],
    "completed": ["submitted", "dispatched", "accepted", "completed"],
    "closed": ["submitted", "dispatched", "accepted", "completed", "closed"],
}
NEED_DATES = {
    "submitted": "submitted_at",
    "rejected": "rejected_at",
    "dispatched": "dispatched_at",
    "accepted": "accepted_at",
    "completed": "completed_at",
    "closed": "closed_at",
}


class Timeline:
    """Collects the steps out of order, each named by what and which object."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now
        self.today = timezone.localdate(now)
        self.problems: list[str] = []

    def in_order(self, what: str, *steps: tuple[str, datetime.datetime | datetime.date | None]) -> None:
        """Each step (name, time) no earlier than the one before it, and none after now; a step that did
        not happen (None) is left out. Dates compare with the local date of the times around them."""
        present = [(name, at) for name, at in steps if at is not None]
        for (before, earlier), (after, later) in itertools.pairwise(present):
            if _comparable(later, earlier) < _comparable(earlier, later):
                self.problems.append(f"{what}: {after} ({later}) before {before} ({earlier})")
        for name, at in present:
            if _comparable(at, self.now) > _comparable(self.now, at):
                self.problems.append(f"{what}: {name} ({at}) is in the future")


def _comparable(value, other):
    """A datetime compared with a date compares by its local date."""
    if isinstance(value, datetime.datetime) and not isinstance(other, datetime.datetime):
        return timezone.localdate(value)
    return value


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return Timeline(timezone.now())


def test_every_seeded_timeline_reads_forwards_and_ends_by_now(seeded):
    t = seeded
    _needs(t)
    _claims(t)
    _meetings(t)
    _resolutions(t)
    _members(t)
    assert t.problems == [], "\n".join(t.problems)


def _needs(t: Timeline) -> None:
    events: dict[int, list[NeedEvent]] = {}
    for event in NeedEvent.objects.order_by("at", "id"):
        events.setdefault(event.need_id, []).append(event)
    needs = list(Need.objects.all())
    assert len(needs) == 69  # every status, micro-wishes among them
    for need in needs:
        what = f"need {need.pk} ({need.status})"
        timeline = events.get(need.pk, [])
        # Read in time order, the events walk the need's path from the start: no step shown before its cause.
        assert [e.to_status for e in timeline] == NEED_PATHS[need.status], what
        t.in_order(what, *((e.to_status, e.at) for e in timeline))
        for event in timeline:
            recorded = getattr(need, NEED_DATES[event.to_status])
            if recorded != event.at:
                t.problems.append(f"{what}: {NEED_DATES[event.to_status]} {recorded} but the event says {event.at}")
        t.in_order(what, ("completed", need.completed_at), ("closed", need.closed_at), ("shown", need.showcased_at))


def _claims(t: Timeline) -> None:
    activities: dict[int, list[ServiceActivity]] = {}
    for activity in ServiceActivity.objects.all():
        activities.setdefault(activity.claim_id, []).append(activity)
    reviews: dict[int, list[CommitmentReview]] = {}
    for review in CommitmentReview.objects.all():
        reviews.setdefault(review.claim_id, []).append(review)
    claims = list(ProjectClaim.objects.select_related("project", "unit"))
    assert claims
    for claim in claims:
        what = f"claim {claim.pk} ({claim.status}) of project {claim.project_id}"
        t.in_order(what, ("unit joined", claim.unit.joined_on), ("claimed", claim.created_at))
        t.in_order(what, ("project starts", claim.project.starts_on), ("claimed", claim.created_at))
        t.in_order(what, ("claimed", claim.created_at), ("decided", claim.decided_at))
        for activity in activities.get(claim.pk, []):
            t.in_order(
                f"{what}, activity {activity.pk}",
                ("project starts", claim.project.starts_on),
                ("decided", claim.decided_at),
                ("held", activity.date),
            )
        for review in reviews.get(claim.pk, []):
            t.in_order(f"{what}, review {review.pk}", ("decided", claim.decided_at), ("reviewed", review.created_at))


def _meetings(t: Timeline) -> None:
    meetings = list(JointMeeting.objects.all())
    assert {m.status for m in meetings} == {"planned", "held", "cancelled"}
    for meeting in meetings:
        what = f"meeting {meeting.pk} ({meeting.status})"
        if meeting.start > meeting.end:
            t.problems.append(f"{what}: ends ({meeting.end}) before it starts ({meeting.start})")
        if meeting.status == JointMeeting.Status.HELD:
            t.in_order(
                what, ("started", meeting.start), ("ended", meeting.end), ("minutes", meeting.minutes_written_at)
            )
        elif meeting.minutes_written_at is not None:
            t.problems.append(f"{what}: minutes of a meeting not held")


def _resolutions(t: Timeline) -> None:
    notes: dict[int, list[ResolutionProgress]] = {}
    for note in ResolutionProgress.objects.order_by("at", "id"):
        notes.setdefault(note.resolution_id, []).append(note)
    resolutions = list(Resolution.objects.select_related("meeting"))
    assert {r.status for r in resolutions} == {"open", "done"}
    for resolution in resolutions:
        what = f"resolution {resolution.pk} ({resolution.status})"
        t.in_order(
            what,
            ("meeting ended", resolution.meeting.end),
            ("recorded", resolution.created_at),
            *((f"progress note {note.pk}", note.at) for note in notes.get(resolution.pk, [])),
            ("done", resolution.done_at),
        )


def _members(t: Timeline) -> None:
    members = {m.pk: m for m in PartyMember.objects.all()}
    assert {m.status for m in members.values()} == {"verified", "pending", "rejected", "ended"}
    for member in members.values():
        what = f"party member {member.pk} ({member.status})"
        t.in_order(what, ("registered", member.registered_on), ("verified", member.verified_at))
        if member.status == PartyMember.Status.VERIFIED and member.verified_at is None:
            t.problems.append(f"{what}: verified without a time")
    for claim in PostClaim.objects.select_related("post"):
        member = members[claim.member_id]
        what = f"post claim {claim.pk} of {member.pk}"
        t.in_order(what, ("post opened", claim.post.created_at), ("claimed", claim.claimed_at))
        t.in_order(what, ("verified", member.verified_at), ("claimed", claim.claimed_at), ("left", claim.left_at))
    claimed = {(c.member_id, c.post_id): c.claimed_at for c in PostClaim.objects.all()}
    for log in ServiceLog.objects.all():
        member = members[log.member_id]
        t.in_order(
            f"service log {log.pk} of {member.pk}",
            ("verified member", member.verified_at),
            ("claimed the post", claimed.get((log.member_id, log.post_id))),
            ("served", log.date),
            ("logged", log.created_at),
            ("hours verified", log.verified_at),
        )

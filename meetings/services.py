"""Every write of the meetings app, and the reminder scan.

Reminders go out exactly once: the scan runs every few minutes (beat), asks the database which reminders
are due and not yet recorded, and writes for each a `Reminder` row (unique per meeting or resolution,
recipient, kind, schedule version) together with its notification, in one transaction, a batch at a time.
A second scan finds nothing left to send; a concurrent one waits for the first and then finds nothing
either. The notification row is delivered after commit and swept by beat
if the broker or a worker was down; a meeting that moves or is cancelled withdraws the reminders that
have not gone out, and its new time gets reminders of its own (a new schedule version)."""

from __future__ import annotations

import calendar
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import history, notifications, permissions, public_figures
from alliance.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from alliance.locks import xact_lock
from alliance.workflow import move, refuse_other_fields, update, with_history
from members import selectors as member_selectors
from members.models import MemberUnit, Street

from . import selectors
from .models import (
    CalendarFeed,
    Invitation,
    JointMeeting,
    Level,
    MeetingSeries,
    Reminder,
    Resolution,
    ResolutionProgress,
)

M = JointMeeting.Status
I = Invitation.Status  # noqa: E741
R = Reminder.Kind
MEETING_FIELDS = (
    "level",
    "kind",
    "title",
    "start",
    "end",
    "place",
    "agenda",
    "street",
    "district",
    "community",
    "sector",
)
PLAN_AHEAD_MONTHS = 6


def _when(meeting: JointMeeting) -> dict[str, str]:
    start = timezone.localtime(meeting.start)
    return {"date": start.strftime("%Y-%m-%d"), "time": start.strftime("%H:%M"), "place": meeting.place}


# --- Meetings -------------------------------------------------------------------------------------


def meeting_place(*, meeting: JointMeeting | MeetingSeries, actor) -> JointMeeting | MeetingSeries:
    """Fill the street (or, for a district-level meeting, the district) a meeting or series belongs to —
    the scope its street's and district's staff see it in. A community's or sector branch's meeting is its
    community's or sector's street's; a street-level one is the street chosen, else the one street the actor
    runs (or the only street there is); a district-level one is the district chosen, else the actor's one
    district. Ambiguous: refused, with the choice to make."""
    if meeting.level == Level.DISTRICT:
        if meeting.community_id is not None or meeting.sector_id is not None:
            raise InvalidInput(_("A district meeting belongs to its district: name no community or sector branch."))
        meeting.street = None
        if meeting.district_id is None:
            districts = permissions.districts_of(actor)
            if len(districts) > 1:
                raise InvalidInput(_("Choose the district this meeting belongs to."))
            meeting.district_id = next(iter(districts), None)  # none: refused as not theirs
        return meeting
    meeting.district = None
    if meeting.community_id is not None:
        meeting.street_id = member_selectors.street_id_of_community(community_id=meeting.community_id)
    elif meeting.sector_id is not None:
        meeting.street_id = meeting.sector.street_id
    elif meeting.street_id is None:
        streets = permissions.managed_streets_of(actor)
        if len(streets) > 1:
            raise InvalidInput(_("Choose the street this meeting belongs to."))
        meeting.street_id = next(iter(streets), None)  # none: refused as not theirs
    return meeting


def _refused_place(meeting: JointMeeting) -> PermissionDenied:
    if meeting.level == Level.DISTRICT:
        return PermissionDenied(_("Only the staff of a district plan its district meetings."))
    return PermissionDenied(_("You may plan meetings only for the communities you work for."))


def meeting_create(*, actor, data: dict[str, Any], units=(), persons=()) -> JointMeeting:
    refuse_other_fields(data, MEETING_FIELDS)
    meeting = meeting_place(meeting=JointMeeting(**data, organiser=actor), actor=actor)
    if not permissions.can_add(actor, JointMeeting) or not permissions.can_change(actor, meeting):
        raise _refused_place(meeting)
    meeting.full_clean()
    with transaction.atomic():
        with_history(meeting, actor, "planned").save()
        invite(meeting=meeting, actor=actor, units=units, persons=persons)
        forwards_attach(meeting=meeting, actor=actor)
    return meeting


def invite(*, meeting: JointMeeting, actor, units=(), persons=()) -> list[Invitation]:
    """Invite units (their accounts answer for them) and persons; inviting twice changes nothing."""
    permissions.require_change(actor, meeting)
    created = []
    with transaction.atomic():
        for unit in units:
            invitation, new = Invitation.objects.get_or_create(meeting=meeting, unit=unit)
            created += [invitation] if new else []
        for person in persons:
            invitation, new = Invitation.objects.get_or_create(meeting=meeting, person=person)
            created += [invitation] if new else []
    return created


def meeting_update(*, meeting: JointMeeting, actor, data: dict[str, Any]) -> JointMeeting:
    """Edit what a meeting is about. Moving it in time or place is `meeting_reschedule` (which tells the
    invitees); this refuses to change start, end or place."""
    refuse_other_fields(data, set(MEETING_FIELDS) - {"start", "end", "place"})
    permissions.require_change(actor, meeting)
    if meeting.status == M.CANCELLED:
        raise TransitionNotAllowed(_("A cancelled meeting is not changed."))
    moved = JointMeeting(
        **{
            "level": meeting.level,
            "community_id": meeting.community_id,
            "sector_id": meeting.sector_id,
            "street_id": meeting.street_id,
            "district_id": meeting.district_id,
            **data,
        }
    )
    meeting_place(meeting=moved, actor=actor)
    if not permissions.can_change(actor, moved):
        if moved.level == Level.DISTRICT:
            raise _refused_place(moved)
        raise PermissionDenied(_("You may not move a meeting to a community you do not work for."))
    data = {**data, "street_id": moved.street_id, "district_id": moved.district_id}
    with transaction.atomic():
        return update(meeting, data=data, actor=actor)


def _withdraw_unsent_reminders(meeting: JointMeeting) -> int:
    ids = (
        Reminder.objects.filter(meeting=meeting, notification__isnull=False)
        .exclude(kind__in=[R.MEETING_MOVED, R.MEETING_CANCELLED])
        .values_list("notification_id", flat=True)
    )
    return notifications.cancel(ids)


def _notice(meeting: JointMeeting, kind: str, subject: str, body: str) -> int:
    """One notice per invitee, at once (the meeting is soon; the invitees must know before they set out),
    recorded like a reminder so a repeated call sends nothing more. A constant number of queries however
    many invitees: the callers hold the meeting's row lock, so no other notice of this version is written
    meanwhile; the unique constraint stays the backstop."""
    version = meeting.schedule_version
    told = set(
        Reminder.objects.filter(meeting=meeting, kind=kind, version=version).values_list("recipient_id", flat=True)
    )
    users = [user for user in selectors.invitees(meeting) if user.pk not in told]
    rows = notifications.notify_each(
        {"recipient": user, "subject": subject, "body": body, "kind": f"reminder:{kind}"} for user in users
    )
    Reminder.objects.bulk_create(
        Reminder(kind=kind, meeting=meeting, version=version, recipient=user, notification=row)
        for user, row in zip(users, rows, strict=True)
    )
    return len(users)


def meeting_reschedule(
    *, meeting: JointMeeting, actor, start: datetime, end: datetime, place: str | None = None
) -> JointMeeting:
    """Move a meeting: one notice to every invitee with the new date, time and place; the reminders of the
    old time that have not gone out are withdrawn, and the new time gets its own."""
    permissions.require_change(actor, meeting)
    if end <= start:
        raise InvalidInput(_("A meeting must end after it starts."))
    with transaction.atomic():
        current = JointMeeting.objects.select_for_update().get(pk=meeting.pk)
        meeting = move(
            current,
            action="reschedule",
            actor=actor,
            reason="moved",
            start=start,
            end=end,
            place=place or current.place,
            schedule_version=current.schedule_version + 1,
        )
        _withdraw_unsent_reminders(meeting)
        _notice(
            meeting,
            R.MEETING_MOVED,
            _("Meeting moved: %(title)s") % {"title": meeting.title},
            _("%(title)s has moved. It will now be held on %(date)s at %(time)s, at %(place)s.")
            % {"title": meeting.title, **_when(meeting)},
        )
    return meeting


def meeting_cancel(*, meeting: JointMeeting, actor, reason: str) -> JointMeeting:
    permissions.require_change(actor, meeting)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for cancelling the meeting."))
    with transaction.atomic():
        public_figures.changed()
        current = JointMeeting.objects.select_for_update().get(pk=meeting.pk)
        meeting = move(
            current,
            action="cancel",
            actor=actor,
            reason="cancelled",
            cancel_reason=reason[:300],
            # Calendars expect a cancellation to raise the event's SEQUENCE, like a move.
            schedule_version=current.schedule_version + 1,
        )
        _withdraw_unsent_reminders(meeting)
        forwards_rehome(meeting=meeting, actor=actor)
        _notice(
            meeting,
            R.MEETING_CANCELLED,
            _("Meeting cancelled: %(title)s") % {"title": meeting.title},
            _("%(title)s, planned for %(date)s at %(time)s at %(place)s, is cancelled: %(reason)s")
            % {"title": meeting.title, "reason": reason, **_when(meeting)},
        )
    return meeting


def minutes_record(*, meeting: JointMeeting, actor, minutes: str) -> JointMeeting:
    """Staff write the minutes after the meeting; a planned meeting that has begun becomes held."""
    permissions.require_change(actor, meeting)
    minutes = (minutes or "").strip()
    if not minutes:
        raise InvalidInput(_("The minutes are empty."))
    if meeting.start > timezone.now():
        raise TransitionNotAllowed(_("Minutes are written after the meeting has begun."))
    with transaction.atomic():
        public_figures.changed()
        meeting = move(
            meeting,
            action="record_minutes",
            actor=actor,
            reason="minutes",
            minutes=minutes,
            minutes_written_at=timezone.now(),
        )
    return meeting


# --- Invitations and attendance -------------------------------------------------------------------


# The declared move (Invitation.TRANSITIONS) that records each answer.
ATTENDANCE_ACTIONS = {I.CONFIRMED: "confirm", I.DECLINED: "decline", I.ATTENDED: "attended", I.ABSENT: "absent"}


def attendance_set(*, meeting: JointMeeting, unit: MemberUnit, status: str, actor) -> Invitation:
    """Liaisons answer for their unit before the meeting (confirmed / declined); staff record who came
    (attended / absent) once it has begun."""
    invitation = Invitation.objects.filter(meeting=meeting, unit=unit).first()
    if invitation is None or not permissions.can_view(actor, meeting):
        raise Http404
    staff = permissions.can_change(actor, meeting)
    liaison = permissions.has_ability(actor, "members.act_for_unit", unit)
    if status in (I.CONFIRMED, I.DECLINED):
        if not (liaison or staff):
            raise PermissionDenied(_("Only the unit's liaison answers its invitation."))
        if meeting.status != M.PLANNED or meeting.start <= timezone.now():
            raise TransitionNotAllowed(_("The meeting has begun or is over; the invitation can no longer be answered."))
    elif status in (I.ATTENDED, I.ABSENT):
        if not staff:
            raise PermissionDenied(_("Only the meeting's staff record attendance."))
        if meeting.status == M.CANCELLED or meeting.start > timezone.now():
            raise TransitionNotAllowed(_("Attendance is recorded once the meeting has begun."))
    else:
        raise InvalidInput(_("Unknown attendance status."))
    with transaction.atomic():
        return move(
            invitation,
            action=ATTENDANCE_ACTIONS[status],
            actor=actor,
            reason=status,
            responded_at=timezone.now(),
            responded_by=actor,
        )


# --- Resolutions ----------------------------------------------------------------------------------


def resolution_create(*, meeting: JointMeeting, actor, text: str, owner: MemberUnit, due_date: date) -> Resolution:
    permissions.require_change(actor, meeting)
    resolution = Resolution(meeting=meeting, text=(text or "").strip(), owner=owner, due_date=due_date)
    resolution.full_clean()
    with transaction.atomic():
        with_history(resolution, actor, "resolved").save()
    return resolution


def resolution_progress(*, resolution: Resolution, actor, text: str) -> ResolutionProgress:
    permissions.require_ability(
        actor,
        "meetings.report_on_resolution",
        resolution,
        _("Only the owner unit's liaison or the meeting's staff write progress."),
    )
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Please write what has been done."))
    note = ResolutionProgress(resolution=resolution, author=actor, text=text[:2000])
    note.save()
    return note


def resolution_done(*, resolution: Resolution, actor, result: str = "") -> Resolution:
    """Mark a resolution done, with what came of it. An item forwarded up passes its result back down to
    the resolution it came from (and that one's owner is told)."""
    permissions.require_change(actor, resolution)
    result = (result or "").strip()[:2000]
    with transaction.atomic():
        done = move(resolution, action="done", actor=actor, reason="done", done_at=timezone.now(), result=result)
        if done.forwarded_from_id:
            _answer_flows_back(item=done, actor=actor, done=True)
        return done


def resolution_reopen(*, resolution: Resolution, actor) -> Resolution:
    """A resolution marked done too early goes back to open (and is followed up, and reminded, again). An
    item forwarded up takes its original back to "forwarded": the answer it was given is withdrawn."""
    permissions.require_change(actor, resolution)
    with transaction.atomic():
        reopened = move(resolution, action="reopen", actor=actor, reason="reopened", done_at=None)
        origin_id = reopened.forwarded_from_id
        while origin_id:
            origin = Resolution.objects.get(pk=origin_id)
            if origin.status != Resolution.Status.DONE:
                break
            origin = move(origin, action="forward_reopened", actor=actor, reason="reopened above", done_at=None)
            origin_id = origin.forwarded_from_id
        return reopened


# --- Forwarding up (community → street → district) --------------------------------------------------
#
# A body that cannot settle a resolution forwards it to the body above: a community's (or a sector
# branch's) to its street's next coordination meeting, a street's (or the council's) to its district's
# next district-level meeting. The original becomes "forwarded" and records the body it went to; the
# higher body gets an item of its own (a resolution of its next planned meeting, `forwarded_from` the
# original). When that body has no meeting planned yet, the original waits on its agenda: the item is made
# as soon as a meeting of that body is planned (`forwards_attach`, called by `meeting_create` and
# `series_plan`). The higher body's answer — done with its result, or declined with its reason — flows
# back: the original becomes done with that result (and so on down a chain), or open again with the
# reason, to be settled below or forwarded again; its owner's accounts are told after commit.
#
# Double forwarding is refused under the original's row lock (`move` from "open" only); a unique
# constraint (one live item per original) is the backstop.

FORWARDED_DUE_DAYS = 30
# The body above each level of meeting: where its resolutions go when forwarded.
UPWARD = {"community": "street", "sector": "street", "street": "district", "council": "district"}


def _forward_target(resolution: Resolution) -> tuple[int | None, int | None]:
    """(street id, district id) of the body above the resolution's meeting: exactly one is set."""
    meeting = resolution.meeting
    above = UPWARD.get(meeting.level)
    if above is None:
        raise TransitionNotAllowed(_("A district meeting's resolutions have no higher body to go to."))
    street_id = selectors.street_id_of(meeting)
    if street_id is None:
        raise TransitionNotAllowed(_("This meeting belongs to no street; choose its street first."))
    if above == "street":
        return street_id, None
    district_id = Street.objects.filter(pk=street_id).values_list("district_id", flat=True).first()
    if district_id is None:
        raise TransitionNotAllowed(_("This street belongs to no district; there is no higher body to forward to."))
    return None, district_id


def _forwarded_item(original: Resolution, meeting: JointMeeting, actor) -> Resolution:
    """The higher body's item: the same text and owner, due a month after its meeting (its staff correct
    owner and date while it is open, as for any resolution)."""
    item = Resolution(
        meeting=meeting,
        text=original.text,
        owner_id=original.owner_id,
        due_date=timezone.localtime(meeting.start).date() + timedelta(days=FORWARDED_DUE_DAYS),
        forwarded_from=original,
    )
    with_history(item, actor, "forwarded up").save()
    return item


def resolution_forward(*, resolution: Resolution, actor, reason: str = "") -> Resolution:
    """Forward a resolution the meeting's body cannot settle to the body above (see above). `reason` says
    why it cannot be settled here; the higher body reads it with the item."""
    # The ability "meetings.forward_resolution" (buttons) is this: the meeting's staff, below the district.
    permissions.require_change(actor, resolution)
    street_id, district_id = _forward_target(resolution)
    with transaction.atomic():
        original = move(
            resolution,
            action="forward",
            actor=actor,
            reason="forwarded",
            forward_street_id=street_id,
            forward_district_id=district_id,
            forwarded_at=timezone.now(),
            forward_note=(reason or "").strip()[:300],
            decline_reason="",
        )
        meeting = selectors.next_meeting_above(street_id=street_id, district_id=district_id)
        if meeting is not None:
            _forwarded_item(original, meeting, actor)
    return original


def forwards_attach(*, meeting: JointMeeting, actor=None) -> int:
    """Give a newly planned street- or district-level meeting the resolutions waiting for its body."""
    if meeting.level not in ("street", "district") or meeting.status != M.PLANNED:
        return 0
    attached = 0
    with transaction.atomic():
        for original in selectors.forwards_waiting(meeting=meeting).select_for_update().order_by("pk"):
            _forwarded_item(original, meeting, actor or meeting.organiser)
            attached += 1
    return attached


def forwards_rehome(*, meeting: JointMeeting, actor) -> int:
    """The items forwarded to `meeting`, which is cancelled, are not stranded there: each open one goes to
    its body's next planned meeting if there is one (due a month after it, or later if it was already);
    otherwise it is taken off, and its original waits again for that body's next meeting, as it did before
    a meeting was chosen (`forwards_attach` gives it to the next one planned) — progress notes written on
    the item go with it to the original. The original's owner is told, and its timeline says so. Runs
    inside `meeting_cancel`'s transaction; returns the number of items moved or taken off."""
    items = list(
        Resolution.objects.select_for_update()
        .filter(meeting=meeting, forwarded_from__isnull=False, status=Resolution.Status.OPEN)
        .order_by("pk")
    )
    if not items:
        return 0
    if meeting.level == Level.DISTRICT:
        following = selectors.next_meeting_above(district_id=meeting.district_id)
    else:
        following = selectors.next_meeting_above(street_id=selectors.street_id_of(meeting))
    for item in items:
        original = Resolution.objects.select_related("meeting").get(pk=item.forwarded_from_id)
        if following is not None:
            due = timezone.localtime(following.start).date() + timedelta(days=FORWARDED_DUE_DAYS)
            update(
                item,
                data={"meeting": following, "due_date": max(item.due_date, due)},
                actor=actor,
                reason="moved: meeting cancelled",
            )
            note = _("%(meeting)s was cancelled; the item goes to %(next)s on %(date)s.") % {
                "meeting": meeting.title,
                "next": following.title,
                "date": timezone.localtime(following.start).strftime("%Y-%m-%d"),
            }
        elif item.forwards.exists():
            # Forwarded further and declined there, it has a history of its own above: kept, declined with
            # the reason, so that the original waits (a declined item is not a live one).
            move(item, action="decline", actor=actor, reason="meeting cancelled", decline_reason=_("Meeting cancelled"))
            note = _("%(meeting)s was cancelled; the item waits for the next meeting of the body above.") % {
                "meeting": meeting.title
            }
        else:
            ResolutionProgress.objects.filter(resolution=item).update(resolution=original)
            with_history(item, actor, "taken off: meeting cancelled").delete()
            note = _("%(meeting)s was cancelled; the item waits for the next meeting of the body above.") % {
                "meeting": meeting.title
            }
        ResolutionProgress.objects.create(resolution=original, author=actor, text=note[:2000])
        notifications.notify_each(
            {
                "recipient": user,
                "subject": _("A forwarded item's meeting was cancelled: %(text)s") % {"text": original.text[:40]},
                "body": _("%(text)s (decided at %(meeting)s): %(note)s")
                % {"text": original.text[:200], "meeting": original.meeting.title, "note": note},
                "url": reverse("portal:resolution_list"),
                "kind": f"resolution_rehomed:{original.pk}",
            }
            for user in selectors.owners(original)
        )
    return len(items)


def resolution_decline(*, resolution: Resolution, actor, reason: str) -> Resolution:
    """The higher body will not take on an item forwarded to it: with its reason, which goes back down to
    the original (open again, for the body below to settle or forward again)."""
    # The ability "meetings.decline_forwarded" (buttons) is this: the meeting's staff, items forwarded to it.
    permissions.require_change(actor, resolution)
    if resolution.forwarded_from_id is None:
        raise TransitionNotAllowed(_("Only items forwarded to this meeting from below can be declined."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for declining."))
    with transaction.atomic():
        declined = move(resolution, action="decline", actor=actor, reason="declined", decline_reason=reason[:300])
        _answer_flows_back(item=declined, actor=actor, done=False)
    return declined


def _answer_flows_back(*, item: Resolution, actor, done: bool) -> None:
    """Pass the higher body's answer down the chain of originals, each with a progress note (its timeline,
    read in the portal) and a message to its owner's accounts (rows now, delivered after commit)."""
    meeting_title = item.meeting.title
    origin_id = item.forwarded_from_id
    while origin_id:
        origin = Resolution.objects.select_related("meeting").get(pk=origin_id)
        if done:
            origin = move(
                origin,
                action="forward_done",
                actor=actor,
                reason="done above",
                done_at=item.done_at,
                result=item.result,
            )
            note = _("%(meeting)s settled it: %(result)s") % {
                "meeting": meeting_title,
                "result": item.result or _("done"),
            }
        else:
            origin = move(
                origin,
                action="forward_declined",
                actor=actor,
                reason="declined above",
                decline_reason=item.decline_reason,
            )
            note = _("%(meeting)s declined it: %(reason)s") % {"meeting": meeting_title, "reason": item.decline_reason}
        ResolutionProgress.objects.create(resolution=origin, author=actor, text=note[:2000])
        notifications.notify_each(
            {
                "recipient": user,
                "subject": _("The higher body answered: %(text)s") % {"text": origin.text[:40]},
                "body": _("%(text)s (decided at %(meeting)s): %(note)s")
                % {"text": origin.text[:200], "meeting": origin.meeting.title, "note": note},
                "url": reverse("portal:resolution_list"),
                "kind": f"resolution_answered:{origin.pk}",
            }
            for user in selectors.owners(origin)
        )
        # A declined item stops here: the original is open again below. A done one settles the chain.
        origin_id = origin.forwarded_from_id if done else None


RESOLUTION_FIELDS = ("text", "owner", "due_date")


def resolution_update(*, resolution: Resolution, actor, data: dict[str, Any]) -> Resolution:
    """The meeting's staff correct what was decided, who owns it or by when, while it is open."""
    refuse_other_fields(data, RESOLUTION_FIELDS)
    permissions.require_change(actor, resolution)
    if "text" in data:
        data = {**data, "text": (data["text"] or "").strip()}
    with transaction.atomic():
        locked = Resolution.objects.select_for_update().get(pk=resolution.pk)
        if locked.status != Resolution.Status.OPEN:
            raise TransitionNotAllowed(
                _("Only open resolutions can be changed; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        return update(locked, data=data, actor=actor, reason="updated")


# --- Series ---------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def series_plan(*, series: MeetingSeries, until: date | None = None) -> list[JointMeeting]:
    """Plan the series' occurrences up to `until` (six months ahead by default). Running it again plans
    nothing twice (unique series + occurrence); an occurrence changed by hand is left alone."""
    if not series.is_active:
        return []
    until = until or _add_months(timezone.localdate(), PLAN_AHEAD_MONTHS)
    step = 1 if series.recurrence == MeetingSeries.Recurrence.MONTHLY else 3
    first = series.starts_on.replace(day=1)
    planned = set(series.meetings.values_list("occurrence", flat=True))
    units = list(series.invited_units.all())
    created = []
    month = first
    while month <= until:
        day = month.replace(day=series.day_of_month)
        # Only occurrences still ahead: a month whose meeting day has passed is not planned after the fact.
        if month not in planned and day >= timezone.localdate():
            start = timezone.make_aware(datetime.combine(day, series.start_time))
            meeting = JointMeeting(
                series=series,
                occurrence=month,
                level=series.level,
                kind=series.kind,
                title=f"{series.title} {day.year}-{day.month:02d}",
                start=start,
                end=start + timedelta(minutes=series.duration_minutes),
                place=series.place,
                agenda=series.agenda,
                organiser=series.organiser,
                street=series.street,
                district=series.district,
                community=series.community,
                sector=series.sector,
            )
            try:
                with transaction.atomic():
                    meeting.save()
                    history.bulk_create(Invitation, [Invitation(meeting=meeting, unit=unit) for unit in units])
                    forwards_attach(meeting=meeting)
                created.append(meeting)
            except IntegrityError:
                pass  # planned by a concurrent run
        month = _add_months(month, step)
    return created


def series_plan_all() -> int:
    return sum(len(series_plan(series=s)) for s in MeetingSeries.objects.filter(is_active=True))


# --- Reminders ------------------------------------------------------------------------------------


# The scan: each kind of reminder, a batch at a time, in a constant number of queries per batch — the
# database returns the (subject, person) pairs still unsent (`selectors.*_reminders_unsent`, an anti-join
# against `Reminder`), the batch's notifications and ledger rows are written with one INSERT each. A pair
# sent once is never fetched again, so no scan retries an INSERT the unique constraint refuses. Scans that
# run at the same time (beat firing twice, a retried task) take turns on a transaction-scoped lock: the
# second then finds what the first recorded. The unique constraints stay as the backstop.

SCAN_BATCH = 500
# The key of PostgreSQL's transaction-scoped advisory lock the scans share (SQLite serialises writes).
SCAN_LOCK = 0x4D45_4554  # "MEET"


def _meeting_message(kind: str, meeting: JointMeeting) -> dict[str, str]:
    if kind == R.MEETING_24H:
        subject = _("Reminder: %(title)s tomorrow") % {"title": meeting.title}
    else:
        subject = _("Reminder: %(title)s in one hour") % {"title": meeting.title}
    body = _("%(title)s will be held on %(date)s at %(time)s, at %(place)s.") % {
        "title": meeting.title,
        **_when(meeting),
    }
    return {"subject": subject, "body": body, "url": reverse("portal:meeting_detail", args=[meeting.pk])}


def _minutes_message(kind: str, meeting: JointMeeting) -> dict[str, str]:
    return {
        "subject": _("Minutes missing: %(title)s") % {"title": meeting.title},
        "body": _("%(title)s was held on %(date)s at %(time)s, at %(place)s; its minutes have not been written yet.")
        % {"title": meeting.title, **_when(meeting)},
        "url": reverse("admin:meetings_jointmeeting_change", args=[meeting.pk]),
    }


def _resolution_message(kind: str, resolution: Resolution) -> dict[str, str]:
    return {
        "subject": _("Resolution due on %(date)s") % {"date": resolution.due_date.isoformat()},
        "body": _("%(text)s (decided at %(meeting)s) is due on %(date)s. Please write its progress in the portal.")
        % {
            "text": resolution.text[:200],
            "meeting": resolution.meeting.title,
            "date": resolution.due_date.isoformat(),
        },
        "url": reverse("portal:resolution_list"),
    }


def _scan(kind: str, due: QuerySet, unsent, message, *, digest: bool = False) -> int:
    """Send every reminder of `kind` for the `due` subjects (meetings or resolutions) not sent yet;
    `digest` holds those to staff accounts for the daily digest."""
    user_model = get_user_model()
    is_meeting = due.model is JointMeeting
    sent = 0
    while True:
        with transaction.atomic():
            xact_lock(SCAN_LOCK, kind)
            pairs = unsent(kind, due.values("pk"), limit=SCAN_BATCH)
            if not pairs:
                return sent
            subjects = due.in_bulk({subject_id for subject_id, _user in pairs})
            # The people as plain rows with their phone (one query, no model instances: a batch is 500).
            users = {
                person.pk: person
                for person in user_model.objects.filter(pk__in={user_id for _subject, user_id in pairs})
                .values_list("pk", "email", "is_staff", "profile__phone", named=True)
                .order_by()
            }
            texts = {pk: message(kind, subject) for pk, subject in subjects.items()}
            rows = notifications.notify_each(
                {
                    "recipient": users[user_id],
                    "phone": users[user_id].profile__phone or "",
                    "kind": f"reminder:{kind}",
                    "digest": digest,
                    **texts[subject_id],
                }
                for subject_id, user_id in pairs
            )
            Reminder.objects.bulk_create(
                Reminder(
                    kind=kind,
                    meeting_id=subject_id if is_meeting else None,
                    resolution_id=None if is_meeting else subject_id,
                    version=subjects[subject_id].schedule_version if is_meeting else 0,
                    recipient_id=user_id,
                    notification=row,
                )
                for (subject_id, user_id), row in zip(pairs, rows, strict=True)
            )
        sent += len(pairs)
        if len(pairs) < SCAN_BATCH:
            return sent


def reminders_send_due(*, now: datetime | None = None) -> int:
    """The periodic scan: every reminder that is due and not yet recorded is recorded and sent."""
    now = now or timezone.now()
    sent = 0
    # At once: the meeting is tomorrow or in an hour.
    for kind in (R.MEETING_24H, R.MEETING_1H):
        sent += _scan(kind, selectors.meetings_due(kind, now), selectors.meeting_reminders_unsent, _meeting_message)
    sent += _scan(
        R.MINUTES_MISSING,
        selectors.meetings_missing_minutes(now),
        selectors.organiser_reminders_unsent,
        _minutes_message,
        # Digest: minutes are late already, a day's wait changes nothing, and an organiser of many
        # meetings would otherwise get a message for each.
        digest=True,
    )
    # At once: the resolution's unit has days left (its accounts are not staff; the digest is for staff).
    for kind in (R.RESOLUTION_3D, R.RESOLUTION_DUE):
        sent += _scan(
            kind, selectors.resolutions_due(kind, now), selectors.resolution_reminders_unsent, _resolution_message
        )
    return sent


# --- Calendar feeds -------------------------------------------------------------------------------


def calendar_feed_for(*, user=None, unit: MemberUnit | None = None, actor) -> CalendarFeed:
    """The live feed of a user (their own) or a unit (its liaisons'); made on first ask."""
    if unit is not None and not permissions.has_ability(actor, "members.act_for_unit", unit):
        raise PermissionDenied(_("Only the unit's liaisons manage its calendar."))
    if user is not None and user != actor:
        raise PermissionDenied(_("Only you manage your calendar."))
    if (user is None) == (unit is None):
        raise InvalidInput(_("A calendar belongs to a person or to a unit."))
    feed = CalendarFeed.objects.filter(user=user, unit=unit, revoked_at__isnull=True).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed(user=user, unit=unit, token=secrets.token_urlsafe(32))
            with_history(feed, actor, "created").save()
            return feed
    except IntegrityError:  # made at the same moment by another request: one live address each
        return CalendarFeed.objects.get(user=user, unit=unit, revoked_at__isnull=True)


def calendar_feeds_revoke_for_unit(*, user, obj, actor) -> int:
    """A liaison leaves a unit (registered with `permissions.on_access_revoked`): the unit's address they
    knew stops working at once; the remaining liaisons get a new one on their next visit."""
    if obj._meta.label != "members.MemberUnit":
        return 0
    revoked = 0
    for feed in CalendarFeed.objects.select_for_update().filter(unit_id=obj.pk, revoked_at__isnull=True):
        feed.revoked_at = timezone.now()
        with_history(feed, actor, "liaison removed").save(update_fields=["revoked_at"])
        revoked += 1
    return revoked


def calendar_feed_renew(*, feed: CalendarFeed, actor) -> CalendarFeed:
    """Revoke the address (a leaked link stops working at once) and make a new one."""
    if feed.unit_id is not None and not permissions.has_ability(actor, "members.act_for_unit", feed.unit_id):
        raise PermissionDenied(_("Only the unit's liaisons manage its calendar."))
    if feed.user_id is not None and feed.user_id != actor.pk:
        raise PermissionDenied(_("Only you manage your calendar."))
    with transaction.atomic():
        if not CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            raise TransitionNotAllowed(_("This calendar address has been renewed already."))
        history.record_update(CalendarFeed, feed.pk, actor=actor, reason="revoked")
        renewed = CalendarFeed(user=feed.user, unit=feed.unit, token=secrets.token_urlsafe(32))
        with_history(renewed, actor, "renewed").save()
        return renewed

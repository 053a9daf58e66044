"""The minutes of a meeting as a workbook the office can file: the meeting and its minutes, who was
invited and whether they came, and what was resolved. Plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from alliance.exports import xlsx_response

from . import selectors
from .models import Invitation, JointMeeting, Resolution

Sheet = tuple[str, Sequence[str], Iterator[Sequence[object]]]


def organiser_name(meeting: JointMeeting) -> str:
    organiser = meeting.organiser
    return organiser.get_full_name() or organiser.get_username()


def invitee_name(invitation: Invitation) -> str:
    if invitation.unit is not None:
        return invitation.unit.name
    return invitation.person.get_full_name() or invitation.person.get_username()


def _meeting_rows(meeting: JointMeeting) -> Iterator[Sequence[object]]:
    yield _("Title"), meeting.title
    yield _("Level"), meeting.get_level_display()
    yield _("Kind"), meeting.get_kind_display()
    yield _("Start"), meeting.start
    yield _("End"), meeting.end
    yield _("Place"), meeting.place
    yield _("Organiser"), organiser_name(meeting)
    yield _("Status"), meeting.get_status_display()
    for number, item in enumerate(meeting.agenda_items, start=1):
        yield (_("Agenda") if number == 1 else ""), f"{number}. {item}"
    if meeting.minutes_written_at:
        yield _("Minutes written at"), meeting.minutes_written_at
    # One row per paragraph: a cell holds at most 32,767 characters, the minutes may be longer.
    for number, line in enumerate(meeting.minutes.splitlines() or [""]):
        yield (pgettext("meeting", "Minutes") if number == 0 else ""), line


def _attendance_rows(invitations: Sequence[Invitation]) -> Iterator[Sequence[object]]:
    for invitation in invitations:
        yield invitee_name(invitation), invitation.get_status_display(), invitation.responded_at


def _resolution_rows(resolutions: Sequence[Resolution]) -> Iterator[Sequence[object]]:
    overdue_before = selectors.overdue_before(timezone.localdate())
    for resolution in resolutions:
        overdue = resolution.status == Resolution.Status.OPEN and resolution.due_date < overdue_before
        yield (
            resolution.text,
            resolution.owner.name,
            resolution.due_date,
            resolution.get_status_display(),
            _("Yes") if overdue else _("No"),
        )


def minutes_sheets(
    *, meeting: JointMeeting, invitations: Sequence[Invitation], resolutions: Sequence[Resolution]
) -> list[Sheet]:
    return [
        (_("Meeting and minutes"), [_("Item"), _("Content")], _meeting_rows(meeting)),
        (_("Attendance"), [_("Unit"), _("Status"), _("Answered at")], _attendance_rows(invitations)),
        (
            _("Resolutions"),
            [_("Resolution"), _("Owner unit"), _("Due date"), _("Status"), _("Overdue")],
            _resolution_rows(resolutions),
        ),
    ]


def minutes_xlsx_response(
    *, meeting: JointMeeting, invitations: Sequence[Invitation], resolutions: Sequence[Resolution]
) -> HttpResponse:
    day = timezone.localtime(meeting.start).date().isoformat()
    title = meeting.title.replace("/", "-").replace("\\", "-")
    filename = _("Minutes %(date)s %(title)s.xlsx") % {"date": day, "title": title}
    return xlsx_response(filename, minutes_sheets(meeting=meeting, invitations=invitations, resolutions=resolutions))


def attendance_sheet(meetings: QuerySet[JointMeeting]) -> Sheet:
    """The staff list's attendance export: one row per invitation of the given meetings (already narrowed
    to what the user sees)."""
    header = [
        _("Meeting"),
        _("Start"),
        _("Level"),
        _("Community"),
        _("Invitee"),
        _("Attendance"),
        _("Answered at"),
    ]
    invitations = (
        Invitation.objects.filter(meeting__in=meetings.values("pk"))
        .select_related("meeting__community", "unit", "person")
        .order_by("meeting__start", "meeting_id", "id")
    )

    def rows():
        for invitation in invitations.iterator(chunk_size=500):
            meeting = invitation.meeting
            yield [
                meeting.title,
                meeting.start,
                meeting.get_level_display(),
                meeting.community.name if meeting.community_id else "",
                invitee_name(invitation),
                invitation.get_status_display(),
                invitation.responded_at,
            ]

    return _("Attendance"), header, rows()

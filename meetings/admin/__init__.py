"""Staff screens of the meetings app: joint meetings with their invitations, attendance, minutes,
resolutions and attachments; cancelling, moving and inviting; series planned ahead; resolutions followed
up until done (督办); the reminder ledger; attendance rates per unit and quarter.

Access through `alliance.permissions` (community staff plan and run their communities' meetings and see
the street's); every write through `meetings.services`, reads through `meetings.selectors`.

One module a concern: `common` (what the screens share: helpers, filters), `forms`, `inlines`, `meetings`
(the joint meeting's list and change form), `pages` (its extra pages: invite, cancel, reschedule, attendance
rates), `series`, `resolutions` (resolutions and the reminder ledger). Importing them registers the admins."""

from __future__ import annotations

from .meetings import JointMeetingAdmin
from .resolutions import ReminderAdmin, ResolutionAdmin
from .series import MeetingSeriesAdmin

__all__ = ["JointMeetingAdmin", "MeetingSeriesAdmin", "ReminderAdmin", "ResolutionAdmin"]

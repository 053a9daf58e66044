"""Staff screens of the volunteers app: registrations (双报到) and their verification, volunteer posts with
their claims, teams, service hours with their verification and totals, the quarterly service card
(一单一表一卡) per work unit, and the Excel import of members.

Access through `alliance.permissions` (community staff work on the members registered in their
communities); writes through `volunteers.services`, reads through `volunteers.selectors`.

One module a concern: `common` (helpers, filters), `inlines`, `forms`, `members` (registrations), `posts`
(posts and teams), `service_logs` (hours, totals, the service card). Importing them registers the admins."""

from __future__ import annotations

from .members import PartyMemberAdmin
from .points import PointsEntryAdmin, PointsRuleAdmin
from .posts import VolunteerPostAdmin, VolunteerTeamAdmin
from .service_logs import ServiceLogAdmin

__all__ = [
    "PartyMemberAdmin",
    "PointsEntryAdmin",
    "PointsRuleAdmin",
    "ServiceLogAdmin",
    "VolunteerPostAdmin",
    "VolunteerTeamAdmin",
]

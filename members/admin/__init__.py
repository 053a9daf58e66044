"""Staff screens of the members app. Access through `alliance.permissions`; writes through services.

One module a concern: `organisation` (streets, communities, sectors, grids, member units with their
agreements, council seats and memberships, community staff), `reports` (the quarterly report) and
`assessments` (the units' quarterly assessment). Importing them registers the admins."""

from __future__ import annotations

from .assessments import AssessmentAdmin, AssessmentSchemeAdmin
from .notices import NoticeAdmin
from .organisation import (
    AgreementAdmin,
    CommunityAdmin,
    CommunityStaffAdmin,
    CouncilSeatAdmin,
    CouncilTermAdmin,
    DistrictStaffAdmin,
    GridAdmin,
    MemberUnitAdmin,
    SectorAdmin,
    StreetAdmin,
    StreetStaffAdmin,
    UnitMembershipAdmin,
)
from .reports import QuarterlyReportAdmin

__all__ = [
    "AgreementAdmin",
    "AssessmentAdmin",
    "AssessmentSchemeAdmin",
    "CommunityAdmin",
    "CommunityStaffAdmin",
    "CouncilSeatAdmin",
    "CouncilTermAdmin",
    "DistrictStaffAdmin",
    "GridAdmin",
    "MemberUnitAdmin",
    "NoticeAdmin",
    "QuarterlyReportAdmin",
    "SectorAdmin",
    "StreetAdmin",
    "StreetStaffAdmin",
    "UnitMembershipAdmin",
]

"""What the projects' admin screens share: status shorthands, the label of a street-wide project, the claims
activities and reviews may belong to, and the list filters."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.admin import ScopedChoiceFilter
from members import selectors as member_selectors

from .. import selectors
from ..models import ProjectClaim, ServiceProject

P = ServiceProject.Status
C = ProjectClaim.Status
DECIDED = (C.APPROVED, C.COMPLETED)  # the claims under which activities are recorded and reviewed


def street_wide() -> str:
    return gettext("Street-wide")


def limit_to_decided_claims(db_field, request, kwargs: dict) -> None:
    """Activities and reviews belong to approved claims the user may see (the service checks again)."""
    if db_field.name == "claim":
        kwargs["queryset"] = selectors.claims_visible_to(user=request.user).filter(status__in=DECIDED)


class CommunityFilter(ScopedChoiceFilter):
    """The project's community, with "street-wide" for projects of no one community. Staff are offered
    the communities they work for (all of them, for street staff)."""

    title = _("community")
    parameter_name = "community"
    field = "community"
    none_label = _("Street-wide")

    def choices_for(self, request):
        return member_selectors.communities_administered_by(user=request.user).order_by("sort_order", "id")


class ProjectCommunityFilter(CommunityFilter):
    field = "project__community"


class ActivityCommunityFilter(CommunityFilter):
    field = "claim__project__community"

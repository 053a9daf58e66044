"""What the volunteers' admin screens share: the status shorthand, the communities and units staff choose
among, the guard against filter values too large for the database, and the list filters."""

from __future__ import annotations

from django.contrib import admin
from django.db import DataError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import ScopedChoiceFilter
from members import selectors as member_selectors

from .. import selectors
from ..imports import MemberUnit
from ..models import PartyMember

M = PartyMember.Status


def administered(request):
    return member_selectors.communities_administered_by(user=request.user)


def in_my_communities(request, queryset, field: str):
    """Community staff manage the rows of the communities they work for (posts and teams are readable by
    every signed-in user, for members to choose from; the staff screens show one's own)."""
    seen = permissions.seen_communities(request.user)
    if seen is None:
        return queryset
    return queryset.filter(**{f"{field}__in": list(seen)})


def active_units():
    return MemberUnit.objects.exclude(status="rejected").order_by("name", "id")


class ChangelistGuard:
    """Django's admin lets any local field be filtered by a URL parameter (`?work_unit=<n>`); a number too
    large for the database fails only when the count runs (OverflowError on SQLite, DataError on
    PostgreSQL), outside the admin's own checks. It is answered like any bad filter: the list with ?e=1."""

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except (OverflowError, DataError):
            return HttpResponseRedirect(request.path + "?e=1")


class CommunityFilter(ScopedChoiceFilter):
    """The communities the user works for (all of them, for street staff)."""

    title = _("community")
    parameter_name = "community"
    field = "community"

    def choices_for(self, request):
        return administered(request).order_by("sort_order", "id")


class ResidenceCommunityFilter(CommunityFilter):
    title = _("residence community")
    parameter_name = "residence_community"  # the field's own name, so a raw lookup on it cannot bypass this
    field = "residence_community"


class LogCommunityFilter(CommunityFilter):
    field = "member__residence_community"


class QuarterActivityFilter(admin.SimpleListFilter):
    """Who the community may want to call: verified members with no verified hours this quarter."""

    title = _("this quarter")
    parameter_name = "quarter_activity"

    def lookups(self, request, model_admin):
        return [("inactive", _("Not active this quarter"))]

    def queryset(self, request, queryset):
        if self.value() == "inactive":
            return queryset.filter(pk__in=selectors.inactive_this_quarter().values("pk"))
        return queryset

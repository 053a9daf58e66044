"""Volunteer posts and teams: reference data of a community or a unit, saved by `community_record_save`."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.workflow import with_history

from .. import selectors
from ..models import PartyMember, VolunteerPost, VolunteerTeam
from .common import ChangelistGuard, CommunityFilter, active_units, administered, in_my_communities
from .forms import PostForm, TeamForm
from .inlines import PostClaimInline


def community_record_save(*, obj, actor, fields: list[str]):
    """Save a post or a team as staff edit it. The volunteers services have no writes for posts and teams
    (a `post_save`/`team_save` service would be their place), so the same checks run here: the permission layer on the
    stored row and on the changed one, the model's validation, and who changed it. Only the edited fields
    are written: `places_taken` belongs to the claim services, which change it under the post's lock."""
    model = type(obj)
    if obj.pk is None and not permissions.can_add(actor, model):
        raise PermissionDenied
    if not permissions.can_change(actor, obj):
        raise PermissionDenied(gettext("You may manage only the posts and teams of the communities you work for."))
    with transaction.atomic():
        if obj.pk is not None:
            stored = model.objects.select_for_update().get(pk=obj.pk)
            if not permissions.can_change(actor, stored):
                raise PermissionDenied(
                    gettext("You may manage only the posts and teams of the communities you work for.")
                )
            if isinstance(obj, VolunteerPost):
                obj.places_taken = stored.places_taken
        obj.full_clean()
        if obj.pk is None:
            with_history(obj, actor, "created").save()
        else:
            with_history(obj, actor).save(update_fields=fields)
    return obj


@admin.register(VolunteerPost)
class VolunteerPostAdmin(ChangelistGuard, ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    form = PostForm
    list_display = ["title", "community", "schedule", "places", "places_taken", "places_left_display", "status"]
    list_select_related = ["community"]
    list_filter = ["status", CommunityFilter]
    search_fields = ["title", "description"]
    search_help_text = _("Title or description")
    list_per_page = 50

    def get_queryset(self, request):
        return in_my_communities(request, selectors.posts_visible_to(user=request.user), "community")

    def get_inlines(self, request, obj):
        return [PostClaimInline] if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        return ["places_taken", "places_left_display"] if obj is not None else []

    def get_fields(self, request, obj=None):
        fields = ["community", "title", "description", "schedule", "places", "status"]
        return [*fields, "places_taken", "places_left_display"] if obj is not None else fields

    @admin.display(description=_("places left"), ordering="places_left_db")
    def places_left_display(self, obj: VolunteerPost) -> int:
        return getattr(obj, "places_left_db", obj.places_left)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = administered(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: VolunteerPost, form, change: bool) -> None:
        self.save_through(request, community_record_save, obj=obj, fields=list(PostForm.Meta.fields))


@admin.register(VolunteerTeam)
class VolunteerTeamAdmin(ChangelistGuard, ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    form = TeamForm
    list_display = ["name", "community", "unit", "leader", "member_count"]
    list_select_related = ["community", "unit", "leader"]
    list_filter = [CommunityFilter]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        teams = in_my_communities(request, selectors.teams_visible_to(user=request.user), "community")
        return teams.annotate(member_count=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: VolunteerTeam) -> int:
        return obj.member_count

    def get_fields(self, request, obj=None):
        # The members to choose from are those of the team's community (or unit): known once it is saved.
        return ["name", "community", "unit"] if obj is None else ["name", "community", "unit", "members", "leader"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._volunteer_team = obj  # for the member choices below (per request, not on the shared admin)
        return super().get_form(request, obj, change, **kwargs)

    def _members_to_choose(self, request):
        team = getattr(request, "_volunteer_team", None)
        members = PartyMember.objects.filter(status__in=PartyMember.ACTIVE).select_related("residence_community")
        if team is not None and team.community_id:
            return members.filter(residence_community_id=team.community_id)
        if team is not None and team.unit_id:
            return in_my_communities(request, members.filter(work_unit_id=team.unit_id), "residence_community")
        return in_my_communities(request, members, "residence_community")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = self._members_to_choose(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = administered(request)
        if db_field.name == "unit":
            kwargs["queryset"] = active_units()
        if db_field.name == "leader":
            kwargs["queryset"] = self._members_to_choose(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: VolunteerTeam, form, change: bool) -> None:
        fields = [f for f in ("name", "community", "unit", "leader") if f in form.cleaned_data]
        self.save_through(request, community_record_save, obj=obj, fields=fields)

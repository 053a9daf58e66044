"""Staff screens of the volunteers app: registrations (双报到) and their verification, volunteer posts with
their claims, teams, service hours with their verification and totals, the quarterly service card
(一单一表一卡) per work unit, and the Excel import of members.

Access through `alliance.permissions` (community staff work on the members registered in their
communities); writes through `volunteers.services`, reads through `volunteers.selectors`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DataError, transaction
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from alliance import permissions
from alliance.admin import ReadOnlyInline, ScopedAdminMixin, ScopedChoiceFilter, totals_row_label
from alliance.exports import xlsx_response
from alliance.imports import ImportAdminMixin
from alliance.masking import mask_phone
from alliance.periods import Quarter
from alliance.workflow import with_history
from members import selectors as member_selectors

from . import exports, selectors, services
from .imports import MemberImporter, MemberUnit
from .models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam
from .services import STAFF_FIELDS, member_staff_update

M = PartyMember.Status


def _administered(request):
    return member_selectors.communities_administered_by(user=request.user)


def _in_my_communities(request, queryset, field: str):
    """Community staff manage the rows of the communities they work for (posts and teams are readable by
    every signed-in user, for members to choose from; the staff screens show one's own)."""
    if permissions.is_street_staff(request.user):
        return queryset
    return queryset.filter(**{f"{field}__in": list(permissions.communities_of(request.user))})


def _units():
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


# --- Filters ----------------------------------------------------------------------------------------


class CommunityFilter(ScopedChoiceFilter):
    """The communities the user works for (all of them, for street staff)."""

    title = _("community")
    parameter_name = "community"
    field = "community"

    def choices_for(self, request):
        return _administered(request).order_by("sort_order", "id")


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


# --- Inlines ----------------------------------------------------------------------------------------


class MemberClaimInline(ReadOnlyInline):
    model = PostClaim
    fields = ["post", "status", "claimed_at", "left_at"]
    readonly_fields = fields
    verbose_name_plural = _("posts held")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("post")


class PostClaimInline(ReadOnlyInline):
    model = PostClaim
    fields = ["member", "status", "claimed_at", "left_at"]
    readonly_fields = fields
    verbose_name_plural = _("claims")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")


# --- Registrations ----------------------------------------------------------------------------------


class MemberForm(forms.ModelForm):
    class Meta:
        model = PartyMember
        fields = list(services.MEMBER_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if (
            "work_unit" in self.fields
            and not cleaned.get("work_unit")
            and not cleaned.get("work_unit_name", "").strip()
        ):
            self.add_error(
                "work_unit", gettext("Choose the member unit, or write the name of a unit that has not joined.")
            )
        return cleaned


@admin.register(PartyMember)
class PartyMemberAdmin(ChangelistGuard, ImportAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    importer_class = MemberImporter
    form = MemberForm
    list_display = ["name", "phone_display", "work_unit_display", "residence_community", "status", "registered_on"]
    list_select_related = ["work_unit", "residence_community"]
    list_filter = [
        "status",
        ResidenceCommunityFilter,
        ("work_unit", admin.RelatedOnlyFieldListFilter),
        QuarterActivityFilter,
    ]
    search_fields = ["name", "phone"]
    search_help_text = _("Name or mobile phone")
    list_per_page = 50
    actions = ["verify", "reject", "export_import_layout"]

    def get_queryset(self, request):
        queryset = selectors.members_visible_to(user=request.user)
        # The phone in full for whom the permission layer lets see it (the member's community staff, the
        # member), masked for the rest — decided in SQL, so the list costs no query per row.
        if permissions.is_street_staff(request.user):
            shown = Value(True)
        else:
            shown = Case(
                When(
                    Q(residence_community_id__in=list(permissions.communities_of(request.user))) | Q(user=request.user),
                    then=True,
                ),
                default=False,
                output_field=BooleanField(),
            )
        return queryset.annotate(phone_shown=shown)

    def get_export_queryset(self, request, queryset):
        # The import layout carries the phone in full: only the rows whose phone this user may see leave
        # (a community's staff who is also a unit's liaison sees that unit's members, masked, in the list).
        return queryset.filter(phone_shown=True)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # ended or rejected, never deleted: the hours served stay on record

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status not in PartyMember.ACTIVE:
            return False  # rejected and ended registrations are history
        return super().has_change_permission(request, obj)

    def get_inlines(self, request, obj):
        return [MemberClaimInline] if obj is not None else []

    # --- Columns ---

    @admin.display(description=_("mobile phone"), ordering="phone")
    def phone_display(self, obj: PartyMember) -> str:
        return obj.phone if getattr(obj, "phone_shown", False) else mask_phone(obj.phone)

    @admin.display(description=_("work unit"), ordering="work_unit__name")
    def work_unit_display(self, obj: PartyMember) -> str:
        return obj.work_unit_label or "—"

    # --- The form ---

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(services.MEMBER_FIELDS)
        return [
            "name",
            "phone_display",
            "work_unit",
            "work_unit_name",
            "party_branch",
            "residence_community",
            "skills",
            "status",
            "reject_reason",
            "registered_on",
            "verified_at",
            "user",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = set(STAFF_FIELDS) if self.has_change_permission(request, obj) else set()
        return [f for f in self.get_fields(request, obj) if f not in editable]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        communities = list(_administered(request)[:2])
        if len(communities) == 1:
            initial.setdefault("residence_community", communities[0].pk)
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "residence_community":
            kwargs["queryset"] = _administered(request)
        if db_field.name == "work_unit":
            # Members work anywhere in the district, not only in the communities the staff work for.
            kwargs["queryset"] = _units()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: PartyMember, form, change: bool) -> None:
        if change:
            data = {n: form.cleaned_data[n] for n in form.changed_data if n in STAFF_FIELDS}
            if data:
                self.save_through(request, member_staff_update, member=obj, data=data)
            return
        data = {n: form.cleaned_data[n] for n in services.MEMBER_FIELDS if n in form.cleaned_data}
        created = self.save_through(request, services.member_register, data=data)
        if created is not None:
            obj.pk = created.pk

    # --- Actions ---

    @admin.action(description=_("Verify the selected registrations"))
    def verify(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.member_verify,
                member=member,
                success=gettext("%(name)s is verified.") % {"name": member.name},
            )
            for member in queryset.filter(status=M.PENDING)
        )
        if not done:
            messages.warning(request, gettext("None of the selected registrations is waiting for verification."))

    @admin.action(description=_("Reject the selected registrations"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=M.PENDING),
            service=services.member_reject,
            object_kwarg="member",
            success=lambda member: gettext("The registration of %(name)s is rejected.") % {"name": member.name},
            none_done=gettext("None of the selected registrations is waiting for verification."),
            title=gettext("Reject registrations"),
            intro=gettext("These registrations will be rejected; the members are told the reason."),
            empty=gettext("None of the selected registrations is waiting for verification."),
            describe=lambda member: f"{member.name} · {member.residence_community.name} · {member.work_unit_label}",
        )


# --- Posts and teams --------------------------------------------------------------------------------


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


class PostForm(forms.ModelForm):
    class Meta:
        model = VolunteerPost
        fields = ["community", "title", "description", "schedule", "places", "status"]

    def clean_places(self):
        places = self.cleaned_data["places"]
        if self.instance.pk is not None and places is not None and places < self.instance.places_taken:
            raise forms.ValidationError(
                gettext("%(taken)d places are taken; the post cannot have fewer places.")
                % {"taken": self.instance.places_taken}
            )
        return places


@admin.register(VolunteerPost)
class VolunteerPostAdmin(ChangelistGuard, ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    form = PostForm
    list_display = ["title", "community", "schedule", "places", "places_taken", "places_left_display", "status"]
    list_select_related = ["community"]
    list_filter = ["status", CommunityFilter]
    search_fields = ["title", "description"]
    search_help_text = _("Title or description")
    list_per_page = 50

    def get_queryset(self, request):
        return _in_my_communities(request, selectors.posts_visible_to(user=request.user), "community")

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
            kwargs["queryset"] = _administered(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: VolunteerPost, form, change: bool) -> None:
        self.save_through(request, community_record_save, obj=obj, fields=list(PostForm.Meta.fields))


class TeamForm(forms.ModelForm):
    class Meta:
        model = VolunteerTeam
        fields = ["name", "community", "unit", "members", "leader"]

    def clean(self):
        cleaned = super().clean()
        community, unit = cleaned.get("community"), cleaned.get("unit")
        if community is None and unit is None:
            self.add_error("community", gettext("A team belongs to a community or to a unit."))
        members = cleaned.get("members")
        if community is not None and members is not None:
            strangers = [m.name for m in members if m.residence_community_id != community.pk]
            if strangers:
                self.add_error(
                    "members",
                    gettext("These members are not registered in %(community)s: %(names)s")
                    % {"community": community.name, "names": ", ".join(strangers)},
                )
        leader = cleaned.get("leader")
        if leader is not None and members is not None and leader not in members:
            self.add_error("leader", gettext("The leader must be one of the team's members."))
        return cleaned


@admin.register(VolunteerTeam)
class VolunteerTeamAdmin(ChangelistGuard, ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    form = TeamForm
    list_display = ["name", "community", "unit", "leader", "member_count"]
    list_select_related = ["community", "unit", "leader"]
    list_filter = [CommunityFilter]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        teams = _in_my_communities(request, selectors.teams_visible_to(user=request.user), "community")
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
            return _in_my_communities(request, members.filter(work_unit_id=team.unit_id), "residence_community")
        return _in_my_communities(request, members, "residence_community")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = self._members_to_choose(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = _administered(request)
        if db_field.name == "unit":
            kwargs["queryset"] = _units()
        if db_field.name == "leader":
            kwargs["queryset"] = self._members_to_choose(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: VolunteerTeam, form, change: bool) -> None:
        fields = [f for f in ("name", "community", "unit", "leader") if f in form.cleaned_data]
        self.save_through(request, community_record_save, obj=obj, fields=fields)


# --- Service hours ----------------------------------------------------------------------------------


class LogForm(forms.ModelForm):
    class Meta:
        model = ServiceLog
        fields = ["member", *services.LOG_FIELDS]


TOTAL_GROUPS = [
    ("community", _("Per community")),
    ("work_unit", _("Per work unit")),
    ("team", _("Per team")),
    ("quarter", _("Per quarter")),
    ("member", _("Per member")),
]


class ServiceCardForm(forms.Form):
    work_unit = forms.ModelChoiceField(label=_("Work unit"), queryset=MemberUnit.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("Quarter"), choices=[(q, q) for q in range(1, 5)], coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_unit"].queryset = _units()


@admin.register(ServiceLog)
class ServiceLogAdmin(ChangelistGuard, ScopedAdminMixin, SimpleHistoryAdmin):
    """Hours served. Members log them in the portal, staff may log them on a member's behalf; the member's
    community staff verify them. Only verified hours count in the totals and on the service card."""

    staff_roles = "community"
    form = LogForm
    change_list_template = "admin/volunteers/servicelog/change_list.html"
    list_display = ["date", "member", "member_community", "hours", "description", "verified", "logged_by"]
    list_select_related = ["member__residence_community", "logged_by"]
    list_filter = ["verified", "date", LogCommunityFilter]
    search_fields = ["member__name", "description"]
    search_help_text = _("Member or what was done")
    date_hierarchy = "date"
    list_per_page = 50
    autocomplete_fields = ["member", "post"]
    raw_id_fields = ["wish", "activity"]
    actions = ["verify"]

    def get_queryset(self, request):
        return selectors.logs_visible_to(user=request.user).select_related("logged_by")

    def has_change_permission(self, request, obj=None) -> bool:
        # Logged once, through the service; there is no service that changes logged hours.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        fields = ["member", *services.LOG_FIELDS]
        return fields if obj is None else [*fields, "logged_by", "verified", "verified_by", "verified_at"]

    def get_changeform_initial_data(self, request):
        return {"date": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "wish":
            # Given here: the needs screen's ordering uses annotations of its own queryset.
            kwargs["queryset"] = db_field.related_model._default_manager.filter(kind="micro_wish")
        if db_field.name == "activity":
            kwargs["queryset"] = db_field.related_model._default_manager.all()
        if db_field.name == "member":
            kwargs["queryset"] = selectors.members_visible_to(user=request.user).filter(status=M.VERIFIED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("community"), ordering="member__residence_community__name")
    def member_community(self, obj: ServiceLog) -> str:
        return obj.member.residence_community.name

    def save_model(self, request, obj: ServiceLog, form, change: bool) -> None:
        if change:
            return
        created = self.save_through(
            request,
            services.log_hours,
            member=form.cleaned_data["member"],
            data={n: form.cleaned_data[n] for n in services.LOG_FIELDS if n in form.cleaned_data},
        )
        if created is not None:
            obj.pk = created.pk

    @admin.action(description=_("Verify the selected hours"))
    def verify(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.log_verify,
                log=log,
                success=gettext("%(hours)s hours of %(name)s on %(date)s are verified.")
                % {"hours": log.hours, "name": log.member.name, "date": log.date.isoformat()},
            )
            for log in queryset.filter(verified=False)
        )
        if not done:
            messages.warning(request, gettext("None of the selected hours is waiting for verification."))

    # --- Totals and the service card ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("totals/", self.admin_site.admin_view(self.totals_view), name="{}_{}_totals".format(*info)),
            path(
                "service-card/",
                self.admin_site.admin_view(self.service_card_view),
                name="{}_{}_service_card".format(*info),
            ),
            *super().get_urls(),
        ]

    def totals_view(self, request: HttpRequest) -> HttpResponse:
        """Verified hours of the logs the list shows with the same filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:volunteers_servicelog_changelist")
        try:
            logs = self.get_changelist_instance(request).get_queryset(request)
        except (IncorrectLookupParameters, OverflowError, DataError):
            return HttpResponseRedirect(changelist_url + "?e=1")
        groups = []
        for key, label in TOTAL_GROUPS:
            rows = selectors.hours_totals(by=key, logs=logs)
            for row in rows:
                row["label"] = totals_row_label(key, row)
            groups.append({"key": key, "label": label, "rows": rows})
        # Every log has exactly one residence community, so the community rows (summed in SQL) add up to
        # the total without another pass over the logs.
        overall = {
            "hours": sum((row["hours"] for row in groups[0]["rows"]), start=0),
            "services": sum(row["services"] for row in groups[0]["rows"]),
        }
        query = request.GET.urlencode()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Totals of verified service hours"),
            "opts": self.opts,
            "groups": groups,
            "overall": overall,
            "filtered": bool(query),
            "changelist_url": changelist_url + (f"?{query}" if query else ""),
        }
        return TemplateResponse(request, "admin/volunteers/servicelog/totals.html", context)

    def service_card_view(self, request: HttpRequest) -> HttpResponse:
        """一单一表一卡 per work unit and quarter, as a workbook for the unit (no phone numbers)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        current = Quarter.current()
        form = ServiceCardForm(request.GET or None, initial={"year": current.year, "quarter": current.quarter})
        if form.is_bound and form.is_valid():
            unit = form.cleaned_data["work_unit"]
            year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
            scope = None if permissions.is_street_staff(request.user) else permissions.communities_of(request.user)
            sheet = exports.service_card_rows(work_unit=unit, year=year, quarter=quarter, community_ids=scope)
            filename = gettext("service-card-%(unit)s-%(year)d-Q%(quarter)d.xlsx") % {
                "unit": unit.name,
                "year": year,
                "quarter": quarter,
            }
            return xlsx_response(filename, [sheet])
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Quarterly service card per work unit"),
            "opts": self.opts,
            "form": form,
            "changelist_url": reverse("admin:volunteers_servicelog_changelist"),
        }
        return TemplateResponse(request, "admin/volunteers/servicelog/service_card.html", context)

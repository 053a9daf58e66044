"""Staff screens of the demands app: the needs queue, the dispatch screen, resources.

Access through `alliance.permissions` (community staff see and act on their communities' needs only);
every write through `demands.services`, reads through `demands.selectors`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions, workflow
from alliance.admin import HistoryAdmin, ReadOnlyInline, ScopedAdminMixin, ScopedChoiceFilter, TabularInline
from alliance.admin.base import local_date, period_filter, truncated
from alliance.errors import DomainError
from alliance.exports import export_later
from members import selectors as member_selectors
from members.models import MemberUnit

from . import exports, matching, selectors, services
from .forms import DispatchForm, NeedEditForm, NeedEntryForm
from .models import Booking, Need, NeedEvent, NeedPhoto, NeedSlaFlag, Resource, Venue, VenueClosure

S = Need.Status


class OverdueFilter(admin.SimpleListFilter):
    title = _("service level")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.overdue_q())
        if self.value() == "no":
            return queryset.exclude(selectors.overdue_q())
        return queryset


class SlaFlagFilter(admin.SimpleListFilter):
    """Needs on which the service-level scan raised a flag (and told the staff), even if moved on since."""

    title = _("overdue flag raised")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return NeedSlaFlag.Stage.choices

    def queryset(self, request, queryset):
        if self.value() in NeedSlaFlag.Stage.values:
            # One flag per need and stage (a unique constraint): the join cannot repeat a need.
            return queryset.filter(sla_flags__stage=self.value())
        return queryset


class DeclinedFilter(admin.SimpleListFilter):
    """Needs back in the queue because a unit declined them: the workbench's "declined back" link."""

    title = _("declined back")
    parameter_name = "declined"

    def lookups(self, request, model_admin):
        return [("yes", _("Declined back"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.declined_back_q())
        return queryset


class CommunityFilter(ScopedChoiceFilter):
    """The communities the user works for (all of them, for street staff). Not Django's related-only
    filter: that reads the distinct communities of the whole table on every request. The parameter keeps
    the related filter's name, so links made for it still work."""

    title = _("community")
    parameter_name = "community__id__exact"
    field = "community"

    def choices_for(self, request):
        return member_selectors.communities_administered_by(user=request.user).order_by("sort_order", "id")


class UnitCommunityFilter(CommunityFilter):
    parameter_name = "unit__community__id__exact"
    field = "unit__community"


class NeedEventInline(ReadOnlyInline):
    model = NeedEvent
    fields = ["at", "actor", "from_status", "to_status", "note"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class NeedPhotoInline(ReadOnlyInline):
    model = NeedPhoto
    fields = ["preview", "uploaded_at"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def preview(self, obj: NeedPhoto) -> str:
        if not obj.image:
            return "—"
        return format_html(
            '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="" style="max-height:120px"></a>',
            obj.image.url,
        )


WORKFLOW_FIELDS = [
    "channel",
    "unit",
    "resource",
    "created_by",
    "submitted_at",
    "dispatched_at",
    "accepted_at",
    "completed_at",
    "closed_at",
    "rejected_at",
    "reject_reason",
]
RESULT_FIELDS = ["result", "rating", "rating_comment", "showcased_at"]


def _choices(form: DispatchForm, suggestions: list[matching.Suggestion]) -> list[dict]:
    """Each suggestion with the value of its radio button, checked again when the form comes back."""
    chosen = form["target"].value()
    rows = []
    for s in suggestions:
        value = f"resource:{s.resource_id}" if s.kind == "resource" else f"unit:{s.unit_id}"
        rows.append({"s": s, "value": value, "checked": value == chosen})
    return rows


# A column of the list (list_display_links names the same object).
NEED_TITLE = truncated("title", 12, _("title"))


@admin.register(Need)
class NeedAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    change_form_template = "admin/demands/need/change_form.html"
    # What a street office sorts the queue by at a glance; the channel and the kind are filters. Titles
    # and unit names are cut (full text on hover) so the list fits a 1366 px laptop beside its filters.
    list_display = [
        "overdue_marker",
        NEED_TITLE,
        "status",
        "category",
        "community",
        truncated("unit__name", 8, _("unit"), ordering="unit__name"),
        "submitted_on",
    ]
    list_display_links = [NEED_TITLE]
    # Explicit: with nothing here the changelist would call select_related() bare, which follows only
    # non-null keys and would fetch each row's unit separately.
    list_select_related = ["category", "community", "unit"]
    list_filter = [
        "status",
        OverdueFilter,
        SlaFlagFilter,
        DeclinedFilter,
        "kind",
        "category",
        CommunityFilter,
        "channel",
        period_filter("submitted_at"),
    ]
    search_fields = ["title", "=tracking_code", "=contact_phone"]
    search_help_text = _("Title, tracking code or the resident's phone number")
    list_per_page = 50
    actions = ["reject", "showcase", "unshowcase", "export_xlsx"]

    # --- The queue ---------------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.need_queue(user=request.user)

    def get_ordering(self, request):
        # The changelist puts the admin's ordering before the queryset's; without this the model's
        # "newest first" would win over the work queue's "overdue first, then oldest" (on an index).
        return list(selectors.QUEUE_ORDER)

    def get_search_results(self, request, queryset, search_term):
        # Codes are read aloud and written down as ABCD-EFGH-JKMNP: accept them with dashes and in lower case.
        code = selectors.normalise_tracking_code(search_term)
        if len(code) == services.TRACKING_LENGTH and search_term.strip().upper() != code:
            search_term = code
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("overdue"), ordering="is_overdue")
    def overdue_marker(self, obj: Need) -> str:
        if getattr(obj, "is_overdue", False):
            # A class, not a style attribute: the policy allows no inline style.
            return format_html('<strong class="overdue">⚠ {}</strong>', gettext("Overdue"))
        return ""

    @admin.display(description=_("submitted at"), ordering="submitted_at")
    def submitted_on(self, obj: Need) -> str:
        return local_date(obj.submitted_at)

    @admin.display(description=_("tracking code"))
    def tracking_code_display(self, obj: Need) -> str:
        return services.format_tracking_code(obj.tracking_code) if obj.tracking_code else "—"

    # --- Add (on a resident's behalf) and change (what the need says) -------------------------------

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # closed or rejected, never deleted: the timeline is the record

    def get_inlines(self, request, obj):
        return [NeedEventInline, NeedPhotoInline] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        contact = (_("Resident"), {"fields": ["contact_name", "contact_phone", "address"]})
        if obj is not None and obj.anonymised_at is not None:
            contact = (_("Resident"), {"fields": ["anonymised_at"]})
        if obj is None:
            return [(None, {"fields": ["channel", "kind", "community", "category", "title", "description"]}), contact]
        first = ["tracking_code_display", "status", "kind", "community", "category", "title"]
        if obj.filed_by_unit_id is not None:  # a unit's own need: staff see which unit asked
            first.insert(3, "filed_by_unit")
        return [
            (None, {"fields": first}),
            (None, {"fields": ["description"]}),
            contact,
            (_("Workflow"), {"fields": WORKFLOW_FIELDS}),
            (_("Result"), {"fields": RESULT_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.anonymised_at is not None:  # kept for the figures; need_update refuses changes
            return [f for fieldset in self.get_fieldsets(request, obj) for f in fieldset[1]["fields"]]
        return ["tracking_code_display", "status", "filed_by_unit", "community", *WORKFLOW_FIELDS, *RESULT_FIELDS]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = NeedEntryForm
            form_class = super().get_form(request, obj, change, **kwargs)
            communities = member_selectors.communities_administered_by(user=request.user)

            class EntryForm(form_class):
                def __init__(self, *args, **kw) -> None:
                    super().__init__(*args, communities=communities, **kw)

            return EntryForm
        kwargs["form"] = NeedEditForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj: Need, form, change: bool) -> None:
        if change:
            data = form.changed_need_data()
            if data:
                self.save_through(request, services.need_update, need=obj, data=data)
            return
        created = self.save_through(
            request, services.need_submit, data=form.need_data(), channel=form.cleaned_data["channel"]
        )
        if created is not None:
            obj.pk, obj.tracking_code = created.pk, created.tracking_code

    def response_add(self, request, obj, post_url_continue=None):
        if not getattr(request, "_service_refused", False):
            messages.info(
                request,
                gettext("Tracking code for the resident: %(code)s")
                % {"code": services.format_tracking_code(obj.tracking_code)},
            )
        return super().response_add(request, obj, post_url_continue)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["can_dispatch"] = "dispatch" in permissions.actions_allowed(request.user, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    # --- The dispatch screen ----------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/dispatch/",
                self.admin_site.admin_view(self.dispatch_view),
                name="{}_{}_dispatch".format(*info),
            ),
            *super().get_urls(),
        ]

    def dispatch_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        need = selectors.need_detail(user=request.user, pk=pk)  # 404 when the user may not see it
        if not self.has_change_permission(request, need):
            raise PermissionDenied
        change_url = reverse("admin:demands_need_change", args=[need.pk])
        if "dispatch" not in permissions.actions_allowed(request.user, need):
            messages.warning(request, workflow.refusal_for(need, "dispatch"))
            return HttpResponseRedirect(change_url)
        suggestions = matching.suggest(need)
        form = DispatchForm(request.POST or None, suggestions=suggestions)
        if request.method == "POST" and form.is_valid():
            unit: MemberUnit = form.cleaned_data["unit"]
            try:
                services.need_dispatch(
                    need=need,
                    unit=unit,
                    resource=form.cleaned_data["resource"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                )
            except (DomainError, PermissionDenied) as exc:
                messages.error(request, str(getattr(exc, "message", "")) or gettext("You may not do this."))
            else:
                messages.success(request, gettext("The need has been dispatched to %(unit)s.") % {"unit": unit.name})
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dispatch: %(title)s") % {"title": need.title},
            "opts": self.opts,
            "original": need,
            "need": need,
            "tracking_code": services.format_tracking_code(need.tracking_code),
            "unit_suggestions": _choices(form, [s for s in suggestions if s.kind == "unit"]),
            "resource_suggestions": _choices(form, [s for s in suggestions if s.kind == "resource"]),
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/demands/need/dispatch.html", context)

    # --- Actions ----------------------------------------------------------------------------------

    @admin.action(description=_("Reject the selected needs"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status__in=[S.SUBMITTED, S.DISPATCHED]),
            service=services.need_reject,
            object_kwarg="need",
            success=lambda need: gettext("%(need)s rejected.") % {"need": need.title},
            none_done=gettext("None of the selected needs can be rejected."),
            title=gettext("Reject needs"),
            intro=gettext(
                "These needs will be rejected; this is final, and the resident is told the reason by text message."
            ),
            empty=gettext("None of the selected needs can be rejected: only needs not yet accepted can."),
            describe=lambda need: f"{need.title} · {need.community.name} · {need.get_status_display()}",
        )

    @admin.action(description=_("Show the selected needs on the public showcase"))
    def showcase(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.need_showcase,
                need=need,
                success=gettext("%(need)s is on the showcase.") % {"need": need.title},
            )
            for need in queryset.filter(status__in=selectors.DONE, showcased_at__isnull=True)
        )
        if not done:
            messages.warning(request, gettext("Only completed needs not yet on the showcase can be showcased."))

    @admin.action(description=_("Remove the selected needs from the showcase"))
    def unshowcase(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.need_unshowcase,
                need=need,
                success=gettext("%(need)s removed from the showcase.") % {"need": need.title},
            )
            for need in queryset.filter(showcased_at__isnull=False)
        )
        if not done:
            messages.warning(request, gettext("None of the selected needs is on the showcase."))

    @admin.action(description=_("Export the selected needs to Excel (with contact data, for internal use)"))
    def export_xlsx(self, request, queryset):
        return export_later(
            request,
            exports.EXPORT_NEEDS,
            queryset=queryset,
            filename="{}-{}.xlsx".format(gettext("needs"), timezone.localdate().isoformat()),
            label=gettext("Export of needs (with contact data)"),
            model_admin=self,
        )


@admin.register(Resource)
class ResourceAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    list_display = ["title", "unit", "category", "kind", "capacity", "is_free", "status", "created_at"]
    list_filter = ["status", "kind", "category", "is_free", UnitCommunityFilter]
    list_select_related = ["unit", "category"]
    search_fields = ["title", "description", "unit__name"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["status", "created_at", "updated_at"]
    actions = ["withdraw", "restore"]

    def get_queryset(self, request):
        return selectors.resources_visible_to(user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # withdrawn, not deleted: needs may point at it

    def get_fields(self, request, obj=None):
        fields = list(services.RESOURCE_FIELDS)
        return fields if obj is None else [*fields, "status", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["status", "created_at", "updated_at"] if obj is None else ["unit", "status", "created_at", "updated_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            # Community staff publish for their communities' units only (the service checks it too).
            kwargs["queryset"] = member_selectors.units_visible_to(user=request.user).filter(
                status=MemberUnit.Status.ACTIVE
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Resource, form, change: bool) -> None:
        if change:
            data = {n: form.cleaned_data[n] for n in form.changed_data if n in services.RESOURCE_FIELDS and n != "unit"}
            if data:
                self.save_through(request, services.resource_update, resource=obj, data=data)
            return
        data = {n: form.cleaned_data[n] for n in services.RESOURCE_FIELDS if n in form.cleaned_data}
        created = self.save_through(request, services.resource_create, data=data)
        if created is not None:
            obj.pk = created.pk

    @admin.action(description=_("Withdraw the selected resources"))
    def withdraw(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.resource_withdraw,
                resource=resource,
                success=gettext("%(resource)s withdrawn.") % {"resource": resource.title},
            )
            for resource in queryset.filter(status=Resource.Status.ACTIVE)
        )
        if not done:
            messages.warning(request, gettext("None of the selected resources is available."))

    @admin.action(description=_("Make the selected resources available again"))
    def restore(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.resource_restore,
                resource=resource,
                success=gettext("%(resource)s is available again.") % {"resource": resource.title},
            )
            for resource in queryset.filter(status=Resource.Status.WITHDRAWN)
        )
        if not done:
            messages.warning(request, gettext("None of the selected resources is withdrawn."))


# --- Shared venues ---------------------------------------------------------------------------------


class VenueClosureInline(TabularInline):
    # Closed days are plain rows of the venue, changed with it under the same permission (the venue's).
    model = VenueClosure
    extra = 0
    fields = ["date", "note"]


@admin.register(Venue)
class VenueAdmin(ScopedAdminMixin, HistoryAdmin):
    """Opening hours, opening days and closed days of venue resources. A venue resource a unit publishes in
    the portal starts with the default hours (demands.services._venue_of); its liaisons change them in the
    portal (/portal/venues/<id>/hours/), staff here — through the same services and rule (VenueRules)."""

    staff_roles = "community"
    list_display = ["__str__", "unit", "opens_at", "closes_at", "weekdays", "is_public"]
    list_select_related = ["resource__unit"]
    search_fields = ["resource__title", "resource__unit__name"]
    autocomplete_fields = ["resource"]
    inlines = [VenueClosureInline]

    def get_queryset(self, request):
        return selectors.venues_visible_to(user=request.user)

    @admin.display(description=_("unit"), ordering="resource__unit__name")
    def unit(self, obj: Venue) -> str:
        return obj.resource.unit.name

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bookings point at it; withdraw the resource instead

    def save_model(self, request, obj: Venue, form, change: bool) -> None:
        self.save_through(request, services.venue_save, venue=obj)

    def save_formset(self, request, form, formset, change: bool) -> None:
        """A closed day added (or moved to another date) goes through the portal's service, which refuses a
        day a pending or approved booking holds; a removed day or a changed note cannot strand a booking."""
        if formset.model is not VenueClosure or getattr(request, "_service_refused", False):
            super().save_formset(request, form, formset, change)
            return
        venue = form.instance
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        added = []
        for obj in formset.new_objects:
            if self.save_through(request, services.venue_closure_add, venue=venue, date=obj.date, note=obj.note):
                added.append(obj)
        moved = []
        for obj, fields in formset.changed_objects:
            if "date" not in fields:
                obj.save()
                moved.append((obj, fields))
                continue
            # The new date is added through the service first; the old row goes only if it was.
            if self.save_through(request, services.venue_closure_add, venue=venue, date=obj.date, note=obj.note):
                VenueClosure.objects.filter(pk=obj.pk).delete()
                moved.append((obj, fields))
        formset.new_objects, formset.changed_objects = added, moved


@admin.register(Booking)
class BookingAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    list_display = ["venue", "start", "end", "people", "purpose", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["venue__resource"]
    search_fields = ["venue__resource__title", "purpose"]
    readonly_fields = [f.name for f in Booking._meta.fields]
    actions = ["approve", "decline", "cancel"]

    def get_queryset(self, request):
        return selectors.bookings_visible_to(user=request.user)

    def has_add_permission(self, request) -> bool:
        return False  # asked for in the portal or the API, where the rules are checked

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Approve the selected bookings"))
    def approve(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.booking_approve,
                booking=booking,
                success=gettext("%(booking)s approved.") % {"booking": booking},
            )
            for booking in queryset.filter(status=Booking.Status.PENDING)
        )
        if not done:
            messages.warning(request, gettext("None of the selected bookings was approved."))

    @admin.action(description=_("Decline the selected bookings"))
    def decline(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=Booking.Status.PENDING),
            service=services.booking_decline,
            object_kwarg="booking",
            success=lambda booking: gettext("%(booking)s declined.") % {"booking": booking},
            none_done=gettext("None of the selected bookings can be declined."),
            title=gettext("Decline bookings"),
            intro=gettext("These bookings will be declined; whoever asked is told the reason."),
            empty=gettext("None of the selected bookings can be declined: only those waiting for approval can."),
            describe=lambda booking: f"{booking} · {booking.purpose} · {booking.get_status_display()}",
        )

    @admin.action(description=_("Cancel the selected bookings"))
    def cancel(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.booking_cancel,
                booking=booking,
                success=gettext("%(booking)s cancelled.") % {"booking": booking},
            )
            for booking in queryset.filter(status__in=[Booking.Status.PENDING, Booking.Status.APPROVED])
        )
        if not done:
            messages.warning(request, gettext("None of the selected bookings can be cancelled."))

"""The street's organisation: streets, communities, sectors and grids; member units with their agreements,
council seats and memberships; who works for which community."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin, TabularInline, scoped_filter
from alliance.admin.base import period_filter, truncated
from alliance.exports import export_later
from alliance.imports import ImportAdminMixin

from .. import exports, selectors, services
from ..imports import UnitImporter
from ..models import (
    Agreement,
    Community,
    CommunityStaff,
    CouncilSeat,
    CouncilTerm,
    District,
    DistrictStaff,
    Grid,
    MemberUnit,
    Sector,
    Street,
    StreetStaff,
    UnitMembership,
)
from .accounts import CHANGE_FORM_TEMPLATE, AccountField, account_add_view


class CommunityScopedForm(forms.ModelForm):
    """Community staff choose only among their own communities."""

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if request is not None and "community" in self.fields:
            # Street staff their streets' communities, community staff their own (ids from the scopes).
            self.fields["community"].queryset = selectors.communities_administered_by(user=request.user)


@admin.register(District)
class DistrictAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return permissions.visible(request.user, District.objects.all())


@admin.register(Street)
class StreetAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["name", "district", "alliance_name", "community_count", "unit_count"]
    list_select_related = ["district"]
    search_fields = ["name", "alliance_name"]

    def get_queryset(self, request):
        return permissions.visible(request.user, selectors.streets())

    @admin.display(description=_("communities"), ordering="community_count")
    def community_count(self, obj: Street) -> int:
        return obj.community_count

    @admin.display(description=_("active member units"), ordering="unit_count")
    def unit_count(self, obj: Street) -> int:
        return obj.unit_count


class GridInline(TabularInline):
    model = Grid
    extra = 0


@admin.register(Community)
class CommunityAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["name", "street", "sort_order", "address"]
    list_filter = [scoped_filter("street")]
    search_fields = ["name", "address"]
    list_select_related = ["street"]
    inlines = [GridInline]
    change_form_template = CHANGE_FORM_TEMPLATE

    def get_urls(self):
        view = self.admin_site.admin_view(self.staff_add_view)
        return [path("<int:pk>/staff/add/", view, name="members_community_staff_add"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "account_add_label": gettext("Add a staff account")}
        if str(object_id).isdigit():
            extra_context["account_add_url"] = reverse("admin:members_community_staff_add", args=[object_id])
            # The community's printable poster: a QR code of the need form with the community chosen.
            extra_context["poster_url"] = reverse("needs:qr", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def staff_add_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Find or make the account of a staff member of this community (street staff; to others the
        community's page does not exist, as its change page)."""
        community = self._visible_object_or_404(request, pk)
        if not (
            permissions.is_street_staff(request.user) and permissions.manages_street(request.user, community.street_id)
        ):
            raise Http404
        return account_add_view(
            self,
            request,
            target=community,
            target_kwarg="community",
            attach=services.community_staff_attach,
            create=services.community_staff_account_create,
            title=gettext("Add a staff account to %(community)s") % {"community": community.name},
            attached=lambda user: (
                gettext("%(user)s now works for %(community)s.") % {"user": user.username, "community": community.name}
            ),
        )


@admin.register(Sector)
class SectorAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["name", "kind", "street"]
    list_filter = ["kind", scoped_filter("street")]
    search_fields = ["name"]
    list_select_related = ["street"]


@admin.register(Grid)
class GridAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    list_display = ["name", "community", "keeper_name"]
    list_filter = [scoped_filter("community", selectors.communities_seen_by)]
    search_fields = ["name", "keeper_name"]
    list_select_related = ["community"]


class AgreementInline(TabularInline):
    model = Agreement
    extra = 0
    fields = ["title", "signed_on", "term_end", "file"]


class UnitMembershipInline(TabularInline):
    model = UnitMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Accounts are granted by approval or by the unit's "add an account" page (the button above the
        # form), which also grant the object permissions; a bare row here would give a role without access.
        return False


class ExpiringFilter(admin.SimpleListFilter):
    title = _("term")
    parameter_name = "term"

    def lookups(self, request, model_admin):
        return [("expiring", _("Ends within 60 days")), ("expired", _("Ended"))]

    def queryset(self, request, queryset):
        today = selectors.today()
        if self.value() == "expiring":
            # The selector's rule (active units only), so the list shows what the workbench counts.
            return queryset.filter(pk__in=selectors.agreements_expiring().values("pk"))
        if self.value() == "expired":
            return queryset.filter(term_end__lt=today)
        return queryset


# A column of the list (list_display_links names the same object).
UNIT_NAME = truncated("name", 14, _("name"))


@admin.register(MemberUnit)
class MemberUnitAdmin(ImportAdminMixin, ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    importer_class = UnitImporter
    form = CommunityScopedForm
    # The level is a filter, not a column: it is rarely what a street office looks a unit up by.
    list_display = [
        UNIT_NAME,
        "unit_type",
        "community",
        truncated("sector__name", 8, _("sector branch"), ordering="sector__name"),
        "status",
        "joined_on",
    ]
    list_display_links = [UNIT_NAME]
    list_filter = [
        "status",
        "unit_type",
        "level",
        scoped_filter("sector"),
        scoped_filter("community", selectors.communities_seen_by),
        "party_org_kind",
        period_filter("joined_on"),
    ]
    search_fields = ["name", "credit_code", "party_org_name", "liaison_name"]
    list_select_related = ["community", "sector"]
    readonly_fields = ["status", "review_note", "applicant", "created_at", "updated_at"]
    inlines = [AgreementInline, UnitMembershipInline]
    actions = ["approve", "reject", "export_xlsx", "export_import_layout"]
    change_form_template = CHANGE_FORM_TEMPLATE
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "unit_type", "level", "community", "sector", "address"]}),
        (
            _("Party organisation"),
            {"fields": ["party_org_name", "party_org_kind", "secretary_name", "party_member_count"]},
        ),
        (_("Liaison"), {"fields": ["liaison_name", "liaison_phone", "liaison_email"]}),
        (_("Membership"), {"fields": ["joined_on", "status", "review_note", "applicant", "description"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, request=request, **kw)

        return RequestForm

    def get_urls(self):
        view = self.admin_site.admin_view(self.account_add_view)
        return [path("<int:pk>/accounts/add/", view, name="members_memberunit_account_add"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "account_add_label": gettext("Add an account")}
        if str(object_id).isdigit():
            extra_context["account_add_url"] = reverse("admin:members_memberunit_account_add", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def account_add_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Find or make the account of the unit's liaison (its community's staff and the street's; to
        others the unit does not exist)."""
        unit = self._visible_object_or_404(request, pk)
        if not permissions.has_ability(request.user, "members.administer_unit", unit):
            raise Http404
        return account_add_view(
            self,
            request,
            target=unit,
            target_kwarg="unit",
            attach=services.unit_account_attach,
            create=services.unit_account_create,
            title=gettext("Add an account to %(unit)s") % {"unit": unit.name},
            attached=lambda user: (
                gettext("%(user)s is now a liaison of %(unit)s.") % {"user": user.username, "unit": unit.name}
            ),
        )

    def save_model(self, request, obj: MemberUnit, form, change: bool) -> None:
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            self.save_through(request, services.unit_update, unit=obj, data=data)
        else:
            created = self.save_through(request, services.unit_create, data=dict(form.cleaned_data))
            if created is not None:
                obj.pk = created.pk

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request, queryset):
        done = sum(
            self.run_service(
                request, services.unit_approve, unit=unit, success=_("%(unit)s approved.") % {"unit": unit.name}
            )
            for unit in queryset.filter(status=MemberUnit.Status.APPLIED)
        )
        if not done:
            messages.warning(request, _("None of the selected units is waiting for approval."))

    @admin.action(description=_("Reject the selected applications"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=MemberUnit.Status.APPLIED),
            service=services.unit_reject,
            object_kwarg="unit",
            success=lambda unit: _("%(unit)s rejected.") % {"unit": unit.name},
            title=_("Reject applications"),
            intro=_("These applications will be rejected; the applicants are told the reason."),
            empty=_("None of the selected units is waiting for approval."),
            describe=lambda unit: unit.name,
        )

    @admin.action(description=_("Export the selected units to Excel"))
    def export_xlsx(self, request, queryset):
        return export_later(
            request,
            exports.EXPORT_UNITS,
            queryset=queryset,
            filename="{}-{}.xlsx".format(gettext("member-units"), timezone.localdate().isoformat()),
            label=gettext("Export of member units"),
            model_admin=self,
        )


class RenewalForm(forms.Form):
    """The new term of the agreements renewed together (the action `renew`)."""

    signed_on = forms.DateField(label=_("signed on"), widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(label=_("term ends on"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("signed_on") and data.get("term_end") and data["term_end"] < data["signed_on"]:
            raise forms.ValidationError(_("The new term must end on or after the day it is signed."))
        return data


class CurrentVersionFilter(admin.SimpleListFilter):
    title = _("version")
    parameter_name = "version"

    def lookups(self, request, model_admin):
        return [("current", _("In force (latest version)")), ("superseded", _("Superseded"))]

    def queryset(self, request, queryset):
        if self.value() == "current":
            return queryset.filter(superseded_at__isnull=True)
        if self.value() == "superseded":
            return queryset.filter(superseded_at__isnull=False)
        return queryset


@admin.register(Agreement)
class AgreementAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    list_display = ["unit", "title", "signed_on", "term_end", "version", "superseded_at"]
    list_filter = [ExpiringFilter, CurrentVersionFilter, period_filter("signed_on"), period_filter("term_end")]
    search_fields = ["unit__name", "title"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["renews", "version", "superseded_at"]
    actions = ["renew"]

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(request, services.agreement_save, agreement=obj)

    @admin.action(description=_("Renew the selected agreements (a new version of each)"))
    def renew(self, request, queryset):
        """Ask for the new term, then renew each selected agreement through the service; the old versions
        are kept, marked superseded."""
        agreements = list(queryset.filter(superseded_at__isnull=True).select_related("unit"))
        form = RenewalForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = sum(
                self.run_service(
                    request,
                    services.agreement_renew,
                    agreement=agreement,
                    signed_on=form.cleaned_data["signed_on"],
                    term_end=form.cleaned_data["term_end"],
                    success=gettext("Renewed: %(agreement)s") % {"agreement": agreement},
                )
                for agreement in agreements
            )
            if not done:
                messages.warning(request, gettext("None of the selected agreements was renewed."))
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Renew agreements"),
            "intro": gettext("Each selected agreement gets a new version with this term; the old one is kept."),
            "empty": gettext("None of the selected agreements is the latest version."),
            "form": form,
            "objects": agreements,
            "rows": [(agreement, str(agreement), agreement.term_end.isoformat()) for agreement in agreements],
            "action": request.POST.get("action", ""),
            "opts": self.opts,
            "original": None,
            "back_url": "",
            "submit_label": gettext("Renew"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/reason_action.html", context)


class CouncilTermForm(forms.ModelForm):
    class Meta:
        model = CouncilTerm
        fields = ["street", "number", "start", "end", "is_current"]

    def _post_clean(self) -> None:
        # A new current term is allowed while another is current: `council_term_save` ends the previous one in
        # the same transaction (the database's constraints stay the backstop, a clash becomes a message).
        self.instance.validate_constraints = lambda exclude=None: None
        try:
            super()._post_clean()
        finally:
            del self.instance.validate_constraints


@admin.register(CouncilTerm)
class CouncilTermAdmin(ScopedAdminMixin, HistoryAdmin):
    """Council terms (届): one current term per street; recording a new current term ends the previous one."""

    form = CouncilTermForm
    list_display = ["street", "number", "start", "end", "is_current"]
    list_filter = ["is_current", scoped_filter("street")]
    list_select_related = ["street"]
    fields = ["street", "number", "start", "end", "is_current"]

    def get_queryset(self, request):
        # Staff keep their own streets' terms (the public reads every roster on the public site).
        return super().get_queryset(request).filter(street_id__in=permissions.streets_of(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = Street.objects.filter(pk__in=permissions.streets_of(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(request, services.council_term_save, term=obj)


@admin.register(CouncilSeat)
class CouncilSeatAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["role", "holder_name", "unit", "street", "term", "term_start", "term_end"]
    list_filter = ["role", scoped_filter("street"), "term__is_current"]
    search_fields = ["holder_name", "unit__name"]
    list_select_related = ["unit", "street", "term"]
    autocomplete_fields = ["unit"]

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(request, services.council_seat_save, seat=obj)


class UnitMembershipForm(forms.ModelForm):
    user = AccountField()

    class Meta:
        model = UnitMembership
        fields = ["user", "unit", "role"]


class CommunityStaffForm(forms.ModelForm):
    user = AccountField()

    class Meta:
        model = CommunityStaff
        fields = ["user", "community"]


@admin.register(UnitMembership)
class UnitMembershipAdmin(ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    list_display = ["user", "unit", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__name"]
    list_select_related = ["user", "unit"]
    autocomplete_fields = ["unit"]

    # The account is named by its user name or phone (AccountField), not picked through a lookup into the
    # user screens, which are for superusers (staff met a bare 403); the unit's page finds or makes one.
    form = UnitMembershipForm

    actions = ["send_password_link"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Send a new password-set link"))
    def send_password_link(self, request, queryset):
        for membership in queryset.select_related("user", "unit"):
            self.run_service(
                request,
                services.unit_account_password_link,
                membership=membership,
                success=_("A new password-set link is on its way to %(user)s.") % {"user": membership.user},
            )

    def save_model(self, request, obj, form, change) -> None:
        saved = self.save_through(request, services.unit_membership_add, unit=obj.unit, user=obj.user, role=obj.role)
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        self.save_through(request, services.unit_membership_remove, membership=obj)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(CommunityStaff)
class CommunityStaffAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["user", "community", "created_at"]
    list_filter = [scoped_filter("community", selectors.communities_seen_by)]
    search_fields = ["user__username", "user__first_name"]
    list_select_related = ["user", "community"]

    form = CommunityStaffForm  # the account by user name or phone, as for unit accounts

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        saved = self.save_through(request, services.community_staff_add, user=obj.user, community=obj.community)
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        self.save_through(request, services.community_staff_remove, assignment=obj)

    def delete_queryset(self, request, queryset) -> None:
        for assignment in queryset:
            self.delete_model(request, assignment)


class StreetStaffForm(forms.ModelForm):
    user = AccountField()

    class Meta:
        model = StreetStaff
        fields = ["user", "street"]

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if request is not None and "street" in self.fields:  # the streets they oversee (theirs, their district's)
            self.fields["street"].queryset = permissions.visible(request.user, Street.objects.all())


class DistrictStaffForm(forms.ModelForm):
    user = AccountField()

    class Meta:
        model = DistrictStaff
        fields = ["user", "district"]

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if request is not None and "district" in self.fields:
            self.fields["district"].queryset = selectors.meeting_places(user=request.user, kind="district")


class _AssignmentAdmin(ScopedAdminMixin, HistoryAdmin):
    """Who is staff of a street or a district: assigned and removed through the services, which check that
    the actor oversees that street or district; the rows are seen by the staff of that street or district."""

    staff_roles = "community"  # street and district staff; the rules narrow the rows, community staff see none
    search_fields = ["user__username", "user__first_name"]
    add_service = None
    remove_service = None
    target = ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class ScopedForm(form_class):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, request=request, **kw)

        return ScopedForm

    def _may_open(self, request) -> bool:
        return permissions.is_street_staff(request.user) or permissions.is_district_staff(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        saved = self.save_through(
            request, type(self).add_service, user=obj.user, **{self.target: getattr(obj, self.target)}
        )
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        self.save_through(request, type(self).remove_service, assignment=obj)

    def delete_queryset(self, request, queryset) -> None:
        for assignment in queryset:
            self.delete_model(request, assignment)


@admin.register(StreetStaff)
class StreetStaffAdmin(_AssignmentAdmin):
    list_display = ["user", "street", "created_at"]
    list_filter = [scoped_filter("street")]
    list_select_related = ["user", "street"]
    form = StreetStaffForm
    add_service = staticmethod(services.street_staff_add)
    remove_service = staticmethod(services.street_staff_remove)
    target = "street"


@admin.register(DistrictStaff)
class DistrictStaffAdmin(_AssignmentAdmin):
    """A district's staff are assigned by its own staff (and superusers): street staff do not open it."""

    list_display = ["user", "district", "created_at"]
    list_filter = [scoped_filter("district")]
    list_select_related = ["user", "district"]
    form = DistrictStaffForm
    add_service = staticmethod(services.district_staff_add)
    remove_service = staticmethod(services.district_staff_remove)
    target = "district"

    def _may_open(self, request) -> bool:
        return bool(request.user.is_superuser) or permissions.is_district_staff(request.user)

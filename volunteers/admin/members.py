"""Registrations (双报到): staff register, verify and reject party members, and import them from Excel."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin.base import truncated, truncated_html
from alliance.imports import ImportAdminMixin
from alliance.masking import mask_phone

from .. import selectors, services
from ..imports import MemberImporter
from ..models import PartyMember
from ..services import STAFF_FIELDS, member_staff_update
from .common import ChangelistGuard, M, QuarterActivityFilter, ResidenceCommunityFilter, active_units, administered
from .forms import MemberForm
from .inlines import MemberClaimInline

# A column of the list (list_display_links names the same object).
MEMBER_NAME = truncated("name", 8, _("name"))


@admin.register(PartyMember)
class PartyMemberAdmin(ChangelistGuard, ImportAdminMixin, ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    importer_class = MemberImporter
    form = MemberForm
    list_display = [
        MEMBER_NAME,
        "phone_display",
        "work_unit_display",
        "residence_community",
        "status",
        "registered_on",
    ]
    list_display_links = [MEMBER_NAME]
    list_select_related = ["work_unit", "residence_community"]
    list_filter = [
        "status",
        ResidenceCommunityFilter,
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
        seen = permissions.seen_communities(request.user)
        if seen is None:
            shown = Value(True)
        else:
            shown = Case(
                When(
                    Q(residence_community_id__in=list(seen)) | Q(user=request.user),
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
    def work_unit_display(self, obj: PartyMember) -> str | None:
        return truncated_html(obj.work_unit_label, 10)

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
        communities = list(administered(request)[:2])
        if len(communities) == 1:
            initial.setdefault("residence_community", communities[0].pk)
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "residence_community":
            kwargs["queryset"] = administered(request)
        if db_field.name == "work_unit":
            # Members work anywhere in the district, not only in the communities the staff work for.
            kwargs["queryset"] = active_units()
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

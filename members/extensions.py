"""What the members app plugs into the shared pieces of `alliance` at start-up."""

from __future__ import annotations

from functools import partial

from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import demo, jobs, me, media, permissions, registry, reports
from alliance.exports import register_export
from alliance.imports import layout_sheets, run_import_job
from alliance.notification_kinds import register_kind_label

from . import assessments, exports, report_sheets, reporting, rules, selectors
from . import demo as demo_members
from .exports import EXPORT_UNITS
from .imports import UnitImporter
from .models import (
    Agreement,
    Assessment,
    AssessmentScheme,
    AssessmentSchemeItem,
    Community,
    CommunityStaff,
    CouncilSeat,
    CouncilTerm,
    District,
    DistrictStaff,
    ExpiryAlert,
    Grid,
    MemberUnit,
    Notice,
    NoticeAttachment,
    QuarterlyReport,
    Sector,
    Street,
    StreetStaff,
    UnitMembership,
)


def _public_figures(street_ids) -> dict[int, list[registry.Figure]]:
    per_street = selectors.public_counts_by_street()
    figures = {}
    for street_id in street_ids:
        counts = per_street.get(street_id, {})
        figures[street_id] = [
            registry.Figure("communities", _("Communities"), counts.get("communities", 0)),
            registry.Figure("units", _("Member units"), counts.get("units", 0)),
            registry.Figure("party_members", _("Party members in member units"), counts.get("party_members", 0)),
        ]
    return figures


def _portal_units_panel(request) -> registry.PortalPanel | None:
    units = list(selectors.units_of_liaison(user=request.user))
    if not units:
        return None
    return registry.PortalPanel("members/portal/_units_panel.html", {"units": units})


def _portal_assessments_panel(request) -> registry.PortalPanel | None:
    if not permissions.units_of(request.user):
        return None
    latest = list(assessments.assessments_of_liaison(user=request.user).prefetch_related(None)[:4])
    return registry.PortalPanel("members/portal/_assessments_panel.html", {"assessments": latest})


def _me(user, data: dict) -> None:
    data["units"] = [
        {"id": m.unit_id, "name": m.unit.name, "role": m.role} for m in selectors.memberships_of(user=user)
    ]
    if data["units"]:
        data["roles"].append("liaison")
    data["communities"] = (
        [{"id": c.pk, "name": c.name} for c in selectors.communities_administered_by(user=user)]
        if "community_staff" in data["roles"] or "street_staff" in data["roles"]
        else []
    )


def _todos(user) -> list[registry.Todo]:
    counts = selectors.workbench_counts(user=user)
    units = reverse("admin:members_memberunit_changelist")
    agreements = reverse("admin:members_agreement_changelist")
    todos = [
        registry.Todo(
            "unit_applications", gettext("Unit applications"), counts["applications"], f"{units}?status__exact=applied"
        ),
        registry.Todo(
            "agreements_expiring",
            gettext("Agreements expiring in 60 days"),
            counts["agreements_expiring"],
            f"{agreements}?term=expiring",
        ),
    ]
    if permissions.has_ability(user, "members.build_report"):
        # The street's own reports (and its district's): community staff neither build nor download them.
        reports = reverse("admin:members_quarterlyreport_changelist")
        count = selectors.reports_ready(user=user).count()
        todos.append(registry.Todo("reports_ready", gettext("Reports ready"), count, f"{reports}?ready=yes"))
    return todos


def _staff_communities(user) -> list[tuple[int, str]]:
    """The communities the staff member works for, for the workbench's filter and poster links. With more
    than one street (a district) the street names the community: names are unique only within a street."""
    rows = list(selectors.communities_seen_by(user=user).values_list("pk", "name", "street__name"))
    several_streets = len({street for _pk, _name, street in rows}) > 1
    return [(pk, f"{street} · {name}" if several_streets else name) for pk, name, street in rows]


def _organisation_changed(sender, **kwargs) -> None:
    permissions.forget_organisation(communities_only=sender is Community)


def register() -> None:
    registry.register_todo(_todos)
    registry.register_staff_communities(_staff_communities)
    register_kind_label("unit_applied", _("Unit applied to join"))
    register_kind_label("unit_approved", _("Unit approved"))
    register_kind_label("unit_rejected", _("Unit rejected"))
    register_kind_label("unit_account", _("Unit account"))
    register_kind_label("assessment_approved", _("Assessment approved"))
    register_kind_label("assessment_returned", _("Assessment returned"))
    register_kind_label("agreement_expiring:", _("Agreement expiring"))
    register_kind_label("quarterly_report:", _("Quarterly report ready"))
    media.register("agreements", MemberUnit)
    # A published notice's attachments are public, like the notice (members/public_views.py).
    media.register("notices", Notice, public=selectors.notice_is_public)
    permissions.register(Notice, rules.NOTICE_RULES)
    permissions.register(NoticeAttachment, rules.NOTICE_ATTACHMENT_RULES)
    permissions.register_scope("units", rules.liaison_unit_ids)
    permissions.register_scope("communities", rules.community_ids)
    permissions.register_scope("streets", rules.street_ids)
    permissions.register_scope("street_scope", rules.street_scope)
    permissions.register_scope("districts", rules.district_ids)
    # A street scope holds the streets' communities and the districts' streets: when one of those changes,
    # every cached scope is read again.
    for model in (District, Street, Community):
        post_save.connect(_organisation_changed, sender=model, dispatch_uid=f"members.organisation.{model.__name__}")
        post_delete.connect(_organisation_changed, sender=model, dispatch_uid=f"members.organisation-.{model.__name__}")
    permissions.register(MemberUnit, rules.UNIT_RULES)
    permissions.register_ability("members.administer_unit", rules.UNIT_RULES.can_administer)
    permissions.register_ability("members.act_for_unit", rules.acts_for_unit)
    permissions.register(Agreement, rules.UnitChildRules())
    permissions.register(UnitMembership, rules.UnitChildRules())
    permissions.register(District, rules.DistrictRules())
    permissions.register(Street, permissions.StreetRules("pk"))
    permissions.register(Community, permissions.StreetRules("street_id"))
    permissions.register(Sector, permissions.StreetRules("street_id"))
    permissions.register(CouncilSeat, permissions.StreetRules("street_id"))
    permissions.register(StreetStaff, rules.StreetStaffRules())
    permissions.register(DistrictStaff, rules.DistrictStaffRules())
    permissions.register(CouncilTerm, rules.COUNCIL_TERM_RULES)
    permissions.register(ExpiryAlert, permissions.StaffOnlyRules())
    register_kind_label("council_term_ending:", _("Council term ending"))
    register_kind_label("agreement_ending:", _("Agreement ending"))
    permissions.register(Grid, rules.CommunityChildRules())
    permissions.register(CommunityStaff, rules.CommunityStaffRules())
    permissions.register(QuarterlyReport, rules.ReportRules())
    permissions.register_ability("members.build_report", rules.builds_reports)
    reporting.register()
    jobs.register(UnitImporter.job_kind, partial(run_import_job, UnitImporter))
    register_export(UnitImporter.export_kind, MemberUnit, layout_sheets(UnitImporter))
    register_export(EXPORT_UNITS, MemberUnit, lambda units, user, params: [exports.unit_rows(units)])
    register_kind_label("import:", _("Import finished"))
    demo.register("members", demo_members.seed, data_models=(MemberUnit, Street))
    registry.register_public_streets(selectors.public_streets)
    demo.register("members_district", demo_members.seed_district)
    registry.register_public_figures(_public_figures)
    registry.register_portal_panel(_portal_units_panel)
    me.register(_me)
    report_sheets.register()
    # The quarterly assessment (按季度考核): who sees and moves it, and its sheet of the workbook.
    permissions.register(Assessment, rules.ASSESSMENT_RULES)
    permissions.register(AssessmentScheme, permissions.StaffOnlyRules("street_id"))
    permissions.register(AssessmentSchemeItem, permissions.StaffOnlyRules("scheme__street_id"))
    permissions.register_ability("members.approve_assessment", rules.may_approve)
    permissions.register_ability("members.remark_assessment", rules.may_remark)
    permissions.register_ability("members.compute_assessments", rules.may_compute)
    reports.register_sheet(assessments.ASSESSMENT_SHEET)
    registry.register_portal_panel(_portal_assessments_panel)

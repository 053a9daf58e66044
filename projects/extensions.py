"""What the projects app plugs into the shared pieces of `alliance` at start-up."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import demo, media, permissions, public_figures, registry
from alliance.exports import register_export
from alliance.notification_kinds import register_kind_label

from . import demo as demo_projects
from . import exports, indicators, report_sheets, rules, selectors
from .models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject


def _public_figures(street_ids) -> dict[int, list[registry.Figure]]:
    per_street = selectors.public_counts_by_street()
    figures = {}
    for street_id in street_ids:
        counts = per_street.get(street_id, {})
        figures[street_id] = [
            registry.Figure("projects", _("Service projects"), counts.get("projects", 0)),
            registry.Figure("claims", _("Projects claimed by units"), counts.get("claims", 0)),
            registry.Figure("activities", _("Activities held"), counts.get("activities", 0)),
            registry.Figure("services", _("Services given"), counts.get("services", 0)),
            registry.Figure("beneficiaries", _("Residents benefited"), counts.get("beneficiaries", 0)),
        ]
    return figures


def _activities_chart(street_ids) -> dict[int, registry.Chart]:
    months = registry.last_months()
    per_street = selectors.activities_per_month(months=months)
    charts = {}
    for street_id in street_ids:
        rows = per_street.get(street_id, {})
        activities = {month: row["activities"] for month, row in rows.items()}
        beneficiaries = {month: row["beneficiaries"] for month, row in rows.items()}
        charts[street_id] = registry.Chart(
            "activities",
            _("Service activities per month"),
            (
                registry.Series(_("Activities held"), registry.month_points(months, activities)),
                registry.Series(_("Residents benefited"), registry.month_points(months, beneficiaries)),
            ),
        )
    return charts


DEMONSTRATION_PART = "demonstration_projects"


def _demonstration_part(street_ids) -> dict[int, list[dict]]:
    """Each street's home panel projects with their figures, for the public snapshot
    (alliance.public_figures): the grouped count over claims and activities runs in the background, not
    per visit — one query for every street."""
    parts: dict[int, list[dict]] = {street_id: [] for street_id in street_ids}
    for project in selectors.demonstration_projects():
        if project.street_id not in parts:
            continue
        parts[project.street_id].append(
            {
                "pk": project.pk,
                "title": project.title,
                "category": {"name": project.category.name},
                "community": {"name": project.community.name} if project.community_id else None,
                "plaque_awarded_on": project.plaque_awarded_on.isoformat() if project.plaque_awarded_on else None,
                "unit_count": project.unit_count,
                "activity_count": project.activity_count,
                "beneficiary_total": project.beneficiary_total,
            }
        )
    return parts


def _home_demonstration_panel(request) -> registry.PortalPanel | None:
    chosen = public_figures.scope_of(request)
    if chosen.street is None:
        return None
    stored = public_figures.part(DEMONSTRATION_PART, chosen.street_id) or []
    projects = [
        {**row, "plaque_awarded_on": date.fromisoformat(row["plaque_awarded_on"]) if row["plaque_awarded_on"] else None}
        for row in stored
    ]
    if not projects:
        return None
    return registry.PortalPanel("projects/public/_home_demonstration.html", {"projects": projects})


def _portal_claims_panel(request) -> registry.PortalPanel | None:
    if not permissions.units_of(request.user):
        return None
    claims = list(selectors.claims_of_my_units(user=request.user).filter(status__in=ProjectClaim.HOLDING)[:10])
    open_count = selectors.claim_table(user=request.user).count()
    return registry.PortalPanel("projects/portal/_claims_panel.html", {"claims": claims, "open_count": open_count})


def _todos(user) -> list[registry.Todo]:
    counts = selectors.workbench_counts(user=user)
    url = reverse("admin:projects_projectclaim_changelist")
    return [
        registry.Todo(
            "claims_to_approve", gettext("Claims to approve"), counts["to_approve"], f"{url}?status__exact=pending"
        ),
    ]


def _charts(user, chart_filter: registry.ChartFilter) -> list[registry.Chart]:
    rows = selectors.chart_claims_by_category(
        user=user, community_id=chart_filter.community_id, quarter=chart_filter.quarter
    )
    series = registry.Series(gettext("Claims"), tuple(rows))
    return [
        registry.Chart("claims_by_category", gettext("Project claims by category"), (series,), axis=gettext("Category"))
    ]


def register() -> None:
    register_export(exports.EXPORT_CLAIMS, ProjectClaim, exports.claim_table_sheets)
    registry.register_todo(_todos)
    registry.register_chart(_charts)
    register_kind_label("project_period_changed", _("Project period changed"))
    register_kind_label("project_finished", _("Project finished"))
    register_kind_label("claim_created", _("Project claimed"))
    register_kind_label("claim_approved", _("Claim approved"))
    register_kind_label("claim_rejected", _("Claim rejected"))
    indicators.register()
    # The photos of the activities the public page lists are public (projects/public_views.py).
    media.register("activities", ServiceActivity, public=selectors.activity_is_public)
    permissions.register(ServiceProject, rules.PROJECT_RULES)
    permissions.register(ProjectClaim, rules.CLAIM_RULES)
    permissions.register_ability("projects.act_for_claim", rules.CLAIM_RULES.acts_for_claim)
    permissions.register(ServiceActivity, rules.ACTIVITY_RULES)
    permissions.register(CommitmentReview, rules.REVIEW_RULES)
    registry.register_public_figures(_public_figures)
    registry.register_home_panel(_home_demonstration_panel)
    registry.register_public_part(DEMONSTRATION_PART, _demonstration_part)
    registry.register_public_chart(_activities_chart)
    registry.register_portal_panel(_portal_claims_panel)
    demo.register("projects", demo_projects.seed, data_models=(ServiceProject,))
    report_sheets.register()

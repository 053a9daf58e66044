"""What the volunteers app plugs into the shared pieces of `alliance` at start-up."""

from __future__ import annotations

from functools import partial

from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from alliance import demo, jobs, me, permissions, registry
from alliance.exports import register_export
from alliance.imports import layout_sheets, run_import_job
from alliance.notification_kinds import register_kind_label
from members import selectors as member_selectors

from . import demo as demo_volunteers
from . import exports, indicators, points, report_sheets, rules, selectors
from .imports import MemberImporter
from .models import (
    MemberMonthHours,
    PartyMember,
    PointsEntry,
    PointsRule,
    PostClaim,
    ServiceLog,
    VolunteerPost,
    VolunteerTeam,
)


def _public_figures(street_ids) -> dict[int, list[registry.Figure]]:
    per_street = selectors.public_counts_by_street()
    figures = {}
    for street_id in street_ids:
        counts = per_street.get(street_id, {})
        figures[street_id] = [
            registry.Figure("members", _("In-service Party members registered"), counts.get("members", 0)),
            registry.Figure("service_hours", _("Volunteer service hours"), counts.get("service_hours", 0.0)),
        ]
    return figures


def _portal_panel(request) -> registry.PortalPanel | None:
    registrations = list(selectors.registrations_of(user=request.user)[:3])
    if not registrations:
        return None
    return registry.PortalPanel("volunteers/portal/_volunteer_panel.html", {"registrations": registrations})


def _portal_unit_cards_panel(request) -> registry.PortalPanel | None:
    units = list(member_selectors.units_of_liaison(user=request.user).order_by("name"))
    if not units:
        return None
    return registry.PortalPanel("volunteers/portal/_unit_cards_panel.html", {"units": units})


def _me(user, data: dict) -> None:
    member = selectors.active_registration(user=user, verified=False)
    if member is not None:
        data["member"] = {
            "id": member.pk,
            "name": member.name,
            "residence_community": member.residence_community_id,
            "status": member.status,
        }
        if "member" not in data["roles"]:
            data["roles"].append("member")


def _todos(user) -> list[registry.Todo]:
    counts = selectors.workbench_counts(user=user)
    members = reverse("admin:volunteers_partymember_changelist")
    logs = reverse("admin:volunteers_servicelog_changelist")
    return [
        registry.Todo(
            "members_to_verify", gettext("Members to verify"), counts["to_verify"], f"{members}?status__exact=pending"
        ),
        registry.Todo(
            "hours_to_verify",
            gettext("Service hours to verify"),
            counts["hours_to_verify"],
            f"{logs}?verified__exact=0&rejected_at__isempty=1",
        ),
    ]


def _charts(user, chart_filter: registry.ChartFilter) -> list[registry.Chart]:
    rows = selectors.chart_hours_by_community(
        user=user, community_id=chart_filter.community_id, quarter=chart_filter.quarter
    )
    series = registry.Series(gettext("Verified service hours"), tuple((name, float(hours)) for name, hours in rows))
    return [
        registry.Chart(
            "hours_by_community",
            gettext("Verified service hours by community"),
            (series,),
            axis=gettext("Community"),
            unit=pgettext("unit of time", "hours"),
        )
    ]


def register() -> None:
    registry.register_todo(_todos)
    registry.register_chart(_charts)
    register_kind_label("member_registered", _("Party member registered"))
    register_kind_label("member_verified", _("Party member verified"))
    register_kind_label("member_rejected", _("Party member registration rejected"))
    register_kind_label("service_card:", _("Service card ready"))
    jobs.register(MemberImporter.job_kind, partial(run_import_job, MemberImporter))
    register_export(MemberImporter.export_kind, PartyMember, layout_sheets(MemberImporter))
    register_export(exports.EXPORT_SERVICE_CARDS, None, exports.service_card_sheets)
    indicators.register()
    permissions.register(PartyMember, rules.MEMBER_RULES)
    permissions.register_ability("volunteers.see_phone", rules.MEMBER_RULES.can_see_phone)
    permissions.register_ability("volunteers.act_for_member", rules.MEMBER_RULES.acts_for)
    # A verified in-service Party member: may, for example, book a shared venue in their own name.
    permissions.register_ability(
        "volunteers.registered_member", lambda user, obj=None: selectors.active_registration(user=user) is not None
    )
    permissions.register_ability(
        "volunteers.leave_post", lambda user, claim: rules.MEMBER_RULES.acts_for(user, claim.member)
    )
    permissions.register(VolunteerPost, rules.COMMUNITY_THING_RULES)
    permissions.register(VolunteerTeam, rules.COMMUNITY_THING_RULES)
    permissions.register(PostClaim, rules.MEMBER_CHILD_RULES)
    permissions.register(ServiceLog, rules.MEMBER_CHILD_RULES)
    # The monthly sums of verified hours: seen by whoever sees the logs summed in them.
    permissions.register(MemberMonthHours, rules.MEMBER_CHILD_RULES)
    # The points ledger (issue 15): rules are the street's policy, edited by its street staff (like the
    # assessment scheme); entries are read per scope and never changed.
    permissions.register(PointsRule, permissions.StaffOnlyRules("street_id"))
    permissions.register(PointsEntry, rules.POINTS_ENTRY_RULES)
    permissions.register_ability("volunteers.correct_points", points.can_correct)
    registry.register_public_figures(_public_figures)
    registry.register_portal_panel(_portal_panel)
    registry.register_portal_panel(_portal_unit_cards_panel)
    me.register(_me)
    demo.register("volunteers", demo_volunteers.seed, data_models=(PartyMember,))
    report_sheets.register()

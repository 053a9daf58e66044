"""What the demands app plugs into the shared pieces of `alliance` at start-up."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import demo, masking, media, permissions, public_figures, registry
from alliance.exports import register_export
from alliance.notification_kinds import register_kind_label

from . import demo as demo_demands
from . import exports, indicators, report_sheets, rules, selectors, services, showcase
from .models import Booking, Need, NeedSlaFlag, Resource, Venue


def _public_figures(street_ids) -> dict[int, list[registry.Figure]]:
    per_street = selectors.public_counts_by_street()
    figures = {}
    for street_id in street_ids:
        counts = per_street.get(street_id, {})
        figures[street_id] = [
            registry.Figure("resources", _("Resources offered"), counts.get("resources", 0)),
            registry.Figure("needs", _("Needs received"), counts.get("needs", 0)),
            registry.Figure("needs_completed", _("Needs completed"), counts.get("needs_completed", 0)),
        ]
    return figures


def _needs_chart(street_ids) -> dict[int, registry.Chart]:
    months = registry.last_months()
    completed = selectors.needs_completed_per_month(months=months)
    return {
        street_id: registry.Chart(
            "needs_completed",
            _("Needs completed per month"),
            (registry.Series(_("Needs completed"), registry.month_points(months, completed.get(street_id, {}))),),
        )
        for street_id in street_ids
    }


def _portal_needs_panel(request) -> registry.PortalPanel | None:
    if not permissions.units_of(request.user):
        return None
    needs = list(selectors.needs_of_units(user=request.user).filter(status__in=selectors.OPEN_FOR_UNIT)[:10])
    context = {"needs": needs, "may_file": services.may_file_unit_needs(request.user)}
    return registry.PortalPanel("demands/portal/_needs_panel.html", context)


def _home_showcase_panel(request) -> registry.PortalPanel | None:
    """The street's latest showcased needs, from the public snapshot (no query), no contact data. None
    while the visitor has not chosen a street yet."""
    chosen = public_figures.scope_of(request)
    if chosen.street is None:
        return None
    return registry.PortalPanel(
        "demands/public/_home_showcase.html",
        {"needs": showcase.latest(6, street_id=chosen.street_id)},
    )


def _tracking_code_pattern() -> str:
    symbol = f"[{services.TRACKING_ALPHABET}]"
    # The 13 symbols, bare or as ABCD-EFGH-JKMNP, not inside a longer run of letters and digits.
    return rf"(?<![0-9A-Z]){symbol}{{4}}-?{symbol}{{4}}-?{symbol}{{5}}(?![0-9A-Z])"


def _todos(user) -> list[registry.Todo]:
    counts = selectors.workbench_counts(user=user)
    url = reverse("admin:demands_need_changelist")
    return [
        registry.Todo(
            "needs_to_dispatch", gettext("Needs to dispatch"), counts["to_dispatch"], f"{url}?status__exact=submitted"
        ),
        registry.Todo("needs_overdue", gettext("Overdue needs"), counts["overdue"], f"{url}?overdue=yes"),
        registry.Todo("needs_declined", gettext("Needs declined back"), counts["declined"], f"{url}?declined=yes"),
    ]


def _charts(user, chart_filter: registry.ChartFilter) -> list[registry.Chart]:
    """Needs by status and by category (of the quarter chosen, else all time) and per month (the 12 months
    up to the quarter chosen, else up to now): three queries whatever the number of needs."""
    scope = {"user": user, "community_id": chart_filter.community_id}
    by_status = selectors.chart_needs_by_status(**scope, quarter=chart_filter.quarter)
    by_category = selectors.chart_needs_by_category(**scope, quarter=chart_filter.quarter)
    months = registry.chart_months(chart_filter)
    per_month = selectors.chart_needs_per_month(**scope, months=months)
    statuses = tuple((str(label), by_status.get(value, 0)) for value, label in Need.Status.choices)
    return [
        registry.Chart(
            "needs_by_status",
            gettext("Needs by status"),
            (registry.Series(gettext("Needs"), statuses),),
            kind="pie",
            axis=gettext("Status"),
        ),
        registry.Chart(
            "needs_by_category",
            gettext("Needs by category"),
            (registry.Series(gettext("Needs"), tuple(by_category)),),
            axis=gettext("Category"),
        ),
        registry.Chart(
            "needs_per_month",
            gettext("Needs submitted and completed per month"),
            (
                registry.Series(gettext("Needs submitted"), registry.month_points(months, per_month["submitted"])),
                registry.Series(gettext("Needs completed"), registry.month_points(months, per_month["completed"])),
            ),
            kind="line",
            axis=gettext("Month"),
        ),
    ]


def register() -> None:
    registry.register_todo(_todos)
    registry.register_chart(_charts)
    # What each notification is about, in words for the admin's list (alliance.notification_kinds).
    register_kind_label("need_resident:", _("Message to the resident"), detail=dict(Need.Status.choices))
    register_kind_label("need_submitted", _("New need"))
    register_kind_label("need_dispatched", _("Need dispatched"))
    register_kind_label("need_declined", _("Need declined by the unit"))
    register_kind_label("wish_taken", _("Micro-wish taken"))
    register_kind_label("need_rated", _("Need rated"))
    register_kind_label("need_overdue:", _("Overdue need"), detail=dict(NeedSlaFlag.Stage.choices))
    indicators.register()
    masking.register_secret(_tracking_code_pattern(), "****-****-*****")
    media.register("needs", Need)
    permissions.register(Need, rules.NEED_RULES)
    permissions.register_ability("demands.staff_for_need", rules.NEED_RULES.is_staff_for)
    permissions.register_ability("demands.act_for_need", rules.NEED_RULES.is_liaison_for)
    permissions.register_ability("demands.claimant_of_need", rules.NEED_RULES.is_claimant)
    permissions.register_ability("demands.see_contact", rules.NEED_RULES.can_see_contact)
    permissions.register(Resource, rules.RESOURCE_RULES)
    permissions.register(Venue, rules.VENUE_RULES)
    permissions.register(Booking, rules.BOOKING_RULES)
    permissions.register_ability("demands.request_booking", rules.BOOKING_RULES.may_request)
    permissions.register_ability("demands.decide_booking", rules.BOOKING_RULES.decides)
    permissions.register_ability("demands.cancel_booking", rules.BOOKING_RULES.cancels)
    register_kind_label("booking:", _("Venue booking"), detail=dict(Booking.Status.choices))
    registry.register_public_figures(_public_figures)
    registry.register_portal_panel(_portal_needs_panel)
    registry.register_public_chart(_needs_chart)
    registry.register_home_panel(_home_showcase_panel)
    registry.register_public_part(showcase.PART, showcase.compute)
    demo.register("demands", demo_demands.seed, data_models=(Need, Resource))
    demo.register("demands_district", demo_demands.seed_district)
    report_sheets.register()
    register_export(exports.EXPORT_NEEDS, Need, exports.need_sheets)

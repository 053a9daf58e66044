"""What the meetings app plugs into the shared pieces of `alliance` at start-up."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import demo, masking, me, media, permissions, registry
from alliance.notification_kinds import register_kind_label

from . import demo as demo_meetings
from . import indicators, report_sheets, rules, selectors, services
from .models import Invitation, JointMeeting, MeetingAttachment, MeetingSeries, Reminder, Resolution


def _public_figures(street_ids) -> dict[int, list[registry.Figure]]:
    per_street = selectors.public_counts_by_street(street_ids)
    return {
        street_id: [
            registry.Figure("meetings", _("Joint meetings held"), per_street.get(street_id, {}).get("meetings", 0))
        ]
        for street_id in street_ids
    }


def _portal_meetings_panel(request) -> registry.PortalPanel | None:
    invitations = list(
        selectors.invitations_of_my_units(user=request.user)
        .filter(meeting__status=JointMeeting.Status.PLANNED, meeting__start__gte=timezone.now())
        .order_by("meeting__start")[:5]
    )
    resolutions = list(selectors.resolutions_of_my_units(user=request.user).filter(status=Resolution.Status.OPEN)[:5])
    if not invitations and not resolutions and not permissions.units_of(request.user):
        return None
    return registry.PortalPanel(
        "meetings/portal/_meetings_panel.html", {"invitations": invitations, "resolutions": resolutions}
    )


def _me(user, data: dict) -> None:
    # SPEC "Fixed interfaces": never null for a signed-in user, so the address is made on first ask here
    # as on the portal's calendar page (one live address each).
    feed = services.calendar_feed_for(user=user, actor=user)
    data["calendar_url"] = reverse("calendar_feed", args=[feed.token])  # made absolute by alliance.me


def _todos(user) -> list[registry.Todo]:
    counts = selectors.workbench_counts(user=user)
    meetings = reverse("admin:meetings_jointmeeting_changelist")
    resolutions = reverse("admin:meetings_resolution_changelist")
    return [
        registry.Todo(
            "meetings_this_week", gettext("Meetings this week"), counts["this_week"], f"{meetings}?todo=this_week"
        ),
        registry.Todo(
            "minutes_missing", gettext("Minutes missing"), counts["minutes_missing"], f"{meetings}?todo=minutes_missing"
        ),
        registry.Todo(
            "resolutions_overdue",
            gettext("Resolutions overdue"),
            counts["resolutions_overdue"],
            f"{resolutions}?overdue=yes",
        ),
    ]


def _charts(user, chart_filter: registry.ChartFilter) -> list[registry.Chart]:
    """The units' attendance rate in the 4 quarters up to the one chosen (or this one), in per cent."""
    quarters = registry.chart_quarters(chart_filter)
    rates = selectors.chart_attendance_per_quarter(user=user, quarters=quarters, community_id=chart_filter.community_id)
    points = tuple(
        (quarter.label, None if rate is None else float((rate * 100).quantize(Decimal("0.1"))))
        for quarter, rate in rates.items()
    )
    series = registry.Series(gettext("Attendance rate"), points)
    return [
        registry.Chart(
            "attendance_per_quarter",
            gettext("Meeting attendance rate per quarter"),
            (series,),
            axis=gettext("Quarter"),
            unit="%",
        )
    ]


def register() -> None:
    registry.register_todo(_todos)
    registry.register_chart(_charts)
    register_kind_label("reminder:", _("Meeting reminder"), detail=dict(Reminder.Kind.choices))
    indicators.register()
    # A feed's address is its only key: whoever reads it in a log reads the unit's calendar.
    masking.register_secret(r"(/calendar/)[A-Za-z0-9_-]+\.ics", r"\1***.ics")
    media.register("meetings", JointMeeting)
    permissions.register(JointMeeting, rules.MEETING_RULES)
    permissions.register(Invitation, rules.MEETING_CHILD_RULES)
    permissions.register(MeetingSeries, rules.MEETING_CHILD_RULES)
    permissions.register(Resolution, rules.RESOLUTION_RULES)
    permissions.register_ability("meetings.read_minutes", rules.can_read_minutes)
    permissions.on_access_revoked(services.calendar_feeds_revoke_for_unit)
    permissions.register_ability("meetings.report_on_resolution", rules.RESOLUTION_RULES.can_report)
    permissions.register_ability("meetings.forward_resolution", rules.can_forward)
    permissions.register_ability("meetings.decline_forwarded", rules.can_decline_forwarded)
    register_kind_label("resolution_answered:", _("The higher body answered a forwarded resolution"))
    register_kind_label("resolution_rehomed:", _("The meeting a resolution was forwarded to was cancelled"))
    permissions.register_ability("meetings.answer_invitation", rules.can_answer_invitation)
    permissions.register_ability("meetings.record_attendance", rules.can_record_attendance)
    permissions.register(MeetingAttachment, rules.MEETING_CHILD_RULES)
    permissions.register(Reminder, rules.REMINDER_RULES)
    registry.register_public_figures(_public_figures)
    registry.register_portal_panel(_portal_meetings_panel)
    me.register(_me)
    demo.register("meetings", demo_meetings.seed, data_models=(JointMeeting,))
    report_sheets.register()

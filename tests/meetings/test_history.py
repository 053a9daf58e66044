"""Finding 7 of issue 9: calendar feeds (who made or revoked an address) and the invitations a series plans
in bulk keep a history; the feed's token, which opens the calendar, is not copied into it."""

from __future__ import annotations

from meetings import services, tasks
from meetings.models import CalendarFeed, Invitation

from .factories import SeriesFactory


def test_renewing_a_calendar_address_records_the_revoked_and_the_new_one_without_tokens(liaison_a):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    renewed = services.calendar_feed_renew(feed=feed, actor=liaison_a)
    assert "token" not in {f.name for f in CalendarFeed.history.model._meta.get_fields()}
    rows = CalendarFeed.history.order_by("history_id")
    assert [(r.id, r.history_type, r.history_user, r.history_change_reason, r.revoked_at is None) for r in rows] == [
        (feed.pk, "+", liaison_a, "created", True),
        (feed.pk, "~", liaison_a, "revoked", False),
        (renewed.pk, "+", liaison_a, "renewed", True),
    ]


def test_invitations_a_series_plans_in_the_nightly_task_leave_history_rows_marked_as_the_systems(
    street_staff, unit_a, community_x
):
    series = SeriesFactory(organiser=street_staff, community=community_x)
    series.invited_units.set([unit_a])
    tasks.plan_series.delay()
    invitations = Invitation.objects.filter(meeting__series=series)
    assert invitations.exists()
    rows = Invitation.history.filter(id__in=invitations.values("pk"))
    assert rows.count() == invitations.count()
    assert set(rows.values_list("history_type", "history_user", "history_change_reason")) == {
        ("+", None, "system: meetings.tasks.plan_series")
    }

"""Reminders go out exactly once, at the right local time, and never for a meeting's old time."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance import notifications
from alliance.models import Notification
from meetings import services
from meetings.models import Invitation, JointMeeting, Reminder

from .factories import InvitationFactory, MeetingFactory, ResolutionFactory, local


def _reminders(kind=None):
    qs = Reminder.objects.all()
    return qs.filter(kind=kind) if kind else qs


def test_a_meeting_at_nine_is_reminded_at_nine_the_day_before_and_at_eight(meeting_at_nine, tomorrow, liaison_a):
    day_before = tomorrow - timedelta(days=1)
    assert services.reminders_send_due(now=local(day_before, time(8, 59))) == 0
    assert services.reminders_send_due(now=local(day_before, time(9, 0))) == 1
    assert list(_reminders().values_list("kind", "recipient")) == [("meeting_24h", liaison_a.pk)]
    assert services.reminders_send_due(now=local(tomorrow, time(7, 59))) == 0
    assert services.reminders_send_due(now=local(tomorrow, time(8, 0))) == 1
    assert _reminders("meeting_1h").get().recipient == liaison_a
    assert services.reminders_send_due(now=local(tomorrow, time(9, 0))) == 0  # it has begun


def test_the_reminder_says_date_time_and_place_in_chinese(
    meeting_at_nine, tomorrow, liaison_a, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_send_due(now=local(tomorrow, time(8, 0)))
    message = next(m for m in mailoutbox if liaison_a.email in m.to)
    assert tomorrow.isoformat() in message.body and "09:00" in message.body
    assert "柳巷街道党群服务中心三楼会议室" in message.body
    assert "召开" in message.body or "举行" in message.body  # Chinese by default


def test_scanning_twice_sends_once(meeting_at_nine, tomorrow):
    at = local(tomorrow, time(8, 30))
    assert services.reminders_send_due(now=at) == 1
    assert services.reminders_send_due(now=at) == 0
    assert Notification.objects.filter(kind="reminder:meeting_1h").count() == 1


def test_declined_invitees_are_not_reminded(meeting_at_nine, tomorrow, unit_b, liaison_b):
    InvitationFactory(meeting=meeting_at_nine, unit=unit_b, status=Invitation.Status.DECLINED)
    services.reminders_send_due(now=local(tomorrow, time(8, 30)))
    assert not _reminders().filter(recipient=liaison_b).exists()


def test_a_worker_that_dies_after_recording_does_not_send_twice(meeting_at_nine, tomorrow, mailoutbox):
    """The scan records the reminder and its notification, then dies before delivering: the next scan
    records nothing new, and the sweep delivers the one notification once."""
    at = local(tomorrow, time(8, 30))
    # No on-commit delivery here: as if the worker died right after the scan's transaction committed.
    assert services.reminders_send_due(now=at) == 1
    assert mailoutbox == []
    assert services.reminders_send_due(now=at) == 0
    assert notifications.deliver_pending() == 1
    assert notifications.deliver_pending() == 0
    assert len(mailoutbox) == 1


def test_a_send_that_failed_before_delivery_is_retried(meeting_at_nine, tomorrow, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.alliance.failing_mail.Backend"
    services.reminders_send_due(now=local(tomorrow, time(8, 30)))
    assert notifications.deliver_pending() == 0  # the SMTP server is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.deliver_pending() == 1
    assert len(mailoutbox) == 1
    assert Notification.objects.get(kind="reminder:meeting_1h").attempts == 2


def test_cancelling_sends_one_notice_and_no_stale_reminder(
    meeting_at_nine, tomorrow, street_staff, liaison_a, mailoutbox
):
    day_before = tomorrow - timedelta(days=1)
    services.reminders_send_due(now=local(day_before, time(10, 0)))  # the 24 h reminder, not yet delivered
    services.meeting_cancel(meeting=meeting_at_nine, actor=street_staff, reason="与区里会议冲突")
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 0  # no 1 h reminder
    notifications.deliver_pending()
    subjects = [m.subject for m in mailoutbox if liaison_a.email in m.to and meeting_at_nine.title in m.subject]
    assert len(subjects) == 1 and "取消" in subjects[0]
    assert Notification.objects.get(kind="reminder:meeting_24h").status == Notification.Status.CANCELLED


def test_moving_sends_one_notice_and_reminds_for_the_new_time_only(
    meeting_at_nine, tomorrow, street_staff, liaison_a, mailoutbox
):
    day_before = tomorrow - timedelta(days=1)
    services.reminders_send_due(now=local(day_before, time(10, 0)))  # old time's 24 h reminder, pending
    new_start = local(tomorrow + timedelta(days=2), time(15, 0))
    meeting = services.meeting_reschedule(
        meeting=meeting_at_nine,
        actor=street_staff,
        start=new_start,
        end=new_start + timedelta(hours=1),
        place="街道二楼",
    )
    assert meeting.schedule_version == 2
    # the old time passes: nothing
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 0
    # the new time: its own reminders
    assert services.reminders_send_due(now=new_start - timedelta(hours=23)) == 1
    assert services.reminders_send_due(now=new_start - timedelta(minutes=30)) == 1
    notifications.deliver_pending()
    bodies = [m.body for m in mailoutbox if liaison_a.email in m.to]
    moved = [b for b in bodies if "15:00" in b and "街道二楼" in b]
    assert len(moved) == 3  # the notice and the two reminders of the new time
    assert Notification.objects.filter(status=Notification.Status.CANCELLED).count() == 1


def test_resolution_owners_are_reminded_three_days_before_and_on_the_due_date(unit_a, liaison_a):
    due = timezone.localdate() + timedelta(days=10)
    minuted = MeetingFactory(minutes="会议纪要")  # so no "minutes missing" notice joins in
    resolution = ResolutionFactory(meeting=minuted, owner=unit_a, due_date=due)
    assert services.reminders_send_due(now=local(due - timedelta(days=4), time(12, 0))) == 0
    assert services.reminders_send_due(now=local(due - timedelta(days=3), time(7, 59))) == 0
    assert services.reminders_send_due(now=local(due - timedelta(days=3), time(8, 0))) == 1
    assert services.reminders_send_due(now=local(due - timedelta(days=1), time(9, 0))) == 0
    assert services.reminders_send_due(now=local(due, time(8, 0))) == 1
    assert set(_reminders().values_list("kind", flat=True)) == {"resolution_3d", "resolution_due"}
    resolution.status = "done"
    resolution.save()
    assert services.reminders_send_due(now=local(due + timedelta(days=1), time(8, 0))) == 0


def test_organisers_are_told_when_minutes_are_missing_three_days_later(street_staff):
    start = timezone.now() - timedelta(days=2)
    meeting = MeetingFactory(start=start, end=start + timedelta(hours=2), organiser=street_staff, status="held")
    assert services.reminders_send_due() == 0  # three days have not passed since it ended
    later = timezone.now() + timedelta(days=1, hours=3)
    assert services.reminders_send_due(now=later) == 1
    assert _reminders("minutes_missing").get().recipient == street_staff
    meeting.minutes = "会议纪要"
    meeting.save()
    assert services.reminders_send_due(now=later + timedelta(days=1)) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent scans need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_send_each_reminder_once():
    from members import services as member_services

    from ..factories import MemberUnitFactory, UserFactory

    root = UserFactory(username="root-r", is_superuser=True, is_staff=True)
    units = [MemberUnitFactory() for _ in range(6)]
    liaisons = []
    for i, unit in enumerate(units):
        user = UserFactory(username=f"rem{i}")
        member_services.unit_membership_add(unit=unit, user=user, actor=root)
        liaisons.append(user)
    start = timezone.now() + timedelta(minutes=30)
    meeting = MeetingFactory(start=start, end=start + timedelta(hours=1), organiser=root)
    for unit in units:
        InvitationFactory(meeting=meeting, unit=unit)

    barrier = threading.Barrier(5)
    sent: list[int] = []

    def scan():
        try:
            barrier.wait()
            sent.append(services.reminders_send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == len(liaisons)
    assert Reminder.objects.filter(kind="meeting_1h").count() == len(liaisons)
    assert Notification.objects.filter(kind="reminder:meeting_1h").count() == len(liaisons)


# --- At scale: the scan asks the database what is still due ---------------------------------------------


def _invite(meeting, count: int, first: int) -> list:
    """`count` invitees: half through their units' accounts, half invited in person."""
    from members.models import UnitMembership

    from ..factories import MemberUnitFactory, UserFactory

    users = [UserFactory(username=f"invitee{n}") for n in range(first, first + count)]
    for n, user in enumerate(users):
        if n % 2:
            unit = MemberUnitFactory()
            UnitMembership.objects.create(unit=unit, user=user)
            InvitationFactory(meeting=meeting, unit=unit)
        else:
            InvitationFactory(meeting=meeting, unit=None, person=user)
    return users


def _scan(now) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        sent = services.reminders_send_due(now=now)
    return sent, [q["sql"] for q in queries.captured_queries]


def test_the_scan_costs_the_same_queries_for_10_and_50_invitees_and_a_second_scan_inserts_nothing(
    tomorrow, street_staff
):
    at = local(tomorrow, time(8, 30))
    counts = []
    for count, first in ((10, 0), (50, 100)):
        Reminder.objects.all().delete()
        JointMeeting.objects.all().delete()
        meeting = MeetingFactory(start=local(tomorrow, time(9, 0)), organiser=street_staff)
        users = _invite(meeting, count, first)
        sent, queries = _scan(at)
        assert sent == count
        counts.append(len(queries))
        assert set(Reminder.objects.values_list("recipient_id", flat=True)) == {u.pk for u in users}
        assert Notification.objects.filter(kind="reminder:meeting_1h", recipient__in=users).count() == count
        # Every later scan finds nothing due: no INSERT is even tried, so no constraint is hit (on
        # PostgreSQL a refused INSERT is an ERROR line in the server's log).
        sent, queries = _scan(at)
        assert sent == 0
        assert not [sql for sql in queries if sql.lstrip().upper().startswith("INSERT")]
        assert len(queries) == EMPTY_SCAN[connection.vendor]
    # SQLite caps the parameters of one statement (999): a batch's notifications may take more than one
    # INSERT there, which is the backend's limit and not a query per invitee.
    assert counts == [FULL_SCAN[connection.vendor] + _notification_inserts(n) - 1 for n in (10, 50)]


def _notification_inserts(count: int) -> int:
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    per_statement = connection.ops.bulk_batch_size(fields, [None] * count)
    return -(-count // per_statement)


# Five kinds of reminder, each a lock (PostgreSQL) and the query of what is still unsent; a batch that
# sends adds the subjects, the people with their phones (one query), the notifications and the ledger rows.
EMPTY_SCAN = {"sqlite": 15, "postgresql": 20}
FULL_SCAN = {"sqlite": 21, "postgresql": 26}


def test_the_scan_sends_in_batches(tomorrow, street_staff, monkeypatch):
    monkeypatch.setattr(services, "SCAN_BATCH", 4)
    meeting = MeetingFactory(start=local(tomorrow, time(9, 0)), organiser=street_staff)
    users = _invite(meeting, 10, 0)
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 10
    assert sorted(Reminder.objects.values_list("recipient_id", flat=True)) == sorted(u.pk for u in users)
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 0


def test_a_moved_meeting_is_reminded_again_for_its_new_time_only(tomorrow, street_staff):
    meeting = MeetingFactory(start=local(tomorrow, time(9, 0)), organiser=street_staff)
    users = _invite(meeting, 4, 0)
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 4
    JointMeeting.objects.filter(pk=meeting.pk).update(
        start=local(tomorrow, time(10, 0)), end=local(tomorrow, time(11, 0)), schedule_version=2
    )
    assert services.reminders_send_due(now=local(tomorrow, time(9, 30))) == 4
    assert sorted(Reminder.objects.filter(version=2).values_list("recipient_id", flat=True)) == sorted(
        u.pk for u in users
    )


def test_a_scans_deliveries_are_queued_and_sent_in_batches_in_queries_that_do_not_grow(
    tomorrow, street_staff, monkeypatch, mailoutbox
):
    """10,000 reminders are 100 delivery tasks, not 10,000; a task claims, reads and marks its batch sent
    in the same queries whether it holds 4 rows or 8 (here DELIVERY_BATCH is 4)."""
    monkeypatch.setattr(notifications, "DELIVERY_BATCH", 4)
    queued: list[list[int]] = []
    monkeypatch.setattr(notifications, "enqueue_after_commit", lambda task, ids: queued.append(ids))
    meeting = MeetingFactory(start=local(tomorrow, time(9, 0)), organiser=street_staff)
    users = _invite(meeting, 10, 0)
    assert services.reminders_send_due(now=local(tomorrow, time(8, 30))) == 10
    assert [len(ids) for ids in queued] == [4, 4, 2]
    ids = [pk for batch in queued for pk in batch]
    assert sorted(ids) == sorted(Notification.objects.filter(recipient__in=users).values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as one_batch:
        assert notifications.deliver_many(ids[:4]) == 4
    with CaptureQueriesContext(connection) as two_batches:
        assert notifications.deliver_many(ids[4:]) == 6
    assert len(two_batches) == 2 * len(one_batch)
    assert len(mailoutbox) == 10
    assert Notification.objects.filter(pk__in=ids, status=Notification.Status.SENT, attempts=1).count() == 10
    # Delivered again (a redelivered task, the sweep): nothing goes out twice.
    assert notifications.deliver_many(ids) == 0
    assert notifications.deliver_pending() == 0
    assert len(mailoutbox) == 10

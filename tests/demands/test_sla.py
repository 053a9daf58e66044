from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from alliance.models import Notification
from demands import services
from demands.models import Need, NeedSlaFlag
from demands.tasks import flag_overdue_needs

from .factories import NeedFactory


def _backdate(need, **fields):
    Need.objects.filter(pk=need.pk).update(**fields)


def test_an_undispatched_need_is_flagged_once_and_notifies_once(
    community_x, community_x_staff, django_capture_on_commit_callbacks, mailoutbox
):
    late = NeedFactory(community=community_x)
    _backdate(late, submitted_at=timezone.now() - timedelta(days=2, hours=1))
    fresh = NeedFactory(community=community_x)
    with django_capture_on_commit_callbacks(execute=True):
        assert flag_overdue_needs.apply().get() == 1
        assert flag_overdue_needs.apply().get() == 0
    assert list(NeedSlaFlag.objects.values_list("need_id", "stage")) == [(late.pk, "dispatch")]
    assert Notification.objects.filter(kind="need_overdue:dispatch", recipient=community_x_staff).count() == 1
    assert len([m for m in mailoutbox if community_x_staff.email in m.to]) == 1
    assert not NeedSlaFlag.objects.filter(need=fresh).exists()


def test_a_dispatched_need_not_accepted_in_two_days_is_flagged_for_that_stage(community_x, community_x_staff, unit_a):
    need = NeedFactory(community=community_x, status=Need.Status.DISPATCHED, unit=unit_a)
    _backdate(need, submitted_at=timezone.now() - timedelta(days=5), dispatched_at=timezone.now() - timedelta(days=3))
    assert flag_overdue_needs.apply().get() == 1
    assert NeedSlaFlag.objects.get(need=need).stage == "accept"
    assert Notification.objects.filter(kind="need_overdue:accept").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_flag_and_notify_once():
    from members import services as member_services

    from ..factories import CommunityFactory, UserFactory

    root = UserFactory(username="root-sla", is_superuser=True, is_staff=True)
    community = CommunityFactory()
    staff = UserFactory(username="sla-staff")
    member_services.community_staff_add(user=staff, community=community, actor=root)
    needs = [NeedFactory(community=community) for _ in range(5)]
    for need in needs:
        _backdate(need, submitted_at=timezone.now() - timedelta(days=3))

    barrier = threading.Barrier(4)
    results = []

    def scan():
        try:
            barrier.wait()
            # The task's body, called directly: Celery's eager mode keeps one task stack per process.
            results.append(services.needs_flag_overdue())
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 5
    assert NeedSlaFlag.objects.count() == 5
    # One summary for the five, from whichever scan raised the flags.
    told = Notification.objects.get(kind="need_overdue:dispatch", recipient=staff)
    assert told.subject.startswith("5 ")


def test_a_backlog_of_overdue_needs_tells_each_staff_member_once_with_the_count_and_the_list(
    community_x, community_y, community_x_staff, root, django_capture_on_commit_callbacks, mailoutbox
):
    from members import services as member_services

    from ..factories import UserFactory

    second = UserFactory(username="second-x-staff")
    member_services.community_staff_add(user=second, community=community_x, actor=root)
    for need in [NeedFactory(community=community_x) for _ in range(30)] + [NeedFactory(community=community_y)]:
        _backdate(need, submitted_at=timezone.now() - timedelta(days=3))
    # In the platform's language, as the beat's worker runs it.
    with django_capture_on_commit_callbacks(execute=True), translation.override("zh-hans"):
        assert services.needs_flag_overdue() == 31
    assert NeedSlaFlag.objects.count() == 31
    told = Notification.objects.filter(kind="need_overdue:dispatch", recipient__in=[community_x_staff, second])
    assert sorted(told.values_list("recipient__username", flat=True)) == ["community_x_staff", "second-x-staff"]
    for row in told:
        assert row.subject == "30 条需求超时"
        assert row.body == "桥头街社区有 30 条需求等待派单已超过2个工作日。"
        # At once: they missed their service level today.
        assert row.in_digest is False
        assert row.url == f"/admin/demands/need/?flag=dispatch&overdue=yes&community__id__exact={community_x.pk}"
    assert sorted(m.to[0] for m in mailoutbox if m.subject == "30 条需求超时") == sorted(
        [community_x_staff.email, second.email]
    )
    # community_y has no staff: street staff (the superuser) hear of its one need, on its own.
    assert Notification.objects.get(kind="need_overdue:dispatch", recipient=root).subject == "1 条需求超时"
    assert services.needs_flag_overdue() == 0
    assert Notification.objects.filter(kind__startswith="need_overdue:").count() == 3


def test_the_overdue_link_opens_the_communitys_overdue_needs(community_x, community_y, community_x_staff):
    late = NeedFactory(community=community_x)
    _backdate(late, submitted_at=timezone.now() - timedelta(days=3))
    NeedFactory(community=community_x)  # on time
    other = NeedFactory(community=community_y)
    _backdate(other, submitted_at=timezone.now() - timedelta(days=3))
    services.needs_flag_overdue()
    told = Notification.objects.get(kind="need_overdue:dispatch", recipient=community_x_staff)
    from ..conftest import client_for

    page = client_for(community_x_staff).get(told.url)
    assert page.status_code == 200
    assert [need.pk for need in page.context["cl"].result_list] == [late.pk]


def test_the_scan_costs_the_same_queries_for_10_and_30_overdue_needs(community_x, community_x_staff):
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (10, 30):
        for need in [NeedFactory(community=community_x) for _ in range(size)]:
            _backdate(need, submitted_at=timezone.now() - timedelta(days=3))
        with CaptureQueriesContext(connection) as queries:
            assert services.needs_flag_overdue() == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_work_queue_puts_the_longest_waiting_first_and_overdue_ones_on_top(
    community_x, unit_a, street_staff, liaison_a
):
    from demands import selectors

    now = timezone.now()
    fresh = NeedFactory(community=community_x)
    waiting = NeedFactory(community=community_x)
    _backdate(waiting, submitted_at=now - timedelta(days=3))
    # Submitted long ago but dispatched yesterday: its clock is the dispatch's, not yet overdue.
    dispatched = NeedFactory(community=community_x, status=Need.Status.DISPATCHED, unit=unit_a)
    _backdate(dispatched, submitted_at=now - timedelta(days=9), dispatched_at=now - timedelta(days=1))
    # Dispatched four days ago and still not accepted: the most overdue.
    stuck = NeedFactory(community=community_x, status=Need.Status.DISPATCHED, unit=unit_a)
    _backdate(stuck, submitted_at=now - timedelta(days=5), dispatched_at=now - timedelta(days=4))
    # Accepted: no clock runs, so it comes after every need on one, however old.
    accepted = NeedFactory(community=community_x, status=Need.Status.ACCEPTED, unit=unit_a)
    _backdate(accepted, submitted_at=now - timedelta(days=30))

    queue = list(selectors.need_queue(user=street_staff))
    assert queue == [stuck, waiting, dispatched, fresh, accepted]
    assert [need.is_overdue for need in queue] == [True, True, False, False, False]

    # The clock follows the need through the services: accepting stops it, declining restarts the
    # dispatch clock from the submission.
    services.need_accept(need=stuck, actor=liaison_a)
    services.need_decline(need=dispatched, actor=liaison_a, reason="人手不足")
    waiting_since = dict(Need.objects.values_list("pk", "waiting_since"))
    assert waiting_since[stuck.pk] is None
    assert waiting_since[dispatched.pk] == Need.objects.get(pk=dispatched.pk).submitted_at
    assert list(selectors.need_queue(user=street_staff))[:2] == [dispatched, waiting]

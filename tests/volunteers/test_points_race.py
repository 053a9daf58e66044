"""Two transactions awarding the same source at once (a verification and the backfill, two workers): one
entry; reviewers re-scoring one review below at once: one withdrawal. Real threads on PostgreSQL (SQLite
serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from members import services as member_services
from projects import services as project_services
from volunteers import points
from volunteers.models import PointsEntry

from ..factories import CommunityFactory, MemberUnitFactory, UserFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from .factories import PartyMemberFactory, ServiceLogFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize("threads", [2, 8])
def test_awarding_one_source_from_many_threads_writes_one_entry(threads):
    member = PartyMemberFactory(residence_community=CommunityFactory())
    log = ServiceLogFactory(member=member, date=date(2026, 5, 10), hours=Decimal("3"))
    points.rule_for(street_id=member.residence_community.street_id, year=2026)
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def award(use_backfill: bool):
        try:
            barrier.wait()
            if use_backfill:
                outcomes.append(f"backfill:{points.points_backfill(year=2026)}")
            else:
                outcomes.append("awarded" if points.points_award(source=log) is not None else "nothing")
        except Exception as exc:  # a failure must show, not hang the barrier
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    workers = [threading.Thread(target=award, args=(i % 2 == 1,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    won = outcomes.count("awarded") + outcomes.count("backfill:1")
    assert won == 1, outcomes
    assert all(o in ("awarded", "nothing", "backfill:0", "backfill:1") for o in outcomes), outcomes
    assert list(PointsEntry.objects.values_list("source_kind", "source_id", "points")) == [("service_log", log.pk, 3)]


@pytest.mark.parametrize("threads", [2, 4])
def test_rescoring_one_review_below_from_many_threads_takes_its_points_back_once(threads):
    community = CommunityFactory()
    unit = MemberUnitFactory(community=community)
    root = UserFactory(username="root_race", is_staff=True, is_superuser=True)
    staff = UserFactory(username="street_race", is_staff=True)
    member_services.street_staff_add(user=staff, street=community.street, actor=root)
    claim = ClaimFactory(unit=unit, project=ProjectFactory(community=community))
    project_services.review_save(claim=claim, actor=staff, year=2026, quarter=2, score=5)
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def rescore(score: int):
        try:
            barrier.wait()
            project_services.review_save(claim=claim, actor=staff, year=2026, quarter=2, score=score)
            outcomes.append("saved")
        except Exception as exc:  # a failure must show, not hang the barrier
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    workers = [threading.Thread(target=rescore, args=(1 + i % 3,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert outcomes == ["saved"] * threads
    assert sorted(PointsEntry.objects.filter(unit=unit).values_list("points", flat=True)) == [-10, 10]

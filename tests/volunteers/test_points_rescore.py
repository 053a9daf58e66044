"""A commitment review's points follow its score (积分, issue 15): re-scored below the rule's score, the
unit's award is taken back by one linked negative entry; re-scored back, awarded again — the ledger only
grows, the unique indexes hold, balances and rankings read the sum, and the backfill adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from alliance.periods import Quarter
from projects import services as project_services
from volunteers import points, selectors
from volunteers.models import PointsEntry

from ..conftest import client_for
from .points_world import review

# Entries that correct one of 2026 go in the quarter they are made (the year's last once it is over).
NOW = Quarter.current()
LATER = (NOW.year, NOW.quarter) if NOW.year == 2026 else (2026, 4)


def _rescore(saved, staff, score: int):
    return project_services.review_save(claim=saved.claim, actor=staff, year=2026, quarter=2, score=score)


def _chain(saved) -> list[tuple]:
    return [
        (e.source, e.points, e.corrects_id, (e.year, e.quarter), e.reason)
        for e in PointsEntry.objects.filter(unit_id=saved.claim.unit_id).order_by("id")
    ]


def _backfill_adds_nothing() -> None:
    call_command("points_backfill", "--year", "2026", stdout=StringIO())
    assert points.points_backfill(year=2026) == 0


def test_above_below_above_below_writes_the_chain_and_the_balance_follows(rule, unit_a, street_staff):
    saved = review(unit_a, street_staff, score=5)
    title = saved.claim.project.title
    award = f"2026 年第 2 季度承诺评议 5 分（满分 5 分）：{title}"
    taken_back = f"积分收回：2026 年第 2 季度承诺评议改为 %d 分（满分 5 分），低于得积分的 4 分：{title}"
    again = f"积分重新计入：2026 年第 2 季度承诺评议改为 %d 分（满分 5 分）：{title}"
    source = f"review:{saved.pk}"
    first = PointsEntry.objects.get()
    assert _chain(saved) == [(source, 10, None, (2026, 2), award)]
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 10
    _backfill_adds_nothing()

    # Below the rule's 4: the award is taken back, once — scoring it lower still writes nothing more.
    _rescore(saved, street_staff, 3)
    withdrawal = PointsEntry.objects.latest("id")
    _rescore(saved, street_staff, 2)
    step2 = [(source, 10, None, (2026, 2), award), (source, -10, first.pk, LATER, taken_back % 3)]
    assert _chain(saved) == step2
    assert withdrawal.approved_by_id == street_staff.pk
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0
    _backfill_adds_nothing()
    assert _chain(saved) == step2

    # Back at the score: awarded again, linked to the withdrawal it undoes; a better score adds nothing.
    _rescore(saved, street_staff, 4)
    second = PointsEntry.objects.latest("id")
    _rescore(saved, street_staff, 5)
    step3 = [*step2, (source, 10, withdrawal.pk, LATER, again % 4)]
    assert _chain(saved) == step3
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 10
    _backfill_adds_nothing()
    assert _chain(saved) == step3

    # Below again: the second award is taken back.
    _rescore(saved, street_staff, 1)
    step4 = [*step3, (source, -10, second.pk, LATER, taken_back % 1)]
    assert _chain(saved) == step4
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0
    _backfill_adds_nothing()
    assert _chain(saved) == step4


def test_balances_and_rankings_follow_the_rescore(rule, unit_a, unit_b, street_staff):
    a = review(unit_a, street_staff, score=4)
    review(unit_b, street_staff, score=5, quarter=1)

    def ranking():
        return [
            (r["name"], r["total"], r["rank"])
            for r in selectors.points_ranking(user=street_staff, year=2026, by="unit")
        ]

    def balances():
        return [(r["name"], r["balance"], r["rank"]) for r in selectors.points_balances(user=street_staff, year=2026)]

    assert ranking() == [("太原市第五中学", 10, 1), ("山西饭店", 10, 1)]
    _rescore(a, street_staff, 2)
    assert ranking() == [("太原市第五中学", 10, 1), ("山西饭店", 0, 2)]
    assert balances() == [("太原市第五中学", 10, 1), ("山西饭店", 0, 2)]
    _rescore(a, street_staff, 4)
    assert balances() == [("太原市第五中学", 10, 1), ("山西饭店", 10, 1)]


def test_a_review_first_scored_below_earns_when_rescored_above(rule, unit_a, street_staff):
    saved = review(unit_a, street_staff, score=2)
    assert not PointsEntry.objects.exists()
    _rescore(saved, street_staff, 4)
    entry = PointsEntry.objects.get()
    # The first award of the review, in the review's quarter, as if it had been scored 4 at once.
    assert (entry.source, entry.points, entry.corrects_id, entry.year, entry.quarter) == (
        f"review:{saved.pk}",
        10,
        None,
        2026,
        2,
    )
    _backfill_adds_nothing()
    _rescore(saved, street_staff, 3)
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0


def test_staff_corrections_stay_apart_from_the_reviews_chain(rule, unit_a, street_staff, community_x_staff):
    saved = review(unit_a, street_staff, score=4)
    award = PointsEntry.objects.get()
    points.points_correct(entry=award, points=3, reason="活动成效突出", actor=community_x_staff)
    _rescore(saved, street_staff, 3)
    # The review's 10 taken back; the staff's own +3 stays.
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 3
    assert PointsEntry.objects.filter(source_kind="review", points=-10, corrects=award).count() == 1


def test_a_rule_changed_since_keeps_the_points_of_a_review_saved_with_its_score(rule, unit_a, street_staff):
    saved = review(unit_a, street_staff, score=4)
    points.points_rule_update(rule=rule, actor=street_staff, data={"review_min_score": 5})
    project_services.review_save(
        claim=saved.claim, actor=street_staff, year=2026, quarter=2, score=4, comment="只改评语"
    )
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 10
    _rescore(saved, street_staff, 3)  # re-scored: judged by the rule of now
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0


def test_an_entry_of_the_chain_is_followed_once_by_the_database(rule, unit_a, street_staff):
    saved = review(unit_a, street_staff, score=4)
    award = PointsEntry.objects.get()
    _rescore(saved, street_staff, 2)
    twice = PointsEntry(
        unit_id=award.unit_id,
        community_id=award.community_id,
        points=-10,
        reason="x",
        source_kind="review",
        source_id=saved.pk,
        year=2026,
        quarter=2,
        corrects=award,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twice.save()
    assert PointsEntry.objects.count() == 2


def test_rescoring_in_the_admin_takes_the_points_back_and_gives_them_again(rule, unit_a, community_x_staff):
    saved = review(unit_a, community_x_staff, score=5)
    client = client_for(community_x_staff)
    url = reverse("admin:projects_commitmentreview_change", args=[saved.pk])

    assert client.post(url, {"score": "3", "comment": "二季度活动偏少"}).status_code == 302
    assert [(e.points, e.source) for e in PointsEntry.objects.order_by("id")] == [
        (10, f"review:{saved.pk}"),
        (-10, f"review:{saved.pk}"),
    ]
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0
    assert client.post(url, {"score": "4", "comment": "已整改"}).status_code == 302
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 10
    assert PointsEntry.objects.count() == 3


def test_rescoring_through_the_api_takes_the_points_back_and_gives_them_again(rule, unit_a, community_x_staff):
    saved = review(unit_a, community_x_staff, score=4)
    api = APIClient()
    api.force_authenticate(community_x_staff)
    url = f"/api/v1/reviews/{saved.pk}/"

    assert api.patch(url, {"score": 2}, format="json").status_code == 200
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 0
    listed = api.get("/api/v1/points/?year=2026")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert sorted((row["points"], row["source"]) for row in rows) == [
        (-10, f"review:{saved.pk}"),
        (10, f"review:{saved.pk}"),
    ]
    assert api.patch(url, {"score": 5}, format="json").status_code == 200
    assert api.patch(url, {"score": 5}, format="json").status_code == 200
    assert selectors.points_balance(year=2026, unit_id=unit_a.pk) == 10
    assert PointsEntry.objects.count() == 3

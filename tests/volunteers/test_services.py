"""Registration, verification, posts, micro-wishes and hours: who may do what, and what counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from alliance.errors import Conflict, InvalidInput, PermissionDenied
from demands.models import Need
from volunteers import selectors, services
from volunteers.models import PartyMember

from ..demands.factories import NeedFactory
from ..factories import UserFactory
from .factories import PartyMemberFactory, PostFactory, ServiceLogFactory

ROLES = ["anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member"]


@pytest.fixture
def pending(community_x, member):
    return PartyMemberFactory(residence_community=community_x, user=member, status=PartyMember.Status.PENDING)


def _outcome(call) -> str:
    try:
        call()
    except Http404:
        return "404"
    except PermissionDenied:
        return "403"
    except Conflict:
        return "409"
    except InvalidInput:
        return "400"
    return "ok"


@pytest.mark.parametrize("role", ROLES)
def test_verification_for_every_role(role, cast, pending):
    outcome = _outcome(lambda: services.member_verify(member=pending, actor=cast[role]))
    if role in {"community_x_staff", "street_staff"}:
        assert outcome == "ok"
    elif role == "member":
        assert outcome == "403"  # sees their own registration, may not verify it
    else:
        assert outcome == "404"
    pending.refresh_from_db()
    assert pending.status == ("verified" if outcome == "ok" else "pending")


@pytest.mark.parametrize("role", ROLES)
def test_logging_and_verifying_hours_for_every_role(role, cast, community_x, member):
    registration = PartyMemberFactory(residence_community=community_x, user=member)
    data = {"date": timezone.localdate(), "hours": Decimal("2.5"), "description": "楼道清扫"}
    logged = _outcome(lambda: services.log_hours(member=registration, actor=cast[role], data=data))
    assert logged == ("ok" if role in {"member", "community_x_staff", "street_staff"} else "404")
    log = ServiceLogFactory(member=registration, verified=False)
    verified = _outcome(lambda: services.log_verify(log=log, actor=cast[role]))
    assert verified == (
        "ok" if role in {"community_x_staff", "street_staff"} else ("403" if role == "member" else "404")
    )


def test_hours_must_be_between_zero_and_twenty_four(community_x, member):
    registration = PartyMemberFactory(residence_community=community_x, user=member)
    for hours in (Decimal("0"), Decimal("-1"), Decimal("24.5")):
        with pytest.raises(InvalidInput):
            services.log_hours(
                member=registration,
                actor=member,
                data={"date": timezone.localdate(), "hours": hours, "description": "x"},
            )
    with pytest.raises(InvalidInput):
        services.log_hours(
            member=registration,
            actor=member,
            data={"date": timezone.localdate() + timedelta(days=1), "hours": Decimal("1"), "description": "x"},
        )


def test_a_member_cannot_claim_before_verification_or_in_another_community(community_x, community_y, pending, member):
    post_here, post_there = PostFactory(community=community_x), PostFactory(community=community_y)
    with pytest.raises(PermissionDenied):
        services.post_claim(post=post_here, actor=member)
    services.member_verify(member=pending, actor=UserFactory(username="boss", is_superuser=True))
    claim = services.post_claim(post=post_here, actor=member)
    with pytest.raises(PermissionDenied):
        services.post_claim(post=post_there, actor=member)
    with pytest.raises(services.AlreadyServing):
        services.post_claim(post=post_here, actor=member)
    post_here.refresh_from_db()
    assert post_here.places_taken == 1
    services.post_leave(claim=claim, actor=member)
    post_here.refresh_from_db()
    assert post_here.places_taken == 0


def test_a_full_post_answers_full(community_x, member):
    PartyMemberFactory(residence_community=community_x, user=member)
    post = PostFactory(community=community_x, places=1)
    other = UserFactory(username="other-member")
    PartyMemberFactory(residence_community=community_x, user=other)
    services.post_claim(post=post, actor=other)
    with pytest.raises(services.PostFull):
        services.post_claim(post=post, actor=member)


def test_micro_wishes_go_through_the_needs_workflow(community_x, community_y, member, street_staff):
    PartyMemberFactory(residence_community=community_x, user=member)
    wish = NeedFactory(community=community_x, kind=Need.Kind.MICRO_WISH)
    elsewhere = NeedFactory(community=community_y, kind=Need.Kind.MICRO_WISH)
    plain = NeedFactory(community=community_x, kind=Need.Kind.RESIDENT)
    with pytest.raises(PermissionDenied):
        services.wish_claim(need=elsewhere, actor=member)
    with pytest.raises(InvalidInput):
        services.wish_claim(need=plain, actor=member)
    wish = services.wish_claim(need=wish, actor=member)
    assert wish.status == Need.Status.ACCEPTED and wish.claimed_by == member
    with pytest.raises(Conflict):
        services.wish_claim(need=wish, actor=member)
    with pytest.raises(PermissionDenied):
        services.wish_complete(need=wish, actor=street_staff, result="x")
    wish = services.wish_complete(need=wish, actor=member, result="已送去一副老花镜")
    assert wish.status == Need.Status.COMPLETED
    assert list(wish.events.values_list("to_status", flat=True)) == ["accepted", "completed"]


def test_moving_house_keeps_the_history(community_x, community_y, member, street_staff):
    registration = PartyMemberFactory(residence_community=community_x, user=member)
    ServiceLogFactory(member=registration, hours=Decimal("3"))
    new = services.member_move(member=registration, actor=member, community=community_y)
    registration.refresh_from_db()
    assert registration.status == "ended" and new.status == "pending" and new.residence_community == community_y
    assert registration.service_logs.count() == 1


def test_totals_count_verified_hours_only(community_x, community_y):
    a = PartyMemberFactory(residence_community=community_x)
    b = PartyMemberFactory(residence_community=community_y, work_unit=a.work_unit)
    ServiceLogFactory(member=a, hours=Decimal("2.0"))
    ServiceLogFactory(member=a, hours=Decimal("1.5"))
    ServiceLogFactory(member=a, hours=Decimal("8.0"), verified=False)
    ServiceLogFactory(member=b, hours=Decimal("4.0"))
    by_member = {row["group_key"]: row["hours"] for row in selectors.hours_totals(by="member")}
    assert by_member == {a.pk: Decimal("3.5"), b.pk: Decimal("4.0")}
    by_community = {row["group_key"]: row["hours"] for row in selectors.hours_totals(by="community")}
    assert by_community == {community_x.pk: Decimal("3.5"), community_y.pk: Decimal("4.0")}
    by_unit = {row["group_key"]: row["hours"] for row in selectors.hours_totals(by="work_unit")}
    assert by_unit == {a.work_unit_id: Decimal("7.5")}


def test_the_service_card_sums_what_the_logs_say(community_x):
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    member = PartyMemberFactory(residence_community=community_x)
    ServiceLogFactory(member=member, hours=Decimal("2.0"))
    ServiceLogFactory(member=member, hours=Decimal("3.5"))
    ServiceLogFactory(member=member, hours=Decimal("9.0"), verified=False)
    ServiceLogFactory(member=member, hours=Decimal("4.0"), date=today - timedelta(days=200))  # another quarter
    card = selectors.service_card(year=year, quarter=quarter, work_unit_id=member.work_unit_id).get()
    assert card.quarter_hours == Decimal("5.5") and card.quarter_services == 2


def test_the_service_card_keeps_the_hours_of_a_member_who_moved_away(community_x, community_y, member):
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    registration = PartyMemberFactory(residence_community=community_x, user=member)
    ServiceLogFactory(member=registration, hours=Decimal("2.0"))
    new = services.member_move(member=registration, actor=member, community=community_y)
    rows = {
        m.pk: m.quarter_hours
        for m in selectors.service_card(year=year, quarter=quarter, work_unit_id=registration.work_unit_id)
    }
    assert rows == {registration.pk: Decimal("2.0")}  # the new, pending registration has nothing to show yet
    assert new.pk not in rows

"""The loop 居民点单 → 社区派单 → 单位接单 → 组织晒单 through the services, and who is told at each step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alliance.errors import InvalidInput, TransitionNotAllowed
from demands import selectors, services
from demands.models import Need, NeedEvent
from demands.tasks import close_expired_needs

from ..factories import CategoryFactory

S = Need.Status


@pytest.fixture
def category(db):
    return CategoryFactory(name="关心关爱", code="care")


def _submit(community, category, **extra):
    data = {
        "community": community,
        "category": category,
        "title": "独居老人需要助餐",
        "description": "83岁独居老人做饭不便。",
        "contact_name": "赵秀英",
        "contact_phone": "13912340001",
        "address": "柳北社区8号楼",
        **extra,
    }
    return services.need_submit(data=data)


def test_the_whole_loop_tells_whoever_acts_next(
    community_x,
    community_x_staff,
    liaison_a,
    unit_a,
    category,
    django_capture_on_commit_callbacks,
    mailoutbox,
    sms_outbox,
):
    with django_capture_on_commit_callbacks(execute=True):
        need = _submit(community_x, category)
    assert need.status == S.SUBMITTED and len(need.tracking_code) == 13
    assert set(need.tracking_code) <= set(services.TRACKING_ALPHABET)
    assert any(community_x_staff.email in m.to for m in mailoutbox)  # staff: a need to dispatch
    assert [m.phone for m in sms_outbox] == ["13912340001"]  # the resident: the tracking code
    assert services.format_tracking_code(need.tracking_code) in sms_outbox[0].text

    mailoutbox.clear()
    sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        need = services.need_dispatch(need=need, unit=unit_a, actor=community_x_staff)
    assert need.status == S.DISPATCHED and need.unit == unit_a and need.dispatched_at
    assert any(liaison_a.email in m.to for m in mailoutbox)  # the unit's liaison: a need to accept
    assert any(m.phone == "13912340001" for m in sms_outbox)

    with django_capture_on_commit_callbacks(execute=True):
        need = services.need_accept(need=need, actor=liaison_a)
        need = services.need_complete(need=need, actor=liaison_a, result="已安排社区食堂每日送餐")
    assert need.status == S.COMPLETED and need.result.startswith("已安排")

    with django_capture_on_commit_callbacks(execute=True):
        need = services.need_rate(need=need, rating=5, comment="很满意")
    assert need.status == S.CLOSED and need.rating == 5
    need = services.need_showcase(need=need, actor=community_x_staff)
    assert need in selectors.showcase()

    timeline = list(NeedEvent.objects.filter(need=need).values_list("from_status", "to_status"))
    assert timeline == [
        ("", "submitted"),
        ("submitted", "dispatched"),
        ("dispatched", "accepted"),
        ("accepted", "completed"),
        ("completed", "closed"),
    ]


def test_declining_returns_the_need_to_the_community_and_out_of_the_units_sight(
    community_x, community_x_staff, liaison_a, unit_a, category
):
    from alliance import permissions

    need = services.need_dispatch(need=_submit(community_x, category), unit=unit_a, actor=community_x_staff)
    assert permissions.can_view(liaison_a, need)
    with pytest.raises(InvalidInput):
        services.need_decline(need=need, actor=liaison_a, reason=" ")
    need = services.need_decline(need=need, actor=liaison_a, reason="本周人手不足")
    assert need.status == S.SUBMITTED and need.unit is None
    fresh = type(liaison_a).objects.get(pk=liaison_a.pk)  # a new request: no cached permissions
    assert not permissions.can_view(fresh, need)
    assert NeedEvent.objects.filter(need=need, to_status=S.SUBMITTED, note="本周人手不足").exists()


def test_rejection_is_final_and_needs_a_reason(community_x, community_x_staff, unit_a, category):
    need = _submit(community_x, category)
    with pytest.raises(InvalidInput):
        services.need_reject(need=need, actor=community_x_staff, reason="")
    need = services.need_reject(need=need, actor=community_x_staff, reason="已转城管部门处理")
    for step in (
        lambda: services.need_dispatch(need=need, unit=unit_a, actor=community_x_staff),
        lambda: services.need_reject(need=need, actor=community_x_staff, reason="again"),
        lambda: services.need_showcase(need=need, actor=community_x_staff),
        lambda: services.need_rate(need=need, rating=5),
    ):
        with pytest.raises(TransitionNotAllowed):
            step()
    need.refresh_from_db()
    assert need.status == S.REJECTED


def test_rating_is_one_to_five(need_in):
    need = need_in(S.COMPLETED)
    for bad in (0, 6, "5", None):
        with pytest.raises(InvalidInput):
            services.need_rate(need=need, rating=bad)
    need.refresh_from_db()
    assert need.status == S.COMPLETED


def test_completed_needs_close_themselves_after_seven_days(need_in):
    old = need_in(S.COMPLETED)
    Need.objects.filter(pk=old.pk).update(completed_at=timezone.now() - timedelta(days=8))
    recent = need_in(S.COMPLETED)
    assert close_expired_needs.apply().get() == 1
    assert close_expired_needs.apply().get() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == S.CLOSED and old.rating is None
    assert recent.status == S.COMPLETED
    assert NeedEvent.objects.filter(need=old, to_status=S.CLOSED, actor=None).exists()


def test_dispatch_only_to_active_units(community_x, community_x_staff, category):
    from members.models import MemberUnit

    from ..factories import MemberUnitFactory

    need = _submit(community_x, category)
    applied = MemberUnitFactory(status=MemberUnit.Status.APPLIED)
    with pytest.raises(InvalidInput):
        services.need_dispatch(need=need, unit=applied, actor=community_x_staff)
    need.refresh_from_db()
    assert need.status == S.SUBMITTED


def test_residents_cannot_file_micro_wishes_and_staff_enter_needs_only_in_their_communities(
    community_x, community_y, community_x_staff, category
):
    from alliance.errors import PermissionDenied

    need = _submit(community_x, category, kind=Need.Kind.MICRO_WISH)
    assert need.kind == Need.Kind.RESIDENT
    data = {
        "community": community_y,
        "category": category,
        "title": "t",
        "description": "d",
        "contact_name": "王",
        "contact_phone": "13900001111",
    }
    with pytest.raises(PermissionDenied):
        services.need_submit(data=data, channel=Need.Channel.PHONE, actor=community_x_staff)
    wish = services.need_submit(
        data={**data, "community": community_x, "kind": Need.Kind.MICRO_WISH},
        channel=Need.Channel.VISIT,
        actor=community_x_staff,
    )
    assert wish.kind == Need.Kind.MICRO_WISH and wish.created_by == community_x_staff


def test_tracking_needs_both_the_code_and_the_last_four_digits(need_in):
    need = need_in(S.SUBMITTED, contact_phone="13800138000")
    code = need.tracking_code
    assert selectors.need_by_tracking(code=code, phone_last4="8000") == need
    assert selectors.need_by_tracking(code=services.format_tracking_code(code).lower(), phone_last4="8000") == need
    assert selectors.need_by_tracking(code=code, phone_last4="0000") is None
    assert selectors.need_by_tracking(code="ABCDEFGHJKMNP", phone_last4="8000") is None
    assert selectors.need_by_tracking(code=code, phone_last4="80") is None

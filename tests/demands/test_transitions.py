"""Every transition of the need, from every status, for every role, through the API — and the same
rules through the services. What a role may not see is 404; what it sees but may not do is 403; what the
need's status does not allow is 409 and changes nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from demands.models import Need, NeedEvent

S = Need.Status
ROLES = ["anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member"]
STATUSES = [S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.COMPLETED, S.CLOSED, S.REJECTED]

# action: (who may do it, from which statuses, to which status, payload)
ACTIONS = {
    "dispatch": ("staff", {S.SUBMITTED}, S.DISPATCHED, "unit"),
    "accept": ("liaison", {S.DISPATCHED}, S.ACCEPTED, {}),
    "decline": ("liaison", {S.DISPATCHED}, S.SUBMITTED, {"reason": "人手不足"}),
    "complete": ("liaison", {S.ACCEPTED}, S.COMPLETED, {"result": "已为老人送去老花镜"}),
    "reject": ("staff", {S.SUBMITTED, S.DISPATCHED}, S.REJECTED, {"reason": "不属于服务范围"}),
    "showcase": ("staff", {S.COMPLETED, S.CLOSED}, None, {}),
}
STAFF = {"community_x_staff", "street_staff"}


def sees(role: str, status: str) -> bool:
    if role in STAFF:
        return True
    return role == "liaison_a" and status in {S.DISPATCHED, S.ACCEPTED, S.COMPLETED, S.CLOSED}


def expected(role: str, action: str, status: str) -> int:
    who, sources, _target, _payload = ACTIONS[action]
    if role == "anonymous":
        return 403  # no credentials: DRF sends no challenge (session authentication comes first), so 403
    if not sees(role, status):
        return 404
    allowed = role in STAFF if who == "staff" else role == "liaison_a"
    if not allowed:
        return 403
    return 200 if status in sources else 409


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_transition_matrix(role, action, status, cast, need_in, unit_a):
    need = need_in(status)
    before = (need.status, need.unit_id, need.showcased_at, NeedEvent.objects.filter(need=need).count())
    client = APIClient()
    if cast[role].is_authenticated:
        client.force_authenticate(cast[role])
    payload = ACTIONS[action][3]
    if payload == "unit":
        payload = {"unit": unit_a.pk}
    response = client.post(f"/api/v1/needs/{need.pk}/{action}/", payload, format="json")

    want = expected(role, action, status)
    assert response.status_code == want, response.content
    need.refresh_from_db()
    if want == 200:
        target = ACTIONS[action][2]
        if target is None:  # showcase keeps the status and sets the date
            assert need.showcased_at is not None
        else:
            assert need.status == target
            assert NeedEvent.objects.filter(need=need, from_status=status, to_status=target).exists()
    else:
        assert (need.status, need.unit_id, need.showcased_at, NeedEvent.objects.filter(need=need).count()) == before
        if want == 409:
            assert response.json()["detail"]  # a message saying why, in the user's language


def test_a_conflict_message_is_in_chinese_by_default(street_staff, need_in):
    need = need_in(S.CLOSED)
    client = APIClient()
    client.force_authenticate(street_staff)
    response = client.post(f"/api/v1/needs/{need.pk}/reject/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["detail"])

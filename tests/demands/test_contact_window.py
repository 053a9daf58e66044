"""Issue 9, finding 6: a liaison saw a resident's name and phone before accepting the need and forever
after closing it. The unit's liaison now sees them only while serving the need — from accepting it until
it closes (accepted, completed) — and the need's community staff and street staff always; everyone else
(the same people before and after) sees them masked. Portal, API and export ask the one ability
"demands.see_contact"."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alliance import permissions
from demands import exports, services
from demands.models import Need

from ..conftest import client_for

S = Need.Status
NAME, PHONE, ADDRESS = "钱淑芬", "13712345678", "柳巷3号楼2单元"
MASKED = ("钱**", "137****5678")
SERVING = {S.ACCEPTED, S.COMPLETED}
AT_UNIT = [S.DISPATCHED, S.ACCEPTED, S.COMPLETED, S.CLOSED, S.REJECTED]


@pytest.fixture
def need_at(need_in, unit_a):
    def make(status):
        # A need rejected after dispatch stays with the unit it was dispatched to (and visible to it).
        at_unit = {"unit": unit_a} if status == S.REJECTED else {}
        return need_in(status, contact_name=NAME, contact_phone=PHONE, address=ADDRESS, **at_unit)

    return make


def _api_contact(user, need) -> tuple:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/needs/{need.pk}/")
    assert response.status_code == 200
    row = response.json()
    return row["contact_name"], row["contact_phone"], row["address"]


def _portal_shows_contact(user, need) -> bool:
    response = client_for(user).get(reverse("portal:need_detail", args=[need.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert (NAME in body) == (PHONE in body) == (ADDRESS in body)
    if PHONE not in body:
        assert MASKED[1] in body
    return PHONE in body


def _export_contact(user, need) -> tuple:
    _title, _header, rows = exports.need_rows_internal(Need.objects.filter(pk=need.pk), user=user)
    (row,) = list(rows)
    return tuple(row[-2:])


@pytest.mark.parametrize("status", AT_UNIT)
def test_the_units_liaison_sees_the_contact_only_between_accept_and_closure(liaison_a, need_at, status):
    need = need_at(status)
    full = status in SERVING
    assert permissions.has_ability(liaison_a, "demands.see_contact", need) is full
    assert _api_contact(liaison_a, need) == ((NAME, PHONE, ADDRESS) if full else (*MASKED, ""))
    assert _portal_shows_contact(liaison_a, need) is full
    assert _export_contact(liaison_a, need) == ((NAME, PHONE) if full else MASKED)


@pytest.mark.parametrize("who", ["community_x_staff", "street_staff"])
@pytest.mark.parametrize("status", [S.SUBMITTED, *AT_UNIT])
def test_the_needs_community_staff_and_street_staff_always_see_it(who, cast, need_at, status):
    need = need_at(status)
    assert _api_contact(cast[who], need) == (NAME, PHONE, ADDRESS)
    assert _export_contact(cast[who], need) == (NAME, PHONE)


def test_another_communitys_staff_sees_it_masked(community_y_staff, need_at):
    need = need_at(S.ACCEPTED)
    assert not permissions.has_ability(community_y_staff, "demands.see_contact", need)
    assert _export_contact(community_y_staff, need) == MASKED


def test_after_declining_the_unit_sees_nothing_and_the_next_unit_only_once_it_accepts(
    liaison_a, liaison_b, unit_b, need_at, street_staff
):
    need = need_at(S.DISPATCHED)
    services.need_decline(need=need, actor=liaison_a, reason="人手不足")
    need = services.need_dispatch(need=Need.objects.get(pk=need.pk), unit=unit_b, actor=street_staff)
    assert not permissions.has_ability(liaison_a, "demands.see_contact", need)
    assert client_for(liaison_a).get(reverse("portal:need_detail", args=[need.pk])).status_code == 404
    assert _portal_shows_contact(liaison_b, need) is False

    need = services.need_accept(need=need, actor=liaison_b)
    assert _portal_shows_contact(liaison_b, need) is True
    assert _api_contact(liaison_b, need) == (NAME, PHONE, ADDRESS)

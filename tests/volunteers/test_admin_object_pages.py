"""Pages of one registered Party member in the admin: another community's staff get 404, as for a missing id."""

from __future__ import annotations

import pytest

from ..admin_pages import MISSING_ID, history_page, statuses
from .factories import PartyMemberFactory


@pytest.fixture
def member_x(community_x, unit_a):
    return PartyMemberFactory(name="李明", residence_community=community_x, work_unit=unit_a)


ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


def test_community_staff_get_404_for_another_communitys_member(member_x, community_x_staff, community_y_staff):
    assert statuses(community_y_staff, member_x, member_x.pk) == ALL_404


def test_a_missing_member_answers_404_on_every_page(member_x, community_x_staff, street_staff):
    assert statuses(community_x_staff, member_x, MISSING_ID) == ALL_404
    assert statuses(street_staff, member_x, MISSING_ID) == ALL_404


def test_community_staff_read_their_own_members_history_in_chinese(member_x, community_x_staff):
    assert f"查看历史记录: {member_x}" in history_page(community_x_staff, member_x)
    assert statuses(community_x_staff, member_x, member_x.pk)["version"] == 200

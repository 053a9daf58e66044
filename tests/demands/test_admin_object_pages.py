"""Pages of one need in the admin: another community's staff get 404, as for a missing id."""

from __future__ import annotations

import pytest

from ..admin_pages import MISSING_ID, history_page, statuses
from .factories import NeedFactory


@pytest.fixture
def need_x(community_x):
    return NeedFactory(community=community_x, title="桥头街的楼道灯")


ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


def test_community_staff_get_404_for_another_communitys_need(need_x, community_x_staff, community_y_staff):
    assert statuses(community_y_staff, need_x, need_x.pk) == ALL_404


def test_a_missing_need_answers_404_on_every_page(need_x, community_x_staff, street_staff):
    assert statuses(community_x_staff, need_x, MISSING_ID) == ALL_404
    assert statuses(street_staff, need_x, MISSING_ID) == ALL_404


def test_community_staff_read_their_own_needs_history_in_chinese(need_x, community_x_staff):
    assert f"查看历史记录: {need_x}" in history_page(community_x_staff, need_x)
    assert statuses(community_x_staff, need_x, need_x.pk)["version"] == 200

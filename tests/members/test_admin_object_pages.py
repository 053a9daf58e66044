"""Pages of one member unit in the admin: another community's staff get 404, as for a missing id."""

from __future__ import annotations

from ..admin_pages import MISSING_ID, history_page, statuses
from ..conftest import client_for

ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


def test_community_staff_get_404_for_another_communitys_unit(unit_a, community_x_staff, community_y_staff):
    assert statuses(community_y_staff, unit_a, unit_a.pk) == ALL_404


def test_a_missing_unit_answers_404_on_every_page(unit_a, community_x_staff, street_staff):
    assert statuses(community_x_staff, unit_a, MISSING_ID) == ALL_404
    assert statuses(street_staff, unit_a, MISSING_ID) == ALL_404


def test_community_staff_read_their_own_units_history_in_chinese(unit_a, community_x_staff):
    assert f"查看历史记录: {unit_a.name}" in history_page(community_x_staff, unit_a)
    assert statuses(community_x_staff, unit_a, unit_a.pk)["version"] == 200


def test_a_version_id_that_is_not_a_number_answers_404_not_500(unit_a, community_x_staff):
    bad = client_for(community_x_staff).get(f"/admin/members/memberunit/{unit_a.pk}/history/abc/")
    assert bad.status_code == 404

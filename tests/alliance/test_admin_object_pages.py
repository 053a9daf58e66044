"""Pages of one category in the admin (street staff's screen): community staff, who may not open it at
all, get 404 as for a missing id; street staff read its history in Chinese (read-only: "view history")."""

from __future__ import annotations

import pytest

from ..admin_pages import MISSING_ID, history_page, statuses
from ..factories import CategoryFactory

ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


@pytest.fixture
def category(db):
    return CategoryFactory(name="医疗健康", code="health")


def test_community_staff_get_404_for_every_page_of_a_street_staff_screen(category, community_x_staff):
    assert statuses(community_x_staff, category, category.pk) == ALL_404


def test_a_missing_category_answers_404_on_every_page(category, street_staff):
    assert statuses(street_staff, category, MISSING_ID) == ALL_404


def test_street_staff_read_a_categorys_history_in_chinese(category, street_staff):
    assert "查看历史记录: 医疗健康" in history_page(street_staff, category)
    assert statuses(street_staff, category, category.pk) == {
        "change": 200,
        "delete": 200,
        "history": 200,
        "version": 200,
    }

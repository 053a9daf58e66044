"""Pages of one joint meeting in the admin: another community's staff get 404, as for a missing id."""

from __future__ import annotations

import pytest

from meetings.models import Level

from ..admin_pages import MISSING_ID, history_page, statuses
from .factories import MeetingFactory


@pytest.fixture
def meeting_x(community_x):
    return MeetingFactory(title="桥头街社区大党委会议", level=Level.COMMUNITY, community=community_x)


ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


def test_community_staff_get_404_for_another_communitys_meeting(meeting_x, community_x_staff, community_y_staff):
    assert statuses(community_y_staff, meeting_x, meeting_x.pk) == ALL_404


def test_a_missing_meeting_answers_404_on_every_page(meeting_x, community_x_staff, street_staff):
    assert statuses(community_x_staff, meeting_x, MISSING_ID) == ALL_404
    assert statuses(street_staff, meeting_x, MISSING_ID) == ALL_404


def test_community_staff_read_their_own_meetings_history_in_chinese(meeting_x, community_x_staff):
    assert f"查看历史记录: {meeting_x}" in history_page(community_x_staff, meeting_x)
    assert statuses(community_x_staff, meeting_x, meeting_x.pk)["version"] == 200

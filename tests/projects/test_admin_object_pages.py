"""Pages of one service project in the admin: another community's staff get 404, as for a missing id."""

from __future__ import annotations

import pytest

from projects.models import ServiceProject

from ..admin_pages import MISSING_ID, history_page, statuses
from .factories import ProjectFactory


@pytest.fixture
def project_x(community_x):
    # A draft: published projects are open to every unit, so every community's staff may read them.
    return ProjectFactory(
        community=community_x, street=community_x.street, title="桥头街义诊", status=ServiceProject.Status.DRAFT
    )


ALL_404 = {"change": 404, "delete": 404, "history": 404, "version": 404}


def test_community_staff_get_404_for_another_communitys_project(project_x, community_x_staff, community_y_staff):
    assert statuses(community_y_staff, project_x, project_x.pk) == ALL_404


def test_a_missing_project_answers_404_on_every_page(project_x, community_x_staff, street_staff):
    assert statuses(community_x_staff, project_x, MISSING_ID) == ALL_404
    assert statuses(street_staff, project_x, MISSING_ID) == ALL_404


def test_community_staff_read_their_own_projects_history_in_chinese(project_x, community_x_staff):
    assert f"查看历史记录: {project_x}" in history_page(community_x_staff, project_x)
    assert statuses(community_x_staff, project_x, project_x.pk)["version"] == 200

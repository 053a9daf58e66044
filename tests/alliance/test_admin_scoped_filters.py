"""The admin's filters on a community, street, unit, sector or district offer the rows in the user's scope
(alliance.admin.base.ScopedRelatedFilter), never the whole table: street staff their streets', district
staff their district's, community staff their own communities — on the grids' list, and on the other lists
that had Django's plain related filter. The choices are kept per scope (alliance/admin/frame.py), so a
list costs the same number of queries whatever its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.admin.base import ScopedRelatedFilter
from members import services as member_services
from members.models import Grid

from ..conftest import client_for
from ..factories import SectorFactory, UserFactory
from .test_street_scopes import streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

# 柳巷 (street_staff's) and 迎泽 in 迎泽区 (the officer's district), 别区街道 in another district.
GRID_COMMUNITIES = {
    "street_staff": ["柳巷社区"],
    "yingze_staff": ["迎泽社区"],
    "officer": ["柳巷社区", "迎泽社区"],
    "far_officer": ["别区社区"],
}
ALL_COMMUNITIES = {"柳巷社区", "迎泽社区", "别区社区"}


def _offered(response, parameter: str) -> list[str]:
    """The labels a list's scoped filter on `parameter` offers (its "none" choice left out)."""
    assert response.status_code == 200
    (spec,) = [
        spec
        for spec in response.context["cl"].filter_specs
        if isinstance(spec, ScopedRelatedFilter) and spec.parameter_name == parameter
    ]
    return [str(label) for value, label in spec.lookup_choices if value != "none"]


def _grids(things) -> None:
    for key in ("s1", "s2", "s3"):
        community = things[key]["community"]
        Grid.objects.create(community=community, name=f"{community.name}一网格", keeper_name="王芳")


@pytest.mark.parametrize("who", list(GRID_COMMUNITIES))
def test_the_grids_community_filter_offers_the_users_communities_only(streets, who):  # noqa: F811
    things, users = streets
    _grids(things)
    response = client_for(users[who]).get(reverse("admin:members_grid_changelist"))

    offered = _offered(response, "community__id__exact")
    assert offered == GRID_COMMUNITIES[who]
    # Nowhere on the page: not among the choices, the <select>'s options or the rows.
    page = response.content.decode()
    for name in ALL_COMMUNITIES - set(offered):
        assert name not in page


def test_choosing_a_community_outside_the_scope_shows_no_row(streets):  # noqa: F811
    things, users = streets
    _grids(things)
    client = client_for(users["street_staff"])
    url = reverse("admin:members_grid_changelist")
    yingze = things["s2"]["community"]
    response = client.get(url, {"community__id__exact": yingze.pk})
    assert (response.status_code, list(response.context["cl"].result_list)) == (200, [])
    mine = things["s1"]["community"]
    response = client.get(url, {"community__id__exact": mine.pk})
    assert [grid.name for grid in response.context["cl"].result_list] == ["柳巷社区一网格"]


def test_community_staff_are_offered_their_own_communities(streets, root):  # noqa: F811
    things, _users = streets
    _grids(things)
    staff = UserFactory(username="liuxiang_community_staff")
    member_services.community_staff_add(user=staff, community=things["s1"]["community"], actor=root)
    response = client_for(staff).get(reverse("admin:members_grid_changelist"))
    assert _offered(response, "community__id__exact") == ["柳巷社区"]


def test_the_grids_list_costs_the_same_queries_with_more_grids(streets):  # noqa: F811
    things, users = streets
    _grids(things)
    client = client_for(users["officer"])
    url = reverse("admin:members_grid_changelist")
    assert client.get(url).status_code == 200  # the session's first use, the filter's rows read once

    def one_request() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    before = one_request()
    for n in range(3):
        Grid.objects.create(community=things["s2"]["community"], name=f"新网格{n}")
    assert one_request() == before
    # The user, the capped count, the page of rows, the header's unread notifications: the communities
    # are kept, no query.
    assert before == 4


def test_the_other_lists_filters_are_scoped_too(streets, root):  # noqa: F811
    things, users = streets
    SectorFactory(street=things["s1"]["community"].street, name="柳巷企业分会")
    SectorFactory(street=things["s2"]["community"].street, name="迎泽企业分会")
    SectorFactory(street=things["s3"]["community"].street, name="别区企业分会")
    yingze, officer = client_for(users["yingze_staff"]), client_for(users["officer"])

    communities = reverse("admin:members_community_changelist")
    assert _offered(yingze.get(communities), "street__id__exact") == ["迎泽街道"]

    units = officer.get(reverse("admin:members_memberunit_changelist"))
    assert _offered(units, "community__id__exact") == ["柳巷社区", "迎泽社区"]
    assert _offered(units, "sector__id__exact") == ["柳巷企业分会", "迎泽企业分会"]
    units = yingze.get(reverse("admin:members_memberunit_changelist"))
    assert _offered(units, "sector__id__exact") == ["迎泽企业分会"]

    assert _offered(officer.get(reverse("admin:members_districtstaff_changelist")), "district__id__exact") == ["迎泽区"]
    assert _offered(yingze.get(reverse("admin:members_communitystaff_changelist")), "community__id__exact") == [
        "迎泽社区"
    ]
    for admin_name in (
        "members_sector",
        "members_councilterm",
        "members_councilseat",
        "members_streetstaff",
        "members_notice",
        "members_assessmentscheme",
        "members_quarterlyreport",
        "volunteers_pointsrule",
    ):
        response = yingze.get(reverse(f"admin:{admin_name}_changelist"))
        assert _offered(response, "street__id__exact") == ["迎泽街道"], admin_name

"""Query counts stay constant with several streets (issue 14, "Must hold") on the admin's and the portal's
list pages, as district staff read them (the API lists are walked in test_street_scopes.py): a third street
added to the district, with its community, unit, need, claim, meeting, Party member and service log, and
more rows in the streets already there, cost the same statements once the new scope has been read. The
world is test_street_scopes.py's (迎泽区: 柳巷, 迎泽; 别区: 别区街道)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demands.models import Need
from members.models import District, Street

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import MemberUnitFactory
from .test_street_scopes import _street_things, streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "admin:demands_need_changelist",
    "admin:members_memberunit_changelist",
    "admin:projects_projectclaim_changelist",
    "admin:meetings_jointmeeting_changelist",
    "admin:volunteers_partymember_changelist",
    "admin:volunteers_servicelog_changelist",
]
PORTAL_LISTS = ["portal:unit_list", "portal:need_list", "portal:claim_list", "portal:meeting_list"]


def _statements(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ADMIN_LISTS + PORTAL_LISTS)
def test_a_district_staff_list_costs_the_same_with_a_third_street_and_more_rows(streets, name):  # noqa: F811
    things, users = streets
    client = client_for(users["officer"])
    url = reverse(name)
    client.get(url)  # the session's first request reads the scope and the filters' choices once
    with_two = _statements(client, url)

    district = District.objects.get(name="迎泽区")
    third = _street_things(Street.objects.create(name="桥东街道", district=district), "桥东")
    for tag in ("s1", "s2"):
        community = things[tag]["community"]
        NeedFactory.create_batch(2, community=community, unit=things[tag]["unit"], status=Need.Status.DISPATCHED)
        MemberUnitFactory.create_batch(2, community=community)
    client.get(url)  # the new street reaches the scope: read once more
    assert _statements(client, url) == with_two
    # The third street's rows are on the page: the count held because they are read in the same statements.
    if name == "admin:demands_need_changelist":
        listed = {obj.pk for obj in client.get(url).context["cl"].result_list}
        assert third["need"].pk in listed

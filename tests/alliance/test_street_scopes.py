"""Streets kept apart (issue 14, "Must hold"): with two districts — 迎泽区 holding 柳巷街道 and 迎泽街道,
another district holding 别区街道 — a street's staff see only their street's units, needs, claims, meetings,
members, service logs, reports, jobs and figures, in the admin, the API and the dashboards; the district's
staff see every street of their district and nothing of the other district; writes stay the street's.
And a list costs the same number of queries however many streets and rows there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alliance import permissions
from alliance.errors import InvalidInput, PermissionDenied
from alliance.models import Job
from demands import selectors as demand_selectors
from demands.models import Need
from meetings import services as meeting_services
from meetings.models import JointMeeting, Level
from members import services as member_services
from members.models import District, QuarterlyReport, Street

from ..demands.factories import NeedFactory
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory
from ..meetings.factories import MeetingFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

pytestmark = pytest.mark.django_db


def _street_things(street: Street, tag: str) -> dict:
    community = CommunityFactory(street=street, name=f"{tag}社区")
    unit = MemberUnitFactory(community=community, name=f"{tag}单位")
    project = ProjectFactory(street=street, community=community)
    member = PartyMemberFactory(residence_community=community, work_unit=unit)
    job = Job.objects.create(kind="members.quarterly_report", label=f"{tag}季度报表", status=Job.Status.DONE)
    return {
        "community": community,
        "unit": unit,
        "need": NeedFactory(community=community, unit=unit, status=Need.Status.DISPATCHED),
        "claim": ClaimFactory(project=project, unit=unit),
        "meeting": MeetingFactory(level=Level.COMMUNITY, community=community, street=street, title=f"{tag}联席会"),
        "street_meeting": MeetingFactory(level=Level.STREET, street=street, title=f"{tag}街道联席会"),
        "member": member,
        "log": ServiceLogFactory(member=member),
        "report": QuarterlyReport.objects.create(street=street, year=2026, quarter=3, edition="internal", job=job),
        "job": job,
    }


@pytest.fixture
def streets(root, street_staff):
    """柳巷 (the street_staff fixture's) and 迎泽 in 迎泽区; 别区街道 in another district; the staff of each."""
    home = District.objects.create(name="迎泽区")
    other_district = District.objects.create(name="别区")
    liuxiang = StreetFactory()
    Street.objects.filter(pk=liuxiang.pk).update(district=home)
    yingze = Street.objects.create(name="迎泽街道", district=home)
    far = Street.objects.create(name="别区街道", district=other_district)
    things = {
        "s1": _street_things(liuxiang, "柳巷"),
        "s2": _street_things(yingze, "迎泽"),
        "s3": _street_things(far, "别区"),
    }
    yingze_staff = UserFactory(username="yingze_staff")
    member_services.street_staff_add(user=yingze_staff, street=yingze, actor=root)
    officer = UserFactory(username="yingze_district")
    member_services.district_staff_add(user=officer, district=home, actor=root)
    far_officer = UserFactory(username="far_district")
    member_services.district_staff_add(user=far_officer, district=other_district, actor=root)
    users = {"street_staff": street_staff, "yingze_staff": yingze_staff, "officer": officer, "far_officer": far_officer}
    return things, users


# Who sees which street's things.
SEES = {
    "street_staff": {"s1"},
    "yingze_staff": {"s2"},
    "officer": {"s1", "s2"},
    "far_officer": {"s3"},
}

API_LISTS = {
    "/api/v1/needs/": "need",
    "/api/v1/units/": "unit",
    "/api/v1/claims/": "claim",
    "/api/v1/meetings/": "meeting",
    "/api/v1/members/": "member",
    "/api/v1/service-logs/": "log",
}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def _expected(things, who: str, key: str) -> set[int]:
    return {things[s][key].pk for s in SEES[who]}


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("path", list(API_LISTS))
def test_api_lists_hold_only_the_streets_the_user_oversees(streets, who, path):
    things, users = streets
    body = _api(users[who]).get(path, {"page_size": 100}).json()
    key = API_LISTS[path]
    listed = {row["id"] for row in body["results"]}
    if key == "meeting":  # the street-level meetings of their streets too
        assert listed == _expected(things, who, "meeting") | _expected(things, who, "street_meeting")
    else:
        assert listed == _expected(things, who, key)


@pytest.mark.parametrize("who", list(SEES))
def test_another_streets_need_unit_and_meeting_are_404(streets, who):
    things, users = streets
    client = _api(users[who])
    for street in {"s1", "s2", "s3"} - SEES[who]:
        assert client.get(f"/api/v1/needs/{things[street]['need'].pk}/").status_code == 404
        assert client.get(f"/api/v1/units/{things[street]['unit'].pk}/").status_code == 404
        assert client.get(f"/api/v1/meetings/{things[street]['meeting'].pk}/").status_code == 404


ADMIN_LISTS = {
    "demands/need": "need",
    "members/memberunit": "unit",
    "projects/projectclaim": "claim",
    "meetings/jointmeeting": "meeting",
    "volunteers/partymember": "member",
    "volunteers/servicelog": "log",
    "members/quarterlyreport": "report",
    "alliance/job": "job",
}


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("page", list(ADMIN_LISTS))
def test_admin_lists_hold_only_the_streets_the_user_oversees(streets, client, who, page):
    things, users = streets
    client.force_login(users[who])
    response = client.get(f"/admin/{page}/")
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    key = ADMIN_LISTS[page]
    if key == "meeting":
        assert listed == _expected(things, who, "meeting") | _expected(things, who, "street_meeting")
    elif key == "job" and who in ("street_staff", "yingze_staff", "officer", "far_officer"):
        # Jobs: staff of some streets follow the jobs they asked for; these were the platform's.
        assert listed == set()
    else:
        assert listed == _expected(things, who, key)


@pytest.mark.parametrize("who", list(SEES))
def test_another_streets_admin_pages_are_404(streets, client, who):
    things, users = streets
    client.force_login(users[who])
    for street in {"s1", "s2", "s3"} - SEES[who]:
        assert client.get(f"/admin/demands/need/{things[street]['need'].pk}/change/").status_code == 404
        assert client.get(f"/admin/members/memberunit/{things[street]['unit'].pk}/change/").status_code == 404
        report = things[street]["report"]
        assert client.get(f"/admin/members/quarterlyreport/{report.pk}/download/").status_code == 404


@pytest.mark.parametrize("who", list(SEES))
def test_the_dashboard_figures_count_only_their_streets(streets, who):
    _things, users = streets
    by_status = demand_selectors.chart_needs_by_status(user=users[who], community_id=None, quarter=None)
    assert sum(by_status.values()) == len(SEES[who])


def test_district_staff_read_but_the_streets_run_their_own_work(streets):
    things, users = streets
    officer, street_staff, yingze_staff = users["officer"], users["street_staff"], users["yingze_staff"]
    need = things["s1"]["need"]
    assert permissions.can_view(officer, need)
    assert not permissions.can_change(officer, need)  # dispatching, closing: the street's
    assert permissions.has_ability(officer, "demands.see_contact", need)  # the district follows cases up
    assert permissions.can_change(street_staff, need)
    assert not permissions.can_change(yingze_staff, need)
    with pytest.raises(Http404):  # another street's need does not exist for them
        permissions.require_change(yingze_staff, need)
    assert permissions.has_ability(officer, "members.build_report", things["s2"]["report"].street)
    assert not permissions.has_ability(officer, "members.build_report", things["s3"]["report"].street)
    assert not permissions.has_ability(street_staff, "members.build_report", things["s2"]["report"].street)


def test_me_names_the_district_role(streets):
    _things, users = streets
    body = _api(users["officer"]).get("/api/v1/me/").json()
    assert "district_staff" in body["roles"] and "street_staff" not in body["roles"]
    assert body["is_staff"] is True


def test_a_meeting_belongs_to_its_communitys_street_or_the_street_chosen(streets, root):
    things, users = streets
    now = timezone.now()
    when = {"start": now + timedelta(days=3), "end": now + timedelta(days=3, hours=2), "place": "会议室"}
    meeting = meeting_services.meeting_create(
        actor=users["street_staff"],
        data={"level": Level.COMMUNITY, "title": "社区联席会", "community": things["s1"]["community"], **when},
    )
    assert meeting.street_id == things["s1"]["community"].street_id
    # One street of theirs: a street-level meeting is that street's.
    meeting = meeting_services.meeting_create(
        actor=users["yingze_staff"], data={"level": Level.STREET, "title": "街道联席会", **when}
    )
    assert meeting.street.name == "迎泽街道"
    # Staff of two streets choose one.
    member_services.street_staff_add(user=users["yingze_staff"], street=things["s1"]["community"].street, actor=root)
    with pytest.raises(InvalidInput):
        meeting_services.meeting_create(
            actor=type(root).objects.get(pk=users["yingze_staff"].pk),
            data={"level": Level.STREET, "title": "街道联席会", **when},
        )
    # A district-level meeting is planned by the district's staff, not a street's.
    meeting = meeting_services.meeting_create(
        actor=users["officer"], data={"level": Level.DISTRICT, "title": "区域化党建指导委员会", **when}
    )
    assert (meeting.district.name, meeting.street) == ("迎泽区", None)
    # Seen, read-only, by the staff of the district's streets (meetings/rules.py MeetingRules, and
    # tests/meetings/test_forwarding.py): not theirs to change.
    assert permissions.can_view(users["street_staff"], meeting) is True
    assert permissions.can_change(users["street_staff"], meeting) is False
    with pytest.raises(PermissionDenied):
        meeting_services.meeting_create(
            actor=users["street_staff"], data={"level": Level.DISTRICT, "title": "区里的会", **when}
        )
    assert not JointMeeting.objects.filter(title="区里的会").exists()


def _statements(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, {"page_size": 2}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("path", list(API_LISTS))
def test_a_list_costs_the_same_with_several_streets_and_more_rows(streets, who, path, as_user):
    """The user, the count, the page: the streets and communities overseen come from the cache (ids, no
    join) after the first request, as the groups do."""
    things, users = streets
    client = as_user(users[who])
    client.get(path)  # the first request of the user puts their groups and scopes in the cache
    assert _statements(client, path) == 3
    for tag in ("s1", "s2", "s3"):
        community = things[tag]["community"]
        NeedFactory.create_batch(3, community=community, unit=things[tag]["unit"], status=Need.Status.DISPATCHED)
        MemberUnitFactory.create_batch(3, community=community)
    assert _statements(client, path) == 3


def test_a_new_community_reaches_the_staff_of_its_street_at_once(streets, as_user):
    things, users = streets
    client = as_user(users["yingze_staff"])
    assert client.get("/api/v1/needs/").json()["count"] == 1
    fresh = CommunityFactory(street=things["s2"]["community"].street, name="新社区")
    NeedFactory(community=fresh)
    assert client.get("/api/v1/needs/").json()["count"] == 2
    cache.clear()
    assert client.get("/api/v1/needs/").json()["count"] == 2


def test_with_several_streets_the_shared_categories_are_changed_only_by_staff_of_every_street(streets, root):
    """Categories are one list for every street (the needs, resources and projects of all of them are filed
    under them): the staff of one street among several read them but change none — neither in the admin
    nor through the permission path the services ask — while a superuser (who runs every street) does."""
    from alliance.models import Category

    from ..conftest import client_for
    from ..factories import CategoryFactory

    _things, users = streets
    category = CategoryFactory(name="助老服务")
    change = f"/admin/alliance/category/{category.pk}/change/"
    for who in ("street_staff", "yingze_staff"):
        user = users[who]
        assert (permissions.can_add(user, Category), permissions.can_change(user, category)) == (False, False)
        client = client_for(user)
        assert client.get("/admin/alliance/category/").status_code == 200  # they read the list
        assert client.post(change, {"name": "改名", "code": category.code, "sort_order": 1}).status_code == 403
        assert client.get("/admin/alliance/category/add/").status_code == 403
    category.refresh_from_db()
    assert category.name == "助老服务"
    assert (permissions.can_add(root, Category), permissions.can_change(root, category)) == (True, True)

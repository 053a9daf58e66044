"""Public figures, charts, showcase and home per street (issue 14): each street's public side shows only its
own data, a district's figures are the sums of its streets' (only when asked), the refresh costs the same
number of queries with one street or three, a visit on a warm cache none, and a `?street=` or `?district=`
the platform cannot take is a 400 with a clear message naming the parameter and what it accepts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alliance import public_figures
from demands.models import Need
from meetings.models import JointMeeting
from members.models import District

from ..demands.factories import NeedFactory, ResourceFactory
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory
from ..meetings.factories import InvitationFactory, MeetingFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

STATS = "/api/v1/public/stats/"
SHOWCASE = "/api/v1/public/showcase/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def populate(street, *, size: int, district_phone: str = "13900000000") -> dict:
    """A street with `size` of most things (different sizes make different figures), and what its public
    figures must say."""
    community = CommunityFactory(street=street, name=f"{street.name}一社区")
    CommunityFactory(street=street, name=f"{street.name}二社区")
    unit = MemberUnitFactory(community=community, name=f"{street.name}成员单位", party_member_count=10 * size)
    ResourceFactory.create_batch(size, unit=unit)
    NeedFactory.create_batch(size, community=community)
    NeedFactory(community=community, status=Need.Status.REJECTED)
    now = timezone.now()
    for number in range(size):
        NeedFactory(
            community=community,
            unit=unit,
            status=Need.Status.CLOSED,
            completed_at=now,
            showcased_at=now,
            title=f"{street.name}晒单{number}",
            contact_name=f"{street.name}联系人",
            contact_phone=district_phone,
            address=f"{street.name}幸福路{number}号",
        )
    project = ProjectFactory(street=street, community=community, is_demonstration=True, title=f"{street.name}示范项目")
    claim = ClaimFactory(project=project, unit=unit)
    ActivityFactory.create_batch(size, claim=claim, services=3, beneficiaries=20)
    MeetingFactory(community=community, status=JointMeeting.Status.HELD)
    # A street-wide meeting (no community, no sector branch) counts for the street it was planned for.
    InvitationFactory(meeting=MeetingFactory(status=JointMeeting.Status.HELD, street=street), unit=unit)
    member = PartyMemberFactory(residence_community=community, work_unit=unit)
    ServiceLogFactory(member=member, hours=Decimal("1.5") * size)
    return {
        "units": 1,
        "resources": size,
        "needs": 2 * size,
        "needs_completed": size,
        "projects": 1,
        "claims": 1,
        "activities": size,
        "services": 3 * size,
        "beneficiaries": 20 * size,
        "meetings": 2,
        "members": 1,
        "service_hours": float(Decimal("1.5") * size),
    }


@pytest.fixture
def qindu(db) -> District:
    return District.objects.create(name="秦都区")


@pytest.fixture
def streets(qindu):
    """Two streets of one district with different data, and a third of no district."""
    liuxiang = StreetFactory(name="柳巷街道", district=qindu)
    taoyuan = StreetFactory(name="桃园街道", district=qindu)
    other = StreetFactory(name="独立街道")
    expected = {
        liuxiang.pk: populate(liuxiang, size=2),
        taoyuan.pk: populate(taoyuan, size=3, district_phone="13911112222"),
        other.pk: populate(other, size=1, district_phone="13933334444"),
    }
    public_figures.refresh()
    return liuxiang, taoyuan, other, expected


def test_each_streets_figures_count_only_its_own_data(streets):
    liuxiang, taoyuan, other, expected = streets
    client = APIClient()
    for street in (liuxiang, taoyuan, other):
        response = client.get(STATS, {"street": street.pk})
        assert response.status_code == 200
        assert response.json() == expected[street.pk], street.name
    assert expected[liuxiang.pk] != expected[taoyuan.pk]


def test_a_districts_figures_are_the_sums_of_its_streets_and_of_no_other(streets, qindu):
    liuxiang, taoyuan, _other, expected = streets
    body = APIClient().get(STATS, {"district": qindu.pk}).json()
    assert body == {key: expected[liuxiang.pk][key] + expected[taoyuan.pk][key] for key in body}
    assert body["needs"] == 4 + 6 and body["service_hours"] == 7.5


def test_each_streets_showcase_shows_only_its_own_needs(streets):
    liuxiang, taoyuan, _other, _expected = streets
    client = APIClient()
    for street, size in ((liuxiang, 2), (taoyuan, 3)):
        body = client.get(SHOWCASE, {"street": street.pk}).json()
        assert body["count"] == size
        assert sorted(row["title"] for row in body["results"]) == [f"{street.name}晒单{n}" for n in range(size)]
    body = client.get(SHOWCASE, {"street": taoyuan.pk, "page_size": 2, "page": 2}).json()
    assert len(body["results"]) == 1 and body["results"][0]["title"].startswith(taoyuan.name)
    assert body["previous"] is not None and f"street={taoyuan.pk}" in body["previous"]  # the link keeps it


def test_each_streets_home_shows_its_figures_showcase_and_projects_only(streets):
    liuxiang, taoyuan, _other, expected = streets
    page = Client().get("/", {"street": taoyuan.pk}).content.decode()
    assert f'data-key="needs"><span class="value">{expected[taoyuan.pk]["needs"]}<' in page
    assert f'id="home-street" data-street="{taoyuan.pk}"' in page
    assert f"{taoyuan.name}晒单0" in page and f"{taoyuan.name}示范项目" in page
    assert liuxiang.name + "晒单" not in page and f"{liuxiang.name}示范项目" not in page
    # The links keep the street.
    assert f'id="home-submit-need" href="/needs/new/?street={taoyuan.pk}"' in page
    assert f'href="/showcase/?street={taoyuan.pk}"' in page


def test_with_several_streets_the_home_asks_which_street(streets):
    liuxiang, taoyuan, other, _expected = streets
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for street in (liuxiang, taoyuan, other):
        assert f'href="/?street={street.pk}" data-street="{street.pk}">{street.name}<' in page
    assert "秦都区" in page
    assert 'class="figures"' not in page  # no street's figures until one is chosen


@pytest.mark.parametrize("value", ["abc", "-1", "1.0", "１", "9" * 19, ""])
def test_a_malformed_street_is_a_400_naming_the_parameter_and_the_streets(streets, value):
    liuxiang, *_ = streets
    for path in (STATS, SHOWCASE):
        response = APIClient().get(path, {"street": value}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, path
        messages = response.json()["street"]
        assert messages[0] == "Give the street's id, a whole number."
        assert f"{liuxiang.pk} ({liuxiang.name})" in messages[1]
    response = Client().get("/", {"street": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Give the street&#x27;s id, a whole number." in response.content.decode()


def test_an_unknown_street_is_a_400_in_the_users_language(streets):
    liuxiang, taoyuan, other, _expected = streets
    unknown = other.pk + 100
    response = APIClient().get(STATS, {"street": unknown}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response.json() == {
        "street": [
            f"没有编号为 {unknown} 的街道。",
            f"可选街道：{liuxiang.pk} (柳巷街道)、{taoyuan.pk} (桃园街道)、{other.pk} (独立街道)。",
        ]
    }
    assert APIClient().get(SHOWCASE, {"street": unknown}).status_code == 400
    page = Client().get("/", {"street": unknown}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 400 and f"没有编号为 {unknown} 的街道。" in page.content.decode()


def test_several_streets_and_none_named_is_a_400_listing_them(streets):
    liuxiang, taoyuan, other, _expected = streets
    for path in (STATS, SHOWCASE):
        response = APIClient().get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert response.json() == {
            "street": [
                "There are several streets: name one with ?street=<id>.",
                f"Streets: {liuxiang.pk} (柳巷街道), {taoyuan.pk} (桃园街道), {other.pk} (独立街道).",
            ]
        }


def test_bad_districts_are_400s(streets, qindu):
    liuxiang, *_ = streets
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(STATS, {"district": "x"}).json() == {
        "district": ["Give the district's id, a whole number.", f"Districts: {qindu.pk} (秦都区)."]
    }
    assert client.get(STATS, {"district": qindu.pk + 1}).json()["district"][0] == (
        f"No district has the id {qindu.pk + 1}."
    )
    both = client.get(STATS, {"district": qindu.pk, "street": liuxiang.pk})
    assert both.status_code == 400
    assert both.json() == {"district": ["Give either ?street=<id> or ?district=<id>, not both."]}
    # The showcase is per street: a district is a parameter it does not know.
    assert client.get(SHOWCASE, {"district": qindu.pk}).status_code == 400


def test_with_one_street_everything_is_as_before(unit_a):
    street = unit_a.community.street
    NeedFactory(community=unit_a.community, status=Need.Status.CLOSED, showcased_at=timezone.now(), title="唯一晒单")
    MeetingFactory(status=JointMeeting.Status.HELD)  # invited no unit: still the only street's
    public_figures.refresh()
    client = APIClient()
    plain = client.get(STATS)
    assert plain.status_code == 200
    assert plain.json() == client.get(STATS, {"street": street.pk}).json()
    assert plain.json()["meetings"] == 1 and plain.json()["needs"] == 1
    assert client.get(SHOWCASE).json()["count"] == 1
    page = Client().get("/").content.decode()
    assert 'id="home-submit-need" href="/needs/new/"' in page and "唯一晒单" in page
    assert 'id="home-street"' not in page and "?street=" not in page


def test_the_refresh_costs_the_same_queries_with_one_street_and_with_three(db, qindu):
    liuxiang = StreetFactory(name="柳巷街道", district=qindu)
    populate(liuxiang, size=2)
    with CaptureQueriesContext(connection) as one:
        public_figures.refresh()
    populate(StreetFactory(name="桃园街道", district=qindu), size=3)
    populate(StreetFactory(name="独立街道"), size=1)
    with CaptureQueriesContext(connection) as three:
        public_figures.refresh()
    # The street list; per app its grouped counts (members 2, demands 2, projects 3, meetings 2 — 1 with a
    # single street —, volunteers 2); the two charts; the showcase's count and first rows; the
    # demonstration projects; the rows written and the rows of vanished streets deleted.
    assert len(three) == len(one) + 1, [q["sql"][:80] for q in three]


def test_public_pages_run_no_query_on_a_warm_cache_whatever_the_street(streets, qindu):
    liuxiang, taoyuan, _other, _expected = streets
    client = Client()
    for street in (liuxiang, taoyuan):
        for path in ("/", "/showcase/", STATS, SHOWCASE):
            client.get(path, {"street": street.pk})  # each process's first read of the street
            with CaptureQueriesContext(connection) as warm:
                assert client.get(path, {"street": street.pk}).status_code == 200
            assert len(warm) == 0, (path, street.name)
    with CaptureQueriesContext(connection) as warm:
        assert client.get(STATS, {"district": qindu.pk}).status_code == 200
        assert client.get("/").status_code == 200  # the chooser
    assert len(warm) == 0


def test_a_cold_cache_reads_one_streets_rows_in_one_query(streets):
    _liuxiang, taoyuan, _other, _expected = streets
    cache.clear()
    public_figures.forget_local()
    with CaptureQueriesContext(connection) as cold:
        assert Client().get("/", {"street": taoyuan.pk}).status_code == 200
    # 1. the street list and the street's parts (figures, showcase, demonstration projects).
    assert len(cold) == 1 and "alliance_publicsnapshot" in cold[0]["sql"]
    assert f"figures:{taoyuan.pk}" in cold[0]["sql"] and f"figures:{_liuxiang.pk}" not in cold[0]["sql"]


def test_nothing_personal_on_any_public_page(streets, qindu):
    liuxiang, taoyuan, _other, _expected = streets
    client = Client()
    pages = [
        client.get("/"),
        client.get("/", {"street": "nope"}),
        client.get("/showcase/"),
        client.get(STATS, {"district": qindu.pk}),
    ]
    for street in (liuxiang, taoyuan):
        for path in ("/", "/showcase/", STATS, SHOWCASE, "/needs/new/"):
            pages.append(client.get(path, {"street": street.pk}))
    for response in pages:
        text = response.content.decode()
        for secret in ("联系人", "幸福路", "13900000000", "13911112222", "13933334444"):
            assert secret not in text, (response.request["PATH_INFO"], secret)


def test_showcase_pages_past_the_stored_rows_are_read_for_the_same_street(streets, monkeypatch):
    from demands import showcase

    liuxiang, taoyuan, _other, _expected = streets
    monkeypatch.setattr(showcase, "ROWS", 1)  # one stored row per street: page 2 is read from the database
    public_figures.refresh()
    client = APIClient()
    for street, size in ((liuxiang, 2), (taoyuan, 3)):
        titles = []
        for page in range(1, size + 1):
            body = client.get(SHOWCASE, {"street": street.pk, "page_size": 1, "page": page}).json()
            assert body["count"] == size
            titles += [row["title"] for row in body["results"]]
        assert sorted(titles) == [f"{street.name}晒单{n}" for n in range(size)]

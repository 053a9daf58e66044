"""The public need form, showcase and venues pages per street (issue 14): `/needs/new/?street=<id>` lists that street's
communities only (its home links there with it), `?community=<id>` still preselects, a street the platform
does not know lists every community with the reason (400), and the pages' links keep the street."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from alliance import public_figures
from demands.models import Need

from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory
from .factories import NeedFactory, VenueFactory

NEW = "/needs/new/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def two_streets(db):
    liuxiang, taoyuan = StreetFactory(name="柳巷街道"), StreetFactory(name="桃园街道")
    communities = {
        liuxiang.pk: [
            CommunityFactory(street=liuxiang, name="桥头街社区"),
            CommunityFactory(street=liuxiang, name="柳北社区"),
        ],
        taoyuan.pk: [CommunityFactory(street=taoyuan, name="桃园一社区")],
    }
    public_figures.refresh()
    return liuxiang, taoyuan, communities


def options(page: str) -> list[str]:
    start = page.index('name="community"')
    select = page[start : page.index("</select>", start)]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in select.split("<option")[2:]]


def test_the_need_form_of_a_street_lists_only_its_communities(two_streets):
    liuxiang, taoyuan, _communities = two_streets
    response = Client().get(NEW, {"street": taoyuan.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert options(page) == ["桃园一社区"]
    # The form posts back to the same street, and its links keep it.
    assert f'action="/needs/new/?street={taoyuan.pk}"' in page
    assert f'href="/showcase/?street={taoyuan.pk}"' in page
    assert options(Client().get(NEW, {"street": liuxiang.pk}).content.decode()) == ["桥头街社区", "柳北社区"]


def test_a_posters_community_still_preselects(two_streets):
    _liuxiang, taoyuan, communities = two_streets
    community = communities[taoyuan.pk][0]
    for query in ({"community": community.pk}, {"community": community.pk, "street": taoyuan.pk}):
        page = Client().get(NEW, query).content.decode()
        assert f'<option value="{community.pk}" selected>' in page, query


def test_without_a_street_every_community_is_named_with_its_street(two_streets):
    page = Client().get(NEW).content.decode()
    assert options(page) == ["柳巷街道 · 桥头街社区", "柳巷街道 · 柳北社区", "桃园街道 · 桃园一社区"]


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_a_street_the_form_cannot_take_lists_every_community_with_the_reason(two_streets, value):
    response = Client().get(NEW, {"street": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="street-errors"' in page and "Every street's communities are listed below." in page
    assert len(options(page)) == 3


def test_a_need_submitted_from_a_streets_form_comes_back_to_that_street(two_streets):
    _liuxiang, taoyuan, communities = two_streets
    category = NeedFactory().category
    response = Client().post(
        f"{NEW}?street={taoyuan.pk}",
        {
            "community": communities[taoyuan.pk][0].pk,
            "category": category.pk,
            "title": "楼道灯坏了",
            "description": "三单元楼道灯不亮了，晚上很黑。",
            "contact_name": "王阿姨",
            "contact_phone": "13800001111",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/needs/submitted/?street={taoyuan.pk}"
    assert Need.objects.filter(community=communities[taoyuan.pk][0], title="楼道灯坏了").exists()


def test_the_showcase_page_of_a_street_shows_its_needs_and_asks_which_without_one(two_streets):
    liuxiang, taoyuan, communities = two_streets
    for street in (liuxiang, taoyuan):
        NeedFactory(
            community=communities[street.pk][0],
            status=Need.Status.CLOSED,
            completed_at=timezone.now(),
            showcased_at=timezone.now(),
            title=f"{street.name}的晒单",
        )
    public_figures.refresh()
    page = Client().get("/showcase/", {"street": taoyuan.pk}).content.decode()
    assert "桃园街道的晒单" in page and "柳巷街道的晒单" not in page
    chooser = Client().get("/showcase/")
    assert chooser.status_code == 200
    assert f'href="/showcase/?street={liuxiang.pk}"' in chooser.content.decode()
    assert Client().get("/showcase/", {"street": "x"}).status_code == 400


def test_the_venues_page_of_a_street_shows_its_venues_and_asks_which_without_one(two_streets):
    liuxiang, taoyuan, communities = two_streets
    for street in (liuxiang, taoyuan):
        unit = MemberUnitFactory(community=communities[street.pk][0], name=f"{street.name}活动中心")
        VenueFactory(resource__unit=unit, resource__title=f"{street.name}多功能厅")
    page = Client().get("/venues/", {"street": taoyuan.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "桃园街道多功能厅" in html and "柳巷街道多功能厅" not in html
    # The sections' links keep the street.
    assert f'href="/resources/?street={taoyuan.pk}"' in html
    chooser = Client().get("/venues/")
    assert chooser.status_code == 200
    assert f'href="/venues/?street={liuxiang.pk}"' in chooser.content.decode()
    assert "多功能厅" not in chooser.content.decode()
    for bad in ("x", "99999"):
        refused = Client().get("/venues/", {"street": bad})
        assert refused.status_code == 400 and "多功能厅" not in refused.content.decode()

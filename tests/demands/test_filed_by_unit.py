"""A unit's own needs (单位需求) stay with the unit that filed them: every liaison of the unit reads them back
— API list and detail, the portal's "filed by my units" list and the need's page — from the moment they
are filed, with the contact (the unit's own) in full; nobody else outside the community's staff sees them.
A unit files at most UNIT_NEED_FILE_RATE needs a while. unit_a lies in community_x (liaison_a and
liaison_a2), unit_b in community_y (liaison_b)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags
from rest_framework.test import APIClient

from alliance.errors import InvalidInput
from demands import services
from demands.models import Need
from members import services as member_services

from ..alliance import policy
from ..api import api_client as _api
from ..conftest import client_for
from ..factories import CategoryFactory, MemberUnitFactory
from .factories import NeedFactory

S = Need.Status
BODY = {"title": "职工子女暑期托管", "description": "暑期需要志愿者协助托管20名职工子女。"}


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture
def category(db):
    return CategoryFactory(name="助老服务")


def _file(user, category, **fields) -> dict:
    response = _api(user).post("/api/v1/needs/", {"category": category.pk, **BODY, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _resident_need(community, category) -> Need:
    """A resident's need through the public path: no unit filed it."""
    return services.need_submit(
        data={
            "community": community,
            "category": category,
            **BODY,
            "contact_name": "李",
            "contact_phone": "13800138001",
        }
    )


def _rates(settings, **rates) -> None:
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **rates}}


# --- What is recorded -------------------------------------------------------------------------------


def test_the_need_records_the_unit_that_filed_it_and_no_other_way_of_entering_one_does(
    liaison_a, community_x_staff, community_x, unit_a, category
):
    filed = _file(liaison_a, category)
    assert (filed["filed_by_unit"], filed["filed_by_unit_name"]) == (unit_a.pk, "山西饭店")
    assert Need.objects.get(pk=filed["id"]).filed_by_unit == unit_a
    # A unit cannot be named by the caller: the field is read-only, for staff too.
    entered = _api(community_x_staff).post(
        "/api/v1/needs/",
        {
            "kind": "resident",
            "community": community_x.pk,
            "category": category.pk,
            **BODY,
            "contact_name": "张大爷",
            "contact_phone": "13800138000",
            "filed_by_unit": unit_a.pk,
        },
        format="json",
    )
    assert (entered.status_code, entered.json()["filed_by_unit"]) == (201, None)
    public = _resident_need(community_x, category)
    assert Need.objects.get(pk=public.pk).filed_by_unit_id is None
    assert Need.objects.get(pk=entered.json()["id"]).filed_by_unit_id is None


def test_the_admin_need_page_names_the_unit_that_filed_it_and_staff_cannot_change_it(
    liaison_a, community_x_staff, community_x, category
):
    filed = _file(liaison_a, category)
    page = client_for(community_x_staff).get(reverse("admin:demands_need_change", args=[filed["id"]]))
    assert page.status_code == 200
    assert "filed_by_unit" not in page.context["adminform"].form.fields  # shown, not editable
    assert _readonly(page)["filed_by_unit"] == "山西饭店"
    resident = _resident_need(community_x, category)
    page = client_for(community_x_staff).get(reverse("admin:demands_need_change", args=[resident.pk]))
    assert "filed_by_unit" not in _readonly(page)  # a resident's need has no filing unit to name


def _readonly(page) -> dict[str, str]:
    """The read-only fields of an admin change page, by name, as their shown text."""
    return {
        field.field["name"]: strip_tags(field.contents())
        for fieldset in page.context["adminform"]
        for line in fieldset
        for field in line
        if field.is_readonly
    }


# --- Who reads it back ------------------------------------------------------------------------------


def test_every_liaison_of_the_filing_unit_reads_the_need_and_nobody_outside_does(
    liaison_a, liaison_a2, liaison_b, community_x_staff, community_y_staff, unit_a, category
):
    need_id = _file(liaison_a, category)["id"]
    need = Need.objects.get(pk=need_id)
    url = f"/api/v1/needs/{need_id}/"
    for user in (liaison_a, liaison_a2):
        response = _api(user).get(url)
        assert response.status_code == 200, user
        row = response.json()
        assert {k: row[k] for k in ("id", "kind", "status", "community", "unit", "unit_name", "channel")} == {
            "id": need_id,
            "kind": "unit",
            "status": "submitted",
            "community": unit_a.community_id,
            "unit": None,
            "unit_name": None,
            "channel": "api",
        }
        assert (row["title"], row["description"], row["tracking_code"]) == (
            BODY["title"],
            BODY["description"],
            need.tracking_code,
        )
        assert (row["filed_by_unit"], row["filed_by_unit_name"]) == (unit_a.pk, "山西饭店")
        # The contact is the unit's own liaison on record, in full.
        assert (row["contact_name"], row["contact_phone"], row["address"]) == (
            unit_a.liaison_name,
            unit_a.liaison_phone,
            "",
        )
        assert [event["status"] for event in row["timeline"]] == ["submitted"]
        assert [r["id"] for r in _api(user).get("/api/v1/needs/").json()["results"]] == [need_id]

    # Another unit's liaison: not found, and not in the list.
    response = _api(liaison_b).get(url)
    assert (response.status_code, response.json()) == (404, {"detail": "没有该需求，或您无权查看。"})
    assert _api(liaison_b).get("/api/v1/needs/").json()["results"] == []
    # The community's staff still see it (contact in full); the other community's staff do not.
    staff_row = _api(community_x_staff).get(url).json()
    assert (staff_row["filed_by_unit"], staff_row["contact_phone"]) == (unit_a.pk, unit_a.liaison_phone)
    assert _api(community_y_staff).get(url).status_code == 404


def test_a_filed_need_answers_every_role_as_the_authorization_policy_declares_for_a_units_need(
    cast, liaison_a2, category
):
    """The matrix (tests/alliance/test_authorization_matrix.py) holds api/v1/needs/<pk>/ to `api_owners` with
    a need dispatched to unit_a; a need unit_a filed, not dispatched anywhere, answers the cast the same."""
    need_id = _file(cast["liaison_a"], category)["id"]
    answers = {}
    for role, user in {**cast, "liaison_a2": liaison_a2}.items():
        client = APIClient()
        if user.is_authenticated:
            client.force_authenticate(user)
        answers[role] = str(client.get(f"/api/v1/needs/{need_id}/").status_code)
    assert answers == {**policy.api_owners, "liaison_a2": policy.OK}


def test_a_liaison_of_several_units_sees_what_each_filed(liaison_a, unit_a, community_y, category, root):
    second = MemberUnitFactory(name="第二单位", community=community_y)
    member_services.unit_membership_add(unit=second, user=liaison_a, actor=root)
    first = _file(liaison_a, category, from_unit=unit_a.pk)["id"]
    other = _file(liaison_a, category, from_unit=second.pk)["id"]
    rows = _api(liaison_a).get("/api/v1/needs/").json()["results"]
    assert [(r["id"], r["filed_by_unit_name"]) for r in rows] == [(other, "第二单位"), (first, "山西饭店")]


# --- The contact ------------------------------------------------------------------------------------


def test_the_filing_units_liaisons_see_the_contact_in_full_a_serving_unit_only_while_it_serves(
    liaison_a, liaison_a2, liaison_b, community_x_staff, unit_a, unit_b, category
):
    """The contact of a unit need is the unit's own (its liaison on record, or whom its liaison named): the
    filing unit's liaisons see it in full throughout. A unit it is dispatched to follows the usual rule —
    masked until it accepts."""
    need_id = _file(liaison_a, category, contact_name="孙经理", contact_phone="13911112222")["id"]
    url = f"/api/v1/needs/{need_id}/"

    def contact(user) -> tuple[str, str]:
        row = _api(user).get(url).json()
        return row["contact_name"], row["contact_phone"]

    assert contact(liaison_a2) == ("孙经理", "13911112222")
    need = services.need_dispatch(need=Need.objects.get(pk=need_id), unit=unit_b, actor=community_x_staff)
    assert contact(liaison_b) == ("孙**", "139****2222")  # dispatched, not yet accepted
    assert contact(liaison_a2) == ("孙经理", "13911112222")
    services.need_accept(need=need, actor=liaison_b)
    assert contact(liaison_b) == ("孙经理", "13911112222")
    # Once staff make it another kind of need, the contact is no longer the unit's to see.
    services.need_update(need=Need.objects.get(pk=need_id), actor=community_x_staff, data={"kind": "resident"})
    assert contact(liaison_a) == ("孙**", "139****2222")
    assert contact(liaison_a2) == ("孙**", "139****2222")


# --- What stays constant ------------------------------------------------------------------------------


def test_the_api_list_costs_the_same_with_filed_needs(liaison_a, liaison_a2, unit_a, community_x_staff, category):
    client = _api(liaison_a2)

    def count() -> int:
        client.force_authenticate(type(liaison_a2).objects.get(pk=liaison_a2.pk))  # a fresh request's user
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/needs/")
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    _file(liaison_a, category)
    client.get("/api/v1/needs/")  # warm process-wide caches
    few = count()
    for _ in range(6):
        _file(liaison_a, category)
    dispatched = NeedFactory(community=unit_a.community, category=category)
    services.need_dispatch(need=dispatched, unit=unit_a, actor=community_x_staff)
    # (the user's groups from the cache) units of liaison (guardian) + count + page: as for any liaison.
    assert (few, count()) == ((3, 1), (3, 8))


# --- The portal ---------------------------------------------------------------------------------------


def test_the_portal_lists_what_my_units_filed_apart_from_what_was_dispatched_to_them(
    liaison_a, liaison_a2, liaison_b, unit_a, community_x_staff, category
):
    need_id = _file(liaison_a, category)["id"]
    served = NeedFactory(community=unit_a.community, category=category, title="派来的需求")
    services.need_dispatch(need=served, unit=unit_a, actor=community_x_staff)
    client = client_for(liaison_a2)
    url = reverse("portal:need_list")

    dispatched = client.get(url)
    assert [n.pk for n in dispatched.context["needs"]] == [served.pk]
    body = dispatched.content.decode()
    assert f'<a class="tag" href="{url}?list=filed">本单位提交的</a>' in body

    filed = client.get(url, {"list": "filed"})
    assert filed.status_code == 200
    assert [n.pk for n in filed.context["needs"]] == [need_id]
    body = filed.content.decode()
    assert f'<a href="{reverse("portal:need_detail", args=[need_id])}">{BODY["title"]}</a>' in body
    assert "<h1>本单位提交的需求</h1>" in body
    # The status filters keep the tab; a need waiting to be dispatched is among them.
    assert 'href="?list=filed&amp;status=submitted"' in body
    assert [n.pk for n in client.get(url, {"list": "filed", "status": "submitted"}).context["needs"]] == [need_id]
    assert list(client.get(url, {"list": "filed", "status": "dispatched"}).context["needs"]) == []

    page = client.get(reverse("portal:need_detail", args=[need_id]))
    assert page.status_code == 200
    assert "<dt>提交单位</dt><dd>山西饭店</dd>" in page.content.decode()
    assert page.context["contact"] == {"name": unit_a.liaison_name, "phone": unit_a.liaison_phone, "address": ""}

    # Another unit's liaison: an empty list, and the need's page is not found.
    other = client_for(liaison_b)
    assert list(other.get(url, {"list": "filed"}).context["needs"]) == []
    assert other.get(reverse("portal:need_detail", args=[need_id])).status_code == 404


def test_the_portal_filed_list_costs_the_same_however_many_rows(liaison_a, liaison_a2, category):
    client = client_for(liaison_a2)
    url = reverse("portal:need_list") + "?list=filed"
    _file(liaison_a, category)
    client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(8):
        _file(liaison_a, category)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["needs"]) == 9
    assert len(many) == len(few)


# --- The limit ----------------------------------------------------------------------------------------


def test_a_unit_files_at_most_its_rate_and_then_is_told_plainly(
    liaison_a, liaison_a2, liaison_b, unit_a, category, settings
):
    _rates(settings, unit_need_file="2/hour")
    _file(liaison_a, category)
    # Refused attempts use up nothing: another unit's liaison naming unit_a, a need the service refuses.
    assert (
        _api(liaison_b)
        .post("/api/v1/needs/", {"category": category.pk, **BODY, "from_unit": unit_a.pk}, format="json")
        .status_code
        == 404
    )
    refused = _api(liaison_a).post(
        "/api/v1/needs/", {"category": category.pk, **BODY, "contact_name": "x" * 31}, format="json"
    )
    assert refused.status_code == 400
    # The limit is the unit's, whichever liaison files.
    _file(liaison_a2, category)
    response = _api(liaison_a).post("/api/v1/needs/", {"category": category.pk, **BODY}, format="json")
    assert (response.status_code, response.json()) == (
        429,
        {"detail": "山西饭店已在60分钟内提交了2条需求，已达单位提交上限，请稍后再试。"},
    )
    assert response["Retry-After"] == "3600"
    assert _api(liaison_a2).post("/api/v1/needs/", {"category": category.pk, **BODY}, format="json").status_code == 429
    assert Need.objects.filter(filed_by_unit=unit_a).count() == 2
    # Another unit has its own allowance.
    assert _file(liaison_b, category)["filed_by_unit"] is not None


def test_a_need_the_service_does_not_store_gives_the_allowance_back(liaison_a, unit_a, category, settings, monkeypatch):
    _rates(settings, unit_need_file="1/hour")

    def refuse(**kwargs):
        raise InvalidInput("拒绝")

    with monkeypatch.context() as patched:
        patched.setattr(services, "need_submit", refuse)
        response = _api(liaison_a).post("/api/v1/needs/", {"category": category.pk, **BODY}, format="json")
        assert (response.status_code, response.json()) == (400, {"detail": "拒绝"})
    _file(liaison_a, category)  # the one need of the hour
    assert Need.objects.filter(filed_by_unit=unit_a).count() == 1


def test_the_limit_is_thirty_an_hour_unless_set():
    assert django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["unit_need_file"] == "30/hour"

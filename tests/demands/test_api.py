from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from alliance.api.views import PUBLIC_STATS
from demands.models import Need

from ..api import api_client as _api
from ..factories import CategoryFactory
from .factories import NeedFactory, ResourceFactory

S = Need.Status


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # (the user's groups from the cache) count + page (needs joined to category, community, unit, with the overdue flag)
        ("street_staff", 2),
        # (the user's groups from the cache) communities administered + units of liaison (guardian) + count + page
        ("community_x_staff", 4),
        # (the user's groups from the cache) units of liaison (guardian) + count + page
        ("liaison_a", 3),
    ],
)
def test_need_list_query_count_does_not_grow_with_rows(who, expected, cast, need_in):
    user = cast[who]
    client = _api(user)

    def count() -> int:
        client.force_authenticate(type(user).objects.get(pk=user.pk))  # a fresh request's user
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/needs/").status_code == 200
        return len(queries)

    need_in(S.DISPATCHED)
    client.get("/api/v1/needs/")  # warm process-wide caches
    few = count()
    for status in (S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.CLOSED) * 8:
        need_in(status)
    assert few == count() == expected


def test_resource_list_query_count_does_not_grow_with_rows(street_staff, unit_a):
    client = _api(street_staff)

    def count() -> int:
        client.force_authenticate(type(street_staff).objects.get(pk=street_staff.pk))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/resources/").status_code == 200
        return len(queries)

    ResourceFactory(unit=unit_a)
    client.get("/api/v1/resources/")
    few = count()
    ResourceFactory.create_batch(30, unit=unit_a)
    assert few == count() == 2  # count + page joined to unit, community, category (the groups from the cache)


def test_contact_data_in_full_only_for_those_who_need_it(cast, need_in, unit_a):
    need = need_in(S.ACCEPTED, contact_name="钱淑芬", contact_phone="13712345678", address="柳巷3号楼")
    for who in ("street_staff", "community_x_staff", "liaison_a"):
        row = _api(cast[who]).get(f"/api/v1/needs/{need.pk}/").json()
        assert (row["contact_name"], row["contact_phone"], row["address"]) == ("钱淑芬", "13712345678", "柳巷3号楼")
    # Nobody else sees the need at all; what is left to check is a need the unit declined…
    need_in(S.SUBMITTED)
    assert _api(cast["liaison_b"]).get(f"/api/v1/needs/{need.pk}/").status_code == 404


def test_masking_for_a_user_who_sees_the_need_without_needing_the_contact(need_in, cast, monkeypatch):
    from alliance import permissions

    need = need_in(S.DISPATCHED, contact_name="钱淑芬", contact_phone="13712345678", address="柳巷3号楼")
    monkeypatch.setitem(permissions._ABILITIES, "demands.see_contact", lambda user, obj: False)
    row = _api(cast["street_staff"]).get(f"/api/v1/needs/{need.pk}/").json()
    assert row["contact_phone"] == "137****5678" and row["contact_name"] == "钱**" and row["address"] == ""


def test_need_filters(street_staff, need_in, unit_a, community_y):
    a = need_in(S.SUBMITTED)
    b = need_in(S.DISPATCHED)
    c = NeedFactory(community=community_y, kind=Need.Kind.MICRO_WISH)
    Need.objects.filter(pk=a.pk).update(submitted_at="2026-01-01T00:00:00+08:00")
    client = _api(street_staff)

    def ids(query):
        return {row["id"] for row in client.get(f"/api/v1/needs/?{query}").json()["results"]}

    assert ids("status=dispatched") == {b.pk}
    assert ids("kind=micro_wish") == {c.pk}
    assert ids(f"community={community_y.pk}") == {c.pk}
    assert ids(f"unit={unit_a.pk}") == {b.pk}
    assert ids("overdue=true") == {a.pk}
    assert ids("submitted_before=2026-02-01T00:00:00%2B08:00") == {a.pk}
    assert a.pk not in ids("submitted_after=2026-02-01T00:00:00%2B08:00")
    for bad in ("status=nope", "submitted_after=yesterday", "unit=x"):
        assert client.get(f"/api/v1/needs/?{bad}").status_code == 400


def test_suggestions_are_for_the_dispatching_staff(cast, need_in):
    need = need_in(S.DISPATCHED)
    assert _api(cast["community_x_staff"]).get(f"/api/v1/needs/{need.pk}/suggestions/").status_code == 200
    assert _api(cast["liaison_a"]).get(f"/api/v1/needs/{need.pk}/suggestions/").status_code == 404
    assert _api(cast["community_y_staff"]).get(f"/api/v1/needs/{need.pk}/suggestions/").status_code == 404


def test_format_suffixes_are_not_routes(street_staff, liaison_a, need_in):
    # `/suggestions.json` reached the action with a `format` argument it does not take: a 500.
    need = need_in(Need.Status.DISPATCHED)
    assert _api(street_staff).get(f"/api/v1/needs/{need.pk}/suggestions.json").status_code == 404
    assert _api(liaison_a).post(f"/api/v1/needs/{need.pk}/accept.json").status_code == 404
    need.refresh_from_db()
    assert need.status == Need.Status.DISPATCHED
    assert _api(street_staff).get(f"/api/v1/needs/{need.pk}/suggestions/?format=json").status_code == 200


def test_dispatch_to_an_unknown_unit_is_a_field_error(street_staff, need_in):
    need = need_in(S.SUBMITTED)
    response = _api(street_staff).post(f"/api/v1/needs/{need.pk}/dispatch/", {"unit": 999999}, format="json")
    assert response.status_code == 400 and "unit" in response.json()
    response = _api(street_staff).post(f"/api/v1/needs/{need.pk}/dispatch/", {}, format="json")
    assert response.status_code == 400


def test_liaisons_publish_resources_for_their_own_unit_only(liaison_a, unit_a, unit_b):
    category = CategoryFactory()
    client = _api(liaison_a)
    body = {"category": category.pk, "kind": "venue", "title": "会议室", "is_free": True}
    assert client.post("/api/v1/resources/", {**body, "unit": unit_b.pk}, format="json").status_code == 403
    response = client.post("/api/v1/resources/", {**body, "unit": unit_a.pk}, format="json")
    assert response.status_code == 201
    rid = response.json()["id"]
    assert client.patch(f"/api/v1/resources/{rid}/", {"capacity": 40}, format="json").json()["capacity"] == 40
    assert client.post(f"/api/v1/resources/{rid}/withdraw/").json()["status"] == "withdrawn"
    assert client.post(f"/api/v1/resources/{rid}/withdraw/").status_code == 409
    other = ResourceFactory(unit=unit_b)
    assert client.patch(f"/api/v1/resources/{other.pk}/", {"capacity": 1}, format="json").status_code == 403


# --- Public -----------------------------------------------------------------------------------------


def _public_submit(community, category, **extra):
    body = {
        "community": community.pk,
        "category": category.pk,
        "title": "楼道灯不亮",
        "description": "三单元楼道灯坏了一周",
        "contact_name": "孙桂兰",
        "contact_phone": "13698765432",
        "address": "桥头街5号3单元",
        **extra,
    }
    return APIClient().post("/api/v1/public/needs/", body, format="json")


def test_public_submit_track_rate(community_x, street_staff, unit_a, liaison_a):
    from demands import services

    category = CategoryFactory()
    response = _public_submit(community_x, category)
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"
    code = response.json()["tracking_code"]

    tracked = APIClient().get(f"/api/v1/public/needs/{code}/?phone_last4=5432")
    assert tracked.status_code == 200
    body = tracked.json()
    assert body["status"] == "submitted" and body["timeline"][0]["status"] == "submitted"
    assert set(body) == {
        "tracking_code",
        "title",
        "category",
        "community",
        "status",
        "unit",
        "result",
        "rating",
        "timeline",
    }

    wrong_digits = APIClient().get(f"/api/v1/public/needs/{code}/?phone_last4=0000")
    wrong_code = APIClient().get("/api/v1/public/needs/ABCDEFGHJKMNP/?phone_last4=5432")
    assert wrong_digits.status_code == wrong_code.status_code == 404
    assert wrong_digits.json() == wrong_code.json()

    need = Need.objects.get(tracking_code=code)
    rating = APIClient().post(
        f"/api/v1/public/needs/{code}/rating/", {"phone_last4": "5432", "rating": 5}, format="json"
    )
    assert rating.status_code == 409  # not completed yet
    need = services.need_dispatch(need=need, unit=unit_a, actor=street_staff)
    need = services.need_accept(need=need, actor=liaison_a)
    services.need_complete(need=need, actor=liaison_a, result="已换新灯泡")
    bad = APIClient().post(f"/api/v1/public/needs/{code}/rating/", {"phone_last4": "5432", "rating": 9}, format="json")
    assert bad.status_code == 400
    rating = APIClient().post(
        f"/api/v1/public/needs/{code}/rating/", {"phone_last4": "5432", "rating": 4, "comment": "修得快"}, format="json"
    )
    assert rating.status_code == 200 and rating.json()["status"] == "closed"


def test_public_submit_validates_in_chinese(community_x):
    response = _public_submit(community_x, CategoryFactory(), contact_phone="12345", title="")
    assert response.status_code == 400
    errors = response.json()
    assert {"contact_phone", "title"} <= set(errors)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in errors["contact_phone"][0])
    assert not Need.objects.exists()


def test_public_endpoints_are_rate_limited(community_x, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "need_submit": "2/hour", "need_track": "3/hour"},
    }
    category = CategoryFactory()
    codes = [_public_submit(community_x, category).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert Need.objects.count() == 2
    tracks = [APIClient().get("/api/v1/public/needs/X/?phone_last4=1234") for _ in range(4)]
    assert [r.status_code for r in tracks] == [404, 404, 404, 429]
    assert tracks[-1]["Retry-After"] == "3600"
    assert tracks[-1].json()["detail"]


def test_the_form_and_the_api_share_one_count_per_address(community_x, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "need_track": "2/hour"}}
    from django.test import Client

    assert APIClient().get("/api/v1/public/needs/X/?phone_last4=1234").status_code == 404
    Client().post("/needs/track/", {"code": "X", "phone_last4": "1234"})
    assert APIClient().get("/api/v1/public/needs/X/?phone_last4=1234").status_code == 429


def test_public_showcase_and_stats_hold_no_personal_data(need_in, street_staff):
    from demands import services

    shown = need_in(S.CLOSED, contact_name="周玉珍", contact_phone="13511112222", address="钟楼街9号")
    services.need_showcase(need=shown, actor=street_staff)
    need_in(S.COMPLETED, contact_name="吴建国", contact_phone="13533334444", address="开化寺街1号")
    showcase = APIClient().get("/api/v1/public/showcase/")
    assert showcase.status_code == 200
    body = showcase.json()
    assert body["count"] == 1 and set(body) >= {"count", "next", "previous", "results"}
    stats = APIClient().get("/api/v1/public/stats/").json()
    assert set(stats) == set(PUBLIC_STATS)
    assert stats["needs"] == 2 and stats["needs_completed"] == 2 and stats["units"] >= 1
    text = json.dumps([body, stats], ensure_ascii=False)
    for secret in ("周玉珍", "13511112222", "1351111", "钟楼街9号", "吴建国", "13533334444"):
        assert secret not in text


def test_public_api_answers_no_500_to_odd_input(community_x):
    client = APIClient()
    for path in ("/api/v1/public/needs/%00/?phone_last4=1234", "/api/v1/public/needs/" + "A" * 500 + "/"):
        assert client.get(path).status_code == 404
    # Four bad bodies stay under the allowance (5 an hour): each is a 400 with field errors, never a 429.
    for body in ({}, {"community": "x"}, {"community": 999999, "category": 999999}, [1, 2]):
        response = client.post("/api/v1/public/needs/", body, format="json")
        assert response.status_code == 400, (body, response.content)


def test_staff_find_a_need_by_its_tracking_code_within_their_scope(street_staff, community_y_staff, community_x):
    need = NeedFactory(community=community_x)
    NeedFactory(community=community_x)
    found = _api(street_staff).get("/api/v1/needs/", {"tracking_code": need.tracking_code}).json()
    assert [row["id"] for row in found["results"]] == [need.pk]
    # Another community's staff do not find it by its code; a wrong code finds nothing.
    other = _api(community_y_staff).get("/api/v1/needs/", {"tracking_code": need.tracking_code}).json()
    assert other["results"] == []
    assert _api(street_staff).get("/api/v1/needs/", {"tracking_code": "NOPE"}).json()["results"] == []

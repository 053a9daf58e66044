"""The points ledger over the API (`/api/v1/points/`, `/api/v1/points/balances/`), in the portal (我的积分)
and in the admin (the read-only ledger, its correction page, the rankings, the rules)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from volunteers import points
from volunteers.models import PointsEntry, PointsRule

from ..api import api_client as _api
from ..conftest import client_for
from .factories import PartyMemberFactory
from .points_world import verified_log

# --- API --------------------------------------------------------------------------------------------


def test_the_ledger_lists_exactly_the_fixed_fields(ledger, cast):
    response = _api(cast["member"]).get("/api/v1/points/?year=2026")
    assert response.status_code == 200
    rows = response.json()["results"]
    member_x = ledger["member_x"]
    entries = {e.pk: e for e in PointsEntry.objects.filter(member=member_x)}
    assert len(rows) == 3  # hours, the wish, the correction
    for row in rows:
        assert set(row) == {"id", "member", "unit", "points", "reason", "source", "quarter", "created_at"}
        stored = entries[row["id"]]
        assert (row["member"], row["unit"], row["points"], row["source"], row["quarter"]) == (
            member_x.pk,
            None,
            stored.points,
            stored.source,
            stored.quarter,
        )
    assert sorted(r["source"].split(":")[0] for r in rows) == ["correction", "micro_wish", "service_log"]


@pytest.mark.parametrize(
    ("role", "count"),
    [("member", 3), ("liaison_a", 1), ("liaison_b", 2), ("community_x_staff", 4), ("street_staff", 7)],
)
def test_each_caller_lists_their_own_entries(ledger, cast, role, count):
    assert _api(cast[role]).get("/api/v1/points/", {"year": 2026}).json()["count"] == count


def test_anonymous_callers_are_refused(ledger):
    assert _api(None).get("/api/v1/points/?year=2026").status_code == 403
    assert _api(None).get("/api/v1/points/balances/?year=2026").status_code == 403


@pytest.mark.parametrize("year", ["abc", "20266", "-1", "1800", "2026.5"])
def test_a_bad_year_is_a_400_with_a_message(cast, year):
    for url in ("/api/v1/points/", "/api/v1/points/balances/"):
        response = _api(cast["street_staff"]).get(url, {"year": year})
        assert response.status_code == 400
        assert response.json()["year"][0] in ("请用四位数字填写年份，例如 2026。", "年份须在 1900 至 2999 之间。")


def test_an_unknown_parameter_is_refused(cast):
    response = _api(cast["street_staff"]).get("/api/v1/points/", {"yaer": 2026})
    assert response.status_code == 400


def test_no_year_means_this_year(ledger, cast):
    # The ledger's entries are of 2026; today is in 2026 in these tests' world only if the clock says so.
    from alliance.periods import Quarter

    expected = 7 if Quarter.current().year == 2026 else 0
    assert _api(cast["street_staff"]).get("/api/v1/points/").json()["count"] == expected


def test_balances_for_staff_and_for_a_liaison(ledger, cast):
    response = _api(cast["street_staff"]).get("/api/v1/points/balances/?year=2026")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    x, y, a, b = ledger["member_x"], ledger["member_y"], ledger["unit_a"], ledger["unit_b"]
    assert body["results"] == [
        {"member": x.pk, "unit": None, "name": "张伟", "balance": 8, "rank": 1},
        {"member": y.pk, "unit": None, "name": "李娜", "balance": 6, "rank": 2},
        {"member": None, "unit": b.pk, "name": "太原市第五中学", "balance": 20, "rank": 1},
        {"member": None, "unit": a.pk, "name": "山西饭店", "balance": 10, "rank": 2},
    ]
    mine = _api(cast["liaison_a"]).get("/api/v1/points/balances/?year=2026").json()["results"]
    assert mine == [{"member": None, "unit": a.pk, "name": "山西饭店", "balance": 10, "rank": 1}]
    page = _api(cast["street_staff"]).get("/api/v1/points/balances/?year=2026&page_size=3&page=2").json()
    assert [r["name"] for r in page["results"]] == ["山西饭店"]


def test_the_lists_cost_the_same_however_many_rows(
    rule, community_x, community_x_staff, street_staff, django_assert_num_queries
):
    client = _api(street_staff)

    def grow(n):
        for _ in range(n):
            verified_log(PartyMemberFactory(residence_community=community_x), community_x_staff, hours="1")

    grow(2)
    client.get("/api/v1/points/?year=2026")  # warm: the staff's scope is cached on the user
    # 1 the count, 2 the page of entries (source, member and unit are the entry's own columns).
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/points/?year=2026").json()["results"]) == 2
    # 1 the count of the balances' UNION, 2 its page.
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/points/balances/?year=2026").json()["results"]) == 2
    grow(6)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/points/?year=2026").json()["results"]) == 8
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/points/balances/?year=2026").json()["results"]) == 8


def test_the_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/points/" in schema["paths"] and "/api/v1/points/balances/" in schema["paths"]
    listed = schema["paths"]["/api/v1/points/"]["get"]
    assert any(p["name"] == "year" for p in listed["parameters"])


# --- Portal: 我的积分 --------------------------------------------------------------------------------


def test_a_member_sees_their_points_and_how_they_were_earned(ledger, cast, django_assert_num_queries):
    client = client_for(cast["member"])
    client.get(reverse("portal:my_points"), {"year": 2026})  # warm the session and the scopes
    # 1 session, 2 user, 3 registrations, 4 the liaison's units with their sums, 5 the balance, 6 the page.
    with django_assert_num_queries(6):
        page = client.get(reverse("portal:my_points"), {"year": 2026})
    html = page.content.decode()
    assert page.status_code == 200
    assert "我的积分" in html and 'data-balance="8"' in html
    assert "2026-05-10 服务 2.5 小时（已核实）" in html and "完成微心愿：帮独居老人买药" in html
    assert "更正：2026-05-10 服务 2.5 小时（已核实）" in html  # the correction names what it corrects
    assert "李娜" not in html and "山西饭店" not in html  # nobody else's points


def test_the_portal_page_costs_the_same_however_many_entries(
    rule, member, member_x, community_x_staff, django_assert_num_queries
):
    client = client_for(member)
    for day in (1, 2):
        verified_log(member_x, community_x_staff, hours="1", day=date(2026, 6, day))
    client.get(reverse("portal:my_points"), {"year": 2026})
    with django_assert_num_queries(6):
        assert client.get(reverse("portal:my_points"), {"year": 2026}).content.decode().count("data-entry=") == 2
    for day in range(3, 9):
        verified_log(member_x, community_x_staff, hours="1", day=date(2026, 6, day))
    with django_assert_num_queries(6):
        assert client.get(reverse("portal:my_points"), {"year": 2026}).content.decode().count("data-entry=") == 8


def test_a_liaison_sees_their_units_points_and_no_other_units(ledger, cast, unit_a, unit_b):
    client = client_for(cast["liaison_a"])
    html = client.get(reverse("portal:my_points"), {"year": 2026}).content.decode()
    assert f'data-unit="{unit_a.pk}" data-points="10"' in html
    unit_page = client.get(reverse("portal:my_points"), {"year": 2026, "unit": unit_a.pk})
    assert unit_page.status_code == 200
    body = unit_page.content.decode()
    assert "山西饭店 的积分" in body and 'data-balance="10"' in body and "承诺评议" in body
    assert client.get(reverse("portal:my_points"), {"year": 2026, "unit": unit_b.pk}).status_code == 404
    assert client.get(reverse("portal:my_points"), {"year": 2026, "unit": "x"}).status_code == 404


def test_a_bad_year_in_the_portal_shows_this_year_with_a_message(ledger, cast):
    page = client_for(cast["member"]).get(reverse("portal:my_points"), {"year": "abc"})
    assert page.status_code == 200
    assert "请用四位数字填写年份，例如 2026。" in page.content.decode()


def test_the_portal_links_to_my_points(ledger, cast):
    html = client_for(cast["member"]).get(reverse("portal:home")).content.decode()
    assert 'data-link="my-points"' in html
    html = client_for(cast["liaison_a"]).get(reverse("portal:home")).content.decode()
    assert 'data-link="unit-points"' in html


# --- Admin ------------------------------------------------------------------------------------------


def test_staff_correct_an_entry_on_its_page_with_a_reason(entry, cast):
    client = client_for(cast["community_x_staff"])
    url = reverse("admin:volunteers_pointsentry_correct", args=[entry.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"points": "-2", "reason": ""})
    assert refused.status_code == 200 and PointsEntry.objects.count() == 1
    done = client.post(url, {"points": "-2", "reason": "多记了半小时"})
    assert done.status_code == 302
    correction = PointsEntry.objects.exclude(pk=entry.pk).get()
    assert (correction.points, correction.corrects_id, correction.reason) == (-2, entry.pk, "多记了半小时")
    assert client_for(cast["community_y_staff"]).get(url).status_code == 404


def test_the_ledger_admin_is_read_only(entry, cast):
    client = client_for(cast["street_staff"])
    changelist = client.get(reverse("admin:volunteers_pointsentry_changelist"))
    assert changelist.status_code == 200 and "2026-05-10 服务 2.5 小时（已核实）" in changelist.content.decode()
    assert client.get(reverse("admin:volunteers_pointsentry_add")).status_code == 403
    change = client.post(reverse("admin:volunteers_pointsentry_change", args=[entry.pk]), {"points": "50"})
    assert change.status_code == 403
    delete = client.post(reverse("admin:volunteers_pointsentry_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert PointsEntry.objects.values_list("points", flat=True).get() == 5


def test_the_rankings_page(ledger, cast):
    html = client_for(cast["street_staff"]).get(reverse("admin:volunteers_pointsentry_rankings"), {"year": 2026})
    body = html.content.decode()
    assert html.status_code == 200 and "2026 年积分排名" in body
    assert 'data-points="26"' in body and 'data-points="30"' in body  # 柳北社区; the sector branch
    bad = client_for(cast["street_staff"]).get(reverse("admin:volunteers_pointsentry_rankings"), {"year": "x"})
    assert bad.status_code == 200


def test_street_staff_edit_the_rule_in_the_admin(street, cast):
    client = client_for(cast["street_staff"])
    data = {"street": street.pk, "year": 2027, "per_hour": 3, "per_wish": 6, "per_review": 12, "review_min_score": 5}
    response = client.post(reverse("admin:volunteers_pointsrule_add"), data)
    assert response.status_code == 302
    rule = PointsRule.objects.get(street=street, year=2027)
    assert (rule.per_hour, rule.per_wish, rule.per_review, rule.review_min_score) == (3, 6, 12, 5)
    change = reverse("admin:volunteers_pointsrule_change", args=[rule.pk])
    response = client.post(change, {**data, "per_hour": 4})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.per_hour == 4
    assert client_for(cast["community_x_staff"]).get(change).status_code == 404
    assert points.rule_for(street_id=street.pk, year=2027).per_hour == 4


def test_the_admins_ledger_rankings_and_rules_cost_the_same_however_many_entries(
    rule, community_x, community_x_staff, street_staff
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(street_staff)
    pages = [
        (reverse("admin:volunteers_pointsentry_changelist"), {}),
        (reverse("admin:volunteers_pointsentry_rankings"), {"year": 2026}),
        (reverse("admin:volunteers_pointsrule_changelist"), {}),
    ]

    def grow(n):
        for _ in range(n):
            verified_log(PartyMemberFactory(residence_community=community_x), community_x_staff, hours="1")

    def statements() -> list[int]:
        counts = []
        for url, params in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url, params).status_code == 200
            counts.append(len(captured))
        return counts

    grow(2)
    statements()  # warm the session and the scopes
    before = statements()
    grow(6)
    # A save of a model some filter offers (a member, a community…) makes every filter read its choices
    # again on the next page (alliance.admin.frame): warm once more, then compare like with like.
    statements()
    assert statements() == before
    assert PointsEntry.objects.count() == 8

"""Agreements renewed as a new version linked to the old one (issue 14): the old version kept and marked
superseded, one renewal however many ask at once; the unit's liaisons told 60 and 30 days before the
agreement ends, once each."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.errors import Conflict, TransitionNotAllowed
from alliance.models import Notification
from members import selectors, services, tasks
from members.models import Agreement

from ..api import api_client as _api
from ..conftest import client_for
from ..factories import AgreementFactory, CommunityFactory, MemberUnitFactory, UserFactory


@pytest.fixture
def agreement(unit_a):
    return AgreementFactory(
        unit=unit_a, title="共驻共建协议书", signed_on=date(2023, 12, 1), term_end=date(2026, 11, 30), content="一\n二"
    )


def test_renewing_makes_a_new_version_and_keeps_the_old_one_superseded(agreement, community_x_staff):
    renewal = services.agreement_renew(
        agreement=agreement, actor=community_x_staff, signed_on=date(2026, 12, 1), term_end=date(2029, 11, 30)
    )
    agreement.refresh_from_db()
    assert (renewal.version, renewal.renews, renewal.unit_id) == (2, agreement, agreement.unit_id)
    assert (renewal.title, renewal.content) == ("共驻共建协议书", "一\n二")
    assert agreement.superseded_at is not None and agreement.renewed_by == renewal
    assert agreement.history.first().history_change_reason == "renewed"


def test_an_agreement_is_renewed_once_and_the_new_version_next(agreement, community_x_staff):
    renewal = services.agreement_renew(
        agreement=agreement, actor=community_x_staff, signed_on=date(2026, 12, 1), term_end=date(2029, 11, 30)
    )
    with pytest.raises(TransitionNotAllowed):
        services.agreement_renew(
            agreement=agreement, actor=community_x_staff, signed_on=date(2026, 12, 2), term_end=date(2029, 11, 30)
        )
    third = services.agreement_renew(
        agreement=renewal, actor=community_x_staff, signed_on=date(2029, 12, 1), term_end=date(2032, 11, 30)
    )
    assert third.version == 3 and Agreement.objects.count() == 3


def test_the_api_renews_for_staff_only(agreement, cast):
    url = f"/api/v1/agreements/{agreement.pk}/renew/"
    body = {"signed_on": "2026-12-01", "term_end": "2029-11-30", "title": "“六联六共”协议书"}
    assert _api(cast["liaison_a"]).post(url, body, format="json").status_code == 403
    assert _api(cast["liaison_b"]).post(url, body, format="json").status_code == 404
    assert _api(cast["community_y_staff"]).post(url, body, format="json").status_code == 404
    assert Agreement.objects.count() == 1
    response = _api(cast["community_x_staff"]).post(url, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["version"], data["renews"], data["renewed_by"], data["title"]) == (
        2,
        agreement.pk,
        None,
        "“六联六共”协议书",
    )
    old = _api(cast["liaison_a"]).get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert old["renewed_by"] == data["id"] and old["superseded_at"] is not None
    assert _api(cast["street_staff"]).post(url, body, format="json").status_code == 409


@pytest.mark.parametrize(
    "body,field",
    [
        ({"signed_on": "2026-12-01", "term_end": "2026-11-01"}, "term_end"),
        ({"signed_on": "soon", "term_end": "2029-11-30"}, "signed_on"),
        ({"term_end": "2029-11-30"}, "signed_on"),
    ],
)
def test_bad_renewals_are_field_errors_and_change_nothing(agreement, community_x_staff, body, field):
    response = _api(community_x_staff).post(f"/api/v1/agreements/{agreement.pk}/renew/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Agreement.objects.count() == 1


def test_a_renewal_signed_before_the_old_one_is_refused(agreement, community_x_staff):
    response = _api(community_x_staff).post(
        f"/api/v1/agreements/{agreement.pk}/renew/",
        {"signed_on": "2020-01-01", "term_end": "2029-11-30"},
        format="json",
    )
    assert response.status_code == 400
    assert Agreement.objects.count() == 1 and Agreement.objects.get().superseded_at is None


def test_the_agreement_list_costs_the_same_queries_with_more_rows(community_x_staff, unit_a):
    client = _api(community_x_staff)
    AgreementFactory(unit=unit_a)
    client.get("/api/v1/agreements/")  # warms the session's caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/agreements/").status_code == 200
    for _ in range(6):
        old = AgreementFactory(unit=MemberUnitFactory(community=unit_a.community))
        services.agreement_renew(
            agreement=old, actor=community_x_staff, signed_on=old.signed_on, term_end=old.term_end + timedelta(days=900)
        )
    with CaptureQueriesContext(connection) as many:
        rows = client.get("/api/v1/agreements/").json()["results"]
    # The page of agreements with their units joined and the renewal annotated: one query, whatever the rows.
    assert len(many) == len(few)
    assert sum(1 for r in rows if r["renewed_by"]) == 6
    assert _api(community_x_staff).get("/api/v1/agreements/?current=true").json()["results"][0]["renewed_by"] is None
    assert _api(community_x_staff).get("/api/v1/agreements/?curent=true").status_code == 400


def test_the_admin_action_renews_the_selected_agreements(agreement, community_x_staff):
    client = client_for(community_x_staff)
    url = reverse("admin:members_agreement_changelist")
    asked = client.post(url, {"action": "renew", "_selected_action": [agreement.pk]})
    assert asked.status_code == 200 and 'name="term_end"' in asked.content.decode()
    done = client.post(
        url,
        {
            "action": "renew",
            "_selected_action": [agreement.pk],
            "apply": "1",
            "signed_on": "2026-12-01",
            "term_end": "2029-11-30",
        },
    )
    assert done.status_code == 302
    assert Agreement.objects.get(renews=agreement).term_end == date(2029, 11, 30)


def test_the_portal_marks_the_superseded_version(agreement, community_x_staff, liaison_a):
    services.agreement_renew(
        agreement=agreement, actor=community_x_staff, signed_on=date(2026, 12, 1), term_end=date(2029, 11, 30)
    )
    page = client_for(liaison_a).get(reverse("portal:unit_detail", args=[agreement.unit_id])).content.decode()
    assert f'data-agreement="{agreement.pk}" data-version="1" data-superseded' in page
    assert "第2版" in page


def test_a_renewed_agreement_no_longer_counts_as_expiring(community_x_staff, unit_a):
    today = timezone.localdate()
    old = AgreementFactory(unit=unit_a, signed_on=today - timedelta(days=1000), term_end=today + timedelta(days=20))
    assert list(selectors.agreements_expiring()) == [old]
    services.agreement_renew(
        agreement=old, actor=community_x_staff, signed_on=today, term_end=today + timedelta(days=1000)
    )
    assert list(selectors.agreements_expiring()) == []


# --- The liaisons told before the agreement ends -------------------------------------------------------


def test_the_units_liaisons_are_told_60_and_30_days_before_once_each(unit_a, liaison_a, liaison_b):
    today = timezone.localdate()
    agreement = AgreementFactory(
        unit=unit_a, signed_on=today - timedelta(days=1000), term_end=today + timedelta(days=58)
    )

    assert services.agreements_alert_liaisons(today=today) == 1
    assert services.agreements_alert_liaisons(today=today) == 0
    assert services.agreements_alert_liaisons(today=today + timedelta(days=28)) == 1  # 30 days left
    assert tasks.alert_agreements_ending.delay().get() == 0  # today: the 60-day alert went out already

    told = Notification.objects.filter(kind__startswith=f"agreement_ending:{agreement.pk}:")
    assert sorted(told.values_list("recipient__username", "kind")) == [
        ("liaison_a", f"agreement_ending:{agreement.pk}:30"),
        ("liaison_a", f"agreement_ending:{agreement.pk}:60"),
    ]
    assert all(not n.in_digest for n in told)


def test_a_renewed_agreement_tells_nobody(unit_a, liaison_a, community_x_staff):
    today = timezone.localdate()
    old = AgreementFactory(unit=unit_a, signed_on=today - timedelta(days=1000), term_end=today + timedelta(days=20))
    services.agreement_renew(
        agreement=old, actor=community_x_staff, signed_on=today, term_end=today + timedelta(days=900)
    )
    assert services.agreements_alert_liaisons(today=today) == 0


def test_the_liaison_scan_costs_the_same_queries_for_many_agreements(root):
    today = timezone.localdate()
    community = CommunityFactory()

    def units_with_agreements(n: int, tag: str) -> None:
        for i in range(n):
            unit = MemberUnitFactory(community=community)
            services.unit_membership_add(unit=unit, user=UserFactory(username=f"l{tag}{i}"), actor=root)
            AgreementFactory(unit=unit, signed_on=today - timedelta(days=900), term_end=today + timedelta(days=40))

    units_with_agreements(2, "a")
    with CaptureQueriesContext(connection) as few:
        assert services.agreements_alert_liaisons(today=today) == 2
    units_with_agreements(10, "b")
    with CaptureQueriesContext(connection) as many:
        assert services.agreements_alert_liaisons(today=today) == 10
    # The agreements, their units' accounts, the ledger rows written already, one INSERT of notifications,
    # one of ledger rows (and the savepoint): the same for 10 as for 2.
    assert len(many) == len(few)


# --- Two staff renewing the same agreement at once -------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_renewing_at_once_make_one_renewal():
    root = UserFactory(username="root-renew", is_superuser=True, is_staff=True)
    community = CommunityFactory()
    staff = []
    for i in range(2):
        user = UserFactory(username=f"cs{i}-renew")
        services.community_staff_add(user=user, community=community, actor=root)
        staff.append(user)
    agreement = AgreementFactory(
        unit=MemberUnitFactory(community=community), signed_on=date(2023, 12, 1), term_end=date(2026, 11, 30)
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(user) -> None:
        try:
            barrier.wait()
            services.agreement_renew(
                agreement=agreement, actor=user, signed_on=date(2026, 12, 1), term_end=date(2029, 11, 30)
            )
            outcomes.append("renewed")
        except Conflict as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["TransitionNotAllowed", "renewed"]
    assert Agreement.objects.filter(renews=agreement).count() == 1

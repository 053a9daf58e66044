"""Council terms (届) (issue 14): seats belong to a term, one current term per street, the roster in the
portal and on the public site (unit, role, holder — no phone), and the street's staff told 60 and 30 days
before the term ends, once each."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance import permissions
from alliance.errors import PermissionDenied
from alliance.models import Notification
from members import services, tasks
from members.models import CouncilSeat, CouncilTerm, ExpiryAlert

from ..conftest import client_for
from ..factories import MemberUnitFactory, StreetFactory, UserFactory


def _term(street, number=1, *, start=None, end=None, current=True) -> CouncilTerm:
    start = start or date(2024, 6, 1)
    return CouncilTerm.objects.create(
        street=street, number=number, start=start, end=end or date(2027, 5, 31), is_current=current
    )


def _seat(term, unit, role=CouncilSeat.Role.MEMBER, holder="卫旭华") -> CouncilSeat:
    return CouncilSeat.objects.create(
        street=term.street,
        term=term,
        role=role,
        unit=unit,
        holder_name=holder,
        term_start=term.start,
        term_end=term.end,
    )


@pytest.fixture
def street(community_x):
    return community_x.street


def test_the_migration_groups_existing_seats_into_terms_by_street_and_dates(street, unit_a, unit_b):
    migration = importlib.import_module("members.migrations.0009_council_terms_and_agreement_renewals")
    other = StreetFactory(name="西兰路街道")
    for s, start, end, unit in [
        (street, date(2018, 6, 1), date(2021, 5, 31), unit_a),
        (street, date(2021, 6, 1), date(2024, 5, 31), unit_a),
        (street, date(2021, 6, 1), date(2024, 5, 31), unit_b),
        (other, date(2022, 1, 1), date(2024, 12, 31), unit_b),
    ]:
        CouncilSeat.objects.create(street=s, role="member", unit=unit, holder_name="某", term_start=start, term_end=end)

    migration.group_seats_into_terms(apps, None)

    terms = list(CouncilTerm.objects.order_by("street_id", "number").values_list("street_id", "number", "is_current"))
    assert terms == [(street.pk, 1, False), (street.pk, 2, True), (other.pk, 1, True)]
    assert not CouncilSeat.objects.filter(term__isnull=True).exists()
    second = CouncilTerm.objects.get(street=street, number=2)
    assert second.seats.count() == 2 and (second.start, second.end) == (date(2021, 6, 1), date(2024, 5, 31))


def test_a_new_current_term_ends_the_previous_one(street, street_staff):
    first = _term(street, 1)
    second = services.council_term_save(
        term=CouncilTerm(street=street, number=2, start=date(2027, 6, 1), end=date(2030, 5, 31)), actor=street_staff
    )
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert first.history.first().history_change_reason == "a new term"


def test_the_database_keeps_one_current_term_per_street(street):
    _term(street, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _term(street, 2)


def test_only_the_streets_own_staff_keep_its_terms(street, root, community_x_staff, liaison_a):
    other_staff = UserFactory(username="other_street_staff", is_staff=True)
    services.street_staff_add(user=other_staff, street=StreetFactory(name="西兰路街道"), actor=root)
    for actor in (other_staff, community_x_staff, liaison_a):
        with pytest.raises(PermissionDenied):
            services.council_term_save(
                term=CouncilTerm(street=street, number=1, start=date(2024, 1, 1), end=date(2026, 12, 31)), actor=actor
            )
    assert not CouncilTerm.objects.exists()


def test_a_seat_belongs_to_a_term_of_its_own_street(street, street_staff, unit_a):
    other_term = _term(StreetFactory(name="西兰路街道"))
    seat = CouncilSeat(street=street, term=other_term, role="member", unit=unit_a, holder_name="某")
    with pytest.raises(Exception, match="本街道"):
        services.council_seat_save(seat=seat, actor=street_staff)
    assert not CouncilSeat.objects.exists()


def test_the_public_roster_shows_unit_role_and_holder_and_no_phone(street, unit_a, unit_b, anonymous):
    term = _term(street, 3)
    _seat(term, unit_a, CouncilSeat.Role.MEMBER, "李明")
    _seat(term, unit_b, CouncilSeat.Role.PRESIDENT, "卫旭华")
    _seat(_term(street, 2, current=False, start=date(2021, 6, 1), end=date(2024, 5, 31)), unit_a, holder="往届理事")

    page = client_for(anonymous).get(f"/council/?street={street.pk}")

    assert page.status_code == 200
    html = page.content.decode()
    assert "第3届理事会" in html and "卫旭华" in html and "李明" in html and unit_b.name in html
    assert html.index("卫旭华") < html.index("李明")  # the president first
    assert "往届理事" not in html
    for phone in (unit_a.liaison_phone, unit_b.liaison_phone, unit_a.liaison_name):
        assert phone not in html


@pytest.mark.parametrize("asked", ["abc", "99999", "１２", "-1"])
def test_a_bad_street_is_a_404(street, anonymous, asked):
    assert client_for(anonymous).get("/council/", {"street": asked}).status_code == 404


def test_the_public_roster_costs_three_queries_however_many_seats(street, anonymous, django_assert_num_queries):
    term = _term(street, 1)
    client = client_for(anonymous)
    _seat(term, MemberUnitFactory(community=street.communities.first()))
    # The streets (for the chooser), the street's current term, its seats with their units.
    with django_assert_num_queries(3):
        client.get(f"/council/?street={street.pk}")
    for _ in range(8):
        _seat(term, MemberUnitFactory(community=street.communities.first()))
    with django_assert_num_queries(3):
        assert client.get(f"/council/?street={street.pk}").content.decode().count("data-seat=") == 9


def test_with_one_street_the_public_page_needs_no_choice(street, unit_a, anonymous):
    _seat(_term(street, 1), unit_a, holder="卫旭华")
    assert "卫旭华" in client_for(anonymous).get("/council/").content.decode()


def test_a_liaison_sees_the_roster_of_their_units_street_in_the_portal(street, unit_a, liaison_a):
    _seat(_term(street, 1), unit_a, CouncilSeat.Role.SECRETARY_GENERAL, "王芳")
    page = client_for(liaison_a).get(reverse("portal:council"))
    assert page.status_code == 200
    assert "秘书长" in page.content.decode() and "王芳" in page.content.decode()


def test_the_roster_is_a_reusable_include(street, unit_a):
    term = _term(street, 1)
    seat = _seat(term, unit_a, holder="卫旭华")
    html = render_to_string("members/_council_roster.html", {"term": term, "seats": [seat]})
    assert f'data-term="{term.pk}"' in html and "卫旭华" in html


def test_the_council_terms_admin_is_the_streets(street, street_staff, community_x_staff):
    _term(street, 1)
    url = reverse("admin:members_councilterm_changelist")
    assert client_for(street_staff).get(url).status_code == 200
    assert client_for(community_x_staff).get(url).status_code == 403


def test_saving_a_current_term_in_the_admin_ends_the_previous(street, street_staff):
    first = _term(street, 1)
    response = client_for(street_staff).post(
        reverse("admin:members_councilterm_add"),
        {"street": street.pk, "number": 2, "start": "2027-06-01", "end": "2030-05-31", "is_current": "on"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert not first.is_current and CouncilTerm.objects.get(number=2).is_current


# --- The alert before a term ends ------------------------------------------------------------------------


def test_the_streets_staff_are_told_60_and_30_days_before_once_each(street, street_staff):
    today = timezone.localdate()
    term = _term(street, 1, start=today - timedelta(days=900), end=today + timedelta(days=55))

    assert services.council_terms_alert(today=today) == 1
    assert services.council_terms_alert(today=today) == 0
    assert services.council_terms_alert(today=today + timedelta(days=10)) == 0  # still the 60-day stage
    assert services.council_terms_alert(today=today + timedelta(days=25)) == 1  # 30 days left
    assert services.council_terms_alert(today=today + timedelta(days=26)) == 0

    told = Notification.objects.filter(recipient=street_staff, kind__startswith=f"council_term_ending:{term.pk}:")
    assert sorted(told.values_list("kind", flat=True)) == [
        f"council_term_ending:{term.pk}:30",
        f"council_term_ending:{term.pk}:60",
    ]
    assert set(ExpiryAlert.objects.values_list("stage", flat=True)) == {30, 60}


def test_a_term_far_from_its_end_or_past_it_tells_nobody(street, street_staff):
    today = timezone.localdate()
    _term(street, 1, start=today - timedelta(days=900), end=today + timedelta(days=61))
    assert services.council_terms_alert(today=today) == 0
    assert services.council_terms_alert(today=today + timedelta(days=62)) == 0


def test_the_scan_costs_the_same_queries_for_many_terms(root):
    today = timezone.localdate()

    def streets_with_terms(n: int, tag: str) -> None:
        for i in range(n):
            s = StreetFactory(name=f"街道{tag}{i}")
            staff = UserFactory(username=f"staff{tag}{i}", is_staff=True)
            permissions.forget_cached_permissions(root)  # the new street joins the superuser's streets
            services.street_staff_add(user=staff, street=s, actor=root)
            _term(s, 1, start=today - timedelta(days=900), end=today + timedelta(days=20))

    streets_with_terms(2, "a")
    with CaptureQueriesContext(connection) as few:
        assert services.council_terms_alert(today=today) == 2
    streets_with_terms(9, "b")
    with CaptureQueriesContext(connection) as many:
        assert services.council_terms_alert(today=today) == 9
    # The terms, their staff, the ledger rows already written, the notifications' INSERT, the ledger's INSERT
    # (and the savepoint around them): the same for 9 terms as for 2.
    assert len(many) == len(few)


def test_the_beat_task_runs_the_scan(street, street_staff):
    today = timezone.localdate()
    _term(street, 1, start=today - timedelta(days=900), end=today + timedelta(days=45))
    assert tasks.alert_council_terms_ending.delay().get() == 1
    assert tasks.alert_council_terms_ending.delay().get() == 0

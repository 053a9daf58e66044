from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from alliance import permissions
from members import selectors
from members.models import Community, CouncilSeat, MemberUnit, Sector, Street

from ..factories import MemberUnitFactory


def _seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def test_seed_demo_creates_the_street_and_the_six_users(db, debug_on):
    _seed("--password", "pw-2026-demo")
    street = Street.objects.get(name="柳巷街道")
    assert Community.objects.filter(street=street).count() == 9
    assert MemberUnit.objects.count() == 157
    assert set(MemberUnit.objects.values_list("status", flat=True)) == {"active", "applied", "withdrawn"}
    assert len(set(MemberUnit.objects.values_list("unit_type", flat=True))) == len(MemberUnit.UnitType)
    assert len(set(MemberUnit.objects.values_list("level", flat=True))) == len(MemberUnit.Level)
    assert Sector.objects.count() == 5
    assert CouncilSeat.objects.filter(role="president", holder_name="卫旭华").exists()
    assert selectors.agreements_expiring().exists()

    users = {
        name: authenticate(username=name, password="pw-2026-demo")
        for name in ("admin", "staff", "community", "liaison", "liaison2", "member")
    }
    assert all(users.values())
    assert users["admin"].is_superuser
    assert permissions.is_street_staff(users["staff"]) and not users["staff"].is_superuser
    first = Community.objects.order_by("sort_order", "id").first()
    assert list(selectors.communities_administered_by(user=users["community"])) == [first]
    unit1 = selectors.units_of_liaison(user=users["liaison"]).get()
    unit2 = selectors.units_of_liaison(user=users["liaison2"]).get()
    assert unit1 != unit2 and unit1.community != unit2.community
    assert not permissions.is_staff_member(users["member"])


def test_seed_demo_twice_changes_nothing(db, debug_on):
    _seed()
    assert "nothing to do" in _seed()
    assert MemberUnit.objects.count() == 157


def test_seed_demo_refuses_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        _seed()
    assert not Street.objects.exists()


def test_seed_demo_refuses_a_database_with_real_data(db, debug_on):
    MemberUnitFactory(name="真实单位")
    with pytest.raises(CommandError, match="already holds data"):
        _seed()
    assert MemberUnit.objects.count() == 1

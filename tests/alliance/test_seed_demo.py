from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from alliance import permissions
from demands.models import Need
from members import selectors
from members.models import Community, CouncilSeat, District, MemberUnit, Sector, Street
from volunteers import selectors as points_selectors
from volunteers.models import PointsEntry

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
    # The portal's "my points" has something to show the member (verified hours) and the liaison (their
    # unit's commitment review).
    for who, owner in (("member", {"member__user": users["member"]}), ("liaison", {"unit": unit1})):
        earned = PointsEntry.objects.filter(points__gt=0, **owner).first()
        assert earned is not None, who
        assert points_selectors.points_visible_to(user=users[who], year=earned.year).filter(pk=earned.pk).exists()


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


def test_seed_demo_district_adds_a_district_of_nine_streets_and_its_staff_user(db, debug_on):
    out = _seed("--password", "pw-2026-demo", "--district")
    assert "district" in out
    district = District.objects.get(name="迎泽区")
    assert Street.objects.filter(district=district).count() == 9
    assert Community.objects.filter(street__district=district).count() == 81
    liuxiang = Street.objects.get(name="柳巷街道")
    assert liuxiang.district == district
    # The fixed street keeps its 157 units; every other street has a few, and needs.
    assert MemberUnit.objects.filter(community__street=liuxiang).count() == 157
    others = Street.objects.filter(district=district).exclude(pk=liuxiang.pk)
    for street in others:
        assert MemberUnit.objects.filter(community__street=street).exists()
        assert Need.objects.filter(community__street=street).exists()
    officer = authenticate(username="district", password="pw-2026-demo")
    staff = authenticate(username="staff", password="pw-2026-demo")
    assert permissions.is_district_staff(officer) and not permissions.is_street_staff(officer)
    assert permissions.streets_of(officer) == set(Street.objects.values_list("pk", flat=True))
    # Scoping shows: the street's staff see their street's units only, the district's every unit.
    assert permissions.visible(staff, MemberUnit).count() == 157
    assert permissions.visible(officer, MemberUnit).count() == MemberUnit.objects.count() > 157
    assert permissions.visible(staff, Need).filter(community__street__in=others).count() == 0


def test_seed_demo_without_district_makes_none(db, debug_on):
    _seed()
    assert not District.objects.exists()
    assert not get_user_model().objects.filter(username="district").exists()


def test_seed_demo_district_on_a_demo_seeded_without_it_adds_the_district(db, debug_on):
    _seed("--password", "pw-2026-demo")
    units_before = MemberUnit.objects.count()
    out = _seed("--password", "pw-2026-demo", "--district")
    assert "District added" in out and "nothing to do" not in out
    district = District.objects.get(name="迎泽区")
    assert Street.objects.filter(district=district).count() == 9
    assert Community.objects.filter(street__district=district).count() == 81
    assert Street.objects.get(name="柳巷街道").district == district
    assert MemberUnit.objects.filter(community__street__name="柳巷街道").count() == 157
    assert MemberUnit.objects.count() > units_before
    officer = authenticate(username="district", password="pw-2026-demo")
    assert permissions.is_district_staff(officer)
    assert permissions.visible(officer, MemberUnit).count() == MemberUnit.objects.count()
    assert (
        Need.objects.filter(community__street__district=district).exclude(community__street__name="柳巷街道").exists()
    )
    # Asked again, the district is there: nothing more.
    assert "nothing to do" in _seed("--password", "pw-2026-demo", "--district")
    assert District.objects.count() == 1

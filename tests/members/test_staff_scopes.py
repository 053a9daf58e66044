"""Street and district staff assignments and the scopes `alliance.permissions` answers from them."""

from __future__ import annotations

import pytest

from alliance import permissions
from alliance.errors import PermissionDenied
from members import services
from members.models import District, DistrictStaff, Street, StreetStaff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as the next request loads it (no per-request memo)."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def qindu():
    district = District.objects.create(name="勤都区")
    return district, [Street.objects.create(name=f"街道{i}", district=district) for i in range(3)]


def test_street_staff_oversee_only_their_street(root, qindu):
    _, streets = qindu
    user = UserFactory()
    services.street_staff_add(user=user, street=streets[1], actor=root)
    user = _fresh(user)
    assert permissions.is_street_staff(user)
    assert permissions.streets_of(user) == {streets[1].pk}
    assert permissions.districts_of(user) == frozenset()


def test_district_staff_oversee_every_street_of_their_district_and_no_other(root, qindu):
    district, streets = qindu
    elsewhere = Street.objects.create(name="别区街道", district=District.objects.create(name="别区"))
    user = UserFactory()
    services.district_staff_add(user=user, district=district, actor=root)
    user = _fresh(user)
    assert permissions.is_district_staff(user)
    assert not permissions.is_street_staff(user)
    assert permissions.districts_of(user) == {district.pk}
    assert permissions.streets_of(user) == {s.pk for s in streets}
    assert elsewhere.pk not in permissions.streets_of(user)


def test_removing_the_assignment_takes_the_scope_away_at_once(root, qindu):
    _, streets = qindu
    user = UserFactory()
    assignment = services.street_staff_add(user=user, street=streets[0], actor=root)
    assert permissions.streets_of(_fresh(user)) == {streets[0].pk}  # now cached
    services.street_staff_remove(assignment=assignment, actor=root)
    user = _fresh(user)
    assert permissions.streets_of(user) == frozenset()
    assert not permissions.is_street_staff(user)
    assert not StreetStaff.objects.filter(user=user).exists()


def test_a_street_staff_member_cannot_assign_staff_to_another_street(root, qindu):
    _, streets = qindu
    colleague, stranger = UserFactory(), UserFactory()
    services.street_staff_add(user=colleague, street=streets[0], actor=root)
    with pytest.raises(PermissionDenied):
        services.street_staff_add(user=stranger, street=streets[1], actor=_fresh(colleague))
    # …but may add a colleague to their own street.
    services.street_staff_add(user=stranger, street=streets[0], actor=_fresh(colleague))
    assert permissions.streets_of(_fresh(stranger)) == {streets[0].pk}


def test_only_the_districts_staff_assign_district_staff(root, qindu):
    district, streets = qindu
    street_user, newcomer = UserFactory(), UserFactory()
    services.street_staff_add(user=street_user, street=streets[0], actor=root)
    with pytest.raises(PermissionDenied):
        services.district_staff_add(user=newcomer, district=district, actor=_fresh(street_user))
    assert not DistrictStaff.objects.exists()


def test_a_superuser_oversees_every_street_including_a_new_one(root, qindu):
    _, streets = qindu
    assert permissions.streets_of(root) == {s.pk for s in streets}
    new = Street.objects.create(name="新街道")
    assert new.pk in permissions.streets_of(_fresh(root))


def test_the_street_staff_fixture_is_assigned_to_the_default_street(street_staff):
    assert permissions.streets_of(_fresh(street_staff)) == {Street.objects.get(name="柳巷街道").pk}

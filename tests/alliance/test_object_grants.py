"""`permissions.object_ids_with_perm` reads a user's object grants from guardian's own tables: the units a
liaison acts for and the communities a community's staff administer, granted to them or to a group of
theirs — and nothing granted to someone else, of another permission or on another kind of object."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from alliance import permissions
from members.models import Community, MemberUnit
from members.rules import ADMINISTER_COMMUNITY, CHANGE_UNIT

from ..factories import MemberUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    permissions.forget_cached_permissions(user)
    return user


def test_a_liaisons_units_and_nothing_else(liaison_a, unit_a, unit_b, community_x, community_x_staff) -> None:
    other = MemberUnitFactory(community=community_x)
    assign_perm("members.view_memberunit", liaison_a, other)  # another permission on another unit
    assert permissions.object_ids_with_perm(fresh(liaison_a), CHANGE_UNIT, MemberUnit) == frozenset({unit_a.pk})
    # The community's staff hold a grant on the community, none on units.
    assert permissions.object_ids_with_perm(fresh(community_x_staff), CHANGE_UNIT, MemberUnit) == frozenset()
    assert permissions.object_ids_with_perm(fresh(community_x_staff), ADMINISTER_COMMUNITY, Community) == frozenset(
        {community_x.pk}
    )
    assert permissions.object_ids_with_perm(fresh(liaison_a), ADMINISTER_COMMUNITY, Community) == frozenset()


def test_a_grant_to_one_of_the_users_groups_counts(unit_a, unit_b) -> None:
    user, stranger = UserFactory(), UserFactory()
    team = Group.objects.create(name="联络员小组")
    team.user_set.add(user)
    assign_perm(CHANGE_UNIT, team, unit_b)
    assign_perm(CHANGE_UNIT, user, unit_a)
    assert permissions.object_ids_with_perm(fresh(user), CHANGE_UNIT, MemberUnit) == frozenset({unit_a.pk, unit_b.pk})
    assert permissions.object_ids_with_perm(fresh(stranger), CHANGE_UNIT, MemberUnit) == frozenset()


def test_one_query_then_none(liaison_a, unit_a, django_assert_num_queries) -> None:
    fresh(liaison_a)
    with django_assert_num_queries(1):
        assert permissions.object_ids_with_perm(liaison_a, CHANGE_UNIT, MemberUnit) == frozenset({unit_a.pk})
    with django_assert_num_queries(0):
        assert permissions.object_ids_with_perm(liaison_a, CHANGE_UNIT, MemberUnit) == frozenset({unit_a.pk})


def test_a_permission_asked_of_the_wrong_model(liaison_a, unit_a) -> None:
    # The unit permission asked about communities: no community is granted by it, whatever the ids.
    assert permissions.object_ids_with_perm(fresh(liaison_a), CHANGE_UNIT, Community) == frozenset()
    # Another app's label is a programming error, said at once.
    with pytest.raises(ValueError, match=r"^'projects\.change_memberunit' is not a permission of members\.MemberUnit$"):
        permissions.object_ids_with_perm(fresh(liaison_a), "projects.change_memberunit", MemberUnit)


def test_an_inactive_or_anonymous_user_holds_nothing(liaison_a, unit_a) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert permissions.object_ids_with_perm(AnonymousUser(), CHANGE_UNIT, MemberUnit) == frozenset()
    liaison_a.is_active = False
    assert permissions.object_ids_with_perm(fresh(liaison_a), CHANGE_UNIT, MemberUnit) == frozenset()


def test_the_community_kind_of_grant_does_not_leak_into_units(community_x_staff, community_x) -> None:
    # A unit and a community with the same primary key: the grant on the community is not one on the unit.
    twin = MemberUnit.objects.filter(pk=community_x.pk).first() or MemberUnitFactory(id=community_x.pk)
    assert twin.pk == community_x.pk
    assert permissions.object_ids_with_perm(fresh(community_x_staff), CHANGE_UNIT, MemberUnit) == frozenset()

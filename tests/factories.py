from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from alliance.models import Category
from alliance.validators import credit_code_check_char
from members.models import Agreement, Community, MemberUnit, Sector, Street


def _credit_code(n: int) -> str:
    body = f"91140106{n:09d}"
    return body + credit_code_check_char(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-2026")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street
        django_get_or_create = ("name",)

    name = "柳巷街道"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"第{n}社区")


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sector

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"分会{n}")
    kind = Sector.Kind.ENTERPRISE


class MemberUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberUnit

    name = factory.Sequence(lambda n: f"成员单位{n}")
    credit_code = factory.Sequence(_credit_code)
    unit_type = MemberUnit.UnitType.PRIVATE_ENTERPRISE
    level = MemberUnit.Level.DISTRICT
    community = factory.SubFactory(CommunityFactory)
    liaison_name = "王芳"
    liaison_phone = factory.Sequence(lambda n: f"139{n:08d}")
    party_member_count = 12
    status = MemberUnit.Status.ACTIVE
    # A fixed day well before any quarter the tests look at: a random date this decade left a unit out of a
    # recent quarter's assessment and figures now and then (a flaky test), as a unit that joined later.
    joined_on = datetime.date(2024, 3, 1)


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    unit = factory.SubFactory(MemberUnitFactory)
    title = "共驻共建协议书"
    signed_on = factory.Faker("date_this_decade", before_today=True, after_today=False)
    # Three years on; a 29 February signing ends on 28 February (replace(year=…) raised for it: a flaky test).
    term_end = factory.LazyAttribute(
        lambda a: (
            a.signed_on.replace(year=a.signed_on.year + 3, day=min(a.signed_on.day, 28))
            if (a.signed_on.month, a.signed_on.day) == (2, 29)
            else a.signed_on.replace(year=a.signed_on.year + 3)
        )
    )


def street_staff_of(street=None, *, username: str, **fields):
    """A street staff member of `street` (the default street), assigned through the service as the admin
    does: the group and the street together (street staff see only the streets they are assigned to)."""
    from members import services

    street = street or StreetFactory()
    root = UserFactory(username=f"{username}-assigner", is_staff=True, is_superuser=True)
    user = UserFactory(username=username, is_staff=True, **fields)
    services.street_staff_add(user=user, street=street, actor=root)
    return user

"""Factories for projects, claims, activities and reviews (shared by the projects tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.db.models import F

from projects.models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, StreetFactory


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceProject

    title = factory.Sequence(lambda n: f"服务项目{n}")
    category = factory.SubFactory(CategoryFactory)
    description = "成员单位结对服务辖区居民。"
    street = factory.SubFactory(StreetFactory)
    community = factory.SubFactory(CommunityFactory, street=factory.SelfAttribute("..street"))
    starts_on = date(2026, 1, 1)
    ends_on = date(2026, 12, 31)
    places = 3
    status = ServiceProject.Status.OPEN


class ClaimFactory(factory.django.DjangoModelFactory):
    """A claim that already holds its place (the factory keeps `places_taken` in step)."""

    class Meta:
        model = ProjectClaim

    project = factory.SubFactory(ProjectFactory)
    unit = factory.SubFactory(MemberUnitFactory)
    commitment = "每月组织一次义诊"
    status = ProjectClaim.Status.APPROVED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        claim = super()._create(model_class, *args, **kwargs)
        if claim.status in ProjectClaim.HOLDING:
            ServiceProject.objects.filter(pk=claim.project_id).update(places_taken=F("places_taken") + 1)
            claim.project.refresh_from_db()
        return claim


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceActivity

    claim = factory.SubFactory(ClaimFactory)
    date = date(2026, 5, 20)
    title = "义诊进社区"
    place = "社区党群服务中心"
    participants = 5
    services = 20
    beneficiaries = 120
    hours = Decimal("4.0")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitmentReview

    claim = factory.SubFactory(ClaimFactory)
    year = 2026
    quarter = 2
    score = 4

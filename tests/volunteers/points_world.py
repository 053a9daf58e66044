"""Helpers of the points ledger's tests: sources verified through their services, as users do it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from demands.models import Need
from projects import services as project_services
from volunteers import services

from ..demands.factories import NeedFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from .factories import ServiceLogFactory


def verified_log(member, staff, *, hours: str, day: date = date(2026, 5, 10)):
    log = ServiceLogFactory(member=member, date=day, hours=Decimal(hours), verified=False)
    return services.log_verify(log=log, actor=staff)


def review(unit, staff, *, score: int, quarter: int = 2, community=None):
    claim = ClaimFactory(unit=unit, project=ProjectFactory(community=community or unit.community))
    return project_services.review_save(claim=claim, actor=staff, year=2026, quarter=quarter, score=score)


def completed_wish(member_user, community, *, title: str = "帮独居老人买药"):
    need = NeedFactory(kind=Need.Kind.MICRO_WISH, community=community, title=title)
    need = services.wish_claim(need=need, actor=member_user)
    return services.wish_complete(need=need, actor=member_user, result="已送到家")

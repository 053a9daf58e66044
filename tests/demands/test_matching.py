from __future__ import annotations

from django.utils import timezone

from demands import matching
from demands.models import Need, Resource

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory
from .factories import NeedFactory, ResourceFactory


def test_a_unit_of_the_same_category_and_community_comes_first_and_says_why(db):
    health, legal = CategoryFactory(name="医疗健康", code="health"), CategoryFactory(name="法律服务", code="legal")
    here, there = CommunityFactory(name="柳北社区"), CommunityFactory(name="府东社区")
    best = MemberUnitFactory(name="柳北社区卫生服务站", community=here)
    far = MemberUnitFactory(name="山西省人民医院", community=there)
    neighbour = MemberUnitFactory(name="柳北律师事务所", community=here)
    unrelated = MemberUnitFactory(name="府东印务公司", community=there)
    ResourceFactory(unit=best, category=health, kind=Resource.Kind.SERVICE, title="上门测血压")
    ResourceFactory(unit=far, category=health, kind=Resource.Kind.TALENT, title="专家义诊")
    ResourceFactory(unit=neighbour, category=legal)
    ResourceFactory(unit=unrelated, category=legal)
    need = NeedFactory(category=health, community=here)

    suggestions = matching.suggest(need)
    units = [s for s in suggestions if s.kind == "unit"]
    assert units[0].unit_name == "柳北社区卫生服务站"
    assert any("医疗健康" in reason for reason in units[0].reasons)
    assert any("同一社区" in reason or "same community" in reason for reason in units[0].reasons)
    names = [s.unit_name for s in units]
    assert names.index("山西省人民医院") > 0 and names.index("柳北律师事务所") > 0
    assert "府东印务公司" not in names  # no link to the category or the community
    resources = [s for s in suggestions if s.kind == "resource"]
    assert resources[0].resource_title == "上门测血压"  # same community first


def test_load_and_record_move_a_unit_up_or_down(db):
    care = CategoryFactory(name="关心关爱", code="care")
    community = CommunityFactory()
    busy = MemberUnitFactory(name="忙碌单位", community=community)
    reliable = MemberUnitFactory(name="可靠单位", community=community)
    for unit in (busy, reliable):
        ResourceFactory(unit=unit, category=care)
    now = timezone.now()
    for _ in range(4):
        NeedFactory(category=care, community=community, status=Need.Status.ACCEPTED, unit=busy, dispatched_at=now)
    for _ in range(3):
        NeedFactory(
            category=care,
            community=community,
            status=Need.Status.CLOSED,
            unit=reliable,
            dispatched_at=now,
            completed_at=now,
            rating=5,
        )
    need = NeedFactory(category=care, community=community)
    units = [s for s in matching.suggest(need) if s.kind == "unit"]
    assert [u.unit_name for u in units[:2]] == ["可靠单位", "忙碌单位"]
    reliable_reasons = " ".join(units[0].reasons)
    assert "100%" in reliable_reasons and "5.0" in reliable_reasons
    assert "4" in " ".join(units[1].reasons)  # four needs in hand


def test_suggestions_are_computed_in_a_constant_number_of_queries(db, django_assert_num_queries):
    care = CategoryFactory(code="care")
    community = CommunityFactory()
    for i in range(15):
        ResourceFactory(unit=MemberUnitFactory(community=community), category=care, title=f"r{i}")
    need = NeedFactory(category=care, community=community)
    need = Need.objects.select_related("category").get(pk=need.pk)
    # 1: units annotated with what matching weighs; 2: resources of the category with their units
    with django_assert_num_queries(2):
        matching.suggest(need)

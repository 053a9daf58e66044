"""The demands part of the demo: 313 resources (as Caiyuan shared, seed 000) and needs in every status,
micro-wishes among them, each with a timeline that matches its dates."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from alliance.periods import ZONE

from .models import Booking, Need, NeedEvent, Resource, Venue
from .selectors import completed_in_time
from .services import new_tracking_code

RESOURCE_TITLES = {
    "venue": ["会议室免费开放", "多功能活动厅", "党员活动室", "室外广场", "阅览室", "篮球场"],
    "talent": ["专家义诊团队", "法律顾问", "心理咨询师", "书画老师", "理发志愿者", "家电维修师傅"],
    "technology": ["网络安全讲座", "智能手机使用培训", "消防器材检测", "电梯安全检查"],
    "service": ["健康体检", "法律咨询", "课后托管", "助老送餐", "家政服务", "政策宣讲"],
    "funds": ["困难群众帮扶资金", "社区活动经费支持", "助学金"],
    "goods": ["爱心粮油", "防疫物资", "图书捐赠", "冬衣捐赠"],
}
NEEDS = [
    ("health", "老人需要上门测血压", "楼里几位独居老人行动不便，希望有医生每月上门测一次血压。"),
    ("health", "社区义诊", "希望组织一次眼科和口腔义诊。"),
    ("legal", "物业纠纷法律咨询", "小区与物业在停车收费上有分歧，想请律师讲解。"),
    ("legal", "遗嘱公证咨询", "几位老人想了解遗嘱公证的流程。"),
    ("culture_education", "孩子放学后无人看管", "双职工家庭孩子放学后没人照看，希望有课后托管。"),
    ("culture_education", "老年人学用智能手机", "想学会用手机挂号、视频通话。"),
    ("poverty_relief", "困难家庭冬季取暖", "两户困难家庭冬季取暖费用有困难。"),
    ("care", "独居老人助餐", "独居老人做饭不便，希望有助餐服务。"),
    ("care", "残疾人出行帮助", "轮椅出行需要志愿者陪同就医。"),
    ("environment", "楼道堆放杂物清理", "3号楼楼道堆放杂物，存在消防隐患。"),
    ("safety", "小区路灯不亮", "小区北门路灯坏了，晚上出行不安全。"),
    ("employment", "失业人员再就业", "几位居民希望参加技能培训并获得岗位信息。"),
    ("publicity", "垃圾分类宣传", "希望有单位来讲解垃圾分类。"),
    ("party_building", "党课进社区", "社区党员希望听一次专题党课。"),
]
MICRO_WISHES = [
    ("care", "想要一副老花镜", "82岁的王奶奶想要一副合适的老花镜。"),
    ("culture_education", "想要一套课外书", "三年级的小朋友想要一套课外读物。"),
    ("care", "想有人陪着聊聊天", "独居的李大爷希望每周有人来陪他聊聊天。"),
    ("poverty_relief", "想要一台电暖器", "困难户家里冬天太冷，想要一台电暖器。"),
]
SURNAMES = "王李张刘陈杨赵黄周吴"
STATUS_MIX = (
    ["submitted"] * 10 + ["dispatched"] * 8 + ["accepted"] * 8 + ["completed"] * 10 + ["closed"] * 24 + ["rejected"] * 3
)
RESULTS = [
    "已安排志愿者上门服务，居民表示满意。",
    "已联系专业人员解决，相关问题已处理完毕。",
    "活动已开展，参加居民30余人。",
]


def seed(*, context: dict, password: str, stdout) -> None:
    rng = random.Random(2027)
    now = timezone.now()
    categories = {c.code: c for c in context["categories"]}
    units = [u for u in context["units"] if u.status == "active"]
    communities = context["communities"]
    staff = context["users"]["community"]

    resources = []
    for i in range(313):
        unit = units[i % len(units)]
        kind = rng.choice(list(RESOURCE_TITLES))
        category = rng.choice(list(categories.values()))
        resources.append(
            Resource(
                unit=unit,
                category=category,
                kind=kind,
                title=rng.choice(RESOURCE_TITLES[kind]),
                description=f"{unit.name}提供：{category.name}",
                capacity=rng.choice([None, 10, 20, 30, 50, 100]),
                availability=rng.choice(["", "每周六上午", "工作日下午", "提前三天预约"]),
                is_free=rng.random() < 0.85,
                status=Resource.Status.ACTIVE if i % 25 else Resource.Status.WITHDRAWN,
            )
        )
    Resource.objects.bulk_create(resources)
    venues = _seed_venues(rng, resources, context, now)

    needs, timelines = [], []
    plan = [(s, NEEDS[i % len(NEEDS)], Need.Kind.RESIDENT) for i, s in enumerate(STATUS_MIX)]
    plan += [
        (s, MICRO_WISHES[i % len(MICRO_WISHES)], Need.Kind.MICRO_WISH)
        for i, s in enumerate(["submitted"] * 3 + ["closed"] * 3)
    ]
    # The liaison's unit always has needs in hand, so the demo portal has something to do.
    liaison_unit = context["liaison_unit"]
    for i, (status, (category_code, title, description), kind) in enumerate(plan):
        community = communities[i % len(communities)]
        submitted = now - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
        unit = liaison_unit if i % 7 == 0 else rng.choice([u for u in units if u.community_id == community.pk] or units)
        need = Need(
            kind=kind,
            title=title,
            description=description,
            category=categories[category_code],
            community=community,
            contact_name=rng.choice(SURNAMES) + rng.choice("先生女士阿姨大爷"),
            contact_phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            address=f"{community.name}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元",
            channel=rng.choice(["web", "web", "phone", "visit"]),
            tracking_code=new_tracking_code(),
            status=status,
        )
        steps = [("", "submitted", submitted, "")]
        t = submitted
        if status == "rejected":
            need.reject_reason = "不属于联盟服务范围，已转相关部门"
            need.rejected_at = t + timedelta(hours=5)
            steps.append(("submitted", "rejected", need.rejected_at, need.reject_reason))
        if status in ("dispatched", "accepted", "completed", "closed"):
            need.unit = unit
            t = need.dispatched_at = t + timedelta(hours=rng.randint(2, 60))
            steps.append(("submitted", "dispatched", t, unit.name))
        if status in ("accepted", "completed", "closed"):
            t = need.accepted_at = t + timedelta(hours=rng.randint(1, 40))
            steps.append(("dispatched", "accepted", t, ""))
        if status in ("completed", "closed"):
            t = need.completed_at = t + timedelta(days=rng.randint(1, 12))
            need.result = rng.choice(RESULTS)
            steps.append(("accepted", "completed", t, need.result))
        if status == "closed":
            need.rating = rng.choice([3, 4, 5, 5, 5])
            t = need.closed_at = t + timedelta(days=rng.randint(1, 6))
            steps.append(("completed", "closed", t, f"评价 {need.rating} 星"))
            if i % 3 == 0:
                need.showcased_at = t + timedelta(hours=2)
        # A need submitted lately cannot have gone further by now (issue 13: need 22 was dispatched and
        # accepted in the future, so its timeline read backwards): move the whole story back until its
        # last step is an hour ago at the latest.
        last = need.showcased_at or t
        if last > now - timedelta(hours=1):
            shift = last - (now - timedelta(hours=1))
            steps = [(source, target, at - shift, note) for source, target, at, note in steps]
            for field in ("rejected_at", "dispatched_at", "accepted_at", "completed_at", "closed_at", "showcased_at"):
                if getattr(need, field) is not None:
                    setattr(need, field, getattr(need, field) - shift)
        # As demands.services decides it when a unit completes a need: 7 working days from the dispatch.
        need.completed_in_time = completed_in_time(dispatched_at=need.dispatched_at, completed_at=need.completed_at)
        needs.append(need)
        timelines.append(steps)
    Need.objects.bulk_create(needs)
    # auto_now_add ignores the value set above; write the real dates back in one statement per field.
    for need, steps in zip(needs, timelines, strict=True):
        need.submitted_at = steps[0][2]
    Need.objects.bulk_update(needs, ["submitted_at"])
    events = [
        NeedEvent(need=need, actor=None if source == "" else staff, from_status=source, to_status=target, note=note)
        for need, steps in zip(needs, timelines, strict=True)
        for source, target, _at, note in steps
    ]
    NeedEvent.objects.bulk_create(events)
    for event, at in zip(events, [step[2] for steps in timelines for step in steps], strict=True):
        event.at = at
    NeedEvent.objects.bulk_update(events, ["at"])
    stdout.write(
        f"  {len(resources)} resources ({len(venues)} bookable venues), {len(needs)} needs with {len(events)} timeline entries"
    )


def seed_district(*, context: dict, password: str, stdout) -> None:
    """With `seed_demo --district`: two needs in each of the district's other streets (one waiting, one
    dispatched to a unit of that street), so that each street's staff — and the district's — see their own."""
    if not context.get("district_units"):
        return
    rng = random.Random(2029)
    now = timezone.now()
    categories = list(context["categories"])
    by_street: dict[int, list] = {}
    for unit in context["district_units"]:
        by_street.setdefault(unit.community.street_id, []).append(unit)
    needs, steps = [], []
    for street_units in by_street.values():
        for status, (category_code, title, description) in zip(
            ("submitted", "dispatched"), rng.sample(NEEDS, 2), strict=True
        ):
            unit = street_units[0]
            submitted = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(1, 23))
            need = Need(
                title=title,
                description=description,
                category=next((c for c in categories if c.code == category_code), categories[0]),
                community=unit.community,
                contact_name=rng.choice(SURNAMES) + rng.choice("先生女士阿姨大爷"),
                contact_phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                address=f"{unit.community.name}{rng.randint(1, 30)}号楼",
                tracking_code=new_tracking_code(),
                status=status,
            )
            story = [("", "submitted", submitted, "")]
            if status == "dispatched":
                need.unit = unit
                need.dispatched_at = submitted + timedelta(hours=3)
                story.append(("submitted", "dispatched", need.dispatched_at, unit.name))
            needs.append(need)
            steps.append(story)
    Need.objects.bulk_create(needs)
    for need, story in zip(needs, steps, strict=True):
        need.submitted_at = story[0][2]
    Need.objects.bulk_update(needs, ["submitted_at"])
    events = [
        NeedEvent(need=need, from_status=source, to_status=target, note=note)
        for need, story in zip(needs, steps, strict=True)
        for source, target, _at, note in story
    ]
    NeedEvent.objects.bulk_create(events)
    for event, at in zip(events, [step[2] for story in steps for step in story], strict=True):
        event.at = at
    NeedEvent.objects.bulk_update(events, ["at"])
    stdout.write(f"  district: {len(needs)} needs in {len(by_street)} more streets")


def _seed_venues(rng: random.Random, resources: list[Resource], context: dict, now) -> list[Venue]:
    """Every venue resource gets opening hours; the liaison's unit opens its Party-and-people service centre
    (seed 002), where the second liaison's unit has one booking approved and one waiting for an answer."""
    liaison_unit, liaison2_unit = context["liaison_unit"], context["liaison2_unit"]
    centre = Resource.objects.create(
        unit=liaison_unit,
        category=next(iter(context["categories"])),
        kind=Resource.Kind.VENUE,
        title="党群服务中心多功能厅",
        description="约200平方米，可容纳80人，配投影和音响，工作日免费向共建单位和居民开放。",
        capacity=80,
        availability="工作日 8:30-17:30",
    )
    venues = [Venue(resource=centre, weekdays="12345")]
    hours = [(time(8, 30), time(17, 30)), (time(9, 0), time(21, 0)), (time(8, 0), time(12, 0))]
    for resource in resources:
        if resource.kind == Resource.Kind.VENUE:
            opens, closes = rng.choice(hours)
            venues.append(
                Venue(
                    resource=resource, opens_at=opens, closes_at=closes, weekdays=rng.choice(["12345", "1234567", "67"])
                )
            )
    Venue.objects.bulk_create(venues)
    requester = context["users"]["liaison2"]
    # The next working days at 09:00 and 14:00, Asia/Shanghai, whatever day the demo is loaded on.
    days = [d for d in (timezone.localdate() + timedelta(days=n) for n in range(2, 12)) if d.isoweekday() <= 5]
    bookings = [
        Booking(
            venue=venues[0],
            requester=requester,
            unit=liaison2_unit,
            start=datetime.combine(days[0], time(9, 0), tzinfo=ZONE),
            end=datetime.combine(days[0], time(11, 0), tzinfo=ZONE),
            purpose="支部主题党日活动",
            people=40,
            status=Booking.Status.APPROVED,
            decided_by=context["users"]["liaison"],
            decided_at=now - timedelta(hours=3),
        ),
        Booking(
            venue=venues[0],
            requester=requester,
            unit=liaison2_unit,
            start=datetime.combine(days[2], time(14, 0), tzinfo=ZONE),
            end=datetime.combine(days[2], time(16, 0), tzinfo=ZONE),
            purpose="家长学校讲座",
            people=60,
        ),
    ]
    Booking.objects.bulk_create(bookings)
    return venues

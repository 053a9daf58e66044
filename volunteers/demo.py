"""The volunteers part of the demo: in-service Party members in every status across the nine communities
(seed 001: 338 reported in Liuxiang), posts, claims, teams and service logs; the demo user `member` is a
verified member of the first community."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam
from .services import count_verified_hours

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
SKILLS = ["理发", "家电维修", "法律咨询", "书法", "医疗护理", "心理疏导", "摄影", "电脑维修", "辅导作业", ""]
POSTS = [
    ("楼道文明劝导员", "每周六上午"),
    ("助老陪诊志愿者", "工作日下午，提前预约"),
    ("垃圾分类引导员", "每天早7:00-8:00"),
    ("青少年课后辅导", "每周三、周五晚"),
    ("社区议事监督员", "每月议事会"),
    ("平安巡逻志愿者", "每周日晚"),
]


def seed(*, context: dict, password: str, stdout) -> None:
    rng = random.Random(2030)
    today = timezone.localdate()
    communities = context["communities"]
    units = [u for u in context["units"] if u.status == "active"]
    staff = context["users"]["community"]
    member_user = context["users"]["member"]

    members = []
    for i in range(338):
        community = communities[i % len(communities)]
        status = rng.choices(["verified", "pending", "rejected", "ended"], weights=[80, 10, 4, 6])[0]
        unit = rng.choice(units) if rng.random() < 0.8 else None
        members.append(
            PartyMember(
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                phone=f"15{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                work_unit=unit,
                work_unit_name="" if unit else rng.choice(["太原市某设计院", "山西某科技公司", "迎泽区某小学"]),
                party_branch=(unit.party_org_name if unit else "机关第一党支部"),
                residence_community=community,
                skills=rng.choice(SKILLS),
                registered_on=today - timedelta(days=rng.randint(10, 600)),
                status=status,
                reject_reason="非本社区居民" if status == "rejected" else "",
                verified_at=timezone.now() if status == "verified" else None,
            )
        )
    members[0].user, members[0].name, members[0].phone, members[0].status = (
        member_user,
        "陈国栋",
        "13900000006",
        "verified",
    )
    members[0].residence_community = communities[0]
    PartyMember.objects.bulk_create(members)
    verified = [m for m in members if m.status == "verified"]

    posts = [
        VolunteerPost(community=community, title=title, schedule=schedule, places=rng.randint(3, 12))
        for community in communities
        for title, schedule in rng.sample(POSTS, 3)
    ]
    VolunteerPost.objects.bulk_create(posts)
    claims = []
    for post in posts:
        candidates = [m for m in verified if m.residence_community_id == post.community_id]
        for member in rng.sample(candidates, min(len(candidates), post.places - 1)):
            claims.append(PostClaim(post=post, member=member))
        post.places_taken = len([c for c in claims if c.post is post])
    PostClaim.objects.bulk_create(claims)
    VolunteerPost.objects.bulk_update(posts, ["places_taken"])

    teams = []
    for community in communities[:5]:
        team = VolunteerTeam.objects.create(name=f"{community.name}在职党员志愿服务队", community=community)
        crew = [m for m in verified if m.residence_community_id == community.pk][:12]
        team.members.set(crew)
        team.leader = crew[0] if crew else None
        team.save(update_fields=["leader"])
        teams.append(team)

    logs = []
    for claim in claims:
        for _ in range(rng.randint(1, 5)):
            day = today - timedelta(days=rng.randint(0, 200))
            logs.append(
                ServiceLog(
                    member=claim.member,
                    date=day,
                    hours=Decimal(rng.choice(["1.0", "1.5", "2.0", "3.0", "4.0"])),
                    description=claim.post.title,
                    post=claim.post,
                    logged_by=staff,
                    verified=(ok := rng.random() < 0.85),
                    verified_by=staff if ok else None,
                    verified_at=timezone.now() if ok else None,
                )
            )
    ServiceLog.objects.bulk_create(logs)
    count_verified_hours(logs)  # the monthly sums the totals read, as the verifying services keep them
    stdout.write(
        f"  {len(members)} members, {len(posts)} posts, {len(claims)} claims, {len(teams)} teams, {len(logs)} logs"
    )

"""The volunteers part of the demo: in-service Party members in every status across the nine communities
(seed 001: 338 reported in Liuxiang), posts, claims, teams and service logs; the demo user `member` is a
verified member of the first community."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from .models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam
from .points import points_backfill
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
    now = timezone.now()
    today = timezone.localdate(now)
    communities = context["communities"]
    units = [u for u in context["units"] if u.status == "active"]
    staff = context["users"]["community"]
    member_user = context["users"]["member"]

    members = []
    for i in range(338):
        community = communities[i % len(communities)]
        status = rng.choices(["verified", "pending", "rejected", "ended"], weights=[80, 10, 4, 6])[0]
        unit = rng.choice(units) if rng.random() < 0.8 else None
        registered = today - timedelta(days=rng.randint(10, 600))
        members.append(
            PartyMember(
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                phone=f"15{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                work_unit=unit,
                work_unit_name="" if unit else rng.choice(["太原市某设计院", "山西某科技公司", "迎泽区某小学"]),
                party_branch=(unit.party_org_name if unit else "机关第一党支部"),
                residence_community=community,
                skills=rng.choice(SKILLS),
                registered_on=registered,
                status=status,
                reject_reason="非本社区居民" if status == "rejected" else "",
                verified_at=_verified(rng, registered, now) if status == "verified" else None,
            )
        )
    members[0].user, members[0].name, members[0].phone, members[0].status = (
        member_user,
        "陈国栋",
        "13900000006",
        "verified",
    )
    members[0].residence_community = communities[0]
    members[0].verified_at = members[0].verified_at or _verified(rng, members[0].registered_on, now)
    PartyMember.objects.bulk_create(members)
    verified = [m for m in members if m.status == "verified"]

    posts = [
        VolunteerPost(community=community, title=title, schedule=schedule, places=rng.randint(3, 12))
        for community in communities
        for title, schedule in rng.sample(POSTS, 3)
    ]
    VolunteerPost.objects.bulk_create(posts)
    # The demo's timelines read forwards (tests/alliance/test_demo_timeline.py): posts were opened before
    # the members who took them were verified, a member takes a post after verification, serves after
    # taking it, logs the hours the evening of the day and has them verified in the days after — all by
    # now. auto_now_add ignores the times set on new rows: they are written back after each insert.
    opened = timezone.make_aware(datetime.combine(today - timedelta(days=620), time(9, 0)))
    claims = []
    for post in posts:
        post.created_at = opened
        candidates = [m for m in verified if m.residence_community_id == post.community_id]
        for member in rng.sample(candidates, min(len(candidates), post.places - 1)):
            claimed = min(member.verified_at + timedelta(days=rng.randint(1, 10)), now - timedelta(hours=1))
            claims.append(PostClaim(post=post, member=member, claimed_at=claimed))
        post.places_taken = len([c for c in claims if c.post is post])
    times = [claim.claimed_at for claim in claims]
    PostClaim.objects.bulk_create(claims)
    for claim, claimed in zip(claims, times, strict=True):
        claim.claimed_at = claimed
    PostClaim.objects.bulk_update(claims, ["claimed_at"])
    VolunteerPost.objects.bulk_update(posts, ["places_taken", "created_at"])

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
        claimed_on = timezone.localdate(claim.claimed_at)
        if claimed_on >= today:
            continue  # taken today: nothing served yet
        for _ in range(rng.randint(1, 5)):
            # Served on a day since the post was taken, up to yesterday (within the last 200 days).
            first = max(claimed_on, today - timedelta(days=200))
            day = first + timedelta(days=rng.randint(0, (today - first).days - 1))
            logged = min(timezone.make_aware(datetime.combine(day, time(20, 0))), now - timedelta(minutes=2))
            ok = rng.random() < 0.85
            logs.append(
                ServiceLog(
                    member=claim.member,
                    date=day,
                    hours=Decimal(rng.choice(["1.0", "1.5", "2.0", "3.0", "4.0"])),
                    description=claim.post.title,
                    post=claim.post,
                    logged_by=staff,
                    created_at=logged,
                    verified=ok,
                    verified_by=staff if ok else None,
                    verified_at=min(logged + timedelta(hours=rng.randint(12, 72)), now - timedelta(minutes=1))
                    if ok
                    else None,
                )
            )
    # `member` serves where they live whatever posts the draw gave them: two evenings of hours verified
    # after their registration was, so that their points (issue 15) and hours show in the portal.
    first_day = max(timezone.localdate(members[0].verified_at) + timedelta(days=1), today - timedelta(days=30))
    for day in (first_day, first_day + timedelta(days=1)):
        if day >= today:
            continue
        logged = min(timezone.make_aware(datetime.combine(day, time(20, 0))), now - timedelta(minutes=2))
        logs.append(
            ServiceLog(
                member=members[0],
                date=day,
                hours=Decimal("2.0"),
                description="社区环境整治",
                logged_by=staff,
                created_at=logged,
                verified=True,
                verified_by=staff,
                verified_at=min(logged + timedelta(hours=24), now - timedelta(minutes=1)),
            )
        )
    times = [log.created_at for log in logs]
    ServiceLog.objects.bulk_create(logs)
    for log, logged in zip(logs, times, strict=True):
        log.created_at = logged
    ServiceLog.objects.bulk_update(logs, ["created_at"])
    count_verified_hours(logs)  # the monthly sums the totals read, as the verifying services keep them
    # The points ledger (issue 15): the street's rule for each year of the demo, and the points of the
    # verified hours, fulfilled micro-wishes and commitment reviews seeded before — as the backfill gives
    # them to a street that starts using points (so `member` has points in the portal).
    years = sorted({log.date.year for log in logs if log.verified} | {now.year})
    awarded = sum(points_backfill(year=year) for year in years)
    stdout.write(
        f"  {len(members)} members, {len(posts)} posts, {len(claims)} claims, {len(teams)} teams, {len(logs)} logs, "
        f"{awarded} points entries"
    )


def _verified(rng: random.Random, registered: date, now: datetime) -> datetime:
    """Community staff verify a registration within a week of it, by now."""
    day = registered + timedelta(days=rng.randint(1, 7))
    return min(timezone.make_aware(datetime.combine(day, time(10, 0))), now - timedelta(hours=2))

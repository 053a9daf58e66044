"""The projects part of the demo: the seeds' projects (000: 8 demonstration projects bundling about 40
units; 004: units claiming projects in 宣传宣讲、关心关爱、服务指导、区域发展) with claims, activities and reviews."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from alliance.periods import Quarter

from .models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

# (title, category code, demonstration, places, status)
PROJECTS = [
    ("健康服务在身边", "health", True, 6, "running"),
    ("乐享文化·共创文明", "culture_education", True, 5, "running"),
    ("与爱童行", "care", True, 5, "running"),
    ("健康直通车", "health", True, 5, "running"),
    ("消防安全宣传进社区", "publicity", True, 5, "running"),
    ("青少年心理辅导", "care", True, 4, "running"),
    ("党课宣讲", "publicity", True, 5, "open"),
    ("法律服务进万家", "legal", True, 5, "running"),
    ("老旧小区环境整治", "regional_development", False, 4, "open"),
    ("就业创业指导", "guidance", False, 3, "open"),
    ("独居老人关爱", "care", False, 4, "open"),
    ("垃圾分类宣讲", "publicity", False, 3, "open"),
    ("社区读书角", "culture_education", False, 2, "open"),
    ("便民维修服务日", "guidance", False, 3, "finished"),
    ("夏季防溺水宣传", "publicity", False, 2, "draft"),
]
COMMITMENTS = [
    "每月组织医护人员义诊一次，每次不少于4人",
    "每季度免费开放会议室不少于20小时",
    "派出志愿者10人次，开展主题活动4场",
    "提供活动经费5000元并组织党员参与",
    "每月开展一次宣讲，覆盖居民不少于50人",
]
ACTIVITY_TITLES = ["义诊进社区", "主题宣讲", "亲子阅读会", "消防演练", "心理健康讲座", "法律咨询日", "便民服务集市"]


def seed(*, context: dict, password: str, stdout) -> None:
    rng = random.Random(2028)
    now = timezone.now()
    today = timezone.localdate(now)
    street = context["street"]
    categories = {c.code: c for c in context["categories"]}
    communities = context["communities"]
    units = [u for u in context["units"] if u.status == "active"]
    staff = context["users"]["staff"]
    liaison_unit = context["liaison_unit"]

    projects = []
    for i, (title, category, demo_flag, places, status) in enumerate(PROJECTS):
        starts = date(today.year, 1, 1) if status != "finished" else date(today.year - 1, 3, 1)
        projects.append(
            ServiceProject.objects.create(
                title=title,
                category=categories[category],
                description=f"{title}：成员单位发挥各自优势，结对服务辖区居民。",
                street=street,
                community=None if i % 3 == 0 else communities[i % len(communities)],
                starts_on=starts,
                ends_on=starts + timedelta(days=364),
                places=places,
                is_demonstration=demo_flag,
                plaque_awarded_on=date(today.year, 3, 5) if demo_flag and status == "running" else None,
                status=status,
            )
        )

    claims = []
    for project in projects:
        if project.status == "draft":
            continue
        # Leave one place open on open projects, so the demo claim table has somewhere to claim.
        taken = project.places - 1 if project.status == "open" else project.places
        for unit in rng.sample([u for u in units if u.pk != liaison_unit.pk], taken):
            status = {"running": "approved", "finished": "completed"}.get(
                project.status, rng.choice(["approved", "pending"])
            )
            claimed, decided = _claim_times(rng, project, unit, now, decided=status != "pending")
            claims.append(
                ProjectClaim(
                    project=project,
                    unit=unit,
                    commitment=rng.choice(COMMITMENTS),
                    status=status,
                    claimed_by=None,
                    created_at=claimed,
                    decided_at=decided,
                )
            )
        project.places_taken = taken if project.status != "finished" else 0
    # The demo liaison's unit has one approved claim to report on.
    claimed, decided = _claim_times(rng, projects[0], liaison_unit, now, decided=True)
    claims.append(
        ProjectClaim(
            project=projects[0],
            unit=liaison_unit,
            commitment=COMMITMENTS[0],
            status="approved",
            created_at=claimed,
            decided_at=decided,
        )
    )
    projects[0].places += 1
    projects[0].places_taken += 1
    ServiceProject.objects.bulk_update(projects, ["places", "places_taken"])
    times = [claim.created_at for claim in claims]
    ProjectClaim.objects.bulk_create(claims)
    # auto_now_add ignores the value set above: write the claim times back in one statement.
    for claim, claimed in zip(claims, times, strict=True):
        claim.created_at = claimed
    ProjectClaim.objects.bulk_update(claims, ["created_at"])

    activities, reviews = [], []
    for claim in ProjectClaim.objects.filter(status__in=["approved", "completed"]).select_related("project"):
        # Held after the claim was approved, by today.
        decided_on = timezone.localdate(claim.decided_at)
        for _ in range(rng.randint(1, 4)):
            day = decided_on + timedelta(days=rng.randint(0, max((today - decided_on).days, 0)))
            activities.append(
                ServiceActivity(
                    claim=claim,
                    date=day,
                    title=rng.choice(ACTIVITY_TITLES),
                    place=rng.choice(["社区党群服务中心", "柳巷街道文化广场", "单位会议室", "居民小区"]),
                    participants=rng.randint(3, 20),
                    services=rng.randint(5, 60),
                    beneficiaries=rng.randint(20, 400),
                    hours=Decimal(rng.randint(2, 16)),
                )
            )
        previous = Quarter.of(today).previous()
        score = rng.choice([3, 4, 4, 5, 5])
        if claim.unit_id == liaison_unit.pk:
            score = 5  # the demo liaison's unit earns its review's points (积分): "my points" shows them
        reviews.append(
            CommitmentReview(
                claim=claim,
                year=previous.year,
                quarter=previous.quarter,
                score=score,
                comment="承诺事项按期落实",
                reviewer=staff,
            )
        )
    ServiceActivity.objects.bulk_create(activities)
    CommitmentReview.objects.bulk_create(reviews)
    stdout.write(
        f"  {len(projects)} projects, {len(claims)} claims, {len(activities)} activities, {len(reviews)} reviews"
    )


def _claim_times(
    rng: random.Random, project, unit, now: datetime, *, decided: bool
) -> tuple[datetime, datetime | None]:
    """When a unit claimed a project and staff decided: not before the project starts or the unit joined,
    within a fortnight of that, decided within three days, both by now (the demo's timelines read forwards)."""
    today = timezone.localdate(now)
    earliest = max(project.starts_on, unit.joined_on or project.starts_on)
    spread = max(min(14, (today - earliest).days - 4), 0)
    day = earliest + timedelta(days=rng.randint(0, spread))
    claimed = min(timezone.make_aware(datetime.combine(day, time(10, 0))), now - timedelta(hours=4))
    if not decided:
        return claimed, None
    return claimed, min(claimed + timedelta(hours=rng.randint(1, 72)), now - timedelta(hours=1))

"""Service projects and the claim table: each street's projects, claims by its active units (a few projects
bundle many units, most a handful), activities under approved claims, quarterly commitment reviews and a
few linked needs. Claim statuses follow the project's: pending and approved while it is open or running,
completed (or lapsed) once it is finished; `places_taken` counts the claims that hold a place."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from alliance.periods import ZONE, Quarter
from projects.models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

from .rows import next_id
from .words import ACTIVITY_TITLES, PROJECT_TITLES
from .world import World

PROJECT_MIX = [("running", 0.45), ("finished", 0.3), ("open", 0.2), ("draft", 0.05)]
CLAIM_MIX = {
    "open": [("pending", 0.4), ("approved", 0.5), ("withdrawn", 0.05), ("rejected", 0.05)],
    "running": [("approved", 0.85), ("pending", 0.05), ("withdrawn", 0.05), ("rejected", 0.05)],
    "finished": [("completed", 0.85), ("withdrawn", 0.1), ("rejected", 0.05)],
}
REVIEW_MIX = [(5, 0.5), (4, 0.3), (3, 0.15), (2, 0.05)]


def write(w: World) -> None:
    r, g, sc = w.rng, w.g, w.scale
    project_id, claim_id, activity_id = next_id(ServiceProject), next_id(ProjectClaim), next_id(ServiceActivity)
    projects, claims, activities, reviews, links = [], [], [], [], []
    per_project = sc.claims_per_unit * len(w.active_units) / max(1, sc.projects_per_street * sc.streets)
    today = w.today
    for street in w.streets:
        units = w.units_by_street.get(street, [])
        communities = [c for c in w.communities if w.community_street[c] == street]
        for _ in range(sc.projects_per_street):
            status = g.pick(PROJECT_MIX)
            if status == "finished":
                starts = g.day(w.start.date(), today - timedelta(days=120))
                ends = min(starts + timedelta(days=r.randrange(30, 240)), today - timedelta(days=1))
            else:
                starts = g.day(today - timedelta(days=300), today + timedelta(days=30))
                ends = max(starts, today) + timedelta(days=r.randrange(30, 240))
            created = datetime.combine(starts - timedelta(days=14), time(9), tzinfo=ZONE)
            taken = 0
            if status != "draft" and units:
                # "捆绑": a few projects carry many units; most a handful.
                count = min(len(units), max(1, round(r.expovariate(1 / per_project))))
                for unit in r.sample(units, k=count):
                    claim_status = g.pick(CLAIM_MIX[status])
                    claimed = min(created + timedelta(days=r.uniform(1, 30)), w.now)
                    decided = w.later(claimed, 2, 96) if claim_status != "pending" else None
                    claims.append(
                        (
                            claim_id,
                            project_id,
                            unit,
                            "每月派出5名党员志愿者，提供场地每季度2次。",
                            claim_status,
                            w.liaison[unit],
                            decided,
                            "同意认领" if claim_status in ("approved", "completed") else "",
                            claimed,
                            decided or claimed,
                        )
                    )
                    taken += claim_status in ("pending", "approved")
                    if claim_status in ("approved", "completed"):
                        activity_id = _activities(w, claim_id, unit, starts, min(ends, today), activity_id, activities)
                        reviews.extend(_reviews(w, claim_id, starts, min(ends, today)))
                    claim_id += 1
            demo = r.random() < 0.1
            projects.append(
                (
                    project_id,
                    f"{r.choice(PROJECT_TITLES)}项目{project_id}",
                    w.category_picker.one(),
                    "为辖区居民提供常态化服务，共建单位认领后按承诺开展活动。",
                    street,
                    r.choice(communities) if r.random() < 0.6 else None,
                    starts,
                    ends,
                    max(taken, r.randrange(1, 12)),
                    taken,
                    demo,
                    ends if demo and status == "finished" else None,
                    status,
                    created,
                    created,
                )
            )
            linkable = w.needs_by_street.get(street, [])
            links.extend((project_id, need) for need in r.sample(linkable, k=min(len(linkable), r.randrange(0, 4))))
            project_id += 1
    w.copy(
        "projects",
        ServiceProject,
        "id title category description street community starts_on ends_on places places_taken"
        " is_demonstration plaque_awarded_on status created_at updated_at",
        projects,
    )
    w.copy("project ↔ need links", ServiceProject.needs.through, "serviceproject need", links)
    w.copy(
        "claims",
        ProjectClaim,
        "id project unit commitment status claimed_by decided_at decision_note created_at updated_at",
        claims,
    )
    w.copy(
        "activities",
        ServiceActivity,
        "id claim date title place participants services beneficiaries hours recorded_by created_at",
        activities,
    )
    w.copy("commitment reviews", CommitmentReview, "claim year quarter score comment reviewer created_at", reviews)


def _activities(w: World, claim: int, unit: int, first: date, last: date, next_pk: int, out: list) -> int:
    r = w.rng
    if last < first:
        return next_pk
    street = w.street_of_unit(unit)
    for _ in range(round(r.expovariate(1 / w.scale.activities_per_claim))):
        day = w.g.day(first, last)
        out.append(
            (
                next_pk,
                claim,
                day,
                r.choice(ACTIVITY_TITLES),
                "社区党群服务中心",
                r.randrange(2, 30),
                r.randrange(1, 80),
                r.randrange(5, 300),
                Decimal(r.randrange(5, 80)) / 10,
                w.liaison[unit],
                datetime.combine(day, time(20), tzinfo=ZONE),
            )
        )
        w.activities_by_street.setdefault(street, []).append(next_pk)
        next_pk += 1
    return next_pk


def _reviews(w: World, claim: int, first: date, last: date) -> list[tuple]:
    """One review per ended quarter of the claim's period, most of them (staff do not review every one)."""
    rows = []
    quarter = Quarter.of(first)
    while quarter.last_day < min(last, w.today):
        if w.rng.random() < 0.7:
            rows.append((claim, quarter.year, quarter.quarter, w.g.pick(REVIEW_MIX), "", w.staff, quarter.end))
        quarter = quarter.next()
    return rows

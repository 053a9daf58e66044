"""One district-sized street for one quarter, loaded fast, for `bench/quarterly_report.py`.

`load(quarter, scale)` fills a migrated, empty PostgreSQL database with one street (压测街道) on the "1+9+N"
model: 9 communities, 5 sector branches, ~1,155 member units, ~50,000 needs with their timelines, a few
thousand resources, projects with claims, activities and commitment reviews, joint meetings with their
invitations and resolutions, ~46,000 registered Party members with posts and teams, ~200,000 service
logs. Most rows fall in the benchmark quarter; about a sixth fall in the quarter before, so the 汇总
sheet's "previous quarter" and change columns have something to compare.

Speed: the big tables go in with PostgreSQL COPY (psycopg 3 `cursor.copy`), ids chosen here so the
rows can point at each other without a round trip, and the sequences are moved past them at the end.
COPY skips `auto_now_add`, so the timestamps are the quarter's, not today's; it skips the history
tables too (no report reads them). The whole load is one transaction: an interrupted load leaves
nothing, and the street's row — written last — is the marker that the data is there.

Deterministic: one seeded `random.Random`; the same scale gives the same rows.
Import only after `django.setup()`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction

from alliance.periods import ZONE, Quarter
from alliance.scale.rows import copy_rows, next_id
from alliance.scale.words import (
    ACTIVITY_TITLES,
    COMMUNITIES,
    LOG_TEXTS,
    NEED_TEXT,
    NEED_TITLES,
    PROJECT_TITLES,
    REJECT_REASONS,
    RESOLUTION_TEXTS,
    RESOURCE_KINDS,
    RESOURCE_TITLES,
    RESULTS,
    SECTORS,
    SKILLS,
    UNIT_TYPE_TO_SECTOR,
    UNIT_TYPES,
    Gen,
)

STREET_NAME = "压测街道"
# Bumped when the generated data changes shape, so an old load is not mistaken for the current one.
MARKER = "bench:quarterly-report:v1"


@dataclass(frozen=True)
class Scale:
    """Row counts of one street. `Scale.district()` is what the issue calls district-sized."""

    communities: int = 9
    units: int = 1155
    needs: int = 50_000
    resources: int = 3_000
    projects: int = 320
    claims: int = 2_400
    activities: int = 9_000
    party_members: int = 46_000
    service_logs: int = 200_000
    posts: int = 300
    teams: int = 120
    consultations: int = 120

    @classmethod
    def district(cls, factor: float = 1.0) -> Scale:
        base = cls()
        if factor == 1.0:
            return base

        def s(n: int, least: int = 1) -> int:
            return max(least, round(n * factor))

        return cls(
            communities=base.communities,
            units=s(base.units, 20),
            needs=s(base.needs),
            resources=s(base.resources),
            projects=s(base.projects, 5),
            claims=s(base.claims, 5),
            activities=s(base.activities),
            party_members=s(base.party_members, 10),
            service_logs=s(base.service_logs),
            posts=s(base.posts, 9),
            teams=s(base.teams, 2),
            consultations=s(base.consultations, 2),
        )


# --- The load --------------------------------------------------------------------------------------------


def loaded_street_id() -> int | None:
    from members.models import Street

    street = Street.objects.filter(name=STREET_NAME, alliance_name=MARKER).first()
    return street.pk if street else None


def foreign_data() -> list[str]:
    """What in the database is not this generator's: a reason to refuse to load into it."""
    from django.contrib.auth import get_user_model

    from members.models import Street

    found = []
    streets = Street.objects.exclude(name=STREET_NAME, alliance_name=MARKER)
    if streets.exists():
        found.append(f"streets {', '.join(streets.values_list('name', flat=True)[:5])}")
    users = get_user_model().objects.exclude(username__startswith="bench_")
    if users.exists():
        found.append(f"{users.count()} users not made by the benchmark")
    return found


def load(quarter: Quarter, scale: Scale, log: Callable[[str], None] = print) -> int:
    """Load the street and return its id. One transaction; the caller checks `loaded_street_id()` first."""
    started = time.monotonic()
    with transaction.atomic():
        street_id = _Loader(quarter, scale, log).run()
        log("analysing the tables …")
    # Fresh statistics, as autovacuum would have them on a live database: without them the planner
    # guesses row counts of empty tables and the report's queries would be timed on bad plans.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"loaded in {time.monotonic() - started:.1f} s")
    return street_id


def street_counts(street_id: int) -> dict[str, int]:
    """The main tables' rows of the street, for the record of what a run measured."""
    from demands.models import Need, Resource
    from meetings.models import Invitation
    from members.models import Community, MemberUnit
    from projects.models import ProjectClaim, ServiceActivity
    from volunteers.models import PartyMember, ServiceLog

    return {
        "communities": Community.objects.filter(street_id=street_id).count(),
        "units": MemberUnit.objects.filter(community__street_id=street_id).count(),
        "needs": Need.objects.filter(community__street_id=street_id).count(),
        "resources": Resource.objects.filter(unit__community__street_id=street_id).count(),
        "claims": ProjectClaim.objects.filter(project__street_id=street_id).count(),
        "activities": ServiceActivity.objects.filter(claim__project__street_id=street_id).count(),
        "invitations": Invitation.objects.filter(unit__community__street_id=street_id).count(),
        "Party members": PartyMember.objects.filter(residence_community__street_id=street_id).count(),
        "service logs": ServiceLog.objects.filter(member__residence_community__street_id=street_id).count(),
    }


def prepare_assessments(street_id: int, quarter: Quarter) -> int | None:
    """The units' assessments of the quarter, as the report build computes them before rendering
    (`members.assessments.assessments_compute`), when that service exists and none are there yet: the
    单位考核 sheet reads stored rows. None when the app has no such service (before the assessment
    branch is merged); else how many were computed (0: already there)."""
    try:
        from members.assessments import assessments_compute
        from members.models import Assessment
    except ImportError:
        return None
    from members.models import Street

    if Assessment.objects.filter(
        unit__community__street_id=street_id, year=quarter.year, quarter=quarter.quarter
    ).exists():
        return 0
    return assessments_compute(street=Street.objects.get(pk=street_id), quarter=quarter)


class _Loader:
    def __init__(self, quarter: Quarter, scale: Scale, log: Callable[[str], None]) -> None:
        self.q, self.prev, self.scale, self.log = quarter, quarter.previous(), scale, log
        self.g = Gen()
        self.r = self.g.rng
        self.touched: list[type[models.Model]] = []
        # The report is made after its quarter; nothing happens later than this.
        self.now = quarter.end + timedelta(days=20)

    def step(self, label: str, model: type[models.Model], fields: str | Sequence[str], rows: Iterable) -> int:
        """COPY `rows` into `model`; `fields` may be one space-separated string."""
        t = time.monotonic()
        count = copy_rows(model, fields.split() if isinstance(fields, str) else fields, rows)
        self.touched.append(model)
        self.log(f"  {label}: {count:,} rows in {time.monotonic() - t:.1f} s")
        return count

    def when(self) -> datetime:
        """A moment in the benchmark quarter (5 in 6) or the quarter before."""
        q = self.q if self.r.random() < 5 / 6 else self.prev
        return self.g.moment(q.start, q.end)

    def later(self, moment: datetime, low_h: float, high_h: float) -> datetime:
        return min(moment + timedelta(hours=self.r.uniform(low_h, high_h)), self.now)

    # -- run --

    def run(self) -> int:
        from django.contrib.auth import get_user_model

        from alliance.management.commands.seed_demo import CATEGORIES
        from alliance.models import Category
        from members.models import Community, Sector, Street

        self.log("loading the street …")
        user_model = get_user_model()
        self.categories = [
            Category.objects.update_or_create(code=code, defaults={"name": name, "sort_order": i * 10})[0].pk
            for i, (code, name) in enumerate(CATEGORIES, start=1)
        ]
        self.staff = user_model.objects.create_user("bench_staff", is_staff=True)
        self.member_users = [
            u.pk
            for u in user_model.objects.bulk_create(
                [user_model(username=f"bench_member_{i:04d}", password="!") for i in range(300)]
            )
        ]
        # The marker goes on at the very end: a street row without it is an unfinished load.
        street = Street.objects.create(name=STREET_NAME, alliance_name="", address="某市某区")
        self.street_id = street.pk
        self.communities = [
            c.pk
            for c in Community.objects.bulk_create(
                [
                    Community(
                        street=street, name=f"{COMMUNITIES[i % len(COMMUNITIES)]}社区{i // 12 or ''}", sort_order=i
                    )
                    for i in range(self.scale.communities)
                ]
            )
        ]
        self.sectors = {
            kind: s.pk
            for kind, s in zip(
                (k for k, _ in SECTORS),
                Sector.objects.bulk_create([Sector(street=street, name=n, kind=k) for k, n in SECTORS]),
                strict=True,
            )
        }
        self.units()
        self.resources()
        self.needs()
        self.projects()
        self.meetings()
        self.volunteers()
        Street.objects.filter(pk=street.pk).update(alliance_name=MARKER)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), self.touched):
                cursor.execute(statement)
        return street.pk

    # -- members --

    def units(self) -> None:
        from members.models import MemberUnit

        g, r = self.g, self.r
        first = next_id(MemberUnit)
        self.unit_ids: list[int] = []
        self.active_units: list[int] = []
        self.unit_community: dict[int, int] = {}
        self.unit_sector: dict[int, int | None] = {}
        rows = []
        for n in range(self.scale.units):
            pk = first + n
            unit_type, suffix, level = r.choice(UNIT_TYPES)
            status = g.pick([("active", 0.94), ("applied", 0.03), ("withdrawn", 0.02), ("rejected", 0.01)])
            community = self.communities[n % len(self.communities)]
            sector = self.sectors[UNIT_TYPE_TO_SECTOR.get(unit_type, r.choice(("member_unit", "other")))]
            created = g.moment(datetime(2019, 1, 1, tzinfo=ZONE), self.prev.start)
            rows.append(
                (
                    pk,
                    f"{COMMUNITIES[n % len(COMMUNITIES)]}{n:04d}{suffix}",
                    "",  # credit_code: blank (unique when given; a checksum to compute for nothing)
                    unit_type,
                    level,
                    sector,
                    community,
                    f"某区某路{n}号",
                    "可提供场地、人员和专业服务。",
                    f"{suffix}党支部",
                    "branch",
                    g.name(),
                    g.name(),
                    g.phone(),
                    r.randrange(3, 300),
                    created.date() if status != "applied" else None,
                    status,
                    created,
                    created,
                )
            )
            self.unit_ids.append(pk)
            self.unit_community[pk] = community
            self.unit_sector[pk] = sector
            if status == "active":
                self.active_units.append(pk)
        fields = (
            "id name credit_code unit_type level sector community address description party_org_name party_org_kind"
            " secretary_name liaison_name liaison_phone party_member_count joined_on status created_at updated_at"
        )
        self.step("member units", MemberUnit, fields, rows)
        self.units_by_community: dict[int, list[int]] = {c: [] for c in self.communities}
        for pk in self.active_units:
            self.units_by_community[self.unit_community[pk]].append(pk)

    # -- demands --

    def resources(self) -> None:
        from demands.models import Resource

        g, r = self.g, self.r
        first = next_id(Resource)
        self.resource_ids = list(range(first, first + self.scale.resources))

        def rows() -> Iterator[tuple]:
            for pk in self.resource_ids:
                created = g.moment(datetime(2024, 1, 1, tzinfo=ZONE), self.q.end)
                kind = r.choice(RESOURCE_KINDS)
                yield (
                    pk,
                    r.choice(self.active_units),
                    r.choice(self.categories),
                    kind,
                    r.choice(RESOURCE_TITLES),
                    "面向辖区居民开放，需提前预约。",
                    r.randrange(5, 200) if kind in ("venue", "service") else None,
                    "周六上午",
                    r.random() < 0.9,
                    "active" if r.random() < 0.93 else "withdrawn",
                    created,
                    created,
                )

        fields = "id unit category kind title description capacity availability is_free status created_at updated_at"
        self.step("resources", Resource, fields.split(), rows())

    def needs(self) -> None:
        from demands.models import Need, NeedEvent, NeedSlaFlag

        g, r = self.g, self.r
        first = next_id(Need)
        self.need_ids = list(range(first, first + self.scale.needs))
        self.wishes: list[int] = []
        events: list[tuple] = []
        flags: list[tuple] = []
        staff = self.staff.pk

        def rows() -> Iterator[tuple]:
            for pk in self.need_ids:
                kind = g.pick([("resident", 0.7), ("community", 0.14), ("unit", 0.06), ("micro_wish", 0.1)])
                status = g.pick(
                    [
                        ("closed", 0.45),
                        ("completed", 0.18),
                        ("accepted", 0.12),
                        ("dispatched", 0.07),
                        ("submitted", 0.08),
                        ("rejected", 0.10),
                    ]
                )
                community = r.choice(self.communities)
                submitted = self.when()
                dispatched = accepted = completed = closed = rejected = showcased = None
                unit = claimed_by = None
                rating, result, reject_reason = None, "", ""
                taken_as_wish = kind == "micro_wish" and r.random() < 0.6
                trail = [("", "submitted", submitted)]
                if status == "rejected":
                    if r.random() < 0.3:
                        dispatched = self.later(submitted, 1, 48)
                        unit = r.choice(self.units_by_community[community] or self.active_units)
                        trail.append(("submitted", "dispatched", dispatched))
                    rejected = self.later(dispatched or submitted, 1, 72)
                    reject_reason = r.choice(REJECT_REASONS)
                    trail.append((trail[-1][1], "rejected", rejected))
                elif status != "submitted":
                    if taken_as_wish:
                        claimed_by = r.choice(self.member_users)
                        accepted = self.later(submitted, 1, 96)
                        trail.append(("submitted", "accepted", accepted))
                    else:
                        unit = r.choice(self.units_by_community[community] or self.active_units)
                        # 1 in 8 waits past the two-day SLA for dispatch.
                        dispatched = self.later(submitted, *((49, 120) if r.random() < 0.125 else (1, 47)))
                        trail.append(("submitted", "dispatched", dispatched))
                        if status != "dispatched":
                            accepted = self.later(dispatched, 1, 60)
                            trail.append(("dispatched", "accepted", accepted))
                    if status in ("completed", "closed"):
                        completed = self.later(accepted, 4, 24 * 20)
                        result = r.choice(RESULTS)
                        trail.append(("accepted", "completed", completed))
                        if r.random() < 0.3:
                            showcased = self.later(completed, 1, 72)
                    if status == "closed":
                        closed = self.later(completed, 2, 24 * 7)
                        if r.random() < 0.7:
                            rating = g.pick([(5, 0.6), (4, 0.25), (3, 0.1), (2, 0.03), (1, 0.02)])
                        trail.append(("completed", "closed", closed))
                if kind == "micro_wish" and status in ("accepted", "completed", "closed"):
                    self.wishes.append(pk)
                for source, target, at in trail:
                    events.append((pk, staff if target in ("dispatched", "rejected") else None, at, source, target))
                if dispatched and (dispatched - submitted) > timedelta(days=2):
                    flags.append((pk, "dispatch", submitted + timedelta(days=2)))
                yield (
                    pk,
                    kind,
                    r.choice(NEED_TITLES),
                    NEED_TEXT,
                    r.choice(self.categories),
                    community,
                    g.name(),
                    g.phone(),
                    f"某小区{r.randrange(1, 40)}号楼{r.randrange(1, 7)}单元",
                    g.pick([("web", 0.5), ("phone", 0.2), ("visit", 0.15), ("staff", 0.1), ("api", 0.05)]),
                    g.tracking_code(),
                    status,
                    unit,
                    r.choice(self.resource_ids) if unit and r.random() < 0.1 else None,
                    claimed_by,
                    staff if r.random() < 0.25 else None,
                    submitted,
                    dispatched,
                    accepted,
                    completed,
                    closed,
                    rejected,
                    reject_reason,
                    result,
                    rating,
                    "服务很及时" if rating else "",
                    showcased,
                    max(t for t in (submitted, dispatched, accepted, completed, closed, rejected) if t),
                )

        fields = (
            "id kind title description category community contact_name contact_phone address channel tracking_code"
            " status unit resource claimed_by created_by submitted_at dispatched_at accepted_at completed_at"
            " closed_at rejected_at reject_reason result rating rating_comment showcased_at updated_at"
        )
        self.step("needs", Need, fields, rows())
        self.step("need timeline", NeedEvent, ["need", "actor", "at", "from_status", "to_status"], events)
        self.step("overdue flags", NeedSlaFlag, ["need", "stage", "flagged_at"], flags)

    # -- projects --

    def projects(self) -> None:
        from projects.models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

        g, r, sc = self.g, self.r, self.scale
        first = next_id(ServiceProject)
        project_rows, claim_rows, activity_rows, review_rows, links = [], [], [], [], []
        # Claims are spread over the projects; each project gets enough places for the claims that hold one.
        per_project: dict[int, list[int]] = {}
        project_ids = list(range(first, first + sc.projects))
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < min(sc.claims, len(project_ids) * len(self.active_units)):
            pairs.add((r.choice(project_ids), r.choice(self.active_units)))
        claim_first = next_id(ProjectClaim)
        claim_status: dict[int, str] = {}
        for n, (project, _unit) in enumerate(sorted(pairs)):
            per_project.setdefault(project, []).append(claim_first + n)
            claim_status[claim_first + n] = g.pick(
                [("approved", 0.5), ("completed", 0.28), ("pending", 0.1), ("rejected", 0.06), ("withdrawn", 0.06)]
            )
        for pk in project_ids:
            start = g.day(self.prev.first_day - timedelta(days=60), self.q.last_day - timedelta(days=20))
            end = start + timedelta(days=r.randrange(30, 240))
            status = g.pick([("running", 0.45), ("finished", 0.3), ("open", 0.2), ("draft", 0.05)])
            claims = [] if status == "draft" else per_project.get(pk, [])
            holding = sum(1 for c in claims if claim_status[c] in ("pending", "approved"))
            demo = r.random() < 0.1
            created = datetime.combine(start - timedelta(days=10), datetime.min.time(), tzinfo=ZONE)
            project_rows.append(
                (
                    pk,
                    f"{r.choice(PROJECT_TITLES)}项目{pk}",
                    r.choice(self.categories),
                    "为辖区居民提供常态化服务，共建单位认领后按承诺开展活动。",
                    self.street_id,
                    r.choice(self.communities) if r.random() < 0.6 else None,
                    start,
                    end,
                    max(holding, r.randrange(1, 12)),
                    holding,
                    demo,
                    end if demo and status == "finished" else None,
                    status,
                    created,
                    created,
                )
            )
            for need in r.sample(self.need_ids, k=min(len(self.need_ids), r.randrange(0, 6))):
                links.append((pk, need))
        ordered = sorted(pairs)
        claim_unit = {claim_first + n: unit for n, (_p, unit) in enumerate(ordered)}
        claim_project = {claim_first + n: p for n, (p, _u) in enumerate(ordered)}
        draft = {row[0] for row in project_rows if row[12] == "draft"}
        activity_id = next_id(ServiceActivity)
        self.activity_ids: list[int] = []
        per_claim = max(1, round(sc.activities / max(1, len(pairs))))
        for claim, status in claim_status.items():
            if claim_project[claim] in draft:
                continue
            created = self.when()
            decided = self.later(created, 2, 96) if status != "pending" else None
            claim_rows.append(
                (
                    claim,
                    claim_project[claim],
                    claim_unit[claim],
                    "每月派出5名党员志愿者，提供场地每季度2次。",
                    status,
                    self.staff.pk,
                    decided,
                    created,
                    decided or created,
                )
            )
            if status in ("approved", "completed"):
                for _ in range(r.randrange(0, 2 * per_claim + 1)):
                    day = (
                        g.day(self.prev.first_day, self.q.last_day)
                        if r.random() < 1 / 6
                        else g.day(self.q.first_day, self.q.last_day)
                    )
                    activity_rows.append(
                        (
                            activity_id,
                            claim,
                            day,
                            r.choice(ACTIVITY_TITLES),
                            "社区党群服务中心",
                            r.randrange(2, 30),
                            r.randrange(1, 80),
                            r.randrange(5, 300),
                            Decimal(r.randrange(5, 80)) / 10,
                            self.staff.pk,
                            datetime.combine(day, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=20),
                        )
                    )
                    self.activity_ids.append(activity_id)
                    activity_id += 1
                for q in (self.prev, self.q):
                    if r.random() < 0.7:
                        review_rows.append(
                            (
                                claim,
                                q.year,
                                q.quarter,
                                g.pick([(5, 0.5), (4, 0.3), (3, 0.15), (2, 0.05)]),
                                self.staff.pk,
                                q.end,
                            )
                        )
        fields = (
            "id title category description street community starts_on ends_on places places_taken"
            " is_demonstration plaque_awarded_on status created_at updated_at"
        )
        self.step("projects", ServiceProject, fields, project_rows)
        through = ServiceProject.needs.through
        self.step("project ↔ need links", through, ["serviceproject", "need"], links)
        fields = "id project unit commitment status claimed_by decided_at created_at updated_at"
        self.step("claims", ProjectClaim, fields, claim_rows)
        fields = "id claim date title place participants services beneficiaries hours recorded_by created_at"
        self.step("activities", ServiceActivity, fields, activity_rows)
        self.step("commitment reviews", CommitmentReview, "claim year quarter score reviewer created_at", review_rows)

    # -- meetings --

    def meetings(self) -> None:
        from meetings.models import Invitation, JointMeeting, MeetingSeries, Resolution, ResolutionProgress

        g, r, staff = self.g, self.r, self.staff.pk
        series_first = next_id(MeetingSeries)
        series_rows, meeting_rows, invitation_rows, resolution_rows, progress_rows = [], [], [], [], []
        # (series id or None, level, kind, community, sector, title, recurrence, invited units)
        plans: list[tuple] = []
        sid = series_first
        plans.append((sid, "street", "regular", None, None, "街道联席会议", "quarterly", self.active_units))
        sid += 1
        for c in self.communities:
            plans.append((sid, "community", "regular", c, None, "社区联席会议", "monthly", self.units_by_community[c]))
            sid += 1
        for kind, sector in self.sectors.items():
            units = [u for u in self.active_units if self.unit_sector[u] == sector]
            plans.append((sid, "sector", "regular", None, sector, f"{kind}分会会议", "monthly", units))
            sid += 1
        for s, level, kind, community, sector, title, recurrence, _units in plans:
            series_rows.append(
                (
                    s,
                    title,
                    level,
                    kind,
                    community,
                    sector,
                    recurrence,
                    10,
                    clock(9, 30),
                    90,
                    "党群服务中心",
                    staff,
                    self.prev.first_day,
                    self.prev.start,
                )
            )
        meeting_id = next_id(JointMeeting)
        resolution_id = next_id(Resolution)
        months = [(q, m) for q in (self.prev, self.q) for m in q.months]
        occurrences: list[tuple] = []
        for s, level, kind, community, sector, title, recurrence, units in plans:
            chosen = [months[0], months[3]] if recurrence == "quarterly" else months
            for q, month in chosen:
                occurrences.append(
                    (s, level, kind, community, sector, f"{title}（{month}月）", date(q.year, month, 1), units)
                )
        for _ in range(self.scale.consultations):
            c = r.choice(self.communities)
            units = self.units_by_community[c]
            invited = r.sample(units, k=min(len(units), r.randrange(3, 15)))
            occurrences.append((None, "community", "consultation", c, None, "专题协商会", None, invited))
        for s, level, kind, community, sector, title, occurrence, units in occurrences:
            if occurrence:
                start = datetime.combine(occurrence.replace(day=10), datetime.min.time(), tzinfo=ZONE) + timedelta(
                    hours=9, minutes=30
                )
            else:
                start = self.when()
            status = g.pick([("held", 0.88), ("cancelled", 0.05), ("planned", 0.07)]) if start < self.now else "planned"
            held = status == "held"
            meeting_rows.append(
                (
                    meeting_id,
                    s,
                    occurrence,
                    level,
                    kind,
                    title,
                    start,
                    start + timedelta(minutes=90),
                    "党群服务中心会议室",
                    "一、通报上季度工作\n二、议定本季度事项",
                    staff,
                    community,
                    sector,
                    status,
                    "时间冲突" if status == "cancelled" else "",
                    "会议议定了本季度的共建事项。" if held else "",
                    start + timedelta(hours=3) if held else None,
                    start - timedelta(days=7),
                    start,
                )
            )
            for unit in units:
                if held:
                    state = g.pick([("attended", 0.82), ("absent", 0.18)])
                elif status == "planned":
                    state = g.pick([("invited", 0.4), ("confirmed", 0.5), ("declined", 0.1)])
                else:
                    state = "invited"
                answered = start - timedelta(hours=r.randrange(2, 96)) if state != "invited" else None
                invitation_rows.append((meeting_id, unit, state, answered, staff if answered else None))
            if held and units:
                for _ in range(r.randrange(0, 5)):
                    due = (start + timedelta(days=r.randrange(7, 60))).date()
                    done = r.random() < 0.6
                    done_at = min(self.now, start + timedelta(days=r.randrange(3, 70))) if done else None
                    resolution_rows.append(
                        (
                            resolution_id,
                            meeting_id,
                            r.choice(RESOLUTION_TEXTS),
                            r.choice(units),
                            due,
                            "done" if done else "open",
                            done_at,
                            start + timedelta(hours=3),
                            done_at or start + timedelta(hours=3),
                        )
                    )
                    if r.random() < 0.5:
                        progress_rows.append(
                            (resolution_id, staff, "已召开协调会，正在推进。", start + timedelta(days=5))
                        )
                    resolution_id += 1
            meeting_id += 1
        fields = (
            "id title level kind community sector recurrence day_of_month start_time duration_minutes place"
            " organiser starts_on created_at"
        )
        self.step("meeting series", MeetingSeries, fields, series_rows)
        fields = (
            "id series occurrence level kind title start end place agenda organiser community sector status"
            " cancel_reason minutes minutes_written_at created_at updated_at"
        )
        self.step("meetings", JointMeeting, fields, meeting_rows)
        fields = "meeting unit status responded_at responded_by"
        self.step("invitations", Invitation, fields, invitation_rows)
        fields = "id meeting text owner due_date status done_at created_at updated_at"
        self.step("resolutions", Resolution, fields, resolution_rows)
        self.step("resolution progress", ResolutionProgress, "resolution author text at", progress_rows)

    # -- volunteers --

    def volunteers(self) -> None:
        from volunteers.models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam

        g, r, sc, staff = self.g, self.r, self.scale, self.staff.pk
        first = next_id(PartyMember)
        verified: list[int] = []
        member_community: dict[int, int] = {}
        member_rows = []
        for n in range(sc.party_members):
            pk = first + n
            status = g.pick([("verified", 0.86), ("pending", 0.06), ("rejected", 0.03), ("ended", 0.05)])
            community = self.communities[n % len(self.communities)]
            registered = g.day(date(2019, 3, 1), self.q.last_day)
            created = datetime.combine(registered, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=10)
            in_unit = r.random() < 0.7
            member_rows.append(
                (
                    pk,
                    self.member_users[n] if n < len(self.member_users) else None,
                    g.name(),
                    g.phone(unique=True),
                    r.choice(self.active_units) if in_unit else None,
                    "" if in_unit else "某区教育局",
                    "第一党支部",
                    community,
                    r.choice(SKILLS),
                    registered,
                    status,
                    "不在本社区居住" if status == "rejected" else "",
                    self.later(created, 2, 96) if status in ("verified", "ended") else None,
                    created,
                    created,
                )
            )
            member_community[pk] = community
            if status == "verified":
                verified.append(pk)
        fields = (
            "id user name phone work_unit work_unit_name party_branch residence_community skills registered_on"
            " status reject_reason verified_at created_at updated_at"
        )
        self.step("Party members", PartyMember, fields, member_rows)
        del member_rows

        post_first = next_id(VolunteerPost)
        posts = list(range(post_first, post_first + sc.posts))
        post_community = {p: self.communities[i % len(self.communities)] for i, p in enumerate(posts)}
        by_community: dict[int, list[int]] = {c: [] for c in self.communities}
        for pk in verified:
            by_community[member_community[pk]].append(pk)
        claim_rows, post_rows = [], []
        for post in posts:
            pool = by_community[post_community[post]]
            takers = r.sample(pool, k=min(len(pool), r.randrange(0, 30)))
            active = [m for m in takers if r.random() < 0.85]
            post_rows.append(
                (
                    post,
                    post_community[post],
                    f"志愿岗位{post}",
                    "每周六上午",
                    max(len(active), r.randrange(5, 40)),
                    len(active),
                    "open",
                    self.prev.start,
                )
            )
            for m in takers:
                claimed = self.when()
                left = m not in active
                claim_rows.append(
                    (post, m, "left" if left else "active", claimed, self.later(claimed, 24, 600) if left else None)
                )
        self.step(
            "volunteer posts",
            VolunteerPost,
            "id community title schedule places places_taken status created_at",
            post_rows,
        )
        self.step("post claims", PostClaim, "post member status claimed_at left_at", claim_rows)

        team_first = next_id(VolunteerTeam)
        team_rows, team_members = [], []
        for n in range(sc.teams):
            pk = team_first + n
            community = self.communities[n % len(self.communities)]
            members = r.sample(by_community[community], k=min(len(by_community[community]), r.randrange(5, 40)))
            team_rows.append(
                (
                    pk,
                    f"志愿服务队{pk}",
                    community if n % 3 else None,
                    None if n % 3 else r.choice(self.active_units),
                    members[0] if members else None,
                )
            )
            team_members.extend((pk, m) for m in members)
        self.step("volunteer teams", VolunteerTeam, "id name community unit leader", team_rows)
        self.step("team members", VolunteerTeam.members.through, ["volunteerteam", "partymember"], team_members)

        # A few members serve a lot, most a little: the 80/20 of volunteering.
        weights = [r.paretovariate(1.5) for _ in verified]
        wishes = self.wishes

        def logs() -> Iterator[tuple]:
            chosen = r.choices(verified, weights, k=sc.service_logs)
            for member in chosen:
                day = (
                    g.day(self.prev.first_day, self.prev.last_day)
                    if r.random() < 1 / 6
                    else g.day(self.q.first_day, self.q.last_day)
                )
                created = datetime.combine(day, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=19)
                ok = r.random() < 0.9
                source = r.random()
                yield (
                    member,
                    day,
                    Decimal(r.randrange(5, 80)) / 10,
                    r.choice(LOG_TEXTS),
                    r.choice(posts) if source < 0.5 else None,
                    r.choice(wishes) if 0.5 <= source < 0.55 and wishes else None,
                    r.choice(self.activity_ids) if 0.55 <= source < 0.7 and self.activity_ids else None,
                    staff,
                    ok,
                    staff if ok else None,
                    self.later(created, 12, 120) if ok else None,
                    created,
                )

        fields = (
            "member date hours description post wish activity logged_by verified verified_by verified_at created_at"
        )
        self.step("service logs", ServiceLog, fields.split(), logs())

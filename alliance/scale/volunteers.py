"""In-service Party members registered at their residence communities (more in the big communities), most
verified; volunteer posts and their claims, teams, and service logs — a few members serve a lot, most a
little (Pareto), each log after the member registered, the recent ones not all verified yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from alliance.periods import ZONE
from volunteers.models import (
    CommunityMonthHours,
    MemberMonthHours,
    PartyMember,
    PostClaim,
    ServiceLog,
    VolunteerPost,
    VolunteerTeam,
)
from volunteers.services import verified_hours_rebuild

from .rows import next_id
from .words import LOG_TEXTS, SKILLS
from .world import Picker, World

MEMBER_MIX = [("verified", 0.86), ("pending", 0.06), ("rejected", 0.03), ("ended", 0.05)]
HOURS = [Decimal(n) / 2 for n in range(1, 17)]  # 0.5 to 8 hours
CHUNK = 100_000


class _Verified:
    """The verified members, as parallel lists (a million of them: no object per member)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.community: list[int] = []
        self.since: list[int] = []  # registration day, as an ordinal
        self.user: dict[int, int] = {}  # position → account, for the few with one
        self.by_community: dict[int, list[int]] = {}


def write(w: World) -> None:
    verified = _members(w)
    posts = _posts(w, verified)
    _teams(w, verified)
    _logs(w, verified, posts)


def _members(w: World) -> _Verified:
    r, g = w.rng, w.g
    first = next_id(PartyMember)
    verified = _Verified()
    accounts = iter(w.member_users)
    status_of = Picker(r, *zip(*MEMBER_MIX, strict=True))
    start = w.start.date()

    def rows() -> Iterator[tuple]:
        for pk, community in enumerate(w.community_picker.many(w.scale.party_members), start=first):
            status = status_of.one()
            registered = start + timedelta(days=int(w.days * r.random() ** (1 / 1.3)))
            created = datetime.combine(registered, time(10), tzinfo=ZONE)
            verified_at = w.later(created, 2, 96) if status in ("verified", "ended") else None
            user = next(accounts, None) if status == "verified" else None
            work_units = w.units_by_street.get(w.community_street[community])
            in_unit = work_units and r.random() < 0.7
            if status == "verified":
                if user:
                    verified.user[len(verified.ids)] = user
                verified.by_community.setdefault(community, []).append(len(verified.ids))
                verified.ids.append(pk)
                verified.community.append(community)
                verified.since.append(registered.toordinal())
            yield (
                pk,
                user,
                g.name(),
                g.phone(unique=True),
                r.choice(work_units) if in_unit else None,
                "" if in_unit else "某区教育局",
                "第一党支部",
                community,
                r.choice(SKILLS),
                registered,
                status,
                "不在本社区居住" if status == "rejected" else "",
                verified_at,
                created,
                max(created, verified_at or created),
            )

    w.copy(
        "Party members",
        PartyMember,
        "id user name phone work_unit work_unit_name party_branch residence_community skills registered_on"
        " status reject_reason verified_at created_at updated_at",
        rows(),
    )
    return verified


def _posts(w: World, verified: _Verified) -> dict[int, list[int]]:
    r = w.rng
    post_id = next_id(VolunteerPost)
    posts: dict[int, list[int]] = {}
    post_rows, claim_rows = [], []
    for community in w.communities:
        pool = verified.by_community.get(community, [])
        for n in range(w.scale.posts_per_community):
            places = r.randrange(5, 40)
            takers = r.sample(pool, k=min(len(pool), r.randrange(0, places + 5)))
            active = takers[:places]
            left = [m for m in active if r.random() < 0.15]
            serving = len(active) - len(left)
            created = w.moment(newer=0.7)
            post_rows.append((post_id, community, f"志愿岗位{n + 1}", "每周六上午", places, serving, "open", created))
            for m in active:
                claimed = w.later(created, 24, 24 * 60)
                gone = m in left
                left_at = w.later(claimed, 24, 600) if gone else None
                claim_rows.append((post_id, verified.ids[m], "left" if gone else "active", claimed, left_at))
            posts.setdefault(community, []).append(post_id)
            post_id += 1
    w.copy(
        "volunteer posts", VolunteerPost, "id community title schedule places places_taken status created_at", post_rows
    )
    w.copy("post claims", PostClaim, "post member status claimed_at left_at", claim_rows)
    return posts


def _teams(w: World, verified: _Verified) -> None:
    r = w.rng
    team_id = next_id(VolunteerTeam)
    team_rows, team_members = [], []
    for community in w.communities:
        pool = verified.by_community.get(community, [])
        for _ in range(round(r.uniform(0, 2 * w.scale.teams_per_community))):
            members = [verified.ids[m] for m in r.sample(pool, k=min(len(pool), r.randrange(5, 40)))]
            units = w.units_by_community.get(community)
            of_unit = units and r.random() < 0.3
            team_rows.append(
                (
                    team_id,
                    f"志愿服务队{team_id}",
                    None if of_unit else community,
                    r.choice(units) if of_unit else None,
                    members[0] if members else None,
                )
            )
            team_members.extend((team_id, m) for m in members)
            team_id += 1
    w.copy("volunteer teams", VolunteerTeam, "id name community unit leader", team_rows)
    w.copy("team members", VolunteerTeam.members.through, "volunteerteam partymember", team_members)


def _logs(w: World, verified: _Verified, posts: dict[int, list[int]]) -> None:
    r = w.rng
    if not verified.ids:
        return
    # A few members serve a lot, most a little: the 80/20 of volunteering.
    who = Picker(r, range(len(verified.ids)), [r.paretovariate(1.5) for _ in verified.ids])
    today = w.today.toordinal()
    recent = today - 14
    first_day = w.start.date().toordinal()
    # Five million rows: what can be made once is made once (days, evenings, verification delays), and
    # picks are `seq[int(random() * len)]` rather than `choice` — a third of the time per row.
    days = {n: date.fromordinal(n) for n in range(first_day, today + 1)}
    evenings = {n: min(datetime.combine(d, time(19), tzinfo=ZONE), w.now) for n, d in days.items()}
    delays = [timedelta(hours=12 + h) for h in range(109)]
    random, n_hours, n_texts, n_delays = r.random, len(HOURS), len(LOG_TEXTS), len(delays)
    wishes, now = w.wishes, w.now
    street_activities = {c: w.activities_by_street.get(w.community_street[c], []) for c in w.communities}

    def rows() -> Iterator[tuple]:
        left = w.scale.service_logs
        while left:
            for m in who.many(min(CHUNK, left)):
                community = verified.community[m]
                since = max(verified.since[m], first_day)
                day_number = since + int((today - since) * random() ** 0.7)
                created = evenings[day_number]
                staff = w.community_staff[community]
                ok = random() < (0.95 if day_number < recent else 0.4)
                source = random()
                post = wish = activity = None
                if source < 0.5:
                    choices = posts.get(community)
                    post = choices[int(random() * len(choices))] if choices else None
                elif source < 0.53 and wishes:
                    wish = wishes[int(random() * len(wishes))]
                elif source < 0.65:
                    choices = street_activities[community]
                    activity = choices[int(random() * len(choices))] if choices else None
                yield (
                    verified.ids[m],
                    days[day_number],
                    HOURS[int(random() * n_hours)],
                    LOG_TEXTS[int(random() * n_texts)],
                    post,
                    wish,
                    activity,
                    verified.user.get(m, staff),
                    ok,
                    staff if ok else None,
                    min(created + delays[int(random() * n_delays)], now) if ok else None,
                    created,
                    "",  # reject_reason: no log of the benchmark data is rejected
                )
            left -= min(CHUNK, left)

    w.copy(
        "service logs",
        ServiceLog,
        "member date hours description post wish activity logged_by verified verified_by verified_at created_at"
        " reject_reason",
        rows(),
    )
    # The monthly sums of verified hours the totals read, from the logs just copied (as migration 0004).
    verified_hours_rebuild()
    w.loaded += [MemberMonthHours, CommunityMonthHours]

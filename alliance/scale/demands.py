"""The resource list and the needs list: every need with the timeline its status implies.

A need's path is drawn first (submitted → dispatched → accepted → completed → closed, with declines back
to submitted, rejections and micro-wishes taken on by Party members), then placed in time: needs that
ended (closed, rejected) anywhere in the two years, leaning recent; open ones so that their last step is
recent — a few past the two-day service level, as in a real queue. Each step is a timeline row with the
actor the service would record; the need's `*_at` columns are the times of its latest steps, as the
services leave them. Ended needs past the retention period have their contact data removed, as the
daily sweep would have done."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from demands.models import Need, NeedEvent, NeedSlaFlag, Resource
from demands.services import TRACKING_ALPHABET, TRACKING_LENGTH

from .rows import next_id
from .words import NEED_TEXT, NEED_TITLES, REJECT_REASONS, RESOURCE_KINDS, RESOURCE_TITLES, RESULTS
from .world import Picker, World

CHUNK = 50_000
SLA = timedelta(days=2)
AUTO_CLOSE = timedelta(days=7)

STATUS_MIX = [
    ("closed", 0.77),
    ("rejected", 0.10),
    ("completed", 0.02),
    ("accepted", 0.05),
    ("dispatched", 0.02),
    ("submitted", 0.04),
]
KIND_MIX = [("resident", 0.70), ("community", 0.14), ("unit", 0.06), ("micro_wish", 0.10)]
CHANNEL_MIX = [("web", 0.5), ("phone", 0.2), ("visit", 0.15), ("staff", 0.1), ("api", 0.05)]
RATING_MIX = [(5, 0.6), (4, 0.25), (3, 0.1), (2, 0.03), (1, 0.02)]
DECLINE_REASONS = ["本单位近期人手不足。", "超出本单位服务范围。", "建议派给专业机构。"]
# How long an open need has waited at its current step (hours): most within the service level, a tail past it.
OPEN_AGE_H = {
    "submitted": ((0.75, 0, 48), (0.25, 48, 480)),
    "dispatched": ((0.8, 0, 48), (0.2, 48, 360)),
    "accepted": ((1.0, 0, 720),),
    "completed": ((1.0, 0, 165),),
}


def write(w: World) -> None:
    _resources(w)
    _needs(w)


def _resources(w: World) -> None:
    r = w.rng
    first = next_id(Resource)
    count = round(len(w.active_units) * w.scale.resources_per_unit)
    rows = []
    for pk in range(first, first + count):
        unit = r.choice(w.active_units)
        kind = r.choice(RESOURCE_KINDS)
        created = w.moment()
        rows.append(
            (
                pk,
                unit,
                w.category_picker.one(),
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
        )
        w.resources_by_unit.setdefault(unit, []).append(pk)
    w.copy(
        "resources",
        Resource,
        "id unit category kind title description capacity availability is_free status created_at updated_at",
        rows,
    )


class _Needs:
    def __init__(self, w: World) -> None:
        self.w, self.r = w, w.rng
        self.status = Picker(self.r, *zip(*STATUS_MIX, strict=True))
        self.kind = Picker(self.r, *zip(*KIND_MIX, strict=True))
        self.channel = Picker(self.r, *zip(*CHANNEL_MIX, strict=True))
        self.rating = Picker(self.r, *zip(*RATING_MIX, strict=True))
        self.retention = timedelta(days=settings.RESIDENT_DATA_RETENTION_DAYS)
        self.codes: set[str] = set()

    def tracking_code(self) -> str:
        # One random integer per code rather than one draw per character: a million needs in seconds.
        n_chars = len(TRACKING_ALPHABET)
        while True:
            n = self.r.getrandbits(66)
            chars = []
            for _ in range(TRACKING_LENGTH):
                n, i = divmod(n, n_chars)
                chars.append(TRACKING_ALPHABET[i])
            code = "".join(chars)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def path(self, status: str, wish: bool) -> list[tuple[str, str, float]]:
        """The steps (from, to, hours after the previous step) that end in `status`."""
        r = self.r
        steps = [("", "submitted", 0.0)]

        def dispatch() -> None:
            # One in eight waits past the two-day service level for dispatch.
            steps.append(("submitted", "dispatched", r.uniform(49, 120) if r.random() < 0.125 else r.uniform(1, 47)))

        if status == "rejected":
            if r.random() < 0.3:
                dispatch()
            steps.append((steps[-1][1], "rejected", r.uniform(1, 72)))
            return steps
        if status == "submitted":
            if r.random() < 0.3:  # back from a unit that declined it
                dispatch()
                steps.append(("dispatched", "submitted", r.uniform(2, 40)))
            return steps
        if wish:
            steps.append(("submitted", "accepted", r.uniform(1, 96)))
        else:
            while r.random() < 0.05:
                dispatch()
                steps.append(("dispatched", "submitted", r.uniform(2, 40)))
            dispatch()
            if status == "dispatched":
                return steps
            steps.append(("dispatched", "accepted", r.uniform(49, 100) if r.random() < 0.1 else r.uniform(1, 46)))
        if status == "accepted":
            return steps
        steps.append(("accepted", "completed", r.uniform(4, 24 * 20)))
        if status == "closed":
            rated = r.random() < 0.7
            # Unrated needs close by themselves 7 days after completion (the beat scan, every few minutes).
            steps.append(("completed", "closed", r.uniform(2, 24 * 6) if rated else 24 * 7 + r.uniform(0, 0.1)))
        return steps

    def place(self, status: str, steps: list[tuple[str, str, float]]) -> list[datetime]:
        """Times of the steps, none after `now`."""
        w, r = self.w, self.r
        offsets, total = [], 0.0
        for _source, _target, hours in steps:
            total += hours
            offsets.append(total)
        if status in OPEN_AGE_H:
            weights = [share for share, _low, _high in OPEN_AGE_H[status]]
            _share, low, high = r.choices(OPEN_AGE_H[status], weights)[0]
            last = w.now - timedelta(hours=r.uniform(low, high))
        else:
            last = max(w.moment(newer=1.5), w.start + timedelta(hours=total))
        return [last - timedelta(hours=total - o) for o in offsets]

    def rows(self, pk: int, events: list[tuple], flags: list[tuple]) -> tuple:
        w, r, g = self.w, self.r, self.w.g
        status, kind = self.status.one(), self.kind.one()
        community = w.community_picker.one()
        channel = self.channel.one()
        wish = kind == "micro_wish" and status in ("accepted", "completed", "closed") and r.random() < 0.6
        steps = self.path(status, wish)
        times = self.place(status, steps)
        staff = w.community_staff[community] if r.random() < 0.7 else w.staff
        unit = claimed_by = resource = None
        at: dict[str, datetime] = {}
        rating, result, reject_reason, note = None, "", "", ""
        for (source, target, _hours), moment in zip(steps, times, strict=True):
            actor = None
            if target == "submitted" and source == "":
                actor = staff if channel in ("phone", "visit", "staff") else None
                note = ""
            elif target == "dispatched":
                unit = w.unit_near(community)
                resource = (
                    r.choice(w.resources_by_unit[unit]) if unit in w.resources_by_unit and r.random() < 0.1 else None
                )
                actor, note = staff, ""
            elif target == "submitted":  # declined
                actor, note = w.liaison[unit], r.choice(DECLINE_REASONS)
                unit = resource = None
                at.pop("dispatched", None)
            elif target == "accepted" and wish:
                claimed_by = r.choice(w.member_users)
                actor, note = claimed_by, ""
            elif target in ("accepted", "completed"):
                actor = claimed_by if wish else w.liaison[unit]
                result = r.choice(RESULTS) if target == "completed" else ""
                note = result
            elif target == "closed":
                if _hours < 24 * 7:
                    rating = self.rating.one()
                    actor, note = None, f"评价 {rating}"
                else:
                    actor, note = None, "完成7天后自动关闭"
            elif target == "rejected":
                reject_reason = r.choice(REJECT_REASONS)
                actor, note = staff, reject_reason
            at[target] = moment
            events.append((pk, actor, moment, source, target, note))
        submitted = times[0]
        waited = at.get("accepted", w.now) - at["dispatched"] if "dispatched" in at else timedelta(0)
        if waited > SLA and at["dispatched"] + SLA <= w.now and status != "rejected":
            flags.append((pk, "accept", at["dispatched"] + SLA))
        first_dispatch = next(
            (t for (_s, target, _h), t in zip(steps, times, strict=True) if target == "dispatched"), None
        )
        if (first_dispatch or w.now) - submitted > SLA and submitted + SLA <= w.now and not wish:
            flags.append((pk, "dispatch", submitted + SLA))
        showcased = None
        if status in ("completed", "closed") and r.random() < 0.3:
            showcased = w.later(at["completed"], 1, 72)
        ended = at.get("closed") or at.get("rejected")
        anonymised = ended + self.retention + timedelta(hours=r.uniform(0, 24)) if ended else None
        if anonymised and anonymised > w.now:
            anonymised = None
        name, phone = g.name(), g.phone()
        address = f"某小区{r.randrange(1, 40)}号楼{r.randrange(1, 7)}单元"
        if anonymised:
            name = phone = address = ""
        return (
            pk,
            kind,
            r.choice(NEED_TITLES),
            NEED_TEXT,
            w.category_picker.one(),
            community,
            name,
            phone,
            address,
            channel,
            self.tracking_code(),
            status,
            unit,
            resource,
            claimed_by,
            staff if channel in ("phone", "visit", "staff") else None,
            submitted,
            at.get("dispatched"),
            at.get("accepted"),
            at.get("completed"),
            at.get("closed"),
            at.get("rejected"),
            reject_reason,
            result if status in ("completed", "closed") else "",
            rating,
            "服务很及时" if rating and rating >= 4 else "",
            showcased,
            anonymised,
            max(t for t in (times[-1], showcased, anonymised) if t),
        )


def _needs(w: World) -> None:
    maker = _Needs(w)
    first = next_id(Need)
    fields = (
        "id kind title description category community contact_name contact_phone address channel tracking_code"
        " status unit resource claimed_by created_by submitted_at dispatched_at accepted_at completed_at"
        " closed_at rejected_at reject_reason result rating rating_comment showcased_at anonymised_at updated_at"
    )
    # In chunks: a million needs and their four million timeline rows never sit in memory at once.
    for start in range(first, first + w.scale.needs, CHUNK):
        events: list[tuple] = []
        flags: list[tuple] = []
        needs = [maker.rows(pk, events, flags) for pk in range(start, min(start + CHUNK, first + w.scale.needs))]
        w.wishes.extend(row[0] for row in needs if row[14] is not None and row[11] in ("completed", "closed"))
        for row in needs:
            linked = w.needs_by_street.setdefault(w.community_street[row[5]], [])
            if row[11] == "closed" and len(linked) < 50:
                linked.append(row[0])
        w.copy("needs", Need, fields, needs)
        w.copy("need timeline", NeedEvent, "need actor at from_status to_status note", events)
        w.copy("overdue flags", NeedSlaFlag, "need stage flagged_at", flags)

"""Joint meetings: each street's quarterly joint meeting, each community's monthly one and each sector
branch's quarterly one as series with their occurrences over the two years and the next two months, plus
consultations and council meetings. Past meetings were held (a few cancelled, a few still waiting for
minutes), future ones are planned; invitations go to the units concerned with answers and attendance to
match; held meetings leave resolutions, most done by now, some with progress notes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from alliance.periods import ZONE
from meetings.models import Invitation, JointMeeting, MeetingSeries, Resolution, ResolutionProgress

from .rows import next_id
from .words import RESOLUTION_TEXTS
from .world import World

AGENDA = "一、通报上阶段工作\n二、协商辖区难题\n三、议定下阶段事项"


def write(w: World) -> None:
    r = w.rng
    series_rows, series_units = [], []
    # (series, level, kind, community, sector, title, months between, organiser, units)
    plans: list[tuple] = []
    series_id = next_id(MeetingSeries)
    for street in w.streets:
        street_units = w.units_by_street.get(street, [])
        plans.append((series_id, "street", "regular", None, None, "街道联席会议", 3, w.staff, street_units))
        series_id += 1
        for c in (c for c in w.communities if w.community_street[c] == street):
            units = w.units_by_community.get(c, [])
            plans.append((series_id, "community", "regular", c, None, "社区联席会议", 1, w.community_staff[c], units))
            series_id += 1
        for kind, sector in w.sectors[street].items():
            units = [u for u in street_units if w.unit_sector[u] == sector]
            plans.append((series_id, "sector", "regular", None, sector, f"{kind}分会会议", 3, w.staff, units))
            series_id += 1
    first_month = w.start.date().replace(day=1)
    for series, level, kind, community, sector, title, every, organiser, units in plans:
        recurrence = "quarterly" if every == 3 else "monthly"
        place = "党群服务中心"
        row = (series, title, level, kind, community, sector, recurrence, 10, time(9, 30), 90, place, organiser)
        series_rows.append((*row, first_month, w.start))
        series_units.extend((series, u) for u in units)
    w.copy(
        "meeting series",
        MeetingSeries,
        "id title level kind community sector recurrence day_of_month start_time duration_minutes place organiser"
        " starts_on created_at",
        series_rows,
    )
    w.copy("series invitees", MeetingSeries.invited_units.through, "meetingseries memberunit", series_units)

    # (series, occurrence, level, kind, community, sector, title, start, organiser, units)
    meetings: list[tuple] = []
    horizon = w.today + timedelta(days=60)
    for series, level, kind, community, sector, title, every, organiser, units in plans:
        month = first_month
        while month <= horizon:
            start = datetime.combine(month.replace(day=10), time(9, 30), tzinfo=ZONE)
            label = f"{title}（{month.year}年{month.month}月）"
            meetings.append((series, month, level, kind, community, sector, label, start, organiser, units))
            month = _add_months(month, every)
    for c in w.communities:
        units = w.units_by_community.get(c, [])
        for _ in range(w.scale.consultations_per_community):
            invited = r.sample(units, k=min(len(units), r.randrange(3, 15)))
            start = w.moment().replace(minute=0, second=0, microsecond=0)
            meetings.append(
                (None, None, "community", "consultation", c, None, "专题协商会", start, w.community_staff[c], invited)
            )
    for street in w.streets:
        holders = w.units_by_street.get(street, [])[:16]
        for half in range(4):
            start = datetime.combine(w.start.date() + timedelta(days=90 + 182 * half), time(14), tzinfo=ZONE)
            meetings.append((None, None, "council", "council", None, None, "理事会会议", start, w.staff, holders))
    _meetings(w, meetings)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def _meetings(w: World, meetings: list[tuple]) -> None:
    r, g = w.rng, w.g
    meeting_id, resolution_id = next_id(JointMeeting), next_id(Resolution)
    meeting_rows, invitation_rows, resolution_rows, progress_rows = [], [], [], []
    for series, occurrence, level, kind, community, sector, title, start, organiser, units in meetings:
        # "planned" in the past: held, but the minutes are not in yet (the reminder's business).
        status = g.pick([("held", 0.9), ("cancelled", 0.04), ("planned", 0.06)]) if start < w.now else "planned"
        held = status == "held"
        meeting_rows.append(
            (
                meeting_id,
                series,
                occurrence,
                level,
                kind,
                title,
                start,
                start + timedelta(minutes=90),
                "党群服务中心会议室",
                AGENDA,
                organiser,
                community,
                sector,
                status,
                "时间冲突，另行通知" if status == "cancelled" else "",
                "会议议定了本阶段的共建事项。" if held else "",
                min(start + timedelta(hours=r.uniform(3, 72)), w.now) if held else None,
                min(start - timedelta(days=14), w.now),
                min(start, w.now),
            )
        )
        for unit in units:
            if held:
                state = g.pick([("attended", 0.82), ("absent", 0.18)])
            elif start > w.now:
                state = g.pick([("invited", 0.4), ("confirmed", 0.5), ("declined", 0.1)])
            else:
                state = g.pick([("invited", 0.3), ("confirmed", 0.6), ("declined", 0.1)])
            answered = min(start - timedelta(hours=r.uniform(2, 96)), w.now) if state != "invited" else None
            if state in ("attended", "absent"):
                answered = start + timedelta(hours=2)
            by = (organiser if state in ("attended", "absent") else w.liaison[unit]) if answered else None
            invitation_rows.append((meeting_id, unit, state, answered, by))
        if held and units:
            for _ in range(r.randrange(0, 4)):
                written = start + timedelta(hours=3)
                due = (start + timedelta(days=r.randrange(7, 60))).date()
                done_at = start + timedelta(days=r.uniform(3, 70))
                done = done_at <= w.now and r.random() < 0.75
                resolution_rows.append(
                    (
                        resolution_id,
                        meeting_id,
                        r.choice(RESOLUTION_TEXTS),
                        r.choice(units),
                        due,
                        "done" if done else "open",
                        done_at if done else None,
                        written,
                        done_at if done else written,
                    )
                )
                if r.random() < 0.5:
                    note_at = min(written + timedelta(days=5), w.now)
                    progress_rows.append((resolution_id, organiser, "已召开协调会，正在推进。", note_at))
                resolution_id += 1
        meeting_id += 1
    w.copy(
        "meetings",
        JointMeeting,
        "id series occurrence level kind title start end place agenda organiser community sector status"
        " cancel_reason minutes minutes_written_at created_at updated_at",
        meeting_rows,
    )
    w.copy("invitations", Invitation, "meeting unit status responded_at responded_by", invitation_rows)
    w.copy(
        "resolutions",
        Resolution,
        "id meeting text owner due_date status done_at created_at updated_at",
        resolution_rows,
    )
    w.copy("resolution progress", ResolutionProgress, "resolution author text at", progress_rows)

"""The meetings part of the demo: a year of the street's quarterly joint meetings and the first
community's monthly ones (seeds 002, 003), with minutes, attendance and resolutions in every state, and
one meeting tomorrow so that reminders go out while the demo runs."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from .models import Invitation, JointMeeting, Level, MeetingSeries, Resolution, ResolutionProgress
from .services import series_plan

RESOLUTIONS = [
    "协调驻区单位开放停车位，缓解老旧小区停车难",
    "组织成员单位开展冬季送温暖活动",
    "推进桥头街3号楼加装电梯议事协商",
    "整治开化寺街沿街占道经营",
    "建立在职党员进社区志愿服务台账",
    "联合开展消防安全宣传进楼院",
]
MINUTES = "会议通报了上季度共建项目进展，成员单位交流了资源共享情况，议定事项如下。"


def seed(*, context: dict, password: str, stdout) -> None:
    rng = random.Random(2029)
    now = timezone.now()
    today = timezone.localdate()
    staff, community_staff = context["users"]["staff"], context["users"]["community"]
    community = context["communities"][0]
    units = [u for u in context["units"] if u.status == "active"]
    liaison_unit = context["liaison_unit"]

    street_series = MeetingSeries.objects.create(
        title="柳巷街道区域化党建联席会议",
        level=Level.STREET,
        recurrence="quarterly",
        day_of_month=15,
        start_time=time(9, 0),
        place="柳巷街道党群服务中心三楼会议室",
        organiser=staff,
        starts_on=today.replace(day=1),
        agenda="通报上季度工作\n成员单位交流\n议定下季度事项",
    )
    community_series = MeetingSeries.objects.create(
        title=f"{community.name}大党委联席会议",
        level=Level.COMMUNITY,
        community=community,
        recurrence="monthly",
        day_of_month=10,
        start_time=time(14, 30),
        place=f"{community.name}党群服务站",
        organiser=community_staff,
        starts_on=today.replace(day=1),
        agenda="居民需求梳理\n共建项目推进",
    )
    street_series.invited_units.set([*units[:12], liaison_unit])
    community_series.invited_units.set([*[u for u in units if u.community_id == community.pk][:8], liaison_unit])

    meetings = []
    # The past year: four street meetings and twelve community meetings, held and minuted.
    for i in range(1, 13):
        day = today - timedelta(days=30 * i)
        for series, every in ((street_series, 3), (community_series, 1)):
            if i % every:
                continue
            start = timezone.make_aware(datetime.combine(day.replace(day=series.day_of_month), series.start_time))
            meetings.append(
                JointMeeting(
                    series=series,
                    level=series.level,
                    title=f"{series.title}（{start.year}-{start.month:02d}）",
                    start=start,
                    end=start + timedelta(minutes=90),
                    place=series.place,
                    agenda=series.agenda,
                    organiser=series.organiser,
                    community=series.community,
                    status=JointMeeting.Status.HELD,
                    minutes=MINUTES if i > 1 else "",  # last month's minutes are still to be written
                    minutes_written_at=start + timedelta(days=1) if i > 1 else None,
                )
            )
    # A consultation on one problem (议事协商会), cancelled once, and one tomorrow morning.
    tomorrow = timezone.make_aware(datetime.combine(today + timedelta(days=1), time(9, 0)))
    soon = max(tomorrow, now + timedelta(hours=2))
    meetings.append(
        JointMeeting(
            level=Level.COMMUNITY,
            kind="consultation",
            title="桥头街3号楼加装电梯议事协商会",
            start=soon,
            end=soon + timedelta(hours=1),
            place=f"{community.name}议事厅",
            agenda="听取居民意见\n商议出资方案",
            organiser=community_staff,
            community=community,
        )
    )
    cancelled_at = now + timedelta(days=5)
    meetings.append(
        JointMeeting(
            level=Level.COUNCIL,
            kind="council",
            title="联盟理事会临时会议",
            start=cancelled_at,
            end=cancelled_at + timedelta(hours=1),
            place="柳巷街道党群服务中心",
            organiser=staff,
            status=JointMeeting.Status.CANCELLED,
            cancel_reason="与区里会议时间冲突，另行通知",
        )
    )
    JointMeeting.objects.bulk_create(meetings)

    invitations = []
    for meeting in meetings:
        invited = list(meeting.series.invited_units.all()) if meeting.series else [liaison_unit, *units[20:26]]
        for unit in invited:
            if meeting.status == JointMeeting.Status.HELD:
                status = rng.choices(["attended", "absent"], weights=[5, 1])[0]
            else:
                status = "confirmed" if unit == liaison_unit or rng.random() < 0.3 else "invited"
            invitations.append(Invitation(meeting=meeting, unit=unit, status=status))
    Invitation.objects.bulk_create(invitations)

    resolutions = []
    held = [m for m in meetings if m.status == JointMeeting.Status.HELD]
    for i, meeting in enumerate(held[:10]):
        owner = liaison_unit if i % 3 == 0 else rng.choice(units)
        due = timezone.localtime(meeting.start).date() + timedelta(days=rng.choice([20, 45, 90, 200]))
        done = due < today and i % 2 == 0
        resolutions.append(
            Resolution(
                meeting=meeting,
                text=RESOLUTIONS[i % len(RESOLUTIONS)],
                owner=owner,
                due_date=due,
                status=Resolution.Status.DONE if done else Resolution.Status.OPEN,
                done_at=now - timedelta(days=3) if done else None,
            )
        )
    Resolution.objects.bulk_create(resolutions)
    # auto_now_add stamps the rows with today: a resolution is recorded when its meeting ends, and its
    # progress note falls halfway to when it was done (or to now), so that each timeline reads forwards.
    for resolution in resolutions:
        resolution.created_at = resolution.meeting.end + timedelta(hours=2)
    Resolution.objects.bulk_update(resolutions, ["created_at"])
    notes = ResolutionProgress.objects.bulk_create(
        ResolutionProgress(resolution=r, author=staff, text="已召开协调会，正在推进。") for r in resolutions[::2]
    )
    for note in notes:
        recorded = note.resolution.created_at
        note.at = recorded + ((note.resolution.done_at or now) - recorded) / 2
    ResolutionProgress.objects.bulk_update(notes, ["at"])
    # The next six months of both series, planned as the nightly task would.

    planned = series_plan(series=street_series) + series_plan(series=community_series)
    stdout.write(f"  {len(planned)} meetings planned ahead")
    stdout.write(f"  {len(meetings)} meetings, {len(invitations)} invitations, {len(resolutions)} resolutions")

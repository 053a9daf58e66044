"""A small world for the quarterly workbook (季度报表): one street's 2026 Q1, with data either side of its
bounds (the quarter before, the quarter after) and a second street that must never show up.

Timestamps the models set themselves (`auto_now_add`: submitted, created, claimed) are moved with an UPDATE
after creation, the way the rows would have been written on those days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from alliance.periods import ZONE, Quarter
from demands.models import Need, Resource
from meetings.models import Invitation, JointMeeting, Level, Resolution
from projects.models import ProjectClaim, ServiceProject
from volunteers.models import PartyMember

from ..demands.factories import NeedFactory, ResourceFactory
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory
from ..meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

QUARTER = Quarter(2026, 1)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An aware moment on the street's clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def stamp(obj, **fields):
    """Set fields the model fills itself (auto_now_add) — an UPDATE, as `save()` would overwrite them."""
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    obj.refresh_from_db()
    return obj


def need(*, submitted: datetime, **fields) -> Need:
    return stamp(NeedFactory(**fields), submitted_at=submitted)


def done_need(*, submitted, dispatched, completed, unit, **fields) -> Need:
    status = Need.Status.CLOSED if fields.get("closed_at") else Need.Status.COMPLETED
    return need(
        submitted=submitted,
        unit=unit,
        status=status,
        dispatched_at=dispatched,
        accepted_at=dispatched,
        completed_at=completed,
        result="已办好",
        **fields,
    )


@dataclass
class World:
    street: object
    other_street: object
    quarter: Quarter = QUARTER
    # Every resident's, member's and invited person's full name and phone written in the world.
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    objects: dict[str, object] = field(default_factory=dict)


def build_world() -> World:
    street = StreetFactory(name="柳巷街道")
    other = StreetFactory(name="桥西街道")
    cx = CommunityFactory(street=street, name="桥头街社区", sort_order=1)
    cy = CommunityFactory(street=street, name="柳北社区", sort_order=2)
    ct = CommunityFactory(street=other, name="桥西社区")
    ua = MemberUnitFactory(name="山西饭店", community=cx, joined_on=date(2024, 5, 1))
    ub = MemberUnitFactory(name="太原市第五中学", community=cy, joined_on=date(2026, 2, 1))
    ut = MemberUnitFactory(name="外街单位", community=ct, joined_on=date(2024, 5, 1))
    MemberUnitFactory(name="后来的单位", community=cy, joined_on=date(2026, 5, 1))
    health, law = CategoryFactory(name="医疗健康"), CategoryFactory(name="法律服务")
    world = World(street=street, other_street=other)
    o = world.objects
    o.update(cx=cx, cy=cy, ct=ct, ua=ua, ub=ub, ut=ut)

    # --- Needs -------------------------------------------------------------------------------------------
    o["n_closed"] = done_need(
        submitted=at(2026, 1, 10),
        dispatched=at(2026, 1, 11),
        completed=at(2026, 1, 15),
        closed_at=at(2026, 1, 20),
        rating=5,
        unit=ua,
        community=cx,
        category=health,
        contact_name="赵大爷",
        contact_phone="13700000001",
    )
    # Completed at 23:30 on 31 March Beijing time (15:30 UTC): Q1.
    o["n_march"] = done_need(
        submitted=at(2026, 3, 1),
        dispatched=at(2026, 3, 25, 9),
        completed=at(2026, 3, 31, 23, 30),
        rating=4,
        unit=ub,
        community=cy,
        category=law,
        contact_name="钱阿姨",
        contact_phone="13700000002",
    )
    # Completed at 00:30 on 1 April: Q2 — in Q1's list as still open at its end.
    o["n_april"] = done_need(
        submitted=at(2026, 3, 20),
        dispatched=at(2026, 3, 21),
        completed=at(2026, 4, 1, 0, 30),
        unit=ua,
        community=cx,
        category=health,
        contact_name="孙奶奶",
        contact_phone="13700000003",
    )
    # Submitted in the quarter before and still waiting: in both quarters' lists.
    o["n_waiting"] = need(
        submitted=at(2025, 12, 20), community=cy, category=law, contact_name="李大爷", contact_phone="13700000004"
    )
    # Finished in the quarter before: not in Q1's list.
    o["n_old"] = done_need(
        submitted=at(2025, 11, 1),
        dispatched=at(2025, 11, 2),
        completed=at(2025, 11, 5),
        closed_at=at(2025, 11, 12),
        rating=3,
        unit=ua,
        community=cx,
        category=health,
        contact_name="周大娘",
        contact_phone="13700000005",
    )
    # Formula-looking text from the public form.
    o["n_formula"] = need(
        submitted=at(2026, 2, 1),
        title='=HYPERLINK("http://x.example","点我")',
        community=cx,
        category=health,
        contact_name="-吴",
        contact_phone="13700000006",
        address="@3单元",
    )
    # Completed 15 days after dispatch: late.
    o["n_late"] = done_need(
        submitted=at(2026, 2, 10),
        dispatched=at(2026, 2, 10, 12),
        completed=at(2026, 2, 25),
        rating=2,
        unit=ua,
        community=cx,
        category=law,
        contact_name="郑大哥",
        contact_phone="13700000007",
    )
    o["n_rejected"] = need(
        submitted=at(2026, 1, 5),
        status=Need.Status.REJECTED,
        rejected_at=at(2026, 1, 6),
        reject_reason="重复",
        community=cy,
        category=law,
        contact_name="王老师",
        contact_phone="13700000008",
    )
    o["n_next_quarter"] = need(
        submitted=at(2026, 4, 5), community=cx, category=law, contact_name="冯先生", contact_phone="13700000009"
    )
    o["n_other_street"] = need(
        submitted=at(2026, 2, 1), community=ct, category=law, contact_name="陈外街", contact_phone="13700000010"
    )
    world.names += ["赵大爷", "钱阿姨", "孙奶奶", "李大爷", "郑大哥", "王老师"]
    world.phones += [f"137000000{n:02d}" for n in (1, 2, 3, 4, 6, 7, 8)]

    # --- Resources ---------------------------------------------------------------------------------------
    o["r_old"] = stamp(ResourceFactory(unit=ua, category=health, capacity=30), created_at=at(2025, 10, 1))
    o["r_new"] = stamp(
        ResourceFactory(unit=ub, category=law, kind=Resource.Kind.VENUE, capacity=None, is_free=False),
        created_at=at(2026, 2, 1),
    )
    o["r_withdrawn"] = stamp(
        ResourceFactory(unit=ua, category=law, status=Resource.Status.WITHDRAWN), created_at=at(2026, 1, 1)
    )
    o["r_later"] = stamp(ResourceFactory(unit=ua, category=law), created_at=at(2026, 5, 1))
    o["r_other_street"] = stamp(ResourceFactory(unit=ut, category=law), created_at=at(2026, 2, 1))

    # --- Projects, claims and activities -----------------------------------------------------------------
    running = ProjectFactory(
        street=street,
        community=cx,
        category=health,
        title="义诊进社区",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 6, 30),
        status=ServiceProject.Status.RUNNING,
    )
    o["c_approved"] = stamp(
        ClaimFactory(project=running, unit=ua, decided_at=at(2026, 1, 10), commitment="+每月一次义诊"),
        created_at=at(2026, 1, 5),
    )
    o["c_pending"] = stamp(
        ClaimFactory(project=running, unit=ub, status=ProjectClaim.Status.PENDING), created_at=at(2026, 3, 1)
    )
    # A claim made after the quarter: not in its claim table.
    o["c_later"] = stamp(
        ClaimFactory(
            project=running,
            unit=MemberUnitFactory(community=cy, joined_on=date(2025, 1, 1)),
            status=ProjectClaim.Status.PENDING,
        ),
        created_at=at(2026, 4, 2),
    )
    finished = ProjectFactory(
        street=street,
        community=None,
        category=law,
        title="法律明白人",
        starts_on=date(2025, 10, 1),
        ends_on=date(2026, 3, 31),
        status=ServiceProject.Status.FINISHED,
    )
    o["c_completed"] = stamp(
        ClaimFactory(project=finished, unit=ua, status=ProjectClaim.Status.COMPLETED, decided_at=at(2025, 10, 5)),
        created_at=at(2025, 10, 2),
    )
    o["p_unclaimed"] = ProjectFactory(
        street=street, community=cy, category=law, title="无人认领的项目", starts_on=date(2026, 2, 1)
    )
    ProjectFactory(street=street, community=cy, category=law, status=ServiceProject.Status.DRAFT)
    ProjectFactory(street=street, community=cy, category=law, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    other_project = ProjectFactory(street=other, community=ct, category=law, title="外街项目")
    other_claim = ClaimFactory(project=other_project, unit=ut)

    ActivityFactory(claim=o["c_approved"], date=date(2026, 2, 15), hours=Decimal("4.0"), beneficiaries=120)
    ActivityFactory(claim=o["c_completed"], date=date(2026, 3, 31), hours=Decimal("2.5"), place="@小区广场")
    ActivityFactory(claim=o["c_approved"], date=date(2026, 4, 1), hours=Decimal("3.0"))
    ActivityFactory(claim=o["c_completed"], date=date(2025, 12, 31), hours=Decimal("1.0"))
    ActivityFactory(claim=other_claim, date=date(2026, 2, 1), hours=Decimal("9.0"))

    # --- Meetings, attendance, resolutions ---------------------------------------------------------------
    clerk = UserFactory(last_name="周", first_name="会计")
    world.names.append("周会计")
    street_meeting = MeetingFactory(
        level=Level.STREET, start=at(2026, 3, 10, 14, 30), status=JointMeeting.Status.HELD, title="第一季度联席会议"
    )
    InvitationFactory(meeting=street_meeting, unit=ua, status=Invitation.Status.ATTENDED)
    InvitationFactory(meeting=street_meeting, unit=ub, status=Invitation.Status.ABSENT)
    InvitationFactory(meeting=street_meeting, unit=None, person=clerk, status=Invitation.Status.ATTENDED)
    community_meeting = MeetingFactory(
        level=Level.COMMUNITY, community=cx, start=at(2026, 2, 10, 9), status=JointMeeting.Status.HELD
    )
    InvitationFactory(meeting=community_meeting, unit=ua, status=Invitation.Status.ATTENDED)
    planned = MeetingFactory(level=Level.COMMUNITY, community=cy, start=at(2026, 3, 28, 9))
    InvitationFactory(meeting=planned, unit=ub, status=Invitation.Status.CONFIRMED)
    o["m_unattended"] = MeetingFactory(level=Level.COMMUNITY, community=cy, start=at(2026, 1, 20, 9))
    december = MeetingFactory(
        level=Level.COMMUNITY, community=cx, start=at(2025, 12, 15, 9), status=JointMeeting.Status.HELD
    )
    InvitationFactory(meeting=december, unit=ua, status=Invitation.Status.ABSENT)
    other_meeting = MeetingFactory(
        level=Level.COMMUNITY, community=ct, start=at(2026, 2, 1, 9), status=JointMeeting.Status.HELD
    )
    InvitationFactory(meeting=other_meeting, unit=ut, status=Invitation.Status.ATTENDED)
    o.update(street_meeting=street_meeting, community_meeting=community_meeting, december=december)

    def resolution(meeting, made: datetime, **fields) -> Resolution:
        return stamp(ResolutionFactory(meeting=meeting, **fields), created_at=made)

    o["res_on_time"] = resolution(
        street_meeting,
        at(2026, 3, 10),
        owner=ua,
        due_date=date(2026, 3, 20),
        status=Resolution.Status.DONE,
        done_at=at(2026, 3, 20, 23, 0),
    )
    o["res_overdue"] = resolution(community_meeting, at(2026, 2, 10), owner=ub, due_date=date(2026, 3, 31))
    o["res_late"] = resolution(
        december,
        at(2025, 12, 15),
        owner=ua,
        due_date=date(2026, 1, 15),
        status=Resolution.Status.DONE,
        done_at=at(2026, 2, 1),
        text="-明确责任人",
    )
    o["res_later_due"] = resolution(street_meeting, at(2026, 3, 10), owner=ub, due_date=date(2026, 5, 1))
    o["res_december"] = resolution(december, at(2025, 12, 15), owner=ua, due_date=date(2025, 12, 31))
    resolution(other_meeting, at(2026, 2, 1), owner=ut, due_date=date(2026, 3, 1))

    # --- In-service Party members and their hours --------------------------------------------------------
    wu = PartyMemberFactory(
        name="吴晓明", phone="13600000001", work_unit=ua, residence_community=cx, registered_on=date(2025, 6, 1)
    )
    ServiceLogFactory(member=wu, date=date(2026, 1, 10), hours=Decimal("2.0"))
    ServiceLogFactory(member=wu, date=date(2026, 3, 31), hours=Decimal("1.5"))
    ServiceLogFactory(member=wu, date=date(2026, 2, 1), hours=Decimal("3.0"), verified=False)
    ServiceLogFactory(member=wu, date=date(2026, 4, 1), hours=Decimal("2.0"))
    ServiceLogFactory(member=wu, date=date(2025, 12, 31), hours=Decimal("5.0"))
    # Works at a unit that has not joined: the free-text work unit.
    zheng = PartyMemberFactory(
        name="郑小红",
        phone="13600000002",
        work_unit=None,
        work_unit_name="市第一医院",
        residence_community=cy,
        registered_on=date(2025, 6, 1),
    )
    ServiceLogFactory(member=zheng, date=date(2026, 2, 2), hours=Decimal("4.0"))
    # Moved away since, but served here in the quarter: the hours still count.
    feng = PartyMemberFactory(
        name="冯静",
        phone="13600000003",
        work_unit=ub,
        residence_community=cx,
        registered_on=date(2025, 6, 1),
        status=PartyMember.Status.ENDED,
    )
    ServiceLogFactory(member=feng, date=date(2026, 1, 20), hours=Decimal("1.0"))
    # Verified, no hours in the quarter: a row with 0.
    PartyMemberFactory(
        name="陈立", phone="13600000004", work_unit=ub, residence_community=cy, registered_on=date(2026, 1, 15)
    )
    # Not in the list: pending; registered after the quarter; another street.
    PartyMemberFactory(
        name="褚卫", phone="13600000005", work_unit=ua, residence_community=cx, status=PartyMember.Status.PENDING
    )
    PartyMemberFactory(
        name="卫东", phone="13600000006", work_unit=ua, residence_community=cx, registered_on=date(2026, 4, 10)
    )
    outsider = PartyMemberFactory(name="蒋外", phone="13600000007", work_unit=ut, residence_community=ct)
    ServiceLogFactory(member=outsider, date=date(2026, 2, 2), hours=Decimal("6.0"))
    world.names += ["吴晓明", "郑小红", "冯静", "陈立"]
    world.phones += ["13600000001", "13600000002", "13600000003", "13600000004"]
    return world

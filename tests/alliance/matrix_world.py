"""The one world the authorization matrix runs against: the cast of tests/conftest.py, built the same way
(same names, same services), and for every model one object on each side — side A belongs to unit_a in
community_x, side B to unit_b in community_y. URL parameters are always filled with side A's objects, so
liaison_a and community_x_staff ask for objects "of mine" and liaison_b and community_y_staff, who hold
the same rights on side B, for objects "of the other". Uploaded files are real files under a temporary
MEDIA_ROOT."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from alliance import permissions
from alliance.models import Job, Notification, WorkdayOverride
from demands.models import Booking, Need, NeedPhoto
from meetings import services as meeting_services
from meetings.models import Invitation, JointMeeting, Level, MeetingAttachment, Reminder, ResolutionProgress
from members import services as member_services
from members.models import (
    Agreement,
    Assessment,
    AssessmentScheme,
    CouncilSeat,
    CouncilTerm,
    District,
    Grid,
    Notice,
    NoticeAttachment,
    QuarterlyReport,
    Street,
    StreetStaff,
)
from projects.models import ActivityPhoto
from volunteers.models import PointsEntry, PointsRule, PostClaim, VolunteerTeam

from ..demands.factories import NeedFactory, ResourceFactory, VenueFactory
from ..factories import (
    CategoryFactory,
    CommunityFactory,
    MemberUnitFactory,
    SectorFactory,
    StreetFactory,
    UserFactory,
)
from ..meetings.factories import MeetingFactory, ResolutionFactory, SeriesFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory, ReviewFactory
from ..volunteers.factories import PartyMemberFactory, PostFactory, ServiceLogFactory

# A 1×1 PNG: uploads are real files with real content.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class World:
    """Side A's object of each model by its label (`demands.need`), the cast by role, and a few extras."""

    def __init__(self) -> None:
        self.users: dict[str, object] = {}
        self.a: dict[str, object] = {}
        self.b: dict[str, object] = {}
        self.extra: dict[str, object] = {}

    def __getitem__(self, label: str):
        return self.a[label]


def _side(world: World, side: str, *, community, unit, liaison, staff, root, category, street, sector) -> dict:
    now = timezone.now()
    objs: dict[str, object] = {"members.community": community, "members.memberunit": unit}
    objs["members.grid"] = Grid.objects.create(community=community, name=f"{community.name}第一网格")
    agreement = Agreement.objects.create(
        unit=unit, title="共驻共建协议书", signed_on=date(2025, 3, 1), term_end=date(2028, 2, 28)
    )
    agreement.file.save("协议书.pdf", ContentFile(b"%PDF-1.4 signed agreement"), save=True)
    objs["members.agreement"] = agreement
    objs["members.councilseat"] = CouncilSeat.objects.create(
        street=street,
        role=CouncilSeat.Role.MEMBER,
        unit=unit,
        holder_name="张理事",
        term_start=date(2025, 1, 1),
        term_end=date(2027, 12, 31),
    )
    # The council's terms (届): side A's is the current one.
    objs["members.councilterm"] = CouncilTerm.objects.create(
        street=street,
        number=1 if side == "a" else 2,
        start=date(2025, 1, 1),
        end=date(2027, 12, 31),
        is_current=side == "a",
    )
    objs["members.unitmembership"] = unit.memberships.get(user=liaison)
    objs["members.communitystaff"] = community.staff.get(user=staff)
    objs["members.sector"] = sector
    objs["members.street"] = street
    objs["alliance.category"] = category
    # A local day off (side A) and a make-up working day (side B) of the working-day calendar.
    objs["alliance.workdayoverride"] = WorkdayOverride.objects.create(
        day=date(2026, 12, 24) if side == "a" else date(2026, 12, 27), is_working_day=side == "b", note="本地调整"
    )
    # The street's report of 2026 Q3, built: side A the internal edition, side B the outward one.
    job = Job.objects.create(kind="members.quarterly_report", label="季度报表", status=Job.Status.DONE)
    report = QuarterlyReport.objects.create(
        street=street, year=2026, quarter=3, edition="internal" if side == "a" else "outward", job=job, size=4
    )
    report.file.save("report.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    report.generated_at = now
    report.save()
    objs["members.quarterlyreport"] = report
    objs["alliance.job"] = job
    # The street's scheme (one per year: side B's is the next year's) and the unit's assessment.
    objs["members.assessmentscheme"] = AssessmentScheme.objects.create(
        street=street, year=2026 if side == "a" else 2027
    )
    objs["members.assessment"] = Assessment.objects.create(unit=unit, year=2026, quarter=2)
    # A published notice of the street with an attachment (public, like its page).
    notice = Notice.objects.create(
        street=street, title=f"{community.name}停水通知", body="明日停水。", publish_from=now - timedelta(days=1)
    )
    NoticeAttachment.objects.create(notice=notice, title="时间表", file=ContentFile(b"%PDF-1.4", name="notice.pdf"))
    objs["members.notice"] = notice

    need = NeedFactory(
        community=community, category=category, status=Need.Status.DISPATCHED, unit=unit, dispatched_at=now
    )
    NeedPhoto.objects.create(need=need, image=ContentFile(PNG, name="photo.png"))
    objs["demands.need"] = need
    objs["demands.resource"] = ResourceFactory(unit=unit, category=category)
    venue = VenueFactory(resource__unit=unit, resource__category=category)
    objs["demands.venue"] = venue
    # The side's own liaison books the side's venue: seen by that liaison, the venue's community's staff and
    # the street's; decided by the liaison (the owner) and street staff.
    start = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    objs["demands.booking"] = Booking.objects.create(
        venue=venue,
        requester=liaison,
        unit=unit,
        start=start,
        end=start + timedelta(hours=1),
        purpose="党课",
        people=10,
    )
    objs["wish"] = NeedFactory(community=community, category=category, kind=Need.Kind.MICRO_WISH)

    project = ProjectFactory(street=street, community=community, category=category)
    claim = ClaimFactory(project=project, unit=unit, claimed_by=liaison)
    activity = ActivityFactory(claim=claim, recorded_by=liaison)
    ActivityPhoto.objects.create(activity=activity, image=ContentFile(PNG, name="activity.png"))
    objs["projects.serviceproject"] = project
    objs["projects.projectclaim"] = claim
    objs["projects.serviceactivity"] = activity
    objs["projects.commitmentreview"] = ReviewFactory(claim=claim, reviewer=root)

    series = SeriesFactory(community=community, organiser=staff)
    # Held last week and minuted, the unit attended: its liaison may read the minutes.
    meeting = MeetingFactory(
        level=Level.COMMUNITY,
        community=community,
        organiser=staff,
        start=now - timedelta(days=7),
        status=JointMeeting.Status.HELD,
        minutes=f"{community.name}会议纪要：议定开放停车位。",
        minutes_written_at=now - timedelta(days=6),
    )
    Invitation.objects.create(meeting=meeting, unit=unit, status=Invitation.Status.ATTENDED)
    MeetingAttachment.objects.create(meeting=meeting, title="议程", file=ContentFile(b"%PDF-1.4", name="agenda.pdf"))
    resolution = ResolutionFactory(meeting=meeting, owner=unit, text=f"{unit.name}协调开放停车位")
    ResolutionProgress.objects.create(resolution=resolution, author=liaison, text="已联系物业")
    objs["meetings.meetingseries"] = series
    objs["meetings.jointmeeting"] = meeting
    objs["meetings.resolution"] = resolution
    objs["meetings.reminder"] = Reminder.objects.create(
        kind=Reminder.Kind.MEETING_24H, meeting=meeting, version=1, recipient=liaison
    )
    objs["calendar_feed"] = meeting_services.calendar_feed_for(unit=unit, actor=liaison)

    party_member = PartyMemberFactory(residence_community=community, work_unit=unit)
    post = PostFactory(community=community)
    PostClaim.objects.create(post=post, member=party_member)
    objs["volunteers.partymember"] = party_member
    objs["volunteers.volunteerpost"] = post
    objs["volunteers.postclaim"] = party_member.post_claims.get()
    team = VolunteerTeam.objects.create(name=f"{community.name}志愿服务队", community=community)
    team.members.add(party_member)
    objs["volunteers.volunteerteam"] = team
    objs["volunteers.servicelog"] = ServiceLogFactory(member=party_member, post=post, hours=Decimal("2.0"))
    # The points ledger (issue 15): side A's member earned points for verified hours.
    objs["volunteers.pointsentry"] = PointsEntry.objects.create(
        member=party_member,
        community=community,
        points=2,
        reason="服务时长",
        source_kind=PointsEntry.Source.SERVICE_LOG,
        source_id=objs["volunteers.servicelog"].pk,
        year=2026,
        quarter=3,
        approved_by=staff,
    )

    objs["auth.user"] = liaison
    objs["auth.group"] = Group.objects.get(name=permissions.COMMUNITY_STAFF_GROUP)
    # DRF's token admin finds a token by its user's primary key, not by the key itself.
    Token.objects.create(user=liaison)
    objs["authtoken.tokenproxy"] = SimpleNamespace(pk=liaison.pk)
    objs["axes.accessattempt"] = AccessAttempt.objects.create(
        username=liaison.username, ip_address="192.0.2.1", user_agent="matrix", failures_since_start=1, attempt_time=now
    )
    objs["alliance.notification"] = Notification.objects.create(
        recipient=liaison, kind="test", subject="通知", body="正文", status=Notification.Status.SENT, sent_at=now
    )
    return objs


def build_world() -> World:
    world = World()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    street = StreetFactory()
    community_x = CommunityFactory(name="桥头街社区", street=street)
    community_y = CommunityFactory(name="柳北社区", street=street)
    unit_a = MemberUnitFactory(name="山西饭店", community=community_x)
    unit_b = MemberUnitFactory(name="太原市第五中学", community=community_y)

    users = world.users
    users["anonymous"] = None
    users["liaison_a"] = UserFactory(username="liaison_a", first_name="王芳")
    member_services.unit_membership_add(unit=unit_a, user=users["liaison_a"], actor=root)
    users["liaison_b"] = UserFactory(username="liaison_b")
    member_services.unit_membership_add(unit=unit_b, user=users["liaison_b"], actor=root)
    users["community_x_staff"] = UserFactory(username="community_x_staff")
    member_services.community_staff_add(user=users["community_x_staff"], community=community_x, actor=root)
    users["community_y_staff"] = UserFactory(username="community_y_staff")
    member_services.community_staff_add(user=users["community_y_staff"], community=community_y, actor=root)
    users["street_staff"] = UserFactory(username="street_staff", is_staff=True)
    # Assigned to the street as tests/conftest.py does (the street's staff see their streets: streets_of).
    member_services.street_staff_add(user=users["street_staff"], street=street, actor=root)
    users["member"] = UserFactory(username="member")

    category = CategoryFactory(code="repair", name="维修")
    sector = SectorFactory(street=street)
    common = {"root": root, "category": category, "street": street, "sector": sector}
    world.a = _side(
        world,
        "a",
        community=community_x,
        unit=unit_a,
        liaison=users["liaison_a"],
        staff=users["community_x_staff"],
        **common,
    )
    world.b = _side(
        world,
        "b",
        community=community_y,
        unit=unit_b,
        liaison=users["liaison_b"],
        staff=users["community_y_staff"],
        **common,
    )
    # The member is the registered, verified Party member of side A (their own registration).
    member_a = world.a["volunteers.partymember"]
    member_a.user = users["member"]
    member_a.save(update_fields=["user"])
    # The street's points rule of 2026 (one street: the same rule on both sides).
    rule = PointsRule.objects.create(street=street, year=2026)
    world.a["volunteers.pointsrule"] = world.b["volunteers.pointsrule"] = rule
    world.extra["street_meeting"] = MeetingFactory(level=Level.STREET, organiser=users["street_staff"])
    # The district above the street, with a staff member of its own (not one of the cast), and the street
    # staff's assignment to the street.
    district = District.objects.create(name="迎泽区")
    Street.objects.filter(pk=street.pk).update(district=district)
    officer = UserFactory(username="district_officer")
    world.a["members.district"] = district
    world.a["members.districtstaff"] = member_services.district_staff_add(user=officer, district=district, actor=root)
    world.a["members.streetstaff"] = StreetStaff.objects.get(user=users["street_staff"], street=street)
    # A renewed address, and the unit feed of a liaison who has since been removed from the unit.
    renewed = meeting_services.calendar_feed_for(user=users["liaison_a"], actor=users["liaison_a"])
    world.extra["renewed_token"] = renewed.token
    meeting_services.calendar_feed_renew(feed=renewed, actor=users["liaison_a"])
    unit_c = MemberUnitFactory(name="迎泽区人民医院", community=community_x)
    liaison_c = UserFactory(username="liaison_c")
    membership = member_services.unit_membership_add(unit=unit_c, user=liaison_c, actor=root)
    world.extra["removed_liaison_token"] = meeting_services.calendar_feed_for(unit=unit_c, actor=liaison_c).token
    member_services.unit_membership_remove(membership=membership, actor=root)
    return world

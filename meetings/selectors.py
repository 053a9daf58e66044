"""Every read of the meetings app: narrowed by the permission layer, joined, aggregated in SQL; and what
the reminder scan finds due."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Concat, ExtractQuarter, ExtractYear, NullIf, TruncDate
from django.utils import timezone

from alliance import permissions, reports, workdays
from alliance.periods import ZONE, Quarter
from members.selectors import only_street_id

from .models import Invitation, JointMeeting, Reminder, Resolution

# Reminder windows (ARCHITECTURE: a periodic scan finds what is due; nothing is scheduled ahead).
BEFORE_MEETING_LONG = timedelta(hours=24)
BEFORE_MEETING_SHORT = timedelta(hours=1)
MINUTES_GRACE = timedelta(days=3)
# Resolutions: the owner is reminded 3 working days before the due date, and on the day it falls due — a
# due date on a day off falls due on the next working day (`workdays.deadline_day`), which is also when
# the resolution becomes overdue and what "done on time" means in the reports and the assessment.
RESOLUTION_EARLY_WORKING_DAYS = 3
# Resolution reminders go out from this local hour of their day, not at midnight.
MORNING = time(8, 0)


def meetings_visible_to(*, user) -> QuerySet[JointMeeting]:
    return permissions.visible(user, JointMeeting.objects.select_related("community", "sector", "organiser"))


def meeting_detail(*, user, pk: int) -> JointMeeting:
    return permissions.get_visible_or_404(
        user,
        meetings_visible_to(user=user).prefetch_related("invitations__unit", "invitations__person", "attachments"),
        pk=pk,
    )


def invitations_of_my_units(*, user) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(Q(unit_id__in=permissions.units_of(user)) | Q(person=user))
        .select_related("meeting", "unit")
        .order_by("-meeting__start", "id")
    )


def overdue_before(today: date) -> date:
    """Open resolutions due before this day are overdue on `today`: those whose deadline — the due date, or
    the next working day when it falls on a day off — has passed. One date per query (a range on
    resolution_due_idx): the deadline passed exactly when the due date is on or before the last working
    day before today."""
    return workdays.previous_working_day(today) + timedelta(days=1)


def overdue_q(today: date | None = None) -> Q:
    return Q(status=Resolution.Status.OPEN, due_date__lt=overdue_before(today or timezone.localdate()))


def with_overdue(queryset: QuerySet[Resolution], today: date | None = None) -> QuerySet[Resolution]:
    return queryset.annotate(
        is_overdue=ExpressionWrapper(
            Case(When(overdue_q(today), then=Value(True)), default=Value(False)),
            BooleanField(),
        )
    )


def deadline_of_due_date(first: date, last: date) -> Case:
    """The working-day deadline of each resolution's due date, as SQL: a due date on a day off moves to the
    next working day. Exact for due dates in [first, last] (one branch per run of days off there, a
    quarter's fifteen or so); a due date outside is taken as written."""
    return Case(
        *(
            When(due_date__gte=start, due_date__lte=end, then=Value(end + timedelta(days=1)))
            for start, end in workdays.days_off_runs(first, last)
        ),
        default=F("due_date"),
        output_field=DateField(),
    )


def with_forwarding(queryset: QuerySet[Resolution]) -> QuerySet[Resolution]:
    """Where a resolution went up (`forwarded_to_id`, its meeting's id and title: the latest item made from
    it, None while it waits for the higher body to plan a meeting) and where an item came from (joined):
    subqueries and joins of the list's one query, never a query per row."""
    latest = Resolution.objects.filter(forwarded_from=OuterRef("pk")).order_by("-id")
    return queryset.select_related("forwarded_from__meeting", "forward_street", "forward_district").annotate(
        forwarded_to_id=Subquery(latest.values("pk")[:1]),
        forwarded_to_meeting_id=Subquery(latest.values("meeting_id")[:1]),
        forwarded_to_title=Subquery(latest.values("meeting__title")[:1]),
    )


def resolutions_visible_to(*, user) -> QuerySet[Resolution]:
    return with_forwarding(
        with_overdue(permissions.visible(user, Resolution.objects.select_related("meeting", "owner")))
    )


def resolutions_of_my_units(*, user) -> QuerySet[Resolution]:
    return with_forwarding(
        with_overdue(
            Resolution.objects.filter(owner_id__in=permissions.units_of(user)).select_related("meeting", "owner")
        )
    ).order_by("-status", "due_date", "id")  # open before forwarded, done and declined


# --- Forwarding up (community → street → district) --------------------------------------------------


def street_id_of(meeting: JointMeeting) -> int | None:
    """The street a meeting belongs to: its own, its community's or sector branch's, else the only street
    of a single-street deployment (street-wide meetings planned before meetings carried a street)."""
    if meeting.street_id:
        return meeting.street_id
    if meeting.community_id:
        return meeting.community.street_id
    if meeting.sector_id:
        return meeting.sector.street_id
    return only_street_id()


def _street_meetings_q(street_id: int) -> Q:
    q = Q(street_id=street_id)
    if only_street_id() == street_id:
        q |= Q(street__isnull=True, community__isnull=True, sector__isnull=True)
    return q


def next_meeting_above(*, street_id: int | None = None, district_id: int | None = None) -> JointMeeting | None:
    """The next planned street-level meeting of `street_id` (or district-level one of `district_id`): where
    a resolution forwarded up is decided."""
    planned = JointMeeting.objects.filter(status=JointMeeting.Status.PLANNED, start__gt=timezone.now())
    if district_id is not None:
        planned = planned.filter(level="district", district_id=district_id)
    else:
        planned = planned.filter(_street_meetings_q(street_id), level="street")
    return planned.order_by("start", "id").first()


def forwards_waiting(*, meeting: JointMeeting) -> QuerySet[Resolution]:
    """Resolutions forwarded to the body that holds `meeting` and waiting for its next meeting: forwarded,
    and no live item made from them yet (none, or only declined ones)."""
    live = Resolution.objects.filter(forwarded_from=OuterRef("pk")).exclude(status=Resolution.Status.DECLINED)
    waiting = Resolution.objects.filter(status=Resolution.Status.FORWARDED).filter(~Exists(live))
    if meeting.level == "district":
        return waiting.filter(forward_district_id=meeting.district_id) if meeting.district_id else waiting.none()
    street_id = street_id_of(meeting) if meeting.level == "street" else None
    return waiting.filter(forward_street_id=street_id) if street_id else waiting.none()


def carried_resolutions(*, meeting: JointMeeting) -> QuerySet[Resolution]:
    """督办: open resolutions of earlier meetings of the same level, community and sector branch, which stay on each
    next meeting's agenda until they are done."""
    return with_overdue(
        Resolution.objects.filter(
            status=Resolution.Status.OPEN,
            meeting__start__lt=meeting.start,
            meeting__level=meeting.level,
            meeting__community_id=meeting.community_id,
            meeting__sector_id=meeting.sector_id,
        )
        .exclude(meeting=meeting)
        .select_related("meeting", "owner")
        .order_by("due_date", "id")
    )


def attendance_rates(*, unit_ids=None) -> list[dict]:
    """Per unit and quarter, over held meetings: invitations, attended, rate (0–1). In SQL."""
    qs = Invitation.objects.filter(meeting__status=JointMeeting.Status.HELD, unit__isnull=False)
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=list(unit_ids))
    rows = (
        qs.annotate(year=ExtractYear("meeting__start"), quarter=ExtractQuarter("meeting__start"))
        .values("unit_id", "unit__name", "year", "quarter")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(status=Invitation.Status.ATTENDED)))
        .order_by("year", "quarter", "unit__name")
    )
    return [{**row, "rate": row["attended"] / row["invited"] if row["invited"] else 0.0} for row in rows]


def public_counts() -> dict[str, int]:
    return {"meetings": JointMeeting.objects.filter(status=JointMeeting.Status.HELD).count()}


def public_counts_by_street(street_ids) -> dict[int, dict[str, int]]:
    """`public_counts` of each street, whose meetings are those that name it (`JointMeeting.street`) or
    belong to its communities and sector branches, and a street-wide meeting naming no street that invited
    one of its units (as the quarterly report counts them, `report_meetings_q`) — two grouped queries
    however many streets there are. With one street (a street office on its own) every held meeting is its
    own, as before streets were told apart: a council meeting that invited persons only names no street."""
    held = JointMeeting.objects.filter(status=JointMeeting.Status.HELD)
    if len(street_ids) == 1:
        return {street_ids[0]: {"meetings": held.count()}}
    per_street: dict[int, dict[str, int]] = {}
    placed = Q(street__isnull=False) | Q(community__isnull=False) | Q(sector__isnull=False)
    local = (
        held.filter(placed)
        .annotate(home_street=Coalesce("street_id", "community__street_id", "sector__street_id"))
        .values("home_street")
        .annotate(meetings=Count("pk"))
        .order_by()
    )
    for row in local:
        per_street[row["home_street"]] = {"meetings": row["meetings"]}
    street_wide = (
        Invitation.objects.filter(meeting__in=held.exclude(placed), unit__isnull=False)
        .values("unit__community__street_id")
        .annotate(meetings=Count("meeting_id", distinct=True))
        .order_by()
    )
    for row in street_wide:
        counts = per_street.setdefault(row["unit__community__street_id"], {"meetings": 0})
        counts["meetings"] += row["meetings"]
    return per_street


# --- What the reminder scan finds due -------------------------------------------------------------


def invitees(meeting: JointMeeting) -> list:
    """The people to remind of a meeting: the invited units' accounts and the invited persons, except
    those who declined."""
    user_model = get_user_model()
    live = meeting.invitations.exclude(status=Invitation.Status.DECLINED)
    return list(
        user_model.objects.filter(is_active=True)
        .filter(
            Q(unit_memberships__unit__invitations__in=live.filter(unit__isnull=False))
            | Q(invitations__in=live.filter(person__isnull=False))
        )
        .distinct()
        .order_by("pk")
    )


def owners(resolution: Resolution) -> list:
    user_model = get_user_model()
    return list(
        user_model.objects.filter(is_active=True, unit_memberships__unit_id=resolution.owner_id)
        .distinct()
        .order_by("pk")
    )


def meetings_due(kind: str, now: datetime) -> QuerySet[JointMeeting]:
    """Planned meetings inside a reminder's window: [start − 24 h, start − 1 h) for the day-before
    reminder, [start − 1 h, start) for the hour-before one."""
    planned = JointMeeting.objects.filter(status=JointMeeting.Status.PLANNED)
    if kind == "meeting_24h":
        return planned.filter(start__lte=now + BEFORE_MEETING_LONG, start__gt=now + BEFORE_MEETING_SHORT)
    return planned.filter(start__lte=now + BEFORE_MEETING_SHORT, start__gt=now)


def meetings_missing_minutes(now: datetime) -> QuerySet[JointMeeting]:
    return (
        JointMeeting.objects.exclude(status=JointMeeting.Status.CANCELLED)
        .filter(end__lte=now - MINUTES_GRACE, minutes="")
        .select_related("organiser")
    )


def resolutions_due(kind: str, now: datetime) -> QuerySet[Resolution]:
    """Open resolutions whose reminder day has come (from 08:00 local time): three working days before the
    due date (from the day when at most three working days are left before it), and the day it falls due
    — the due date, or the next working day when the due date is a day off (nothing is sent on a day off
    for the "due today" reminder: that day comes later)."""
    local = timezone.localtime(now)
    today = local.date() if local.time() >= MORNING else local.date() - timedelta(days=1)
    open_ = Resolution.objects.filter(status=Resolution.Status.OPEN).select_related("meeting", "owner")
    if kind == "resolution_3d":
        return open_.filter(
            due_date__gt=today, due_date__lte=workdays.working_day_after(today, RESOLUTION_EARLY_WORKING_DAYS)
        )
    if not workdays.is_working_day(today):
        return open_.none()
    # Due today, or on the days off just before today (their deadline is today).
    return open_.filter(due_date__gt=workdays.previous_working_day(today), due_date__lte=today)


# What a reminder scan still has to send: the database answers with the pairs (subject, person) that have
# no `Reminder` row yet (an anti-join), so a pair reminded once is never fetched — nor inserted — again.
# The subjects come as a subquery (`due.values("pk")`): the scan's due meetings or resolutions.


def _not_reminded(kind: str, *, subject: str, recipient: str, version: str | None) -> Exists:
    sent = Reminder.objects.filter(kind=kind, recipient_id=OuterRef(recipient))
    if subject == "meeting":
        sent = sent.filter(meeting_id=OuterRef("subject_id"), version=OuterRef(version))
    else:
        sent = sent.filter(resolution_id=OuterRef("subject_id"))
    return ~Exists(sent)


def meeting_reminders_unsent(kind: str, meeting_ids: QuerySet, *, limit: int) -> list[tuple[int, int]]:
    """(meeting id, user id) of the invitees of these meetings not yet reminded of their current schedule:
    the invited units' active accounts and the invited persons, except those who declined."""
    live = Invitation.objects.filter(meeting_id__in=meeting_ids).exclude(status=Invitation.Status.DECLINED).order_by()
    by_unit = (
        live.annotate(
            subject_id=F("meeting_id"),
            version=F("meeting__schedule_version"),
            recipient=F("unit__memberships__user_id"),
            active=F("unit__memberships__user__is_active"),
        )
        .filter(active=True)
        .filter(_not_reminded(kind, subject="meeting", recipient="recipient", version="version"))
        .values_list("subject_id", "recipient")
    )
    by_person = (
        live.annotate(subject_id=F("meeting_id"), version=F("meeting__schedule_version"), recipient=F("person_id"))
        .filter(person__is_active=True)
        .filter(_not_reminded(kind, subject="meeting", recipient="recipient", version="version"))
        .values_list("subject_id", "recipient")
    )
    return list(by_unit.union(by_person).order_by("subject_id", "recipient")[:limit])


def organiser_reminders_unsent(kind: str, meeting_ids: QuerySet, *, limit: int) -> list[tuple[int, int]]:
    """(meeting id, organiser id) of these meetings whose organiser was not yet reminded."""
    return list(
        JointMeeting.objects.filter(pk__in=meeting_ids)
        .annotate(subject_id=F("pk"), recipient=F("organiser_id"), version=F("schedule_version"))
        .filter(_not_reminded(kind, subject="meeting", recipient="recipient", version="version"))
        .order_by("pk")
        .values_list("subject_id", "recipient")[:limit]
    )


def resolution_reminders_unsent(kind: str, resolution_ids: QuerySet, *, limit: int) -> list[tuple[int, int]]:
    """(resolution id, user id) of the owner unit's active accounts not yet reminded of these resolutions."""
    return list(
        Resolution.objects.filter(pk__in=resolution_ids)
        .annotate(
            subject_id=F("pk"),
            recipient=F("owner__memberships__user_id"),
            active=F("owner__memberships__user__is_active"),
        )
        .filter(active=True)
        .filter(_not_reminded(kind, subject="resolution", recipient="recipient", version=None))
        .order_by("pk", "recipient")
        .values_list("subject_id", "recipient")[:limit]
    )


# --- The quarterly report (季度报表) -----------------------------------------------------------------------


def report_meetings_q(*, street_id: int) -> Q:
    """The street's meetings: those of its communities and sector branches, and a street-wide or council
    meeting (no community, no sector branch — the model names no street) that invited a unit of the street."""
    return (
        Q(community__street_id=street_id)
        | Q(sector__street_id=street_id)
        | Q(
            Exists(Invitation.objects.filter(meeting=OuterRef("pk"), unit__community__street_id=street_id)),
            community__isnull=True,
            sector__isnull=True,
        )
    )


def _invitation_count(condition: Q | None = None) -> Window:
    # A window over the meeting's own joined invitation rows: counted once per meeting as the rows stream
    # by. (A correlated subquery here ran once per invitation row: a street meeting that invited 1,155
    # units cost 1,155 × 1,155 index visits.)
    return Window(Count("invitations__id", filter=condition), partition_by=[F("id")])


def report_meeting_invitations(*, street_id: int, quarter: Quarter) -> QuerySet[JointMeeting]:
    """联席会议与出勤: the street's meetings set in the quarter (held, planned or cancelled), each joined to its
    invitations (a LEFT JOIN: a meeting that invited nobody is still a row). `invitation_person_name` names
    an invited person (family name first, else the account name); `invited_count` and `attended_count` are
    the meeting's own, for its attendance rate."""
    person = "invitations__person__"
    return (
        JointMeeting.objects.filter(report_meetings_q(street_id=street_id))
        .filter(start__gte=quarter.start, start__lt=quarter.end)
        .annotate(
            invitation_person_name=Coalesce(
                NullIf(Concat(f"{person}last_name", f"{person}first_name", output_field=CharField()), Value("")),
                f"{person}username",
            ),
            invited_count=_invitation_count(),
            attended_count=_invitation_count(Q(invitations__status=Invitation.Status.ATTENDED)),
        )
        .order_by("start", "id", "invitations__id")
    )


def report_meeting_figures(*, street_id: int, quarter: Quarter) -> dict[str, int | Decimal | None]:
    """Meetings held in the quarter, and the member units' attendance rate at them (attended / invited, a
    fraction; None when no unit was invited to a held meeting)."""
    held = JointMeeting.objects.filter(
        report_meetings_q(street_id=street_id),
        status=JointMeeting.Status.HELD,
        start__gte=quarter.start,
        start__lt=quarter.end,
    )
    figures = Invitation.objects.filter(meeting__in=held, unit__isnull=False).aggregate(
        invited=Count("pk"), attended=Count("pk", filter=Q(status=Invitation.Status.ATTENDED))
    )
    invited = figures["invited"]
    return {
        "held": held.count(),
        "attendance_rate": (reports.fraction(figures["attended"], invited)),
    }


def report_resolutions(*, street_id: int, quarter: Quarter) -> QuerySet[Resolution]:
    """议定事项: resolutions of the street's meetings due in the quarter or made in it, by due date.
    `done_on_time`: done by the end of its deadline's day — the due date, or the next working day when it is
    a day off (None while not done); `overdue_at_end`: that deadline passed by the quarter's last day and
    not done when the quarter ended — a fact of the quarter that later work does not change."""
    deadline = deadline_of_due_date(quarter.first_day, quarter.last_day)
    street_meetings = JointMeeting.objects.filter(report_meetings_q(street_id=street_id)).values("pk")
    return (
        Resolution.objects.filter(meeting__in=street_meetings)
        .filter(
            Q(due_date__gte=quarter.first_day, due_date__lte=quarter.last_day)
            | Q(created_at__gte=quarter.start, created_at__lt=quarter.end)
        )
        .alias(done_day=TruncDate("done_at", tzinfo=ZONE), deadline_day=deadline)
        .annotate(
            done_on_time=Case(
                When(done_at__isnull=True, then=Value(None)),
                When(Q(done_day__lte=deadline), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(null=True),
            ),
            overdue_at_end=Case(
                When(
                    Q(deadline_day__lte=quarter.last_day) & (Q(done_at__isnull=True) | Q(done_at__gte=quarter.end)),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
            forwarded_to_title=Subquery(
                Resolution.objects.filter(forwarded_from=OuterRef("pk")).order_by("-id").values("meeting__title")[:1]
            ),
        )
        .order_by("due_date", "id")
    )


def report_resolution_figures(*, street_id: int, quarter: Quarter) -> dict[str, int]:
    """Resolutions due in the quarter, and of them those done by the end of their due day."""
    due = report_resolutions(street_id=street_id, quarter=quarter).filter(
        due_date__gte=quarter.first_day, due_date__lte=quarter.last_day
    )
    # Not aggregated as `done_on_time`: that name would shadow the annotation the filter reads.
    return due.aggregate(due=Count("pk"), on_time=Count("pk", filter=Q(done_on_time=True)))


# --- The units' assessment (members.assessments; indicators in meetings.indicators) --------------------


def unit_quarter_attendance(*, street_id: int, quarter) -> QuerySet:
    """Per unit of the street, its invitations to meetings held in `quarter` and how many it attended."""
    return (
        Invitation.objects.filter(
            unit__isnull=False,
            unit__community__street_id=street_id,
            meeting__status=JointMeeting.Status.HELD,
            meeting__start__gte=quarter.start,
            meeting__start__lt=quarter.end,
        )
        .values("unit_id")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(status=Invitation.Status.ATTENDED)))
        .order_by("unit_id")
    )


def unit_quarter_resolutions(*, street_id: int, quarter) -> QuerySet:
    """Per owner unit of the street, its resolutions due in `quarter` and how many were done by their
    deadline — the due date, or the next working day when it is a day off (the day `done_at` falls on in the
    caller's time zone: run it under Asia/Shanghai)."""
    deadline = deadline_of_due_date(quarter.first_day, quarter.last_day)
    return (
        Resolution.objects.filter(
            owner__community__street_id=street_id,
            due_date__gte=quarter.first_day,
            due_date__lte=quarter.last_day,
        )
        .values("owner_id")
        .annotate(
            due=Count("pk"),
            done_on_time=Count(
                "pk", filter=Q(status=Resolution.Status.DONE, done_at__isnull=False, done_at__date__lte=deadline)
            ),
        )
        .order_by("owner_id")
    )


# --- Staff workbench ----------------------------------------------------------------------------------


def this_week_q(now: datetime | None = None) -> Q:
    """Meetings (not cancelled) starting in the current Monday-to-Sunday week, Asia/Shanghai."""
    today = (now or timezone.now()).astimezone(ZONE).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(0, 0), tzinfo=ZONE)
    return Q(start__gte=start, start__lt=start + timedelta(days=7)) & ~Q(status=JointMeeting.Status.CANCELLED)


def minutes_missing_q(now: datetime | None = None) -> Q:
    """Meetings that have taken place (ended, not cancelled) and still have no minutes."""
    return Q(end__lte=now or timezone.now(), minutes="") & ~Q(status=JointMeeting.Status.CANCELLED)


def workbench_counts(*, user) -> dict[str, int]:
    """Meetings this week and minutes missing (one aggregate query), resolutions overdue (one more)."""
    counts = permissions.visible(user, JointMeeting.objects.all()).aggregate(
        this_week=Count("pk", filter=this_week_q()),
        minutes_missing=Count("pk", filter=minutes_missing_q()),
    )
    counts |= resolutions_visible_to(user=user).aggregate(
        resolutions_overdue=Count("pk", filter=Q(is_overdue=True)),
    )
    return counts


# --- Staff workbench charts (registered in extensions) -----------------------------------------------------


def chart_attendance_per_quarter(
    *, user, quarters: list[Quarter], community_id: int | None = None
) -> dict[Quarter, Decimal | None]:
    """The member units' attendance rate (attended / invited, `reports.fraction`) at the held meetings the
    user may see, per quarter of the meeting's start (Asia/Shanghai) — one grouped query. A quarter without
    an invited unit is None (no rate), not 0. A community chosen: that community's meetings."""
    invitations = permissions.visible(
        user,
        Invitation.objects.filter(
            unit__isnull=False,
            meeting__status=JointMeeting.Status.HELD,
            meeting__start__gte=quarters[0].start,
            meeting__start__lt=quarters[-1].end,
        ),
    )
    if community_id is not None:
        invitations = invitations.filter(meeting__community_id=community_id)
    rows = (
        invitations.annotate(
            year=ExtractYear("meeting__start", tzinfo=ZONE), quarter=ExtractQuarter("meeting__start", tzinfo=ZONE)
        )
        .values("year", "quarter")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(status=Invitation.Status.ATTENDED)))
        .order_by()
    )
    rates = {Quarter(row["year"], row["quarter"]): reports.fraction(row["attended"], row["invited"]) for row in rows}
    return {quarter: rates.get(quarter) for quarter in quarters}

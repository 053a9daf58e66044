"""Stand-in data sheets for `bench/quarterly_report.py --stand-in-sheets`, while the real ones are not merged.

Only the 汇总 sheet was registered when the benchmark was written; the data sheets were being written on
other branches. These stand-ins give the harness rows of the sizes and value types the real sheets will
have (a needs list of ~40,000 rows, a service-log list of ~170,000, texts, dates, datetimes, decimals, a
name column the outward edition masks, a phone column it leaves out), streamed the way `Sheet` asks
(`.values_list(...).iterator()`), so the renderer can be measured at size now. They are registered under
keys starting with `bench_` and never by the app; the figures they give are labelled as such.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from alliance.reports import Column, Format, ReportContext, Row, Sheet, register_sheet

CHUNK = 2000


def _needs(context: ReportContext) -> Iterator[Row]:
    from demands.models import Need

    q = context.quarter
    return (
        Need.objects.filter(community__street_id=context.street_id, submitted_at__gte=q.start, submitted_at__lt=q.end)
        .order_by("submitted_at", "id")
        .values_list(
            "tracking_code",
            "submitted_at",
            "kind",
            "category__name",
            "community__name",
            "title",
            "contact_name",
            "contact_phone",
            "status",
            "unit__name",
            "dispatched_at",
            "completed_at",
            "rating",
        )
        .iterator(chunk_size=CHUNK)
    )


def _resources(context: ReportContext) -> Iterator[Row]:
    from demands.models import Resource

    return (
        Resource.objects.filter(unit__community__street_id=context.street_id)
        .order_by("unit__name", "id")
        .values_list("unit__name", "kind", "category__name", "title", "capacity", "status", "created_at")
        .iterator(chunk_size=CHUNK)
    )


def _claims(context: ReportContext) -> Iterator[Row]:
    from projects.models import ProjectClaim

    return (
        ProjectClaim.objects.filter(project__street_id=context.street_id)
        .order_by("project__title", "id")
        .values_list("project__title", "unit__name", "commitment", "status", "created_at", "decided_at")
        .iterator(chunk_size=CHUNK)
    )


def _activities(context: ReportContext) -> Iterator[Row]:
    from projects.models import ServiceActivity

    q = context.quarter
    return (
        ServiceActivity.objects.filter(
            claim__project__street_id=context.street_id, date__gte=q.first_day, date__lte=q.last_day
        )
        .order_by("date", "id")
        .values_list(
            "date",
            "claim__project__title",
            "claim__unit__name",
            "title",
            "participants",
            "services",
            "beneficiaries",
            "hours",
        )
        .iterator(chunk_size=CHUNK)
    )


def _attendance(context: ReportContext) -> Iterator[Row]:
    from meetings.models import Invitation

    q = context.quarter
    return (
        Invitation.objects.filter(
            meeting__start__gte=q.start, meeting__start__lt=q.end, unit__community__street_id=context.street_id
        )
        .order_by("meeting__start", "meeting_id", "id")
        .values_list("meeting__start", "meeting__title", "meeting__level", "unit__name", "status")
        .iterator(chunk_size=CHUNK)
    )


def _resolutions(context: ReportContext) -> Iterator[Row]:
    from meetings.models import Resolution

    q = context.quarter
    return (
        Resolution.objects.filter(
            meeting__start__gte=q.start, meeting__start__lt=q.end, owner__community__street_id=context.street_id
        )
        .order_by("due_date", "id")
        .values_list("meeting__title", "text", "owner__name", "due_date", "status", "done_at")
        .iterator(chunk_size=CHUNK)
    )


def _members(context: ReportContext) -> Iterator[Row]:
    from volunteers.models import PartyMember, ServiceLog

    q = context.quarter
    hours = (
        ServiceLog.objects.filter(member=OuterRef("pk"), verified=True, date__gte=q.first_day, date__lte=q.last_day)
        .order_by()
        .values("member")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return (
        PartyMember.objects.filter(residence_community__street_id=context.street_id, status="verified")
        .annotate(quarter_hours=Coalesce(Subquery(hours), Value(0), output_field=DecimalField()))
        .order_by("residence_community_id", "name", "id")
        .values_list("name", "phone", "residence_community__name", "work_unit__name", "registered_on", "quarter_hours")
        .iterator(chunk_size=CHUNK)
    )


def _service_logs(context: ReportContext) -> Iterator[Row]:
    from volunteers.models import ServiceLog

    q = context.quarter
    return (
        ServiceLog.objects.filter(
            member__residence_community__street_id=context.street_id,
            verified=True,
            date__gte=q.first_day,
            date__lte=q.last_day,
        )
        .order_by("date", "id")
        .values_list("date", "member__name", "member__residence_community__name", "description", "hours")
        .iterator(chunk_size=CHUNK)
    )


INT, DEC, DAY, DT = Format.INTEGER, Format.DECIMAL, Format.DATE, Format.DATETIME

STAND_INS = (
    Sheet(
        "bench_needs",
        "bench needs",
        10,
        (
            Column("tracking code"),
            Column("submitted", DT),
            Column("kind"),
            Column("category"),
            Column("community"),
            Column("title", width=30),
            Column("contact", personal=True),
            Column("phone", contact=True),
            Column("status"),
            Column("unit", width=24),
            Column("dispatched", DT),
            Column("completed", DT),
            Column("rating", INT),
        ),
        _needs,
    ),
    Sheet(
        "bench_resources",
        "bench resources",
        20,
        (
            Column("unit"),
            Column("kind"),
            Column("category"),
            Column("title"),
            Column("capacity", INT),
            Column("status"),
            Column("since", DAY),
        ),
        _resources,
    ),
    Sheet(
        "bench_claims",
        "bench claims",
        30,
        (
            Column("project"),
            Column("unit"),
            Column("commitment", width=40),
            Column("status"),
            Column("claimed", DT),
            Column("decided", DT),
        ),
        _claims,
    ),
    Sheet(
        "bench_activities",
        "bench activities",
        40,
        (
            Column("date", DAY),
            Column("project"),
            Column("unit"),
            Column("title"),
            Column("participants", INT),
            Column("services", INT),
            Column("beneficiaries", INT),
            Column("hours", DEC),
        ),
        _activities,
    ),
    Sheet(
        "bench_attendance",
        "bench attendance",
        50,
        (Column("start", DT), Column("meeting"), Column("level"), Column("unit"), Column("status")),
        _attendance,
    ),
    Sheet(
        "bench_resolutions",
        "bench resolutions",
        60,
        (
            Column("meeting"),
            Column("resolution", width=40),
            Column("owner"),
            Column("due", DAY),
            Column("status"),
            Column("done", DT),
        ),
        _resolutions,
    ),
    Sheet(
        "bench_members",
        "bench members",
        70,
        (
            Column("name", personal=True),
            Column("phone", contact=True),
            Column("community"),
            Column("work unit"),
            Column("registered", DAY),
            Column("hours", DEC),
        ),
        _members,
    ),
    Sheet(
        "bench_service_logs",
        "bench service logs",
        71,
        (
            Column("date", DAY),
            Column("member", personal=True),
            Column("community"),
            Column("what"),
            Column("hours", DEC),
        ),
        _service_logs,
    ),
)


def register() -> None:
    for sheet in STAND_INS:
        register_sheet(sheet)

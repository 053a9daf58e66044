"""Every read of the demands app: narrowed by the permission layer, joined, aggregated in SQL."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import ExtractQuarter, ExtractYear, RowNumber, TruncMonth
from django.utils import timezone

from alliance import permissions, reports, workdays
from alliance.periods import ZONE, Quarter
from alliance.registry import month_span

from .models import Booking, Need, NeedEvent, Resource, Venue, VenueClosure

# Service levels (seed 001, SPEC "Service-level clock"): dispatched within 2 working days, accepted within
# 2 working days of dispatch (alliance.workdays: the official holidays, their make-up days and the street's
# overrides). A completed need closes itself 7 days after completion.
# One window for both stages, and a clock that never runs backwards (`workdays.add_working_days` does not
# decrease as its start moves later): that is what lets the stored start of the running clock
# (`Need.waiting_since`) order the queue by due time on an index, and "overdue" be one range on it — the
# calendar turns `now` into one cutoff per query (`workdays.clock_cutoff`), so nothing stored goes stale
# when staff change a day.
SLA_WORKING_DAYS = 2
DISPATCH_WITHIN = ACCEPT_WITHIN = SLA_WORKING_DAYS
AUTO_CLOSE_AFTER = timedelta(days=7)
# "On time" for a unit's record: completed within 7 working days of dispatch. Decided when the need is
# completed (`Need.completed_in_time`, by demands.services); needs completed before that column existed,
# or written by bulk paths that skip the services, are judged by the calendar days they were judged by.
ON_TIME_WORKING_DAYS = 7
ON_TIME_WITHIN = timedelta(days=7)

OPEN_FOR_UNIT = (Need.Status.DISPATCHED, Need.Status.ACCEPTED)
DONE = (Need.Status.COMPLETED, Need.Status.CLOSED)


def overdue_q(now=None) -> Q:
    """Submitted and not dispatched within DISPATCH_WITHIN working days, or dispatched and not accepted
    within ACCEPT_WITHIN: one range on the running clock's start (need_open_queue_idx)."""
    now = now or timezone.now()
    return Q(waiting_since__lt=workdays.clock_cutoff(now, SLA_WORKING_DAYS))


def due_at(need: Need):
    """When the need's running clock runs out (None when no clock runs): what the overdue flag compares."""
    if need.waiting_since is None:
        return None
    return workdays.add_working_days(need.waiting_since, SLA_WORKING_DAYS)


def completed_in_time(*, dispatched_at, completed_at) -> bool | None:
    """Whether a need completed at `completed_at` kept ON_TIME_WORKING_DAYS from its dispatch (None when it
    was never dispatched: a micro-wish a Party member took on)."""
    if dispatched_at is None or completed_at is None:
        return None
    return completed_at <= workdays.add_working_days(dispatched_at, ON_TIME_WORKING_DAYS)


def with_overdue(queryset: QuerySet[Need]) -> QuerySet[Need]:
    return queryset.annotate(
        is_overdue=ExpressionWrapper(Case(When(overdue_q(), then=Value(True)), default=Value(False)), BooleanField())
    )


def needs_visible_to(*, user) -> QuerySet[Need]:
    return with_overdue(
        permissions.visible(user, Need.objects.select_related("category", "community", "unit", "filed_by_unit"))
    )


# The staff's work queue: the needs on a clock first, the longest waiting first — so the overdue ones
# lead, the most overdue on top —, then the others oldest first. An index order (need_queue_idx), where
# sorting on the computed "overdue" flag read and sorted every need the user may see.
QUEUE_ORDER = (F("waiting_since").asc(nulls_last=True), "submitted_at", "id")


def need_queue(*, user) -> QuerySet[Need]:
    """Staff's work queue in QUEUE_ORDER: overdue ones first."""
    return needs_visible_to(user=user).order_by(*QUEUE_ORDER)


def need_detail(*, user, pk: int) -> Need:
    return permissions.get_visible_or_404(
        user, needs_visible_to(user=user).prefetch_related("events__actor", "photos"), pk=pk
    )


def needs_of_units(*, user) -> QuerySet[Need]:
    """The portal's list: needs dispatched to the units the user is liaison of."""

    return with_overdue(
        Need.objects.filter(unit_id__in=permissions.units_of(user)).select_related("category", "community", "unit")
    ).order_by("-is_overdue", "-dispatched_at", "-id")


def needs_filed_by_units(*, user) -> QuerySet[Need]:
    """The portal's other list: the needs the user's units filed as their own (need_file_for_unit), newest
    first — whoever of the unit's liaisons filed them, and wherever they stand."""
    return with_overdue(
        Need.objects.filter(filed_by_unit_id__in=permissions.units_of(user)).select_related(
            "category", "community", "unit", "filed_by_unit"
        )
    ).order_by("-submitted_at", "-id")


def need_by_tracking(*, code: str, phone_last4: str) -> Need | None:
    """The resident's view: both the code and the last four digits must match; either wrong is the same
    answer (None), so the page cannot be used to find out whether a code exists."""
    code = normalise_tracking_code(code)
    if not code or len(phone_last4 or "") != 4 or not phone_last4.isdigit():
        return None
    return (
        Need.objects.select_related("category", "community", "unit")
        .prefetch_related(Prefetch("events", queryset=NeedEvent.objects.order_by("at", "id")))
        .filter(tracking_code=code, contact_phone__endswith=phone_last4)
        .first()
    )


def normalise_tracking_code(code: str | None) -> str:
    """People read codes aloud and type them with dashes, spaces, lower case, or full-width characters
    from a Chinese input method (NFKC folds those to ASCII)."""
    folded = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())[:16]


def showcase(*, street_id: int | None = None) -> QuerySet[Need]:
    """Completed needs that staff chose for the public showcase (晒单), newest first; of one street's
    communities when `street_id` is given."""
    needs = (
        Need.objects.filter(showcased_at__isnull=False, status__in=DONE)
        # Public pages: the contact columns are not even read.
        .defer("contact_name", "contact_phone", "address")
        .select_related("category", "community", "unit")
        .order_by("-showcased_at", "-id")
    )
    return needs if street_id is None else needs.filter(community__street_id=street_id)


def showcase_counts_by_street() -> dict[int, int]:
    """How many needs each street shows (one grouped query); a street without any is absent."""
    rows = (
        Need.objects.filter(showcased_at__isnull=False, status__in=DONE)
        .values("community__street_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["community__street_id"]: row["count"] for row in rows}


def showcase_first_by_street(*, rows: int) -> QuerySet[Need]:
    """The newest `rows` showcased needs of every street, in one query (a row number per street, counted
    in the showcase's order), ordered by street and then as the showcase is."""
    return (
        showcase()
        .annotate(
            street_id=F("community__street_id"),
            place=Window(
                RowNumber(),
                partition_by=[F("community__street_id")],
                order_by=[F("showcased_at").desc(), F("id").desc()],
            ),
        )
        .filter(place__lte=rows)
        .order_by("street_id", "place")
    )


def resources_visible_to(*, user) -> QuerySet[Resource]:
    return permissions.visible(user, Resource.objects.select_related("unit__community", "category"))


def resources_of_units(*, user) -> QuerySet[Resource]:

    return Resource.objects.filter(unit_id__in=permissions.units_of(user)).select_related("unit", "category")


def due_for_auto_close(now=None) -> QuerySet[Need]:
    now = now or timezone.now()
    return Need.objects.filter(status=Need.Status.COMPLETED, completed_at__lt=now - AUTO_CLOSE_AFTER)


def due_for_anonymisation(*, cutoff) -> list[QuerySet[Need]]:
    """Needs that ended (closed, rejected) before `cutoff` and still hold contact data: one queryset per way
    of ending, each ordered by the column of its partial index (need_retention_closed_idx,
    need_retention_rejected_idx). A chunk is read from the front of the index and stops at the cutoff; the
    needs anonymised drop out of the index, so the next chunk is again the front — no scan of the table,
    however many needs it holds (ordered by primary key instead, PostgreSQL walked all 1 M rows)."""
    pending = Need.objects.filter(anonymised_at__isnull=True)
    return [
        pending.filter(status=Need.Status.CLOSED, closed_at__lt=cutoff).order_by("closed_at"),
        pending.filter(status=Need.Status.REJECTED, rejected_at__lt=cutoff).order_by("rejected_at"),
    ]


def due_for_sla_flag(stage: str, now=None) -> QuerySet[Need]:
    now = now or timezone.now()
    status = Need.Status.SUBMITTED if stage == "dispatch" else Need.Status.DISPATCHED
    return (
        Need.objects.filter(overdue_q(now), status=status)
        .exclude(sla_flags__stage=stage)
        .select_related("community", "unit")
    )


def public_counts() -> dict[str, int]:
    figures = Need.objects.aggregate(
        needs=Count("pk", filter=~Q(status=Need.Status.REJECTED)),
        needs_completed=Count("pk", filter=Q(status__in=DONE)),
    )
    figures["resources"] = Resource.objects.filter(status=Resource.Status.ACTIVE).count()
    return figures


def public_counts_by_street() -> dict[int, dict[str, int]]:
    """`public_counts` of each street (by the need's community, the resource's unit's community): two
    grouped queries however many streets there are. A street without a row is absent (0)."""
    per_street: dict[int, dict[str, int]] = {}
    needs = (
        Need.objects.values("community__street_id")
        .annotate(
            needs=Count("pk", filter=~Q(status=Need.Status.REJECTED)),
            needs_completed=Count("pk", filter=Q(status__in=DONE)),
        )
        .order_by()
    )
    for row in needs:
        per_street.setdefault(row["community__street_id"], {}).update(
            needs=row["needs"], needs_completed=row["needs_completed"]
        )
    resources = (
        Resource.objects.filter(status=Resource.Status.ACTIVE)
        .values("unit__community__street_id")
        .annotate(resources=Count("pk"))
        .order_by()
    )
    for row in resources:
        per_street.setdefault(row["unit__community__street_id"], {})["resources"] = row["resources"]
    return per_street


# --- Matching (对接) -------------------------------------------------------------------------------


def unit_candidates(*, need: Need) -> QuerySet:
    """Active units with a link to the need (they offer its category, have done such needs, or are in
    its community), annotated with what matching weighs — one query."""
    from members.models import MemberUnit

    done = Q(needs__status__in=DONE)
    return (
        MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE)
        .select_related("community")
        .annotate(
            offers_category=Exists(
                Resource.objects.filter(
                    unit=OuterRef("pk"), category_id=need.category_id, status=Resource.Status.ACTIVE
                )
            ),
            category_done=Count("needs", filter=done & Q(needs__category_id=need.category_id), distinct=True),
            open_load=Count("needs", filter=Q(needs__status__in=OPEN_FOR_UNIT), distinct=True),
            done_count=Count("needs", filter=done, distinct=True),
            on_time_count=Count("needs", filter=done & _on_time("needs__"), distinct=True),
            average_rating=Avg("needs__rating", filter=done),
        )
        .filter(Q(offers_category=True) | Q(category_done__gt=0) | Q(community_id=need.community_id))
    )


def resource_candidates(*, need: Need) -> QuerySet[Resource]:
    """Available resources of the need's category: the need's own community first, free ones first."""
    return (
        Resource.objects.filter(category_id=need.category_id, status=Resource.Status.ACTIVE, unit__status="active")
        .annotate(nearby=Case(When(unit__community_id=need.community_id, then=Value(0)), default=Value(1)))
        .order_by("nearby", "-is_free", "id")
        .select_related("unit__community", "category")
    )


def unit_quarter_ratings(*, unit_ids) -> dict[tuple[int, int, int], tuple[float, int]]:
    """Residents' ratings of the needs each unit completed, per quarter of completion:
    {(unit_id, year, quarter): (average, count)} — shown beside commitment reviews."""
    rows = (
        Need.objects.filter(unit_id__in=list(unit_ids), status__in=DONE, rating__isnull=False)
        .annotate(year=ExtractYear("completed_at"), quarter=ExtractQuarter("completed_at"))
        .values("unit_id", "year", "quarter")
        .annotate(average=Avg("rating"), count=Count("pk"))
    )
    return {(r["unit_id"], r["year"], r["quarter"]): (float(r["average"]), r["count"]) for r in rows}


# --- The quarterly report (季度报表) -----------------------------------------------------------------------


def _on_time(prefix: str = "") -> Q:
    """Completed within ON_TIME_WORKING_DAYS of the (last) dispatch: the unit's service level, as decided
    at completion; needs without that decision by calendar days (ON_TIME_WITHIN)."""
    return Q(**{f"{prefix}completed_in_time": True}) | Q(
        **{
            f"{prefix}completed_in_time__isnull": True,
            f"{prefix}dispatched_at__isnull": False,
            f"{prefix}completed_at__lte": F(f"{prefix}dispatched_at") + ON_TIME_WITHIN,
        }
    )


def report_needs(*, street_id: int, quarter: Quarter) -> QuerySet[Need]:
    """需求清单: the needs of the street's communities that were in play during the quarter.

    That is every need submitted before the quarter ended that had not finished before it began:
    - submitted in the quarter (whatever became of it), and
    - submitted earlier and completed, closed or rejected in the quarter, or still open at its end.
    A need finished when it was rejected or closed, or when it was completed — unless it was closed
    (rated) in the quarter, whose rating then belongs to this quarter. Ordered by submission.

    `on_time` (True / False / None): completed within ON_TIME_WORKING_DAYS of its dispatch; None when it was
    not completed or never dispatched (a micro-wish a Party member took on)."""
    start, end = quarter.start, quarter.end
    finished_before = (
        Q(rejected_at__lt=start)
        | Q(closed_at__lt=start)
        | (Q(completed_at__lt=start) & ~Q(closed_at__gte=start, closed_at__lt=end))
    )
    return (
        Need.objects.filter(community__street_id=street_id, submitted_at__lt=end)
        .exclude(finished_before)
        .annotate(
            on_time=Case(
                When(Q(completed_at__isnull=True) | Q(dispatched_at__isnull=True), then=Value(None)),
                When(_on_time(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(null=True),
            )
        )
        .order_by("submitted_at", "id")
    )


def report_need_figures(*, street_id: int, quarter: Quarter) -> dict[str, int | Decimal | None]:
    """The needs' lines of 汇总, in one aggregate: submitted, completed, completed on time (of those
    dispatched to a unit), the on-time rate (a fraction; None when nothing dispatched was completed) and
    the residents' average rating of the needs completed in the quarter (None without ratings)."""
    in_street = Need.objects.filter(community__street_id=street_id)
    completed = Q(completed_at__gte=quarter.start, completed_at__lt=quarter.end)
    figures = in_street.aggregate(
        submitted=Count("pk", filter=Q(submitted_at__gte=quarter.start, submitted_at__lt=quarter.end)),
        completed=Count("pk", filter=completed),
        dispatched_completed=Count("pk", filter=completed & Q(dispatched_at__isnull=False)),
        completed_on_time=Count("pk", filter=completed & _on_time()),
        average_rating=Avg("rating", filter=completed & Q(rating__isnull=False)),
    )
    base = figures.pop("dispatched_completed")
    figures["on_time_rate"] = reports.fraction(figures["completed_on_time"], base)
    if figures["average_rating"] is not None:
        figures["average_rating"] = Decimal(str(figures["average_rating"])).quantize(Decimal("0.01"))
    return figures


def report_resources(*, street_id: int, quarter: Quarter) -> QuerySet[Resource]:
    """资源清单: the resources of the street's member units as they stand now, of those offered before the
    quarter ended (a later one is not in a past quarter's list); `added_in_quarter` marks the new ones."""
    return (
        Resource.objects.filter(unit__community__street_id=street_id, created_at__lt=quarter.end)
        .annotate(
            added_in_quarter=Case(
                When(created_at__gte=quarter.start, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        .order_by("unit__community__sort_order", "unit__community_id", "unit__name", "unit_id", "id")
    )


def report_resource_figures(*, street_id: int, quarter: Quarter) -> dict[str, int]:
    """Resources available (offered before the quarter ended and not withdrawn) and added in the quarter."""
    return Resource.objects.filter(unit__community__street_id=street_id, created_at__lt=quarter.end).aggregate(
        available=Count("pk", filter=Q(status=Resource.Status.ACTIVE)),
        added=Count("pk", filter=Q(created_at__gte=quarter.start)),
    )


# --- The units' assessment (members.assessments; indicators in demands.indicators) ---------------------


def unit_quarter_need_figures(*, street_id: int, quarter) -> QuerySet:
    """Per unit of the street, the needs it completed in `quarter` (Asia/Shanghai bounds): how many, how
    many within ON_TIME_WORKING_DAYS of their dispatch, how many were rated and the sum of the ratings — one
    grouped query; the rates are made from these exact counts, not from a floating average."""
    from django.db.models import Sum

    return (
        Need.objects.filter(
            status__in=DONE,
            unit__isnull=False,
            unit__community__street_id=street_id,
            completed_at__gte=quarter.start,
            completed_at__lt=quarter.end,
        )
        .values("unit_id")
        .annotate(
            completed=Count("pk"),
            on_time=Count("pk", filter=_on_time()),
            rated=Count("pk", filter=Q(rating__isnull=False)),
            rating_sum=Sum("rating"),
        )
        .order_by("unit_id")
    )


# --- Public charts --------------------------------------------------------------------------------


def needs_completed_per_month(*, months: list[date]) -> dict[int, dict[date, int]]:
    """Needs completed in each of `months` (first days, Asia/Shanghai), by the month of `completed_at`,
    for each street (by id): one grouped query, counts only. Streets and months without a completed need
    are absent."""
    start, end = month_span(months)
    rows = (
        Need.objects.filter(status__in=DONE, completed_at__gte=start, completed_at__lt=end)
        .annotate(month=TruncMonth("completed_at", output_field=DateField(), tzinfo=ZONE))
        .values("community__street_id", "month")
        .annotate(count=Count("pk"))
        .order_by("community__street_id", "month")
    )
    per_street: dict[int, dict[date, int]] = {}
    for row in rows:
        per_street.setdefault(row["community__street_id"], {})[row["month"]] = row["count"]
    return per_street


# --- Staff workbench ----------------------------------------------------------------------------------


def declined_back_q() -> Q:
    """Needs waiting to be dispatched again because a unit declined them (the decline moves back to submitted)."""
    declined = NeedEvent.objects.filter(
        need=OuterRef("pk"), from_status=Need.Status.DISPATCHED, to_status=Need.Status.SUBMITTED
    )
    return Q(status=Need.Status.SUBMITTED) & Q(Exists(declined))


def workbench_counts(*, user) -> dict[str, int]:
    """The staff member's need to-dos, in one aggregate query over the needs they may see."""
    return permissions.visible(user, Need.objects.all()).aggregate(
        to_dispatch=Count("pk", filter=Q(status=Need.Status.SUBMITTED)),
        overdue=Count("pk", filter=overdue_q()),
        declined=Count("pk", filter=declined_back_q()),
    )


# --- Staff workbench charts (registered in extensions; one grouped query each) ---------------------------


def _chart_needs(*, user, community_id: int | None, quarter: Quarter | None) -> QuerySet[Need]:
    """The needs a workbench chart counts: those the user may see, of the community chosen, submitted in
    the quarter chosen (all time without one)."""
    needs = permissions.visible(user, Need.objects.all())
    if community_id is not None:
        needs = needs.filter(community_id=community_id)
    if quarter is not None:
        needs = needs.filter(submitted_at__gte=quarter.start, submitted_at__lt=quarter.end)
    return needs


def chart_needs_by_status(*, user, community_id: int | None = None, quarter: Quarter | None = None) -> dict[str, int]:
    """{status: count} of the needs the user may see; statuses without a need are absent."""
    rows = _chart_needs(user=user, community_id=community_id, quarter=quarter).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows.order_by()}


def chart_needs_by_category(
    *, user, community_id: int | None = None, quarter: Quarter | None = None
) -> list[tuple[str, int]]:
    """(category name, count) of the needs the user may see, in the categories' order; empty ones absent."""
    rows = (
        _chart_needs(user=user, community_id=community_id, quarter=quarter)
        .values("category_id", "category__name", "category__sort_order")
        .annotate(n=Count("pk"))
        .order_by("category__sort_order", "category_id")
    )
    return [(row["category__name"], row["n"]) for row in rows]


def chart_needs_per_month(*, user, months: list[date], community_id: int | None = None) -> dict[str, dict[date, int]]:
    """Needs submitted (by `submitted_at`) and completed (by `completed_at`, as on the public home) in each
    of `months` (first days, Asia/Shanghai): {"submitted": {month: n}, "completed": {month: n}}.
    One query, one row: a conditional count per month and measure — the two measures group by different
    columns, so a single GROUP BY cannot give both."""
    start, end = month_span(months)
    done = Q(status__in=DONE)
    counts: dict[str, Count] = {}
    for i, month in enumerate(months):
        month_from, month_to = month_span([month])
        counts[f"submitted_{i}"] = Count("pk", filter=Q(submitted_at__gte=month_from, submitted_at__lt=month_to))
        counts[f"completed_{i}"] = Count("pk", filter=done & Q(completed_at__gte=month_from, completed_at__lt=month_to))
    needs = permissions.visible(user, Need.objects.all()).filter(
        Q(submitted_at__gte=start, submitted_at__lt=end) | (done & Q(completed_at__gte=start, completed_at__lt=end))
    )
    if community_id is not None:
        needs = needs.filter(community_id=community_id)
    row = needs.aggregate(**counts)
    return {
        measure: {month: row[f"{measure}_{i}"] for i, month in enumerate(months)}
        for measure in ("submitted", "completed")
    }


# --- Shared venues ---------------------------------------------------------------------------------


# What makes a venue bookable and listed: its resource is still active and still of kind venue (a unit
# may withdraw it, or turn it into another kind: its Venue row stays, for the bookings' history). The one
# place the lists (portal, public, API) and booking_request ask.
BOOKABLE = Q(resource__status=Resource.Status.ACTIVE, resource__kind=Resource.Kind.VENUE)


def is_bookable(venue: Venue) -> bool:
    """`BOOKABLE` for one venue already read (no query)."""
    return venue.resource.status == Resource.Status.ACTIVE and venue.resource.kind == Resource.Kind.VENUE


def venues_visible_to(*, user) -> QuerySet[Venue]:
    return permissions.visible(user, Venue.objects.select_related("resource__unit__community", "resource__category"))


def bookable_venues_visible_to(*, user) -> QuerySet[Venue]:
    """The portal's and the API's venue lists: the venues one sees that can still be booked."""
    return venues_visible_to(user=user).filter(BOOKABLE)


def public_venues(*, street_id: int | None = None) -> QuerySet[Venue]:
    """Venues residents see on the public site: public ones of active resources (of one street's units
    when `street_id` is given, as the public pages show one street)."""
    venues = Venue.objects.filter(BOOKABLE, is_public=True)
    if street_id is not None:
        venues = venues.filter(resource__unit__community__street_id=street_id)
    return venues.select_related("resource__unit", "resource__category")


def bookings_visible_to(*, user) -> QuerySet[Booking]:
    return permissions.visible(
        user, Booking.objects.select_related("venue__resource__unit__community", "requester", "unit", "community")
    )


def bookings_of_venue(*, venue: Venue, start, end, statuses=(Booking.Status.PENDING, Booking.Status.APPROVED)):
    """The venue's bookings that overlap [start, end), in time order (one range scan of booking_venue_idx)."""
    return Booking.objects.filter(venue=venue, status__in=statuses, start__lt=end, end__gt=start).order_by(
        "start", "id"
    )


def overlapping_approved(*, venue: Venue, start, end, exclude_pk: int | None = None) -> QuerySet[Booking]:
    return bookings_of_venue(venue=venue, start=start, end=end, statuses=(Booking.Status.APPROVED,)).exclude(
        pk=exclude_pk
    )


def venue_closed_days(*, venue: Venue, first, last) -> set:
    return set(VenueClosure.objects.filter(venue=venue, date__range=(first, last)).values_list("date", flat=True))


def venue_closures_ahead(*, venue: Venue) -> list[VenueClosure]:
    """The venue's closed days from today on (Asia/Shanghai), soonest first: its owner's hours page."""
    return list(venue.closures.filter(date__gte=timezone.localdate(timezone=ZONE)).order_by("date"))


def venue_week(*, venue: Venue, monday) -> list[dict]:
    """A week of the venue, day by day: whether it opens, its hours, and the pending and approved bookings
    (the portal's week view). Two queries whatever the week holds."""
    days = [monday + timedelta(days=n) for n in range(7)]
    closed = venue_closed_days(venue=venue, first=days[0], last=days[-1])
    start = datetime.combine(days[0], time.min, tzinfo=ZONE)
    bookings = list(bookings_of_venue(venue=venue, start=start, end=start + timedelta(days=7)))
    week = []
    for day in days:
        is_open = venue.opens_on(day) and day not in closed
        week.append(
            {
                "date": day,
                "open": is_open,
                "closed_note": day in closed,
                "bookings": [b for b in bookings if timezone.localtime(b.start, ZONE).date() == day],
            }
        )
    return week


def _free_hours(venue: Venue, day, taken: list[tuple[datetime, datetime]], step: timedelta) -> list[datetime]:
    opens = datetime.combine(day, venue.opens_at, tzinfo=ZONE)
    closes = datetime.combine(day, venue.closes_at, tzinfo=ZONE)
    slots, at = [], opens
    while at + step <= closes:
        if not any(s < at + step and e > at for s, e in taken):
            slots.append(at)
        at += step
    return slots


def free_slots_of(*, venues: list[Venue], first, days: int = 7, step_minutes: int = 60) -> dict[int, list[dict]]:
    """For each venue, its opening days from `first` on with the hours no approved booking takes — what
    residents see (times only, never who booked). Two queries for all the venues: their closed days and
    their approved bookings in the window."""
    ids = [v.pk for v in venues]
    last = first + timedelta(days=days - 1)
    closed = set(
        VenueClosure.objects.filter(venue_id__in=ids, date__range=(first, last)).values_list("venue_id", "date")
    )
    start = datetime.combine(first, time.min, tzinfo=ZONE)
    taken: dict[int, list[tuple[datetime, datetime]]] = {pk: [] for pk in ids}
    for venue_id, s, e in Booking.objects.filter(
        venue_id__in=ids, status=Booking.Status.APPROVED, start__lt=start + timedelta(days=days), end__gt=start
    ).values_list("venue_id", "start", "end"):
        taken[venue_id].append((s, e))
    step = timedelta(minutes=step_minutes)
    result: dict[int, list[dict]] = {}
    for venue in venues:
        result[venue.pk] = [
            {"date": day, "free": _free_hours(venue, day, taken[venue.pk], step)}
            for day in (first + timedelta(days=n) for n in range(days))
            if venue.opens_on(day) and (venue.pk, day) not in closed
        ]
    return result


def bookings_for_feed(*, unit_id: int | None = None, user=None, since) -> QuerySet[Booking]:
    """Approved bookings for a calendar feed (cancelled ones too, so calendars remove them): a unit's feed
    holds the bookings of its venues and those made for it; a person's, the ones they asked for and those of
    their units' venues or made for their units. Never a pending or declined one."""
    if unit_id is not None:
        mine = Q(venue__resource__unit_id=unit_id) | Q(unit_id=unit_id)
    else:
        units = permissions.units_of(user)
        mine = Q(requester_id=user.pk) | Q(venue__resource__unit_id__in=units) | Q(unit_id__in=units)
    return (
        Booking.objects.filter(mine, status__in=[Booking.Status.APPROVED, Booking.Status.CANCELLED], start__gte=since)
        # Cancelled before anyone approved it: it never reached a calendar, so there is nothing to remove.
        .exclude(status=Booking.Status.CANCELLED, decided_at__isnull=True)
        .select_related("venue__resource__unit")
        .order_by("start", "id")
    )


def public_resources(
    *, street_id: int, kind: str = "", category_id: int | None = None, community_id: int | None = None
) -> QuerySet[Resource]:
    """What a street's member units offer (资源清单), as residents see it: active resources of active units,
    by title. The unit's name and community (name and office address: where to ask) only — no liaison."""
    resources = Resource.objects.filter(
        status=Resource.Status.ACTIVE, unit__status="active", unit__community__street_id=street_id
    )
    if kind:
        resources = resources.filter(kind=kind)
    if category_id is not None:
        resources = resources.filter(category_id=category_id)
    if community_id is not None:
        resources = resources.filter(unit__community_id=community_id)
    return (
        resources.select_related("unit__community", "category")
        .only(
            "id",
            "title",
            "description",
            "kind",
            "capacity",
            "availability",
            "is_free",
            "category__id",
            "category__name",
            "unit__id",
            "unit__name",
            "unit__community__id",
            "unit__community__name",
            "unit__community__address",
        )
        .order_by("title", "id")
    )

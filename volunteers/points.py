"""The points ledger (积分, issue 15): every write of it. Imported by `volunteers.services` (verified hours,
micro-wishes) and, with a local import, by `projects.services` (commitment reviews) — projects is imported
by nothing of the volunteers app at start-up, so the call stays one-way without a hook.

An award is idempotent: each (source, beneficiary) earns points at most once, which the partial unique
indexes of `PointsEntry` hold; a second award — re-run, backfill, or a concurrent transaction — meets the
index inside a savepoint (or `INSERT … ON CONFLICT DO NOTHING` in the backfill) and writes nothing. The
ledger is append-only: corrections are new entries linked to the one they correct — and so are a
commitment review's points taken back and awarded again when it is re-scored (`points_review_scored`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alliance import permissions
from alliance.errors import Conflict, InvalidInput, PermissionDenied
from alliance.periods import MAX_YEAR, MIN_YEAR, Quarter
from alliance.workflow import refuse_other_fields, update

from .models import PartyMember, PointsEntry, PointsRule, ServiceLog

S = PointsEntry.Source
RULE_FIELDS = ("per_hour", "per_wish", "per_review", "review_min_score")
BATCH = 1000


def check_year(value: Any) -> int:
    """A year given by a client ("2026"): a whole number in the platform's range, or a clear InvalidInput."""
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(_("Please give the year as four digits, for example 2026.")) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(_("The year must be from %(min)d to %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return year


# --- Rules ---------------------------------------------------------------------------------------------


def rule_for(*, street_id: int, year: int) -> PointsRule:
    """The street's rule for the year, made on first use from the previous year's (or the defaults), so
    that awards work before anybody has edited a rule."""
    rule = PointsRule.objects.filter(street_id=street_id, year=year).first()
    if rule is not None:
        return rule
    previous = PointsRule.objects.filter(street_id=street_id, year__lt=year).order_by("-year").first()
    values = {name: getattr(previous, name) for name in RULE_FIELDS} if previous is not None else {}
    try:
        with transaction.atomic():
            return PointsRule.objects.create(street_id=street_id, year=year, **values)
    except IntegrityError:  # made by a concurrent award a moment ago
        return PointsRule.objects.get(street_id=street_id, year=year)


def points_rule_update(*, rule: PointsRule, actor, data: dict[str, Any]) -> PointsRule:
    """Street staff change their street's rule for a year; entries already written keep their points."""
    permissions.require_change(actor, rule)
    refuse_other_fields(data, RULE_FIELDS)
    with transaction.atomic():
        return update(rule, data=data, actor=actor, reason="points rule changed")


# --- Awards --------------------------------------------------------------------------------------------


def _reason(text: str, **values: Any) -> str:
    # Stored once, in the street's language (the default), whoever's request wrote it.
    with translation.override(settings.LANGUAGE_CODE):
        return (_(text) % values)[:300]


def _log_entry(log: ServiceLog, rule: PointsRule) -> PointsEntry | None:
    if not log.verified:
        return None
    points = int((Decimal(str(log.hours)) * rule.per_hour).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if points <= 0:
        return None
    quarter = Quarter.of(log.date)
    return PointsEntry(
        member_id=log.member_id,
        community_id=log.member.residence_community_id,
        points=points,
        reason=_reason(
            gettext_noop("%(hours)s verified service hours on %(date)s"), hours=log.hours, date=log.date.isoformat()
        ),
        source_kind=S.SERVICE_LOG,
        source_id=log.pk,
        year=quarter.year,
        quarter=quarter.quarter,
        approved_by_id=log.verified_by_id,
    )


def _wish_member(need) -> PartyMember | None:
    """The registration (双报到) of the member who took on the wish, in the wish's community."""
    if need.claimed_by_id is None:
        return None
    return (
        PartyMember.objects.filter(user_id=need.claimed_by_id, residence_community_id=need.community_id)
        .order_by("-status", "-registered_on", "-pk")  # verified before pending/ended/rejected, newest first
        .filter(status__in=[PartyMember.Status.VERIFIED, PartyMember.Status.ENDED])
        .first()
    )


def _wish_entry(need, member: PartyMember | None, rule: PointsRule, actor_id: int | None) -> PointsEntry | None:
    from demands.models import Need

    if need.kind != Need.Kind.MICRO_WISH or need.completed_at is None or member is None or rule.per_wish <= 0:
        return None
    quarter = Quarter.of(need.completed_at)
    return PointsEntry(
        member_id=member.pk,
        community_id=member.residence_community_id,
        points=rule.per_wish,
        reason=_reason(gettext_noop("Micro-wish fulfilled: %(title)s"), title=need.title),
        source_kind=S.MICRO_WISH,
        source_id=need.pk,
        year=quarter.year,
        quarter=quarter.quarter,
        approved_by_id=actor_id,
    )


def _review_entry(review, rule: PointsRule) -> PointsEntry | None:
    if review.score < rule.review_min_score or rule.per_review <= 0:
        return None
    unit = review.claim.unit
    return PointsEntry(
        unit_id=unit.pk,
        community_id=unit.community_id,
        points=rule.per_review,
        reason=_reason(
            gettext_noop("Commitment reviewed at %(score)d of 5 for %(year)d Q%(quarter)d: %(project)s"),
            score=review.score,
            year=review.year,
            quarter=review.quarter,
            project=review.claim.project.title,
        ),
        source_kind=S.REVIEW,
        source_id=review.pk,
        year=review.year,
        quarter=review.quarter,
        approved_by_id=review.reviewer_id,
    )


def _street_of_community(community_id: int) -> int:
    from members.models import Community

    return Community.objects.values_list("street_id", flat=True).get(pk=community_id)


def _insert(entry: PointsEntry | None) -> PointsEntry | None:
    """Write the entry unless its source has earned its beneficiary points already (then None)."""
    if entry is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction goes on after a duplicate
            entry.save()
    except IntegrityError:
        return None
    return entry


def points_award(*, source: Model, actor=None) -> PointsEntry | None:
    """Award the points a verified source earns — a verified `ServiceLog`, a completed micro-wish (`Need`),
    a `CommitmentReview` at the rule's score or better — once: a second call writes nothing and returns
    None (as does a source that earns nothing). Called by the sources' services in their transaction."""
    from demands.models import Need
    from projects.models import CommitmentReview

    if isinstance(source, ServiceLog):
        log = ServiceLog.objects.select_related("member").get(pk=source.pk)
        rule = rule_for(street_id=_street_of_community(log.member.residence_community_id), year=log.date.year)
        return _insert(_log_entry(log, rule))
    if isinstance(source, Need):
        need = Need.objects.get(pk=source.pk)
        if need.completed_at is None:
            return None
        member = _wish_member(need)
        if member is None:
            return None
        rule = rule_for(street_id=_street_of_community(need.community_id), year=Quarter.of(need.completed_at).year)
        return _insert(_wish_entry(need, member, rule, getattr(actor, "pk", None)))
    if isinstance(source, CommitmentReview):
        review = CommitmentReview.objects.select_related("claim__unit__community", "claim__project").get(pk=source.pk)
        rule = rule_for(street_id=review.claim.unit.community.street_id, year=review.year)
        return _insert(_review_entry(review, rule))
    raise TypeError(f"No points for {type(source).__name__}")


def _correction_period(year: int) -> tuple[int, int]:
    """Where an entry correcting one of `year` goes: in that year (a correction of last year's points
    corrects last year's balance), in the quarter it is made — or the year's last when the year is over —
    so that a past quarter's report reads the same later."""
    current = Quarter.current()
    return (current.year, current.quarter) if current.year == year else (year, 4)


def points_review_scored(*, review, previous_score: int | None, actor=None) -> PointsEntry | None:
    """The unit's points follow its commitment review's score (承诺评议, re-scored by saving the quarter
    again): called by `projects.services.review_save` in its transaction, the review's row locked.

    A review's entries for its unit are all of kind "review" and form one chain, each linked (`corrects`)
    to the one before: the award (not linked; once per review by the unit index), then — re-scored below
    the rule's score — its withdrawal (the award's points, negative), then — re-scored at the score or
    better — the award again (linked to the withdrawal it undoes), and so on. Rows are only ever added;
    the index `pointsentry_review_chain_once` lets each entry be followed once, so a withdrawal or a new
    award is never written twice, whoever saves at the same moment. The latest entry of the chain tells
    whether the review's points stand (positive) or were taken back (negative).

    A review saved again with its score unchanged only gets its first award if it was missed: a rule
    changed since keeps the entries already written. Staff's own corrections (kind "correction") are
    apart and stay. Returns the entry written, or None."""
    from projects.models import CommitmentReview

    if previous_score is None or previous_score == review.score:
        return points_award(source=review, actor=actor)
    review = CommitmentReview.objects.select_related("claim__unit__community", "claim__project").get(pk=review.pk)
    rule = rule_for(street_id=review.claim.unit.community.street_id, year=review.year)
    chain = PointsEntry.objects.filter(source_kind=S.REVIEW, source_id=review.pk, unit_id=review.claim.unit_id)
    latest = chain.order_by("-id").first()
    if latest is None:
        return _insert(_review_entry(review, rule))
    year, quarter = _correction_period(latest.year)
    values = {
        "score": review.score,
        "year": review.year,
        "quarter": review.quarter,
        "project": review.claim.project.title,
    }
    if latest.points > 0 and review.score < rule.review_min_score:
        return _insert(
            PointsEntry(
                unit_id=latest.unit_id,
                community_id=latest.community_id,
                points=-latest.points,
                reason=_reason(
                    gettext_noop(
                        "Points taken back: commitment re-scored at %(score)d of 5 for %(year)d Q%(quarter)d, "
                        "below the %(min)d that earns points: %(project)s"
                    ),
                    min=rule.review_min_score,
                    **values,
                ),
                source_kind=S.REVIEW,
                source_id=review.pk,
                year=year,
                quarter=quarter,
                approved_by_id=review.reviewer_id,
                corrects=latest,
            )
        )
    award = _review_entry(review, rule) if latest.points < 0 else None
    if award is None:
        return None  # the points stand (or were taken back) as the score says, or the rule gives none now
    award.reason = _reason(
        gettext_noop(
            "Points awarded again: commitment re-scored at %(score)d of 5 for %(year)d Q%(quarter)d: %(project)s"
        ),
        **values,
    )
    award.year, award.quarter, award.corrects = year, quarter, latest
    return _insert(award)


def points_correct(*, entry: PointsEntry, points: int, reason: str, actor) -> PointsEntry:
    """A correction (更正): a new entry of `points` (negative takes points back) for the same member or
    unit, linked to the entry it corrects — which stays as it was. Staff of the entry's community."""
    permissions.require_ability(
        actor, "volunteers.correct_points", entry, _("Only staff of the community correct its points.")
    )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason."))
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidInput(_("Points are a whole number."))
    if points == 0 or not -100000 <= points <= 100000:
        raise InvalidInput(_("A correction is a whole number of points other than 0, at most 100000 either way."))
    if entry.corrects_id is not None:
        raise Conflict(_("Correct the original entry, not a correction."))
    year, quarter_no = _correction_period(entry.year)
    correction = PointsEntry(
        member_id=entry.member_id,
        unit_id=entry.unit_id,
        community_id=entry.community_id,
        points=points,
        reason=reason[:300],
        source_kind=S.CORRECTION,
        source_id=entry.pk,
        year=year,
        quarter=quarter_no,
        approved_by=actor,
        corrects=entry,
    )
    with transaction.atomic():
        correction.save()
    return correction


def can_correct(user, entry: PointsEntry) -> bool:
    """Ability "volunteers.correct_points": staff who run the entry's community (street staff of its
    street, its community staff); not district staff (they read), not liaisons or members."""
    if not (permissions.is_street_staff(user) or permissions.is_community_staff(user)):
        return False
    return permissions.manages_community(user, entry.community_id)


# --- Backfill ------------------------------------------------------------------------------------------


_COLUMNS = (
    "member_id",
    "unit_id",
    "community_id",
    "points",
    "reason",
    "source_kind",
    "source_id",
    "year",
    "quarter",
    "created_at",
    "approved_by_id",
)


def _insert_ignoring_awarded(batch: list[PointsEntry]) -> int:
    """`INSERT … ON CONFLICT DO NOTHING` (PostgreSQL and SQLite alike): a source that earned its points —
    before, or in a concurrent transaction — is skipped by the unique indexes. Returns the rows written
    (the statement's own count: a count of the table would include a concurrent writer's rows)."""
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    now = timezone.now()
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {', '.join([placeholders] * len(batch))} "
        "ON CONFLICT DO NOTHING"
    )
    params = []
    for entry in batch:
        entry.created_at = now
        params += [getattr(entry, column) for column in _COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _bulk(entries: Iterable[PointsEntry | None]) -> int:
    # Rows per statement within the database's limit on parameters (SQLite may allow only 999).
    size = min(BATCH, (connection.features.max_query_params or BATCH * len(_COLUMNS)) // len(_COLUMNS))
    written = 0
    batch: list[PointsEntry] = []
    for entry in entries:
        if entry is None:
            continue
        batch.append(entry)
        if len(batch) >= size:
            written += _insert_ignoring_awarded(batch)
            batch = []
    if batch:
        written += _insert_ignoring_awarded(batch)
    return written


def points_backfill(*, year: int, street_id: int | None = None, actor=None) -> int:
    """Award the year's points for sources verified before the ledger existed (or while an award was
    missed): every verified log dated in the year, every micro-wish completed in it, every review of it.
    `INSERT … ON CONFLICT DO NOTHING`: what was awarded stays, a second run writes nothing. Returns the
    number of entries written."""
    from demands.models import Need
    from members.models import Community
    from projects.models import CommitmentReview

    if actor is not None and not permissions.is_street_staff(actor):
        raise PermissionDenied(_("Only street staff award points for past work."))
    year = check_year(year)
    streets = Community.objects.all() if street_id is None else Community.objects.filter(street_id=street_id)
    street_of = dict(streets.values_list("pk", "street_id"))
    rules: dict[int, PointsRule] = {}

    def rule(community_id: int) -> PointsRule:
        street = street_of[community_id]
        if street not in rules:
            rules[street] = rule_for(street_id=street, year=year)
        return rules[street]

    written = 0
    with transaction.atomic():
        logs = ServiceLog.objects.filter(
            verified=True, date__year=year, member__residence_community_id__in=street_of
        ).select_related("member")
        written += _bulk(
            _log_entry(log, rule(log.member.residence_community_id)) for log in logs.iterator(chunk_size=BATCH)
        )

        wishes = Need.objects.filter(
            Q(completed_at__isnull=False) & Q(claimed_by__isnull=False),
            kind=Need.Kind.MICRO_WISH,
            community_id__in=street_of,
        ).only("pk", "kind", "title", "community_id", "claimed_by_id", "completed_at")
        wishes = [need for need in wishes.iterator(chunk_size=BATCH) if Quarter.of(need.completed_at).year == year]
        registrations = {}
        for member in PartyMember.objects.filter(
            user_id__in={need.claimed_by_id for need in wishes},
            status__in=[PartyMember.Status.VERIFIED, PartyMember.Status.ENDED],
        ).order_by("status", "registered_on", "pk"):  # the last written wins: verified, newest
            registrations[(member.user_id, member.residence_community_id)] = member
        written += _bulk(
            _wish_entry(need, registrations.get((need.claimed_by_id, need.community_id)), rule(need.community_id), None)
            for need in wishes
        )

        reviews = CommitmentReview.objects.filter(year=year, claim__unit__community_id__in=street_of).select_related(
            "claim__unit", "claim__project"
        )
        written += _bulk(
            _review_entry(review, rule(review.claim.unit.community_id)) for review in reviews.iterator(BATCH)
        )
    return written

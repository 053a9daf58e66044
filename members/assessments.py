"""The units' quarterly assessment (按季度考核): its scheme, its computation, its workflow, what each user
sees of it, and its sheet of the quarterly workbook. The whole feature is described in `alliance.reports`.

- **Scheme**: `scheme_for(street=, year=)` — the street's weights and full marks for a year (street staff
  edit them in the admin), made on first use from the previous year's or from the indicators' defaults.
- **Computation**: `assessments_compute(street=, quarter=)` — called by the report build (and on demand):
  one query per indicator for the whole street, bulk writes, idempotent. Drafts and returned assessments
  are recomputed; submitted ones are left as they were submitted (they are under review: the numbers the
  approver reads must not move under them — return one to have it recomputed); approved ones are locked.
- **Arithmetic**: points = weight × min(value / full marks, 1), rounded to 0.01. An indicator with no
  value that is not `missing_is_zero` does not apply to the unit (no meeting invited it): its weight is
  left out and the score is Σ points × Σ enabled weights / Σ applicable weights, so a unit is not punished
  for what it was never asked to do. Total = score + the staff's adjustment (−20 to +20, with a reason).
- **Workflow**: draft → submitted (street staff, or the unit's community staff) → approved (street staff),
  or submitted → returned (street staff, with a reason) → submitted again. While submitted only street
  staff adjust it; approved is locked: adjusting, remarking and recomputing are all refused.
- **Who sees what**: street staff all; community staff their communities' units; a liaison their own
  units only, and may leave a remark before approval.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Rank
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from alliance import permissions, reports
from alliance.errors import Conflict, InvalidInput
from alliance.notifications import notify, notify_many
from alliance.periods import Quarter
from alliance.workflow import move, with_history

from .models import Assessment, AssessmentLine, AssessmentScheme, AssessmentSchemeItem, MemberUnit, Street

CENT = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0")
# How far staff may move a unit's score by hand, either way (points of a 100-point scheme).
ADJUSTMENT_LIMIT = Decimal("20")
COMMENT_MAX = 500
REMARK_MAX = 1000
REASON_MAX = 500


# --- Arithmetic -----------------------------------------------------------------------------------------


def points_for(value: Decimal | None, *, weight: Decimal, full_marks: Decimal) -> Decimal:
    """weight × min(value / full marks, 1), rounded to the cent; no value scores nothing."""
    if value is None or full_marks <= 0:
        return ZERO.quantize(CENT)
    share = min(Decimal(value) / Decimal(full_marks), Decimal(1))
    return (Decimal(weight) * max(share, ZERO)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LineResult:
    code: str
    label: str
    order: int
    value: Decimal | None
    weight: Decimal
    full_marks: Decimal
    points: Decimal
    applicable: bool


def score_of(lines: Sequence[LineResult]) -> Decimal:
    """Σ points, scaled up by Σ weights / Σ applicable weights when some indicators do not apply."""
    enabled = sum((line.weight for line in lines), ZERO)
    applicable = sum((line.weight for line in lines if line.applicable), ZERO)
    if applicable <= 0:
        return ZERO.quantize(CENT)
    points = sum((line.points for line in lines if line.applicable), ZERO)
    return (points * enabled / applicable).quantize(CENT, rounding=ROUND_HALF_UP)


def line_for(indicator: reports.Indicator, item: AssessmentSchemeItem, raw: Decimal | None) -> LineResult:
    if raw is None and indicator.missing_is_zero:
        raw = ZERO
    value = None if raw is None else Decimal(raw).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
    return LineResult(
        code=indicator.code,
        label=_label_snapshot(indicator),
        order=indicator.order,
        value=value,
        weight=item.weight,
        full_marks=item.full_marks,
        points=points_for(value, weight=item.weight, full_marks=item.full_marks),
        applicable=value is not None,
    )


def _label_snapshot(indicator: reports.Indicator) -> str:
    # Stored in the site's language: it is what the workbook and a reader of old rows see when the
    # indicator is no longer registered; screens show the registry's label in the reader's language.
    with translation.override(settings.LANGUAGE_CODE):
        return str(indicator.label)[:100]


# --- The scheme -----------------------------------------------------------------------------------------


def scheme_for(*, street: Street, year: int) -> AssessmentScheme:
    """The street's scheme for `year`, made on first use: a copy of the latest earlier year's scheme, or the
    registered indicators' default weights and full marks. Indicators registered since are added (enabled,
    with their defaults) so that a new indicator is never silently missing from an existing scheme."""
    with transaction.atomic():
        scheme, created = AssessmentScheme.objects.get_or_create(street=street, year=year)
        have = set(scheme.items.values_list("code", flat=True))
        if created:
            previous = AssessmentScheme.objects.filter(street=street, year__lt=year).order_by("-year").first()
            if previous is not None:
                copies = [
                    AssessmentSchemeItem(
                        scheme=scheme,
                        code=item.code,
                        weight=item.weight,
                        full_marks=item.full_marks,
                        enabled=item.enabled,
                    )
                    for item in previous.items.all()
                ]
                AssessmentSchemeItem.objects.bulk_create(copies)
                have = {item.code for item in copies}
        missing = [
            AssessmentSchemeItem(
                scheme=scheme,
                code=indicator.code,
                weight=indicator.default_weight,
                full_marks=indicator.default_full_marks,
                enabled=True,
            )
            for indicator in reports.indicators()
            if indicator.code not in have
        ]
        if missing:
            AssessmentSchemeItem.objects.bulk_create(missing, ignore_conflicts=True)
    return scheme


def scheme_lines(scheme: AssessmentScheme) -> list[tuple[reports.Indicator, AssessmentSchemeItem]]:
    """The scheme's enabled items whose indicator is registered, in the indicators' order."""
    items = {item.code: item for item in scheme.items.filter(enabled=True)}
    return [(indicator, items[indicator.code]) for indicator in reports.indicators() if indicator.code in items]


# --- Computing ------------------------------------------------------------------------------------------


def units_assessed(*, street: Street, quarter: Quarter) -> QuerySet[MemberUnit]:
    """The street's units assessed for `quarter`: active ones that had joined by its last day. (A unit that
    withdrew keeps the assessments it already has; it gets no new one.)"""
    return MemberUnit.objects.filter(community__street=street, status=MemberUnit.Status.ACTIVE).filter(
        Q(joined_on__isnull=True) | Q(joined_on__lte=quarter.last_day)
    )


def assessments_compute(*, street: Street, quarter: Quarter, actor=None) -> int:
    """Compute the street's assessments for `quarter`: create a draft for every assessed unit that has
    none, recompute drafts and returned ones; never touch submitted or approved ones. Idempotent; one query
    per indicator whatever the number of units. `actor` None: the system (the report build). Returns how
    many assessments were (re)computed."""
    if actor is not None:
        permissions.require_ability(actor, "members.compute_assessments", street)
    scheme = scheme_for(street=street, year=quarter.year)
    lines_of_scheme = scheme_lines(scheme)
    # Outside the transaction: the indicators only read, and the locks below are held for the writes alone.
    values = {indicator.code: indicator.values(street.pk, quarter) for indicator, _item in lines_of_scheme}
    now = timezone.now()
    with transaction.atomic():
        unit_ids = list(units_assessed(street=street, quarter=quarter).values_list("pk", flat=True))
        known = set(
            Assessment.objects.filter(unit_id__in=unit_ids, year=quarter.year, quarter=quarter.quarter).values_list(
                "unit_id", flat=True
            )
        )
        fresh = [
            Assessment(unit_id=unit_id, year=quarter.year, quarter=quarter.quarter, status=Assessment.Status.DRAFT)
            for unit_id in unit_ids
            if unit_id not in known
        ]
        if fresh:
            # ignore_conflicts: a second computation running at the same moment made some of them already.
            Assessment.objects.bulk_create(fresh, ignore_conflicts=True)
        # Locked, so that a submit or an approval waits for this computation (and this one for theirs).
        targets = list(
            Assessment.objects.select_for_update()
            .filter(
                unit_id__in=unit_ids,
                year=quarter.year,
                quarter=quarter.quarter,
                status__in=Assessment.RECOMPUTABLE,
            )
            .order_by("pk")
        )
        if not targets:
            return 0
        new_lines: list[AssessmentLine] = []
        for assessment in targets:
            results = [line_for(ind, item, values[ind.code].get(assessment.unit_id)) for ind, item in lines_of_scheme]
            new_lines += [
                AssessmentLine(
                    assessment_id=assessment.pk,
                    code=r.code,
                    label=r.label,
                    order=r.order,
                    value=r.value,
                    weight=r.weight,
                    full_marks=r.full_marks,
                    points=r.points,
                    applicable=r.applicable,
                )
                for r in results
            ]
            assessment.score = score_of(results)
            assessment.total = assessment.score + assessment.adjustment
            assessment.computed_at = assessment.updated_at = now
        AssessmentLine.objects.filter(assessment__in=targets).delete()
        AssessmentLine.objects.bulk_create(new_lines, batch_size=1000)
        bulk_update_with_history(
            targets,
            Assessment,
            ["score", "total", "computed_at", "updated_at"],
            batch_size=500,
            default_user=actor if getattr(actor, "is_authenticated", False) else None,
            default_change_reason="computed",
        )
    return len(targets)


def assessment_recompute(*, assessment: Assessment, actor) -> int:
    """Recompute, on demand, the quarter of `assessment`'s street (refused at once for an approved one)."""
    if assessment.status == Assessment.Status.APPROVED:
        raise Conflict(_("This assessment is approved and locked; it is not recomputed."))
    street = Street.objects.get(communities__units=assessment.unit_id)
    return assessments_compute(street=street, quarter=assessment.period, actor=actor)


# --- Edits and the workflow -----------------------------------------------------------------------------


def _refuse_if_locked(assessment: Assessment) -> None:
    if assessment.status == Assessment.Status.APPROVED:
        raise Conflict(_("This assessment is approved and locked; it can no longer be changed."))


def _locked_row(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().get(pk=assessment.pk)


def assessment_adjust(*, assessment: Assessment, adjustment: Decimal, comment: str, actor) -> Assessment:
    """Staff move the score by hand, within ±ADJUSTMENT_LIMIT, and say why (a reason is required for any
    adjustment but 0, and shown to the unit). Refused once approved; while submitted, street staff only."""
    permissions.require_change(actor, assessment)
    comment = (comment or "").strip()
    try:
        adjustment = Decimal(str(adjustment)).quantize(CENT, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        raise InvalidInput(_("The adjustment must be a number.")) from None
    if not adjustment.is_finite() or abs(adjustment) > ADJUSTMENT_LIMIT:
        raise InvalidInput(
            _("The adjustment must be between -%(limit)s and +%(limit)s points.") % {"limit": ADJUSTMENT_LIMIT}
        )
    if adjustment and not comment:
        raise InvalidInput(_("Please give the reason for the adjustment."))
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(_("The reason may be at most %(max)d characters long.") % {"max": COMMENT_MAX})
    with transaction.atomic():
        locked = _locked_row(assessment)
        _refuse_if_locked(locked)
        # Under review, the numbers are the reviewer's (Akvo RSR's habit): the community's staff wait for a return.
        if locked.status == Assessment.Status.SUBMITTED and not permissions.has_ability(
            actor, "members.approve_assessment", locked
        ):
            raise Conflict(
                _("This assessment is submitted for approval; until it is returned only the street's staff adjust it.")
            )
        locked.adjustment = adjustment
        locked.adjustment_comment = comment
        locked.total = locked.score + adjustment
        with_history(locked, actor, "adjusted").save(
            update_fields=["adjustment", "adjustment_comment", "total", "updated_at"]
        )
    return locked


def assessment_submit(*, assessment: Assessment, actor) -> Assessment:
    """Staff submit the assessment for the street's approval (from draft, or again after a return)."""
    permissions.require_ability(actor, "change", assessment)
    with transaction.atomic():
        return move(
            assessment,
            action="submit",
            actor=actor,
            reason="submitted",
            submitted_at=timezone.now(),
            submitted_by=actor,
        )


def assessment_approve(*, assessment: Assessment, actor) -> Assessment:
    """Street staff approve: the assessment is final and locked; the unit's liaisons are told."""
    permissions.require_ability(
        actor, "members.approve_assessment", assessment, _("Only the street's staff approve assessments.")
    )
    with transaction.atomic():
        approved = move(
            assessment,
            action="approve",
            actor=actor,
            reason="approved",
            approved_at=timezone.now(),
            approved_by=actor,
        )
        unit = MemberUnit.objects.get(pk=approved.unit_id)
        notify_many(
            _liaisons(unit),
            subject=_("Your unit's assessment is final"),
            body=_("The assessment of %(unit)s for %(quarter)s has been approved: %(total)s points.")
            % {"unit": unit.name, "quarter": approved.period.label, "total": approved.total},
            url=reverse("portal:assessment_detail", args=[approved.pk]),
            kind="assessment_approved",
            by_sms=False,
        )
    return approved


def assessment_return(*, assessment: Assessment, reason: str, actor) -> Assessment:
    """Street staff send a submitted assessment back for revision, saying why; it can be recomputed,
    adjusted and submitted again."""
    permissions.require_ability(
        actor, "members.approve_assessment", assessment, _("Only the street's staff return assessments.")
    )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for returning the assessment."))
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("The reason may be at most %(max)d characters long.") % {"max": REASON_MAX})
    with transaction.atomic():
        returned = move(assessment, action="return", actor=actor, reason="returned", return_reason=reason)
        if returned.submitted_by_id and returned.submitted_by_id != getattr(actor, "pk", None):
            # At once: one message per return, and the assessment waits on its author's revision.
            notify(
                recipient=returned.submitted_by,
                subject=_("An assessment was returned for revision"),
                body=_("The assessment of %(unit)s for %(quarter)s was returned: %(reason)s")
                % {"unit": returned.unit.name, "quarter": returned.period.label, "reason": reason},
                url=reverse("admin:members_assessment_change", args=[returned.pk]),
                kind="assessment_returned",
                by_sms=False,
            )
    return returned


def assessment_remark(*, assessment: Assessment, text: str, actor) -> Assessment:
    """The unit's liaison comments on its assessment before it is approved (one remark, replaced)."""
    permissions.require_ability(
        actor, "members.remark_assessment", assessment, _("Only the unit's liaison may leave a remark.")
    )
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Please write your remark."))
    if len(text) > REMARK_MAX:
        raise InvalidInput(_("The remark may be at most %(max)d characters long.") % {"max": REMARK_MAX})
    with transaction.atomic():
        locked = _locked_row(assessment)
        _refuse_if_locked(locked)
        locked.liaison_remark = text
        locked.remarked_at = timezone.now()
        with_history(locked, actor, "remark").save(update_fields=["liaison_remark", "remarked_at", "updated_at"])
    return locked


def _liaisons(unit: MemberUnit):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, unit_memberships__unit=unit).distinct().order_by("pk")


# --- Selectors ------------------------------------------------------------------------------------------


def _with_lines(queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    return queryset.select_related("unit__community", "unit__sector").prefetch_related(
        Prefetch("lines", queryset=AssessmentLine.objects.order_by("order", "code"))
    )


def assessments_visible_to(*, user) -> QuerySet[Assessment]:
    return _with_lines(permissions.visible(user, Assessment.objects.all())).order_by(
        "-year", "-quarter", "unit__name", "pk"
    )


def assessment_detail(*, user, pk: int) -> Assessment:
    return permissions.get_visible_or_404(user, assessments_visible_to(user=user), pk=pk)


def assessments_of_liaison(*, user) -> QuerySet[Assessment]:
    """The portal's list: the assessments of the units the user is liaison of (not their staff scope)."""
    return _with_lines(Assessment.objects.filter(unit_id__in=permissions.units_of(user))).order_by(
        "-year", "-quarter", "unit__name", "pk"
    )


@dataclass(frozen=True, slots=True)
class ShownLine:
    """A line as a screen shows it: the registry's label and explanation in the reader's language."""

    code: str
    label: str
    explanation: str
    value: Decimal | None
    weight: Decimal
    full_marks: Decimal
    points: Decimal
    applicable: bool
    format: str


def shown_lines(assessment: Assessment) -> list[ShownLine]:
    shown = []
    for line in assessment.lines.all():
        indicator = reports.indicator(line.code)
        shown.append(
            ShownLine(
                code=line.code,
                label=str(indicator.label) if indicator else line.label,
                explanation=str(indicator.explanation) if indicator else "",
                value=line.value,
                weight=line.weight,
                full_marks=line.full_marks,
                points=line.points,
                applicable=line.applicable,
                format=indicator.format if indicator else reports.Format.DECIMAL,
            )
        )
    return shown


# --- The 单位考核 sheet of the quarterly workbook ---------------------------------------------------------


class _SheetColumns(Sequence):
    """The sheet's columns, read from the indicator registry when the workbook is rendered: the apps
    register their indicators after members registers the sheet, and the set may change."""

    def _columns(self) -> tuple[reports.Column, ...]:
        per_indicator = []
        for indicator in reports.indicators():
            per_indicator += [
                reports.Column(indicator.label, indicator.format, width=14),
                reports.Column(
                    gettext_lazy("%(indicator)s (points)") % {"indicator": indicator.label},
                    reports.Format.DECIMAL,
                    width=12,
                ),
            ]
        return (
            reports.Column(gettext_lazy("Member unit"), width=28),
            reports.Column(gettext_lazy("Sector branch"), width=16),
            reports.Column(gettext_lazy("Community"), width=16),
            *per_indicator,
            # 年度积分 (issue 15): the unit's points of the year up to the quarter's end.
            reports.Column(gettext_lazy("Points this year"), reports.Format.INTEGER, width=10),
            reports.Column(gettext_lazy("Score"), reports.Format.DECIMAL, width=10),
            reports.Column(gettext_lazy("Adjustment"), reports.Format.DECIMAL, width=10),
            reports.Column(gettext_lazy("Reason for the adjustment"), width=30),
            reports.Column(gettext_lazy("Total"), reports.Format.DECIMAL, width=10),
            reports.Column(gettext_lazy("Status"), width=12),
            reports.Column(gettext_lazy("Rank in the street"), reports.Format.INTEGER, width=10),
            reports.Column(gettext_lazy("Rank in the sector branch"), reports.Format.INTEGER, width=12),
        )

    def __getitem__(self, index):
        return self._columns()[index]

    def __len__(self) -> int:
        return len(self._columns())

    def __iter__(self) -> Iterator[reports.Column]:
        return iter(self._columns())


def _year_points(quarter: Quarter):
    """The unit's points of the year to the quarter's end, from the volunteers app's ledger: read by the
    model's name through the app registry — members imports no other app (volunteers imports members)."""
    entries = apps.get_model("volunteers", "PointsEntry").objects.filter(
        unit=OuterRef("unit_id"), year=quarter.year, quarter__lte=quarter.quarter
    )
    return Subquery(
        entries.order_by().values("unit").annotate(total=Sum("points")).values("total")[:1],
        output_field=IntegerField(),
    )


def sheet_queryset(*, street_id: int, quarter: Quarter) -> QuerySet[Assessment]:
    """The street's assessments of the quarter with each indicator's value and points, and the ranks by
    total in the street and in the sector branch — one query (ranks by SQL window functions)."""
    codes = [indicator.code for indicator in reports.indicators()]
    lines = AssessmentLine.objects.filter(assessment=OuterRef("pk"))
    per_indicator = {}
    for i, code in enumerate(codes):
        per_indicator[f"v{i}"] = Subquery(lines.filter(code=code).values("value")[:1])
        per_indicator[f"p{i}"] = Subquery(lines.filter(code=code).values("points")[:1])
    return (
        Assessment.objects.filter(unit__community__street_id=street_id, year=quarter.year, quarter=quarter.quarter)
        .annotate(
            **per_indicator,
            year_points=_year_points(quarter),
            street_rank=Window(Rank(), partition_by=[F("unit__community__street_id")], order_by=F("total").desc()),
            sector_rank=Window(Rank(), partition_by=[F("unit__sector_id")], order_by=F("total").desc()),
        )
        .order_by("street_rank", "unit__name", "pk")
    )


def sheet_rows(context: reports.ReportContext) -> Iterator[reports.Row]:
    count = len(reports.indicators())
    statuses = dict(Assessment.Status.choices)
    names = [f"{kind}{i}" for i in range(count) for kind in ("v", "p")]
    rows = sheet_queryset(street_id=context.street_id, quarter=context.quarter).values_list(
        "unit__name",
        "unit__sector__name",
        "unit__community__name",
        "unit__sector_id",
        *names,
        "year_points",
        "score",
        "adjustment",
        "adjustment_comment",
        "total",
        "status",
        "street_rank",
        "sector_rank",
    )
    for row in rows.iterator(chunk_size=2000):
        unit, sector, community, sector_id, *rest = row
        indicator_cells = rest[: 2 * count]
        year_points, score, adjustment, comment, total, status, street_rank, sector_rank = rest[2 * count :]
        yield (
            unit,
            sector or "",
            community,
            *indicator_cells,
            year_points or 0,
            score,
            adjustment,
            comment,
            total,
            str(statuses.get(status, status)),
            street_rank,
            sector_rank if sector_id is not None else None,
        )


ASSESSMENT_SHEET = reports.Sheet(
    key="assessments",
    title=gettext_lazy("Unit assessment"),
    order=90,
    columns=_SheetColumns(),  # type: ignore[arg-type]  # a live sequence, see _SheetColumns
    rows=sheet_rows,
)

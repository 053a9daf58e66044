"""Matching (对接): for a need, units and resources ranked, each with the reasons for its place.

The weights say what a community secretary weighs when dispatching by hand: a unit that offers this kind
of help comes first, then one in the same community (it is close, and knows the residents); a unit
already carrying several open needs drops; a record of on-time work and good ratings lifts it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import selectors
from .models import Need

OFFERS_CATEGORY = 4.0
DONE_IN_CATEGORY = 0.5  # per need of this category completed, up to 2.0
SAME_COMMUNITY = 3.0
PER_OPEN_NEED = -0.75
ON_TIME = 2.0  # times the on-time share
RATING = 0.5  # per star above 3


@dataclass
class Suggestion:
    kind: str  # "unit" or "resource"
    unit_id: int
    unit_name: str
    score: float
    reasons: list[str] = field(default_factory=list)
    resource_id: int | None = None
    resource_title: str = ""


def _unit_suggestion(unit, need: Need) -> Suggestion:
    score, reasons = 0.0, []
    if unit.offers_category:
        score += OFFERS_CATEGORY
        reasons.append(_("offers %(category)s") % {"category": need.category.name})
    if unit.category_done:
        score += min(2.0, DONE_IN_CATEGORY * unit.category_done)
        reasons.append(
            ngettext(
                "completed %(count)d need of this category",
                "completed %(count)d needs of this category",
                unit.category_done,
            )
            % {"count": unit.category_done}
        )
    if unit.community_id == need.community_id:
        score += SAME_COMMUNITY
        reasons.append(_("in the same community"))
    if unit.open_load:
        score += PER_OPEN_NEED * unit.open_load
        reasons.append(
            ngettext("%(count)d need in hand", "%(count)d needs in hand", unit.open_load) % {"count": unit.open_load}
        )
    else:
        reasons.append(_("no needs in hand"))
    if unit.done_count:
        share = unit.on_time_count / unit.done_count
        score += ON_TIME * share
        reasons.append(_("%(percent)d%% completed on time") % {"percent": round(share * 100)})
    if unit.average_rating is not None:
        score += RATING * (float(unit.average_rating) - 3)
        reasons.append(_("rated %(rating).1f by residents") % {"rating": unit.average_rating})
    return Suggestion(kind="unit", unit_id=unit.pk, unit_name=unit.name, score=round(score, 2), reasons=reasons)


def suggest(need: Need, *, limit: int = 10) -> list[Suggestion]:
    """Units first (best first), then the resources of this category, the nearest first."""
    units = sorted(
        (_unit_suggestion(unit, need) for unit in selectors.unit_candidates(need=need)),
        key=lambda s: (-s.score, s.unit_name),
    )
    units = units[:limit]
    resources = []
    for resource in selectors.resource_candidates(need=need)[: limit * 3]:
        same = resource.unit.community_id == need.community_id
        reasons = [_("%(kind)s of %(unit)s") % {"kind": resource.get_kind_display(), "unit": resource.unit.name}]
        if same:
            reasons.append(_("in the same community"))
        reasons.append(_("free of charge") if resource.is_free else _("charged"))
        if resource.availability:
            reasons.append(resource.availability)
        resources.append(
            Suggestion(
                kind="resource",
                unit_id=resource.unit_id,
                unit_name=resource.unit.name,
                score=(SAME_COMMUNITY if same else 0) + (1 if resource.is_free else 0),
                reasons=reasons,
                resource_id=resource.pk,
                resource_title=resource.title,
            )
        )
    resources.sort(key=lambda s: (-s.score, s.resource_id))
    return units + resources[:limit]

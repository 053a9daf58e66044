"""Exporters of the projects app: a header and plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.exports import choice_labels, export_later

from .models import ProjectClaim

# The background-job kind of the claim table (registered in `extensions`, queued by the admin actions).
EXPORT_CLAIMS = "export.claim_table"


def claim_table_sheets(claims: QuerySet[ProjectClaim], user, params: dict) -> list:
    return [claim_table_rows(claims)]


def claim_table_rows(claims: QuerySet[ProjectClaim]) -> tuple[str, list[str], Iterator[list[object]]]:
    """认领表 in the layout a street office prints and files: one row per claim, grouped by project.

    It names units and what they promised, never a person: no liaison, no phone, no "claimed by"
    account — so the printout may leave the office (pinned up, sent to the district)."""
    header = [
        _("No."),
        _("Project"),
        _("Category"),
        _("Community"),
        _("Demonstration project"),
        _("Plaque awarded on"),
        _("Period"),
        _("Unit"),
        _("Commitment"),
        _("Claim status"),
        _("Claimed on"),
    ]
    yes, no, street_wide = _("Yes"), _("No"), _("Street-wide")
    statuses = choice_labels(ProjectClaim, "status")

    def rows() -> Iterator[list[object]]:
        ordered = claims.order_by(
            "project__category__sort_order", "project__title", "project_id", "created_at", "id"
        ).values_list(
            "project__title",
            "project__category__name",
            "project__community_id",
            "project__community__name",
            "project__is_demonstration",
            "project__plaque_awarded_on",
            "project__starts_on",
            "project__ends_on",
            "unit__name",
            "commitment",
            "status",
            "created_at",
        )
        # Tuples, not five model instances a row (a third of the job's time went into building them);
        # iterator(): the export streams rows instead of caching the whole queryset.
        zone = timezone.get_current_timezone()
        for number, row in enumerate(ordered.iterator(chunk_size=2000), start=1):
            title, category, community_id, community, demonstration, plaque, starts, ends, *rest = row
            unit, commitment, status, created_at = rest
            yield [
                number,
                title,
                category,
                community if community_id else street_wide,
                yes if demonstration else no,
                plaque,
                f"{starts:%Y-%m-%d} – {ends:%Y-%m-%d}",
                unit,
                commitment,
                statuses.get(status, status),
                # timezone.localdate() per row, without looking the zone up each time.
                created_at.astimezone(zone).date() if created_at else None,
            ]

    return _("Claim table"), header, rows()


def claim_table_later(request, claims: QuerySet[ProjectClaim], *, model_admin=None) -> HttpResponse:
    """The claim table of the given claims (already narrowed to what the user sees), queued as a job;
    `model_admin`: the claims' change list, whose filters a "select all" stores instead of the ids."""
    return export_later(
        request,
        EXPORT_CLAIMS,
        queryset=claims,
        filename="{}-{}.xlsx".format(_("claim-table"), timezone.localdate().isoformat()),
        label=_("Claim table"),
        model_admin=model_admin,
    )

"""Exporters of the demands app: a header and plain rows, rendered by `alliance.exports`."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from alliance import permissions
from alliance.exports import choice_labels
from alliance.masking import mask_name, mask_phone

from .models import Need
from .services import format_tracking_code

# The background-job kind of the needs export (registered in `extensions`, queued by the admin action).
EXPORT_NEEDS = "export.needs"


def need_sheets(needs: QuerySet[Need], user, params: dict) -> list:
    return [need_rows_internal(needs, user=user)]


def need_rows_internal(needs: QuerySet[Need], *, user) -> tuple[str, list[str], Iterator[list[object]]]:
    """Staff's working list. It carries the resident's name and phone — which is why it is made only in
    the admin, for the community's own staff, and its sheet says so; reports that leave the street
    office are built elsewhere, without them. Each row asks "demands.see_contact" for `user`, as every
    other surface does: a row they may not see in full is masked."""
    header = [
        _("Tracking code"),
        _("Title"),
        _("Kind"),
        _("Category"),
        _("Community"),
        _("Status"),
        _("Unit"),
        _("Channel"),
        _("Submitted at"),
        _("Dispatched at"),
        _("Accepted at"),
        _("Completed at"),
        _("Closed at"),
        _("Result"),
        _("Rating"),
        _("Comment on the result"),
        _("Reason for rejection"),
        _("Contact name"),
        _("Contact phone"),
    ]

    def _contact(need: Need) -> tuple[str, str]:
        if permissions.has_ability(user, "demands.see_contact", need):
            return need.contact_name, need.contact_phone
        return mask_name(need.contact_name), mask_phone(need.contact_phone)

    kinds, statuses, channels = (choice_labels(Need, f) for f in ("kind", "status", "channel"))

    def rows() -> Iterator[list[object]]:
        # iterator(): the export streams rows instead of caching the whole queryset; the related names come
        # as columns of the same query, not as three model instances a row.
        named = needs.annotate(
            category_label=F("category__name"), community_label=F("community__name"), unit_label=F("unit__name")
        )
        for need in named.iterator(chunk_size=2000):
            yield [
                format_tracking_code(need.tracking_code),
                need.title,
                kinds.get(need.kind, need.kind),
                need.category_label,
                need.community_label,
                statuses.get(need.status, need.status),
                need.unit_label or "",
                channels.get(need.channel, need.channel),
                need.submitted_at,
                need.dispatched_at,
                need.accepted_at,
                need.completed_at,
                need.closed_at,
                need.result,
                need.rating,
                need.rating_comment,
                need.reject_reason,
                *_contact(need),
            ]

    return _("Needs (internal, contacts)"), header, rows()

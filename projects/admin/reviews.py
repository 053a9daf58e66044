"""Quarterly commitment reviews of approved claims."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.periods import Quarter
from demands import selectors as demand_selectors

from .. import selectors, services
from ..models import CommitmentReview
from .common import limit_to_decided_claims
from .forms import ReviewForm


@admin.register(CommitmentReview)
class CommitmentReviewAdmin(ScopedAdminMixin, HistoryAdmin):
    """承诺评议: staff's quarterly score of a claim, beside the residents' ratings of the needs the unit
    completed in that quarter."""

    staff_roles = "community"
    form = ReviewForm
    list_display = ["claim", "year", "quarter", "score", "resident_rating", "reviewer", "created_at"]
    list_select_related = ["claim__project", "claim__unit", "reviewer"]
    list_filter = ["year", "quarter", "score", "claim__project__category", "claim__project__is_demonstration"]
    search_fields = ["claim__unit__name", "claim__project__title", "comment"]
    search_help_text = _("Unit, project or comment")
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.reviews_visible_to(user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a score is corrected by saving it again, which the history keeps

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["claim", "year", "quarter", "score", "comment"]
        return ["claim", "year", "quarter", "score", "comment", "resident_rating", "reviewer", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["claim", "year", "quarter", "resident_rating", "reviewer", "created_at"]

    def get_changeform_initial_data(self, request):
        current = Quarter.current()
        return {"year": current.year, "quarter": current.quarter, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        limit_to_decided_claims(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changelist_instance(self, request):
        """The residents' ratings of the page's units, in one query for the whole page."""
        changelist = super().get_changelist_instance(request)
        reviews = list(changelist.result_list)  # evaluates the page once; the template reuses the cache
        ratings = demand_selectors.unit_quarter_ratings(unit_ids={r.claim.unit_id for r in reviews})
        for review in reviews:
            review._resident_rating = ratings.get((review.claim.unit_id, review.year, review.quarter))
        return changelist

    @admin.display(description=_("residents' rating"))
    def resident_rating(self, obj: CommitmentReview) -> str:
        if not hasattr(obj, "_resident_rating"):  # the change page: one review, one query
            ratings = demand_selectors.unit_quarter_ratings(unit_ids=[obj.claim.unit_id])
            obj._resident_rating = ratings.get((obj.claim.unit_id, obj.year, obj.quarter))
        if obj._resident_rating is None:
            return "—"
        average, count = obj._resident_rating
        return ngettext("%(average).1f (%(count)d rating)", "%(average).1f (%(count)d ratings)", count) % {
            "average": average,
            "count": count,
        }

    def save_model(self, request, obj: CommitmentReview, form, change: bool) -> None:
        data = form.cleaned_data
        claim = obj.claim if change else data["claim"]
        saved = self.save_through(
            request,
            services.review_save,
            claim=claim,
            year=obj.year if change else data["year"],
            quarter=obj.quarter if change else data["quarter"],
            score=data["score"],
            comment=data.get("comment", ""),
        )
        if saved is not None:
            obj.pk = saved.pk

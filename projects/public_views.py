"""The public activities page (活动风采): what the alliance's units did, with their photos — no login, phone
first, no JavaScript. Shows the unit, the project's community and category and the figures; never who
recorded an activity, nor any person's name or phone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from alliance import public_pages
from alliance.pagination import page_number, page_of
from members import selectors as member_selectors

from . import selectors

PER_PAGE = 12


@require_safe
def activities(request: HttpRequest) -> HttpResponse:
    """`/activities/?street=&community=&category=&month=YYYY-MM&page=`: a street's activities, newest
    first, twelve a page (alliance.pagination: no COUNT, no deep OFFSET). A filter value the page cannot
    take is said (400) and the list shown without it."""
    chosen = public_pages.street_or_chooser(request, "activities")
    if isinstance(chosen, HttpResponse):
        return chosen
    street_id = chosen.street_id
    choices = public_pages.cached(
        ("activities:choices", street_id),
        lambda: {
            "communities": member_selectors.public_communities(street_id=street_id) if street_id else {},
            "categories": public_pages.categories(),
        },
    )
    community, community_error = public_pages.id_choice(
        request.GET, "community", choices["communities"], _("communities")
    )
    category, category_error = public_pages.id_choice(request.GET, "category", choices["categories"], _("categories"))
    month, month_error = public_pages.month_choice(request.GET)
    errors = [error for error in (community_error, category_error, month_error) if error]
    number = page_number(request.GET.get("page"))

    def read():
        if street_id is None:
            return page_of([], request.GET, per_page=PER_PAGE)
        rows = selectors.public_activities(
            street_id=street_id, community_id=community, category_id=category, month=month
        )
        return page_of(rows, request.GET, per_page=PER_PAGE)

    page = public_pages.page_for(request, ("activities", street_id, community, category, month, number), read)
    context = {
        "page": page,
        "scope": chosen,
        "street_query": chosen.query,
        "communities": choices["communities"],
        "categories": choices["categories"],
        "chosen": {"community": community, "category": category, "month": month.strftime("%Y-%m") if month else ""},
        "errors": errors,
    }
    return render(request, "public/activities.html", context, status=400 if errors else 200)

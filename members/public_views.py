"""Public pages of the members app: the street's member units with its council roster (`/units/`) and its
notices (`/notices/`, one notice, and their Atom feed). No login, phone first, no JavaScript; never a
liaison's or secretary's name, a phone or an address of a person."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from alliance import public_figures, public_pages
from alliance.pagination import page_number, page_of

from . import selectors
from .models import MemberUnit, Notice

UNITS_PER_PAGE = 50
NOTICES_PER_PAGE = 20
FEED_ENTRIES = 30


# --- Member units and the council (成员单位 · 理事会) --------------------------------------------------


@require_safe
def units(request: HttpRequest) -> HttpResponse:
    """`/units/?street=&type=&sector=&page=`: the street's approved member units by name, filtered by type
    and sector branch, and its council roster of the current term (the same selectors and template as
    `/council/`)."""
    chosen = public_pages.street_or_chooser(request, "units")
    if isinstance(chosen, HttpResponse):
        return chosen
    street_id = chosen.street_id

    def read_choices() -> dict:
        term = selectors.current_term(street_id=street_id) if street_id else None
        return {
            "sectors": selectors.public_sectors(street_id=street_id) if street_id else {},
            "term": term,
            "seats": list(selectors.council_roster(term=term)),
        }

    # The roster and the sector names change a few times a year: kept with the filter choices.
    shared = public_pages.cached(("units:shared", street_id), read_choices)
    types = {str(value): str(label) for value, label in MemberUnit.UnitType.choices}
    unit_type, type_error = public_pages.code_choice(request.GET, "type", types, _("unit types"))
    sector, sector_error = public_pages.id_choice(request.GET, "sector", shared["sectors"], _("sector branches"))
    errors = [error for error in (type_error, sector_error) if error]
    number = page_number(request.GET.get("page"))

    def read():
        if street_id is None:
            return page_of([], request.GET, per_page=UNITS_PER_PAGE)
        rows = selectors.public_units(street_id=street_id, unit_type=unit_type, sector_id=sector)
        return page_of(rows, request.GET, per_page=UNITS_PER_PAGE)

    page = public_pages.page_for(request, ("units", street_id, unit_type, sector, number), read)
    context = {
        "page": page,
        "scope": chosen,
        "street_query": chosen.query,
        "types": types,
        "sectors": shared["sectors"],
        "term": shared["term"],
        "seats": shared["seats"],
        "chosen": {"type": unit_type, "sector": sector},
        "errors": errors,
    }
    return render(request, "public/units.html", context, status=400 if errors else 200)


# --- Notices (通知公告) ------------------------------------------------------------------------------------


def _published(street_id: int, number: int, request: HttpRequest):
    """The page of a street's published notices. The window is checked when the rows are read: a notice
    that opens or closes (or is edited) shows so within PUBLIC_LIST_SECONDS, the cache's expiry — a short
    expiry rather than invalidation on save (alliance.public_pages)."""

    def read():
        return page_of(selectors.notices_published(street_id=street_id), request.GET, per_page=NOTICES_PER_PAGE)

    return public_pages.page_for(request, ("notices", street_id, number), read)


@require_safe
def notices(request: HttpRequest) -> HttpResponse:
    """`/notices/?street=&page=`: a street's notices inside their window, newest first."""
    chosen = public_pages.street_or_chooser(request, "notices")
    if isinstance(chosen, HttpResponse):
        return chosen
    if chosen.street_id is None:
        page = page_of([], request.GET, per_page=NOTICES_PER_PAGE)
    else:
        page = _published(chosen.street_id, page_number(request.GET.get("page")), request)
    context = {"page": page, "scope": chosen, "street_query": chosen.query}
    return render(request, "public/notices.html", context)


@require_safe
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    """One published notice with its attachments; outside its window (or unknown) the same 404."""
    notice = public_pages.cached(("notice", notice_id), lambda: selectors.notice_published(pk=notice_id) or False)
    if not notice:
        raise Http404
    query = f"street={notice.street_id}" if len(public_figures.streets()) > 1 else ""
    return render(request, "public/notice_detail.html", {"notice": notice, "street_query": query})


class NoticeFeed(Feed):
    """`/notices/feed/?street=<id>`: the street's published notices as an Atom feed (the newest
    FEED_ENTRIES), for residents' readers and the communities' own sites. A street it does not know, or no
    street where there are several: 404 (a feed reader has no chooser to show)."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args, **kwargs) -> dict:
        try:
            chosen = public_figures.scope(street=request.GET.get("street"))
        except public_figures.ScopeError:
            raise Http404 from None
        if chosen.street is None:
            raise Http404
        # The feed object is shared by every request: what one request needs travels with its street.
        return {**chosen.street, "query": chosen.query}

    def title(self, street: dict) -> str:
        return _("Notices of %(street)s") % {"street": street["name"]}

    def subtitle(self, street: dict) -> str:
        return _("Announcements the street's Party Working Committee publishes for residents.")

    def link(self, street: dict) -> str:
        return reverse("notices") + (f"?{street['query']}" if street["query"] else "")

    def items(self, street: dict) -> list[Notice]:
        return public_pages.cached(
            ("notices:feed", street["id"]),
            lambda: list(selectors.notices_published(street_id=street["id"])[:FEED_ENTRIES]),
        )

    def item_title(self, notice: Notice) -> str:
        return notice.title

    def item_description(self, notice: Notice) -> str:
        # Atom carries the summary as HTML: the plain text is escaped first, its lines kept.
        return linebreaks(notice.body, autoescape=True)

    def item_link(self, notice: Notice) -> str:
        return reverse("notice", args=[notice.pk])

    def item_pubdate(self, notice: Notice):
        return notice.publish_from

    def item_updateddate(self, notice: Notice):
        return max(notice.updated_at, notice.publish_from) if notice.updated_at else notice.publish_from

    def item_guid(self, notice: Notice) -> str:
        return reverse("notice", args=[notice.pk])


notice_feed = require_safe(NoticeFeed())

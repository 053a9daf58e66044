"""The residents' public pages (居民点单 and 晒单): no login, phone first, no JavaScript needed.

Residents have no account: a need is followed with its tracking code plus the last four digits of the
phone given. Nothing here ever shows a contact name, phone number or address — not even back to the
resident who typed them — and the forms are rate-limited per client address (alliance.ratelimit)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from alliance import public_figures, public_pages, ratelimit, site
from alliance.forms import call_for_form
from alliance.pagination import Page, page_number, page_of
from members import selectors as member_selectors

from . import selectors, services
from . import showcase as showcase_rows
from .models import Need, Resource
from .public_forms import NeedForm, RatingForm, TrackForm

logger = logging.getLogger(__name__)

# The code of the need this browser submitted last: shown on the confirmation page, filled into the
# tracking form, for a day. The cookie is the resident's own; the code alone opens nothing.
CODE_COOKIE = "needs_tracking_code"
CODE_KEEP_SECONDS = 86400
SHOWCASE_PER_PAGE = 12
TRACK_TEMPLATE = "demands/public/track.html"


# --- Rate limits ----------------------------------------------------------------------------------


# Only needs that were stored use up a resident's allowance (need_submit); invalid or refused attempts
# have their own, more generous count, so that the form cannot be hammered with bad input either.
SUBMIT_SCOPE = "need_submit"
INVALID_SCOPE = "need_submit_invalid"


def _refuse_if_over_limit(request: HttpRequest, scope: str) -> HttpResponse | None:
    """Count this request of `scope`; past the limit, the clear page (429) that the caller returns."""
    if ratelimit.allow(request, scope):
        return None
    return _too_many(request, scope)


def _too_many(request: HttpRequest, scope: str) -> HttpResponse:
    window = ratelimit.rate_for(scope)[1]
    logger.info("public %s: rate limit reached for one client address", scope)
    minutes = max(1, -(-window // 60))
    response = render(request, "demands/public/too_many.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(window)
    return response


# --- Submitting (居民点单) ------------------------------------------------------------------------


def _community_param(request: HttpRequest) -> int | None:
    """`?community=<id>` from a poster's QR code. Anything else is ignored; an unknown id selects nothing."""
    value = request.GET.get("community", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def _for_street(request: HttpRequest, form: NeedForm) -> tuple[NeedForm, list[str]]:
    """The form's communities: those of `?street=<id>` (its home links here with it), or every street's —
    named with their street when there are several (a community's name is unique only in its street).
    A street the platform does not know lists every community, with the reason."""
    if "street" not in request.GET:
        chosen, errors = public_figures.scope(street=None), []
    else:
        try:
            chosen, errors = public_figures.scope(street=request.GET["street"]), []
        except public_figures.ScopeError as error:
            chosen, errors = public_figures.Scope(streets=tuple(public_figures.streets())), error.messages
    field = form.fields["community"]
    if chosen.several and chosen.street is not None:
        field.queryset = field.queryset.filter(street_id=chosen.street_id)
    elif chosen.several:
        field.label_from_instance = lambda community: f"{community.street.name} · {community.name}"
    return form, errors


def _render_new(request: HttpRequest, form: NeedForm) -> HttpResponse:
    form, errors = _for_street(request, form)
    context = {"form": form, "street_errors": errors, "street_query": public_figures.street_query(request)}
    return render(request, "demands/public/new.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_new(request, NeedForm(initial={"community": _community_param(request)}))

    form = NeedForm(request.POST)
    if form.is_bot():
        # Pretend it went through, so that the bot learns nothing; store nothing.
        logger.info("public need form: honeypot filled in, nothing stored")
        response = redirect(_submitted_url(request))
        response.delete_cookie(CODE_COOKIE)
        return response
    if form.is_valid():
        # Counted before storing, so that parallel requests cannot pass the limit (one round trip to the
        # cache, which also checks the invalid attempts' limit); given back below when the service
        # refuses the need.
        refused = ratelimit.take(request, SUBMIT_SCOPE, unless=INVALID_SCOPE)
        if refused is not None:
            return _too_many(request, refused)
        need = call_for_form(form, services.need_submit, data=form.need_data(), channel=Need.Channel.WEB)
        if need is not None:
            response = redirect(_submitted_url(request))
            _remember_code(response, need.tracking_code)
            return response
        ratelimit.refund(request, SUBMIT_SCOPE)
    if not ratelimit.allow(request, INVALID_SCOPE):
        return _too_many(request, INVALID_SCOPE)
    return _render_new(request, form)


def _submitted_url(request: HttpRequest) -> str:
    query = public_figures.street_query(request)
    return f"{reverse('needs:submitted')}?{query}" if query else reverse("needs:submitted")


def _remember_code(response: HttpResponse, code: str) -> None:
    """The code goes back to this browser in a signed cookie, not the session: no session row to write
    per submission (the code alone opens nothing)."""
    response.set_signed_cookie(
        CODE_COOKIE,
        code,
        salt=CODE_COOKIE,
        max_age=CODE_KEEP_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _code_of(request: HttpRequest) -> str:
    return request.get_signed_cookie(CODE_COOKIE, default="", salt=CODE_COOKIE, max_age=CODE_KEEP_SECONDS)


@require_GET
def need_submitted(request: HttpRequest) -> HttpResponse:
    code = _code_of(request)
    context = {"code": services.format_tracking_code(code) if code else "", **_links(request)}
    return render(request, "demands/public/submitted.html", context)


# --- Following and rating -------------------------------------------------------------------------


def _links(request: HttpRequest) -> dict[str, str]:
    """What the page's links carry to stay on the visitor's street (nothing is read for it)."""
    return {"street_query": public_figures.street_query(request)}


def _find(form: TrackForm) -> Need | None:
    """The need behind a code and four digits. A wrong code and wrong digits get one and the same answer."""
    if not form.is_valid():
        return None
    need = selectors.need_by_tracking(code=form.cleaned_data["code"], phone_last4=form.cleaned_data["phone_last4"])
    if need is None:
        form.add_error(
            None,
            _(
                "No need matches this tracking code and these digits. Please check both; if you have lost the "
                "code, ask your community's staff."
            ),
        )
    return need


def _render_need(
    request: HttpRequest, need: Need, phone_last4: str, rating_form: RatingForm | None = None
) -> HttpResponse:
    context = {
        "need": need,
        "events": list(need.events.all()),  # prefetched by need_by_tracking, in order
        "code": services.format_tracking_code(need.tracking_code),
        "phone_last4": phone_last4,
        "is_done": need.status in selectors.DONE,
        "rating_form": (rating_form or RatingForm()) if need.status == Need.Status.COMPLETED else None,
        **_links(request),
    }
    return render(request, TRACK_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
def need_track(request: HttpRequest) -> HttpResponse:
    """POST, so that the phone digits stay out of addresses, histories and server logs."""
    if request.method != "POST":
        code = _code_of(request)
        form = TrackForm(initial={"code": services.format_tracking_code(code) if code else ""})
        return render(request, TRACK_TEMPLATE, {"form": form, **_links(request)})
    refusal = _refuse_if_over_limit(request, "need_track")
    if refusal is not None:
        return refusal
    form = TrackForm(request.POST)
    need = _find(form)
    if need is None:
        return render(request, TRACK_TEMPLATE, {"form": form, **_links(request)})
    return _render_need(request, need, form.cleaned_data["phone_last4"])


@require_http_methods(["GET", "POST"])
def need_rate(request: HttpRequest) -> HttpResponse:
    """The rating form of the tracking page carries the code and the digits, checked again here."""
    if request.method != "POST":
        return redirect("needs:track")
    # Counted with the lookups: a rating is a lookup too, and must not become a way to guess codes.
    refusal = _refuse_if_over_limit(request, "need_track")
    if refusal is not None:
        return refusal
    lookup = TrackForm(request.POST)
    need = _find(lookup)
    if need is None:
        return render(request, TRACK_TEMPLATE, {"form": lookup, **_links(request)})
    phone_last4 = lookup.cleaned_data["phone_last4"]
    form = RatingForm(request.POST)
    if form.is_valid() and call_for_form(
        form, services.need_rate, need=need, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
    ):
        messages.success(request, _("Thank you for rating the result. Your need is now closed."))
        need = selectors.need_by_tracking(code=need.tracking_code, phone_last4=phone_last4) or need
        form = None
    if form is not None and form.errors and need.status != Need.Status.COMPLETED:
        # No rating form is shown for a need that cannot be rated; its refusal is told as a message.
        for error in form.non_field_errors():
            messages.error(request, error)
    return _render_need(request, need, phone_last4, form)


# --- Showcase (晒单) and posters ------------------------------------------------------------------


@require_GET
def showcase(request: HttpRequest) -> HttpResponse:
    """One street's showcase (`?street=<id>`, or the only street's); with several streets and none chosen,
    the streets to choose from (400 with the reason for a street it does not know)."""
    try:
        chosen = public_figures.scope(street=request.GET.get("street"))
    except public_figures.ScopeError as error:
        chosen = public_figures.Scope(streets=tuple(public_figures.streets()))
        return _street_chooser(request, chosen, errors=error.messages, status=400)
    if chosen.several and chosen.street is None:
        return _street_chooser(request, chosen)
    # The first pages from the public snapshot (demands.showcase): no COUNT, no aggregate per visit.
    page = page_of(showcase_rows.ShowcaseRows(chosen.street_id), request.GET, per_page=SHOWCASE_PER_PAGE)
    context = {"page": page, "scope": chosen, "street_query": chosen.query}
    return render(request, "demands/public/showcase.html", context)


def _street_chooser(
    request: HttpRequest, chosen: public_figures.Scope, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    context = {"districts": chosen.by_district(), "errors": errors or [], "target": reverse("needs:showcase")}
    return render(request, "public/streets.html", context, status=status)


@require_GET
def community_poster(request: HttpRequest, community_id: int) -> HttpResponse:
    """A printable A4 poster for the community's notice boards: its QR code opens the need form with the
    community chosen. Made on the server (segno), so it prints without JavaScript or a network."""
    community = get_object_or_404(member_selectors.communities_public(), pk=community_id)
    url = site.absolute(f"{reverse('needs:new')}?community={community.pk}", request)
    qr = segno.make(url, error="m")
    # segno writes only path data and fixed attributes: nothing of the input reaches the markup as text.
    svg = mark_safe(qr.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff"))
    return render(request, "demands/public/poster.html", {"community": community, "url": url, "qr_svg": svg})


@require_GET
def venues(request: HttpRequest) -> HttpResponse:
    """`/venues/?street=<id>`: venues the street's units open to residents (免费开放场所), with the free hours
    of the coming week. Per street like the other public pages: with several streets and none named, the
    street chooser; a malformed or unknown street, the chooser with the reason (400).

    What it reads is kept like the other public lists' (alliance.public_pages): free slots change when a
    booking is approved or cancelled, a minute late is fine for a resident who then asks through the
    community, and a crowd of visitors costs three queries a minute. Not the page whole (`cache_page`): it
    carries the visitor's CSRF token (the language chooser), which the next visitor would get without its
    cookie — their language switch then refused — and the visitor's language."""
    chosen = public_pages.street_or_chooser(request, "needs:venues")
    if isinstance(chosen, HttpResponse):
        return chosen
    street_id = chosen.street_id
    first = timezone.localdate() + timedelta(days=1)

    def read() -> tuple[Page, list[dict]]:
        rows = selectors.public_venues(street_id=street_id).order_by("resource__title", "resource_id")
        page = page_of(rows, request.GET, per_page=10)
        rows = list(page.object_list)
        slots = selectors.free_slots_of(venues=rows, first=first)
        return page, [{"venue": venue, "days": slots[venue.pk]} for venue in rows]

    key = ("venues", street_id, first.isoformat(), page_number(request.GET.get("page")))
    page, items = public_pages.cached(key, read)
    # Its links are made from this request's own parameters, not from those of the request that filled it.
    page = replace(page, query=request.GET)
    context = {"page": page, "items": items, "scope": chosen, "street_query": chosen.query}
    return render(request, "demands/public/venues.html", context)


# --- The resource list (资源清单) -------------------------------------------------------------------------

RESOURCES_PER_PAGE = 20


@require_GET
def resources(request: HttpRequest) -> HttpResponse:
    """`/resources/?street=&kind=&category=&community=&page=`: what the street's member units offer, by
    title; how to ask is through the unit's community (its name and office address) — never a liaison's
    name or phone. A filter value the page cannot take is said (400) and the list shown without it."""
    chosen = public_pages.street_or_chooser(request, "needs:resources")
    if isinstance(chosen, HttpResponse):
        return chosen
    street_id = chosen.street_id
    choices = public_pages.cached(
        ("resources:choices", street_id),
        lambda: {
            "communities": member_selectors.public_communities(street_id=street_id) if street_id else {},
            "categories": public_pages.categories(),
        },
    )
    kinds = {str(value): str(label) for value, label in Resource.Kind.choices}
    kind, kind_error = public_pages.code_choice(request.GET, "kind", kinds, _("kinds"))
    category, category_error = public_pages.id_choice(request.GET, "category", choices["categories"], _("categories"))
    community, community_error = public_pages.id_choice(
        request.GET, "community", choices["communities"], _("communities")
    )
    errors = [error for error in (kind_error, category_error, community_error) if error]
    number = page_number(request.GET.get("page"))

    def read():
        if street_id is None:
            return page_of([], request.GET, per_page=RESOURCES_PER_PAGE)
        rows = selectors.public_resources(street_id=street_id, kind=kind, category_id=category, community_id=community)
        return page_of(rows, request.GET, per_page=RESOURCES_PER_PAGE)

    page = public_pages.page_for(request, ("resources", street_id, kind, category, community, number), read)
    context = {
        "page": page,
        "scope": chosen,
        "street_query": chosen.query,
        "kinds": kinds,
        "communities": choices["communities"],
        "categories": choices["categories"],
        "chosen": {"kind": kind, "category": category, "community": community},
        "errors": errors,
    }
    return render(request, "public/resources.html", context, status=400 if errors else 200)

"""What the public list pages (`/activities/`, `/resources/`, `/units/`, `/notices/`) share: the street they
show (`?street=<id>` as the home and the showcase take it, alliance.public_figures), the street chooser,
the checks of their GET filters, and a short-lived cache of what they read.

Caching: each page keeps the rows it read for one street, filter and page in the cache for
`PUBLIC_LIST_SECONDS` (a short expiry rather than invalidation: these lists change a few times a day, a
resident who sees a new activity or notice a minute late loses nothing, and no write path has to know the
keys). A crowd of visitors on one street's page is then one query per minute, not one per visit; the
anonymous page itself is never cached whole, since it carries the visitor's language and CSRF token."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from . import public_figures
from .breaker import Breaker
from .models import Category
from .pagination import Page

T = TypeVar("T")
logger = logging.getLogger(__name__)

PUBLIC_LIST_SECONDS = 60
CACHE_PREFIX = "public-list:v1:"
breaker = Breaker("public lists cache", pause=30)
MAX_ID_DIGITS = 18


def street_or_chooser(request: HttpRequest, target: str) -> public_figures.Scope | HttpResponse:
    """The street the page shows (`?street=<id>`, or the only one); with several streets and none chosen,
    the chooser (200) leading back to `target` (a URL name); a malformed or unknown street, the chooser
    with the reason (400)."""
    try:
        chosen = public_figures.scope(street=request.GET.get("street"))
    except public_figures.ScopeError as error:
        chosen = public_figures.Scope(streets=tuple(public_figures.streets()))
        return _chooser(request, chosen, target, errors=error.messages, status=400)
    if chosen.several and chosen.street is None:
        return _chooser(request, chosen, target)
    return chosen


def _chooser(
    request: HttpRequest,
    chosen: public_figures.Scope,
    target: str,
    *,
    errors: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    context = {"districts": chosen.by_district(), "errors": errors, "target": reverse(target)}
    return render(request, "public/streets.html", context, status=status)


def cached(parts: Sequence[Any], compute: Callable[[], T], *, seconds: int = PUBLIC_LIST_SECONDS) -> T:
    """`compute()`'s result, kept in the cache under `parts` for `seconds`. With the cache down, computed
    (the page still answers, one query more)."""
    key = CACHE_PREFIX + hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:40]
    found = breaker.attempt(lambda: cache.get(key), warning="Public list read without the cache (%s)", log=logger)
    if found is not None:
        return found
    value = compute()
    breaker.attempt(
        lambda: cache.set(key, value, timeout=seconds), warning="Public list not kept in the cache (%s)", log=logger
    )
    return value


def page_for(request: HttpRequest, parts: Sequence[Any], read: Callable[[], Page]) -> Page:
    """A page of a list (alliance.pagination) kept by `cached`; its links are made from this request's
    own parameters, not from those of the request that filled the cache."""
    return replace(cached(parts, read), query=request.GET)


# --- GET filters: a value the page cannot take is said, and the list shown without it ------------------


def categories() -> dict[int, str]:
    """The active categories, in their order, as the public lists' filters offer them."""
    return dict(Category.objects.filter(is_active=True).order_by("sort_order", "id").values_list("pk", "name"))


def id_choice(params: Mapping[str, str], name: str, known: Mapping[int, str], label: str) -> tuple[int | None, str]:
    """`?<name>=<id>` among `known` (id -> name): (the id, "") or (None, why it was not taken)."""
    value = (params.get(name) or "").strip()
    if not value:
        return None, ""
    if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS and int(value) in known:
        return int(value), ""
    return None, _("“%(value)s” is not one of the %(label)s listed here; showing all of them.") % {
        "value": value[:40],
        "label": label,
    }


def code_choice(params: Mapping[str, str], name: str, known: Mapping[str, str], label: str) -> tuple[str, str]:
    """`?<name>=<code>` among `known` (code -> label): (the code, "") or ("", why it was not taken)."""
    value = (params.get(name) or "").strip()
    if not value or value in known:
        return value, ""
    return "", _("“%(value)s” is not one of the %(label)s listed here; showing all of them.") % {
        "value": value[:40],
        "label": label,
    }


def month_choice(params: Mapping[str, str], name: str = "month") -> tuple[date | None, str]:
    """`?month=YYYY-MM`: (the month's first day, "") or (None, why it was not taken)."""
    value = (params.get(name) or "").strip()
    if not value:
        return None, ""
    year, _dash, month = value.partition("-")
    if (
        value.isascii()
        and len(year) == 4
        and year.isdigit()
        and month.isdigit()
        and len(month) == 2
        and 2000 <= int(year) <= 2100
        and 1 <= int(month) <= 12
    ):
        return date(int(year), int(month), 1), ""
    return None, _("“%(value)s” is not a month; write it as year-month, for example 2026-05.") % {"value": value[:40]}


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)

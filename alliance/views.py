"""Shared pages: the public home, the portal shell (sign in, home, notifications)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import notifications, passwords, ratelimit, registry
from .breaker import Breaker
from .forms import PasswordForgotForm
from .models import Notification
from .pagination import page_of

logger = logging.getLogger(__name__)
T = TypeVar("T")


PUBLIC_NUMBERS_KEY = "public-home:numbers:v1"
# With the cache unreachable, the home page computes its numbers itself for this long before trying again.
public_cache_breaker = Breaker("public figures cache", pause=30)

# The drawing area of one bar chart, in SVG user units (the SVG scales to the width of the page).
CHART_WIDTH, CHART_HEIGHT = 360, 190
CHART_TOP, CHART_BOTTOM, CHART_SIDE = 20, 36, 6
BAR_SHARE = 0.64  # of each month's slot; the rest is the gap between bars


def home(request: HttpRequest) -> HttpResponse:
    figures, charts = public_numbers()
    context = {
        "figures": figures,
        "charts": [{"chart": chart, "plots": [_bar_plot(series) for series in chart.series]} for chart in charts],
        "panels": registry.home_panels(request),
    }
    return render(request, "public/home.html", context)


def public_numbers() -> tuple[list[registry.Figure], list[registry.Chart]]:
    """The public figures and charts, computed at most once per PUBLIC_FIGURES_CACHE_SECONDS: every visit
    to `/` would otherwise run the same aggregates over all needs and activities. Labels stay lazy in the
    cache, so one entry serves every language. A cache outage costs the aggregates, never the page."""
    cached = _try_cache(lambda: cache.get(PUBLIC_NUMBERS_KEY))
    if cached is not None:
        return cached
    numbers = (registry.public_figures(), registry.public_charts())
    _try_cache(lambda: cache.set(PUBLIC_NUMBERS_KEY, numbers, timeout=settings.PUBLIC_FIGURES_CACHE_SECONDS))
    return numbers


def forget_public_numbers() -> None:
    """Drop the cached figures and charts, so the next visit computes them (a test's own rows, an import
    that must show at once)."""
    _try_cache(lambda: cache.delete(PUBLIC_NUMBERS_KEY))


def _try_cache(operation: Callable[[], T]) -> T | None:
    if not public_cache_breaker.closed():
        return None
    try:
        return operation()
    except Exception as exc:  # redis-py, memcached clients and sockets raise unrelated types
        public_cache_breaker.trip()
        logger.warning("Public figures computed without the cache (%s)", type(exc).__name__)
        return None


def _bar_plot(series: registry.Series) -> dict:
    """Where each bar, value and month label of `series` goes: the arithmetic a template cannot do (and
    no inline style may carry) — the SVG gets plain coordinates."""
    count = max(len(series.points), 1)
    slot = (CHART_WIDTH - 2 * CHART_SIDE) / count
    width = slot * BAR_SHARE
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    top = max((value for _label, value in series.points), default=0)
    bars = []
    for index, (label, value) in enumerate(series.points):
        height = room * value / top if top else 0
        x = CHART_SIDE + index * slot + (slot - width) / 2
        year, month = label.split("-")
        bars.append(
            {
                "label": label,
                "value": value,
                "x": round(x, 1),
                "y": round(baseline - height, 1),
                "width": round(width, 1),
                "height": round(height, 1),
                "middle": round(x + width / 2, 1),
                "value_y": round(baseline - height - 4, 1),
                "month": str(int(month)),
                # The year under the first month and under each January, so twelve bars read unambiguously.
                "year": year if index == 0 or month == "01" else "",
            }
        )
    return {
        "series": series,
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": baseline,
        "axis_end": CHART_WIDTH - CHART_SIDE,
        "month_y": baseline + 14,
        "year_y": baseline + 28,
        "summary": ", ".join(f"{label} {value}" for label, value in series.points),
    }


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("home")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Where a newly approved liaison sets the first password, from the link in the approval message."""

    template_name = "portal/password_set.html"
    success_url = reverse_lazy("portal:login")
    post_reset_login = False
    # Once, for 24 hours, and only the newest link of the user (alliance/passwords.py).
    token_generator = passwords.password_link_tokens

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been set. Please sign in."))
        return response


@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Ask for a new password-set link by user name or mobile phone. The answer is the same whether an
    account matched or not, so the page tells nobody which accounts exist; it is rate-limited per
    client address, since every request voids the account's earlier links."""
    form = PasswordForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.allow(request, "password_forgot"):
            form.add_error(None, _("Too many requests from your network. Please try again in an hour."))
        else:
            for user in form.accounts():
                passwords.password_link_send(user=user)
            messages.success(
                request,
                _(
                    "If an account with this user name or mobile phone exists, a link to set a new password "
                    "has been sent to its phone or e-mail. It works once, for 24 hours."
                ),
            )
            return redirect("portal:login")
    return render(request, "portal/password_forgot.html", {"form": form})


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"panels": registry.portal_panels(request)})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = page_of(Notification.objects.filter(recipient=request.user), request.GET, per_page=20)
    return render(request, "portal/notifications.html", {"page": page})


@login_required
@require_POST
def notification_mark_read(request: HttpRequest) -> HttpResponse:
    count = notifications.mark_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("portal:notifications")

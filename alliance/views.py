"""Shared pages: the public home, the portal shell (sign in, home, notifications)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import notifications, passwords, public_figures, ratelimit, registry
from .forms import PasswordForgotForm
from .models import Notification
from .pagination import page_of

logger = logging.getLogger(__name__)


# The drawing area of one bar chart, in SVG user units (the SVG scales to the width of the page).
CHART_WIDTH, CHART_HEIGHT = 360, 190
CHART_TOP, CHART_BOTTOM, CHART_SIDE = 20, 36, 6
BAR_SHARE = 0.64  # of each month's slot; the rest is the gap between bars


def home(request: HttpRequest) -> HttpResponse:
    """The public home of one street (`/?street=<id>`, or the only street): its figures, charts and
    panels. With several streets and none chosen, a chooser; a street it does not know, the chooser with
    the reason (400). From the snapshot the beat keeps (alliance.public_figures): no SQL for a visit."""
    try:
        chosen = public_figures.scope(street=request.GET.get("street"))
    except public_figures.ScopeError as error:
        chosen = public_figures.Scope(streets=tuple(public_figures.streets()))
        request._public_scope = chosen  # type: ignore[attr-defined]
        return _street_chooser(request, chosen, errors=error.messages, status=400)
    request._public_scope = chosen  # type: ignore[attr-defined]  # the panels show the same street
    if chosen.street is None and chosen.several:
        return _street_chooser(request, chosen)
    figures, charts = public_figures.figures_and_charts(chosen.figures_street_id)
    context = {
        "figures": figures,
        "charts_html": _charts_html(translation.get_language(), tuple(charts)),
        "panels": registry.home_panels(request),
        "scope": chosen,
        "street_query": chosen.query,
    }
    return render(request, "public/home.html", context)


def _street_chooser(
    request: HttpRequest, chosen: public_figures.Scope, *, errors: Sequence[str] = (), status: int = 200
) -> HttpResponse:
    """The streets of the platform, by district, each linking to its home."""
    context = {"districts": chosen.by_district(), "errors": errors, "target": reverse("home")}
    return render(request, "public/streets.html", context, status=status)


# Each street's charts are a key of their own: room for the streets a process serves most.
@functools.lru_cache(maxsize=64)
def _charts_html(language: str, charts: tuple[registry.Chart, ...]) -> str:
    """The charts' section of the home, drawn once per snapshot and language in each process: its few
    hundred numbers (bars, labels, the tables) made most of the home's time, and they change only with
    a refresh. A chart holds tuples and strings only, so the charts themselves are the key."""
    plots = [{"chart": chart, "plots": [_bar_plot(series) for series in chart.series]} for chart in charts]
    with translation.override(language):
        return render_to_string("public/_charts.html", {"charts": plots})


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

"""Sign-in protection with django-axes, for the admin login, the portal login and the API token endpoint.

Failures are counted per account (user name) and per client address, in the database (no Redis needed,
and an outage cannot switch the protection off). An account locks after LOGIN_FAILURE_LIMIT failures
from any addresses; an address after LOGIN_ADDRESS_FAILURE_LIMIT failures on any accounts — higher,
because a street office's staff share one address behind NAT. Both unlock after LOGIN_COOLOFF_MINUTES
of quiet, or when street staff delete the attempt in the admin."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from . import ratelimit


def client_ip(request: HttpRequest) -> str | None:
    """The address axes counts: the one the rate limits use (NUM_PROXIES honoured), if it is an IP at
    all — the column is an IP field, and a forged header must not become a 500."""
    address = ratelimit.client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class LoginAttemptsHandler(AxesDatabaseHandler):
    """axes' database handler with a separate, higher limit for client addresses."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # axes compares the answer with AXES_FAILURE_LIMIT (the account limit); an address's count is
        # scaled so that it reaches that limit exactly at LOGIN_ADDRESS_FAILURE_LIMIT failures.
        account_limit = settings.AXES_FAILURE_LIMIT
        address_limit = max(settings.LOGIN_ADDRESS_FAILURE_LIMIT, 1)
        worst = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == "ip_address":
                failures = failures * account_limit // address_limit
            worst = max(worst, failures)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        # A successful sign-in clears that account's failures only. Clearing the address's too (axes'
        # default) would let an attacker wipe the count on someone else's account by signing in to
        # their own account from the same address every few guesses.
        username = get_client_username(request, credentials)
        count, _deleted = AccessAttempt.objects.filter(username=username).delete()
        return count


def cool_off() -> timedelta:
    return get_cool_off() or timedelta(minutes=15)


def lockout_message() -> str:
    """Refusals extend the lock (axes' default), so the time is counted from this attempt."""
    minutes = int(cool_off().total_seconds() // 60)
    until = timezone.localtime(timezone.now() + cool_off())
    return _(
        "Too many failed sign-in attempts. Sign-in is locked for %(minutes)d minutes: "
        "please try again after %(time)s. Ask the street's staff if you need access sooner."
    ) % {"minutes": minutes, "time": until.strftime("%H:%M")}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with a page for people, `{"detail": …}` for the API."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "portal/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(cool_off().total_seconds()))
    return response

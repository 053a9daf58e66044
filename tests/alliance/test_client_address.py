"""The client address every limit counts by (issue 9, finding 3): X-Forwarded-For only behind NUM_PROXIES
trusted proxies, and then the hop the outermost of them appended — never whatever the client wrote."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from alliance import ratelimit
from alliance.api.throttling import AddressRateThrottle

TOKEN = "/api/v1/auth/token/"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


def _token_attempts(forwarded_for: list[str]) -> list[int]:
    return [
        APIClient()
        .post(TOKEN, {"username": "liaison", "password": "guess"}, format="json", HTTP_X_FORWARDED_FOR=hop)
        .status_code
        for hop in forwarded_for
    ]


@pytest.mark.django_db
def test_a_new_forwarded_for_each_time_does_not_escape_the_token_limit_without_proxies(settings):
    settings.NUM_PROXIES = 0
    codes = _token_attempts([f"198.51.100.{n}" for n in range(11)])
    assert codes == [400] * 10 + [429]


@pytest.mark.django_db
def test_behind_one_proxy_the_token_limit_counts_the_address_the_proxy_appended(settings):
    settings.NUM_PROXIES = 1
    # The client writes a new address in front each time; the proxy appends the one it saw.
    codes = _token_attempts([f"198.51.100.{n}, 203.0.113.7" for n in range(11)])
    assert codes == [400] * 10 + [429]
    # Another client behind the same proxy has its own count.
    assert _token_attempts(["203.0.113.8"]) == [400]


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "192.0.2.1"),
        (0, "198.51.100.1", "192.0.2.1"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "10.9.9.9, 198.51.100.1, 203.0.113.7", "198.51.100.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, proxies, forwarded_for, expected):
    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert ratelimit.client_address(request) == expected
    # DRF asks the same question through our throttle.
    assert AddressRateThrottle().get_ident(request) == expected

"""DRF's side of `alliance.ratelimit`: the API and the pages of one scope share one count per address."""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle

from alliance import ratelimit


class AddressRateThrottle(BaseThrottle):
    """Throttle by client address with the view's `throttle_scope` and the rate configured for it.
    Fails open with the cache (alliance.ratelimit); the address is `ratelimit.client_address`."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None)
        return self.scope is None or ratelimit.allow(request, self.scope)

    def get_ident(self, request) -> str:
        # DRF's own reading trusts the whole X-Forwarded-For unless told otherwise; ours is the one rule.
        return ratelimit.client_address(request)

    def wait(self) -> float | None:
        rate = ratelimit.rate_for(self.scope) if self.scope else None
        return float(rate[1]) if rate else None

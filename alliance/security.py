"""The Content-Security-Policy of every response (django-csp), strict where the markup is the platform's own.

settings.CONTENT_SECURITY_POLICY is the strict policy: scripts, styles, fonts and connections from this
origin only, no inline script or style, no plugins, no framing. The public pages and the portal are written
to it (styles in static/css, behaviour in static/js, no `style=` or `on…=` attributes).

Screens whose markup comes from libraries get one relaxation, for styles only, by path:
- the admin site: Django's change list writes a `<style>` block, simple-history's history page a `style`
  attribute, the platform's admin templates extend these;
- the API: DRF's browsable pages use `style` attributes throughout, Swagger UI's page has a `<style>` block
  and sets styles at run time, and ReDoc injects its whole stylesheet as `<style>` elements (styled-
  components). Swagger UI and ReDoc also draw their icons from `data:` images and ReDoc runs its search
  index in a worker made from a `blob:` URL.
Inline styles cannot run code; scripts stay `'self'` everywhere, so injected markup still cannot execute.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

THIRD_PARTY_MARKUP = {"style-src": [SELF, UNSAFE_INLINE]}
API = {**THIRD_PARTY_MARKUP, "img-src": [SELF, "data:"], "worker-src": [SELF, "blob:"]}
# Path prefixes as alliance/urls.py mounts the admin site and the API (schema, docs, browsable pages).
RELAXED = (("/admin/", THIRD_PARTY_MARKUP), ("/api/", API))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if parts.update is None and parts.replace is None:  # a view's own csp_update/csp_replace wins
            for prefix, directives in RELAXED:
                if request.path_info.startswith(prefix):
                    parts.replace = directives
                    break
        return parts

"""The Content-Security-Policy of every response (django-csp), strict where the markup is the platform's own.

settings.CONTENT_SECURITY_POLICY is the strict policy: scripts, styles, fonts and connections from this
origin only, no inline script or style, no plugins, no framing. The public pages and the portal are written
to it (styles in static/css, behaviour in static/js, no `style=` or `on…=` attributes).

Screens whose markup comes from libraries get relaxations by path:
- the admin site (django-unfold's theme): unfold writes the palette of settings.UNFOLD as an inline `<style>`
  on every page and its templates carry `style` attributes (progress bars, widths), Django's change list a
  `<style>` block — so inline styles. Its behaviour (sidebar, filters, dropdowns, tabs) is Alpine.js in its
  standard build, which compiles each `x-…` attribute expression with `new AsyncFunction(…)`: that needs
  `'unsafe-eval'` in script-src, and nothing else. Scripts still load from this origin only and inline
  `<script>` and `on…=` handlers stay forbidden. What eval costs: markup smuggled into an admin page past
  the escaping (a `|safe` or `mark_safe` on user text) could carry `x-…` attributes that Alpine runs, so
  there the policy is a second wall no more and the escaping is the first (autoescaped templates,
  `format_html` in display methods). Alpine's CSP build would avoid eval, but it cannot run unfold's inline
  expressions, and unfold ships the standard one.
- the API: DRF's browsable pages use `style` attributes throughout, Swagger UI's page has a `<style>` block
  and sets styles at run time, and ReDoc injects its whole stylesheet as `<style>` elements (styled-
  components). Swagger UI and ReDoc also draw their icons from `data:` images and ReDoc runs its search
  index in a worker made from a `blob:` URL.
Inline styles cannot run code; scripts stay `'self'` everywhere, with eval on the admin site alone.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_EVAL, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

THIRD_PARTY_MARKUP = {"style-src": [SELF, UNSAFE_INLINE]}
ADMIN = {**THIRD_PARTY_MARKUP, "script-src": [SELF, UNSAFE_EVAL]}
API = {**THIRD_PARTY_MARKUP, "img-src": [SELF, "data:"], "worker-src": [SELF, "blob:"]}
# Path prefixes as alliance/urls.py mounts the admin site and the API (schema, docs, browsable pages).
RELAXED = (("/admin/", ADMIN), ("/api/", API))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if parts.update is None and parts.replace is None:  # a view's own csp_update/csp_replace wins
            for prefix, directives in RELAXED:
                if request.path_info.startswith(prefix):
                    parts.replace = directives
                    break
        return parts

"""Security headers on every surface: the Content-Security-Policy (strict on the platform's own pages, styles
relaxed on the admin site and the API's library-made pages, eval for the admin theme's Alpine.js), Referrer-Policy, X-Content-Type-Options,
X-Frame-Options, Permissions-Policy and Cross-Origin-Opener-Policy. Whether the pages still work under the
policy is shown in a real browser (tests/e2e/test_csp.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ..conftest import client_for

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
INLINE_STYLES = STRICT.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# django-unfold: its palette is an inline <style>, its behaviour Alpine.js, which compiles x-… attributes
# with `new AsyncFunction` (alliance/security.py). Still no inline script.
ADMIN = INLINE_STYLES.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")
API = INLINE_STYLES.replace("img-src 'self'", "img-src 'self' data:") + "; worker-src 'self' blob:"

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)


def directives(header: str) -> dict[str, str]:
    """The policy as {directive: sources}: django-csp writes directives in no fixed order."""
    pairs = ((part.strip() + " ").split(" ", 1) for part in header.split(";"))
    return {name: sources.strip() for name, sources in pairs}


def assert_headers(response, policy: str) -> None:
    assert directives(response["Content-Security-Policy"]) == directives(policy)
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


@pytest.mark.parametrize(
    "url",
    ["/", "/needs/new/", "/needs/track/", "/showcase/", "/venues/", "/portal/login/", "/no-such-page/"],
)
def test_public_pages_carry_the_strict_policy(db, community_x, url):
    response = client_for(None).get(url)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert_headers(response, STRICT)
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_qr_poster_carries_the_strict_policy(community_x):
    response = client_for(None).get(f"/needs/qr/{community_x.pk}/")
    assert response.status_code == 200
    assert_headers(response, STRICT)


def test_the_portal_carries_the_strict_policy(liaison_a):
    response = client_for(liaison_a).get("/portal/")
    assert response.status_code == 200
    assert_headers(response, STRICT)


@pytest.mark.parametrize("url", ["/admin/", "/admin/members/memberunit/", "/admin/inbox/"])
def test_the_admin_site_allows_inline_styles_and_eval_only(street_staff, url):
    response = client_for(street_staff).get(url)
    assert response.status_code == 200
    assert_headers(response, ADMIN)


def test_the_admin_login_allows_inline_styles_and_eval_only(db):
    response = client_for(None).get("/admin/login/")
    assert response.status_code == 200
    assert_headers(response, ADMIN)


def test_the_admin_pages_hold_no_inline_script(street_staff, unit_a):
    """The admin's policy keeps inline scripts out: every script of unfold's pages is a file of this origin."""
    client = client_for(street_staff)
    pages = [
        "/admin/login/",
        "/admin/",
        "/admin/members/memberunit/",
        f"/admin/members/memberunit/{unit_a.pk}/change/",
        f"/admin/members/memberunit/{unit_a.pk}/history/",
        "/admin/inbox/",
    ]
    for url in pages:
        response = (client_for(None) if "login" in url else client).get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        # Data blocks (`json_script`, the workbench charts' figures) are not run by the browser.
        assert re.findall(r"<script(?![^>]*\s(?:src=|type=\"application/json\"))", page) == [], url
        assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page) == [], url  # nothing from another origin


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/", "/api/v1/"])
def test_the_api_pages_allow_inline_styles_data_images_and_workers(street_staff, url):
    response = client_for(street_staff).get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_headers(response, API)


def test_swagger_ui_loads_its_start_up_script_from_a_file(db):
    page = client_for(None).get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in page
    script = client_for(None).get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle" in script.content.decode()


def test_redoc_loads_no_fonts_from_the_internet(db):
    page = client_for(None).get("/api/redoc/").content.decode()
    assert "googleapis" not in page and "gstatic" not in page
    assert '<redoc spec-url="/api/schema/"></redoc>' in page


def _routes_without_arguments(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes_without_arguments(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route and "^" not in route:
            yield "/" + route.rstrip("$")


def test_every_html_page_without_arguments_carries_a_policy(street_staff, liaison_a, community_x):
    """Every route that takes no argument, opened by a signed-in liaison and by street staff: each HTML
    response (pages, forms, error pages) carries a Content-Security-Policy with scripts from this origin only
    (and eval, for Alpine.js, on the admin site alone)."""
    routes = sorted(set(_routes_without_arguments(get_resolver().url_patterns)))
    assert {"/", "/portal/", "/admin/", "/api/docs/", "/needs/new/"} <= set(routes)
    html = 0
    for user in (liaison_a, street_staff):
        client = client_for(user)
        for route in routes:
            response = client.get(route, HTTP_ACCEPT="text/html")
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            html += 1
            policy = directives(response.get("Content-Security-Policy", ""))
            scripts = "'self' 'unsafe-eval'" if route.startswith("/admin/") else "'self'"
            assert (route, policy.get("script-src"), policy.get("object-src")) == (route, scripts, "'none'")
            assert response["X-Frame-Options"] == "DENY", route
    assert html >= 20


ROOT = Path(__file__).resolve().parents[2]
# What the strict policy refuses: inline <style> and style="", inline <script>, on…="" handlers.
INLINE = re.compile(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", re.IGNORECASE)


def test_the_platforms_own_pages_hold_no_inline_script_or_style():
    """The public pages and the portal run under style-src/script-src 'self': a template that brings back
    an inline style or handler fails here before it fails in a browser. The admin's and the API docs'
    templates are under the relaxed policy and are not checked."""
    folders = [ROOT / "templates"] + [
        ROOT / app / "templates" for app in ("members", "demands", "projects", "meetings", "volunteers", "alliance")
    ]
    templates = [
        path
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*.html")
        if not {"admin", "drf_spectacular"} & set(path.relative_to(folder).parts)
    ]
    assert len(templates) > 40
    offending = {str(path.relative_to(ROOT)): INLINE.findall(path.read_text()) for path in templates}
    assert {path: found for path, found in offending.items() if found} == {}

"""The platform's own error pages (alliance/error_pages.py) with DEBUG off: 400, 403, 404, 500 and the CSRF
refusal read as the platform, in Chinese by default and in English when chosen, with the way back that fits
where the visitor was (admin index, portal home, public home); under /api/ they answer JSON.

Asserts on Chinese text (marked "zh") need the catalogues compiled (`manage.py compile_catalogues`).

This module is also the URLconf of the tests that need a view that fails (`settings.ROOT_URLCONF`): the
project's routes plus a few views that raise, so the handlers are the project's own."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client
from django.urls import path
from django.utils import translation

from alliance import urls as project_urls
from alliance.urls import handler400, handler403, handler404, handler500  # noqa: F401 (this URLconf's handlers)

from ..conftest import client_for
from .test_security_headers import STRICT, directives


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered request")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Only you manage your calendar.")


def _form(request: HttpRequest) -> HttpResponse:
    """A plain view that accepts a POST: the CSRF middleware guards it."""
    return HttpResponse("ok")


urlpatterns = [
    *(path(f"{prefix}boom/", _boom) for prefix in ("", "portal/", "admin/", "api/v1/")),
    *(path(f"{prefix}suspicious/", _suspicious) for prefix in ("", "portal/", "api/v1/")),
    *(path(f"{prefix}forbidden/", _forbidden) for prefix in ("portal/", "api/v1/")),
    path("api/v1/form/", _form),
    *project_urls.urlpatterns,
]

WAY_BACK = {
    "public": ("/", {"zh": "返回首页", "en": "Back to the home page"}),
    "portal": ("/portal/", {"zh": "返回服务平台首页", "en": "Back to the portal home"}),
    "admin": ("/admin/", {"zh": "返回管理后台首页", "en": "Back to the administration home"}),
}


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


@pytest.fixture
def failing_views(settings):
    settings.ROOT_URLCONF = __name__


def links(response) -> list[tuple[str, str]]:
    """The way-back links of an error page, as (address, text), in order."""
    page = response.content.decode()
    nav = re.search(r'<nav class="error-links".*?</nav>', page, re.DOTALL)
    assert nav, page
    return [
        (href, text.strip()) for href, text in re.findall(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', nav[0])
    ]


def title(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.DOTALL)[1].strip()


def assert_page(response, status: int, heading: str, area: str, language: str = "zh") -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert title(response) == heading
    page = response.content.decode()
    assert f'data-status="{status}"' in page
    assert ('lang="zh-CN"' if language == "zh" else 'lang="en"') in page
    address, labels = WAY_BACK[area]
    assert links(response)[0] == (address, labels[language])


# --- 404 ------------------------------------------------------------------------------------------------


def test_a_missing_public_page_leads_home_and_to_the_residents_two_doors(db):
    response = Client().get("/no-such-page/")
    assert_page(response, 404, "页面不存在", "public")  # zh
    assert links(response) == [("/", "返回首页"), ("/needs/new/", "提交需求"), ("/needs/track/", "查询我的需求")]  # zh
    assert "<title>页面不存在 · 党建联盟</title>" in response.content.decode()  # zh


def test_a_missing_public_page_reads_in_english_when_the_browser_asks(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/needs/qr/999999/")
    assert_page(response, 404, "Page not found", "public", "en")
    assert links(response) == [
        ("/", "Back to the home page"),
        ("/needs/new/", "Submit a need"),
        ("/needs/track/", "Follow my need"),
    ]


def test_a_missing_portal_page_leads_to_the_portal_home(liaison_a):
    response = client_for(liaison_a).get("/portal/no-such-page/")
    assert_page(response, 404, "页面不存在", "portal")  # zh
    assert len(links(response)) == 1  # the residents' doors are for the public side only


def test_the_language_switch_choice_holds_on_the_error_page(liaison_a):
    client = client_for(liaison_a)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"}).status_code == 302
    assert client.cookies["django_language"].value == "en"
    assert_page(client.get("/portal/no-such-page/"), 404, "Page not found", "portal", "en")


def test_a_missing_admin_page_leads_to_the_admin_index(street_staff):
    response = client_for(street_staff).get("/admin/no-such-page/")
    assert_page(response, 404, "页面不存在", "admin")  # zh
    assert '<nav class="topnav"><a href="/admin/">管理后台</a></nav>' in response.content.decode()  # zh


def test_a_missing_admin_page_in_english(street_staff):
    client = client_for(street_staff)
    client.cookies["django_language"] = "en"
    assert_page(client.get("/admin/no-such-page/"), 404, "Page not found", "admin", "en")


def test_the_api_keeps_answering_json_for_a_missing_address(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/no-such-endpoint/")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "Not found."}
    assert Client().get("/api/v1/no-such-endpoint/").json() == {"detail": "未找到。"}  # zh, DRF's own catalogue


# --- 403 ------------------------------------------------------------------------------------------------


def test_community_staff_opening_a_street_only_admin_list_get_the_platforms_403(community_x_staff):
    response = client_for(community_x_staff).get("/admin/members/street/")
    assert_page(response, 403, "无权访问", "admin")  # zh
    assert "error-reason" not in response.content.decode()  # the admin refuses without a reason


def test_the_admin_403_in_english(community_x_staff):
    client = client_for(community_x_staff)
    client.cookies["django_language"] = "en"
    assert_page(client.get("/admin/members/street/"), 403, "Access denied", "admin", "en")


def test_a_refusal_with_a_reason_shows_it_in_the_portal(failing_views, liaison_a):
    response = client_for(liaison_a).get("/portal/forbidden/")
    assert_page(response, 403, "无权访问", "portal")  # zh
    assert '<p class="error-reason">Only you manage your calendar.</p>' in response.content.decode()


def test_a_csrf_refusal_on_the_portal_sign_in_is_the_platforms_page_in_chinese(db):
    response = Client(enforce_csrf_checks=True).post("/portal/login/", {"username": "x", "password": "y"})
    assert_page(response, 403, "表单已失效", "portal")  # zh
    assert "CSRF" not in response.content.decode()  # the developers' reason stays out of the page


def test_a_csrf_refusal_in_english(db):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/needs/new/", {})
    assert_page(response, 403, "The form has expired", "public", "en")
    assert len(links(response)) == 1


def test_the_api_answers_json_for_403_and_a_csrf_refusal(failing_views, db):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    expected = {"detail": "You do not have permission to perform this action."}
    for response in (client.get("/api/v1/forbidden/"), client.post("/api/v1/form/", {})):
        assert (response.status_code, response["Content-Type"]) == (403, "application/json")
        assert response.json() == expected
    assert Client().get("/api/v1/forbidden/").json() == {"detail": "您没有执行该操作的权限。"}  # zh


# --- 400 ------------------------------------------------------------------------------------------------


def test_a_request_for_a_host_the_site_does_not_serve_gets_the_platforms_400(db):
    response = Client(HTTP_HOST="evil.example").get("/")
    assert_page(response, 400, "请求有误", "public")  # zh
    assert len(links(response)) == 1


@pytest.mark.parametrize(("url", "area"), [("/suspicious/", "public"), ("/portal/suspicious/", "portal")])
def test_a_suspicious_request_gets_the_platforms_400_in_english(failing_views, db, url, area):
    assert_page(Client(HTTP_ACCEPT_LANGUAGE="en").get(url), 400, "Bad request", area, "en")


def test_the_api_answers_json_for_400(failing_views, db):
    for response in (
        Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/suspicious/"),
        Client(HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/"),
    ):
        assert (response.status_code, response["Content-Type"]) == (400, "application/json")
        assert response.json() == {"detail": "Malformed request."}
    assert Client().get("/api/v1/suspicious/").json() == {"detail": "错误的请求。"}  # zh


# --- 500 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "area"), [("/boom/", "public"), ("/portal/boom/", "portal")])
def test_a_failing_page_gets_the_platforms_500_without_touching_the_database(
    failing_views, db, django_assert_num_queries, url, area
):
    client = Client(raise_request_exception=False)
    # No query at all: the anonymous visitor's session and user are never loaded, and the page is rendered
    # without the request, so no context processor runs.
    with django_assert_num_queries(0):
        response = client.get(url)
    assert_page(response, 500, "服务器出错了", area)  # zh
    assert directives(response["Content-Security-Policy"]) == directives(STRICT)


def test_a_failing_admin_page_leads_back_to_the_admin_index_in_english(failing_views, street_staff):
    client = client_for(street_staff)
    client.raise_request_exception = False
    client.cookies["django_language"] = "en"
    assert_page(client.get("/admin/boom/"), 500, "Server error", "admin", "en")


def test_the_500_template_renders_with_an_empty_context_and_no_query(db, django_assert_num_queries):
    """As Django renders it when the handler itself is bypassed: no request, no context."""
    with django_assert_num_queries(0), translation.override("en"):
        page = loader.get_template("500.html").render()
    assert "<h1>Server error</h1>" in page
    assert '<a class="button way-back" href="/">Back to the home page</a>' in page


def test_the_api_answers_json_for_500(failing_views, db):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/api/v1/boom/")
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert response.json() == {"detail": "A server error occurred."}
    zh = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert zh.json() == {"detail": "服务器出现了错误。"}  # zh

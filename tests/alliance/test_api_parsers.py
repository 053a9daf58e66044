"""Bad JSON bodies answer 400 with a message in the user's language on every endpoint, anonymous ones first."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alliance.api.parsers import MAX_DEPTH

from ..factories import CategoryFactory

ANONYMOUS_WRITES = ["/api/v1/public/needs/", "/api/v1/auth/token/", "/api/v1/public/needs/ABCDEFGH/rating/"]


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


def _post(url: str, body: str, **extra):
    return APIClient().post(url, data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans", **extra)


@pytest.mark.parametrize("url", ANONYMOUS_WRITES)
def test_deeply_nested_json_is_a_400_with_a_chinese_message_not_a_500(db, url):
    response = _post(url, "[" * 100_000)
    assert response.status_code == 400
    assert response.json() == {"detail": "请求中的 JSON 嵌套层级过深。"}


def test_json_nested_past_the_limit_is_refused_before_any_serializer_sees_it(db, community_x):
    category = CategoryFactory()
    nested = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    body = (
        f'{{"community": {community_x.pk}, "category": {category.pk}, "title": {nested}, '
        '"description": "楼道灯坏了", "contact_name": "张三", "contact_phone": "13912345678"}'
    )
    response = _post("/api/v1/public/needs/", body)
    assert response.status_code == 400
    assert response.json() == {"detail": "请求中的 JSON 嵌套层级过深。"}


def test_json_nested_within_the_limit_reaches_the_serializer(db, community_x):
    response = _post("/api/v1/public/needs/", '{"title": [[["灯"]]]}')
    assert response.status_code == 400
    assert "title" in response.json()  # the serializer's field error, not the parser's refusal


def test_malformed_json_says_where_in_chinese(db):
    response = _post("/api/v1/public/needs/", '{"title": ')
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容不是有效的 JSON（第 1 行，第 11 列）。"}


def test_json_in_english_for_an_english_client(db):
    response = APIClient().post(
        "/api/v1/public/needs/", data="[" * 100_000, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON in the request is nested too deeply."}


def test_bytes_that_are_not_utf8_are_a_400(db):
    response = APIClient().post("/api/v1/public/needs/", data=b'{"title": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容不是有效的 JSON。"}


def test_a_body_over_the_upload_limit_is_a_json_400(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = _post("/api/v1/public/needs/", '{"title": "' + "灯" * 1000 + '"}')
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容过大。"}

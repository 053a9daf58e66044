"""The OpenAPI schema reads in the reader's language (issue 13): every operation's summary, and the names of
the request examples, are Chinese for a Chinese reader and English for an English one — translated per
request, never frozen in the language the views happened to be imported in — and the schema builds without
a warning in either language."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _schema(**headers) -> tuple[dict, dict[str, int], dict[str, int]]:
    """The schema as a reader asking with these headers gets it, and drf-spectacular's warnings and errors
    while building it."""
    GENERATOR_STATS.reset()
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", **headers)
    assert response.status_code == 200
    warnings, errors = dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    return response.json(), warnings, errors


@pytest.fixture(scope="module")
def chinese(django_db_blocker) -> tuple[dict, dict[str, int], dict[str, int]]:
    with django_db_blocker.unblock():
        return _schema(HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.fixture(scope="module")
def english(django_db_blocker) -> tuple[dict, dict[str, int], dict[str, int]]:
    with django_db_blocker.unblock():
        return _schema(HTTP_ACCEPT_LANGUAGE="en")


def _summaries(schema: dict) -> dict[str, str]:
    return {
        f"{method.upper()} {path}": operation.get("summary", "")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def _example_names(schema: dict) -> dict[str, str]:
    """What the docs show in each request body's examples menu (the example's summary), by operation."""
    names = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for key, example in content.get("examples", {}).items():
                    names[f"{method.upper()} {path} {key}"] = example.get("summary", key)
    return names


def test_every_operation_has_a_chinese_summary_for_a_chinese_reader(chinese):
    schema, _, _ = chinese
    summaries = _summaries(schema)
    assert len(summaries) > 100  # every app's operations, not an empty schema
    assert {op: text for op, text in summaries.items() if not CHINESE.search(text)} == {}


def test_no_operation_has_a_chinese_summary_for_an_english_reader(english):
    schema, _, _ = english
    summaries = _summaries(schema)
    assert len(summaries) > 100
    assert {op: text for op, text in summaries.items() if not text or CHINESE.search(text)} == {}


def test_both_languages_document_the_same_operations(chinese, english):
    assert _summaries(chinese[0]).keys() == _summaries(english[0]).keys()


def test_the_example_names_follow_the_reader(chinese, english):
    chinese_names, english_names = _example_names(chinese[0]), _example_names(english[0])
    assert chinese_names.keys() == english_names.keys()
    assert {key: name for key, name in chinese_names.items() if not CHINESE.search(name)} == {}
    assert {key: name for key, name in english_names.items() if CHINESE.search(name)} == {}


@pytest.mark.parametrize(
    ("path", "method", "chinese_summary", "english_summary"),
    [
        # Summaries written for the operation, and the token's and the caller's, which were once frozen
        # in the language of the first request after start-up.
        (
            "/api/v1/needs/{id}/dispatch/",
            "post",
            "将已提交的需求派单给成员单位或资源所属单位（所在社区工作人员）",
            "Dispatch a submitted need to a unit or a resource's unit (its community's staff)",
        ),
        ("/api/v1/auth/token/", "post", "获取令牌", "Get a token"),
        ("/api/v1/me/", "get", "当前登录用户", "The signed-in caller"),
        ("/api/v1/members/", "post", "在职党员到社区报到（双报到）", "Register an in-service Party member"),
        (
            "/api/v1/public/needs/{tracking_code}/",
            "get",
            "凭跟踪码查询需求办理进度",
            "Track a need by its tracking code",
        ),
        (
            "/api/v1/wishes/",
            "get",
            "本人可认领的微心愿及已认领的微心愿",
            "Micro-wishes the caller may take on, and the ones they took on",
        ),
    ],
)
def test_a_summary_in_each_language(chinese, english, path, method, chinese_summary, english_summary):
    assert chinese[0]["paths"][path][method]["summary"] == chinese_summary
    assert english[0]["paths"][path][method]["summary"] == english_summary


def test_descriptions_written_for_an_operation_follow_the_reader(chinese, english):
    token_zh = chinese[0]["paths"]["/api/v1/auth/token/"]["delete"]["description"]
    token_en = english[0]["paths"]["/api/v1/auth/token/"]["delete"]["description"]
    assert (token_zh, token_en) == ("立即吊销调用者的令牌。", "Revoke the caller's token at once.")
    # A translated sentence added to the workflow's generated description.
    minutes_zh = chinese[0]["paths"]["/api/v1/meetings/{id}/minutes/"]["post"]["description"]
    minutes_en = english[0]["paths"]["/api/v1/meetings/{id}/minutes/"]["post"]["description"]
    assert minutes_zh.endswith("\n\n会议开始前：返回 409。")
    assert minutes_en.endswith("\n\nBefore the meeting has begun: 409.")
    # A request example's name: the key stays, the name shown is the reader's.
    body = "/api/v1/needs/{id}/decline/"
    zh = chinese[0]["paths"][body]["post"]["requestBody"]["content"]["application/json"]["examples"]["AReason"]
    en = english[0]["paths"][body]["post"]["requestBody"]["content"]["application/json"]["examples"]["AReason"]
    assert (zh["summary"], en["summary"]) == ("填写理由", "A reason")


def test_the_schema_builds_without_warnings_in_either_language(chinese, english):
    assert chinese[1:] == ({}, {})
    assert english[1:] == ({}, {})


def test_the_workflow_lines_of_a_description_follow_the_reader(chinese, english):
    path = "/api/v1/projects/{id}/open/"
    assert chinese[0]["paths"][path]["post"]["description"] == (
        "`open`：`status` 为 `draft` 时可用；状态变为 `open`。\n\n其他状态：返回 409 并说明原因（ServiceProject.TRANSITIONS）。"
    )
    assert english[0]["paths"][path]["post"]["description"] == (
        "`open`: allowed when `status` is `draft`; moves it to `open`.\n\n"
        "From any other status: 409 with the reason (ServiceProject.TRANSITIONS)."
    )

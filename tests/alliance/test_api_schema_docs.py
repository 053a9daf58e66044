"""The OpenAPI schema reads as documentation (issue 13): operations grouped by app with a description of
each group in the reader's language, a summary for every operation, an example for every request body; the
docs pages are linked from the portal and the admin's workbench."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ..conftest import client_for

APPS = {"alliance", "members", "demands", "projects", "meetings", "volunteers"}
WRITES = {"post", "put", "patch"}


def _schema(**headers) -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", **headers)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return _schema(HTTP_ACCEPT_LANGUAGE="zh-hans")


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_is_in_one_apps_group_and_has_a_summary(schema):
    for path, method, operation in _operations(schema):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in APPS, f"{method.upper()} {path}"
        assert operation.get("summary"), f"{method.upper()} {path}"
    assert {tag["name"] for tag in schema["tags"]} == APPS


@pytest.mark.parametrize(
    ("path", "method", "tag"),
    [
        ("/api/v1/needs/{id}/dispatch/", "post", "demands"),
        ("/api/v1/public/needs/", "post", "demands"),
        ("/api/v1/units/", "get", "members"),
        ("/api/v1/projects/{id}/claims/", "post", "projects"),
        ("/api/v1/resolutions/{id}/done/", "post", "meetings"),
        ("/api/v1/service-logs/{id}/verify/", "post", "volunteers"),
        ("/api/v1/me/", "get", "alliance"),
    ],
)
def test_operations_are_grouped_by_the_app_that_serves_them(schema, path, method, tag):
    assert schema["paths"][path][method]["tags"] == [tag]


def test_every_request_body_has_an_example(schema):
    # Fails for a write added without one: give it extend_schema(examples=[OpenApiExample(…)]) when the
    # default (a sample of each writable field, alliance.api.schema.example_value) does not fit.
    missing = []
    for path, method, operation in _operations(schema):
        if method not in WRITES or "requestBody" not in operation:
            continue
        for media_type, content in operation["requestBody"]["content"].items():
            if media_type == "application/json" and not (content.get("examples") or content.get("example")):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_the_default_example_fills_each_writable_field_with_a_sample(schema):
    body = schema["paths"]["/api/v1/needs/{id}/decline/"]["post"]["requestBody"]["content"]["application/json"]
    assert body["examples"]["Example"]["value"] == {"reason": "不属于联盟服务范围，已转相关部门"}


def test_the_schema_speaks_the_readers_language(db, schema):
    english = _schema(HTTP_ACCEPT_LANGUAGE="en")
    by_lang = _schema(HTTP_ACCEPT_LANGUAGE="zh-hans", QUERY_STRING="lang=en")
    tags = {tag["name"]: tag["description"] for tag in english["tags"]}
    assert tags["demands"] == ("Residents' needs and the units' resources: the four-step workflow and public tracking.")
    assert {tag["name"]: tag["description"] for tag in by_lang["tags"]} == tags
    assert {t["name"]: t["description"] for t in schema["tags"]}[
        "demands"
    ] == "居民需求与单位资源：四步流程与公开查询。"
    assert english["paths"]["/api/v1/needs/"]["get"]["summary"] == "List of needs"
    assert schema["paths"]["/api/v1/needs/"]["get"]["summary"] == "需求列表"
    assert english["info"]["description"].startswith("Read and write the alliance's data from other systems")


def test_the_docs_are_linked_from_the_portal_for_liaisons(liaison_a):
    page = client_for(liaison_a).get("/portal/").content.decode()
    assert '<a href="/api/docs/" data-link="api-docs">API 文档</a>' in page


def test_the_docs_are_linked_from_the_workbench_for_staff(street_staff):
    page = client_for(street_staff).get("/admin/").content.decode()
    assert '<a href="/api/docs/" data-link="api-docs">API 文档</a>' in page

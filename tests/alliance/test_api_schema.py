"""The OpenAPI schema documents the error answers of every operation (SPEC "Fixed interfaces")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _errors(schema: dict, path: str, method: str) -> dict[str, dict]:
    responses = schema["paths"][path][method]["responses"]
    return {code: r["content"]["application/json"]["schema"] for code, r in responses.items() if code >= "400"}


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        # a workflow move: bad input, not allowed, not visible, wrong status
        ("/api/v1/needs/{id}/dispatch/", "post", {"400", "401", "403", "404", "409"}),
        ("/api/v1/projects/{id}/claims/", "post", {"400", "401", "403", "404", "409"}),
        ("/api/v1/units/{id}/", "patch", {"400", "401", "403", "404", "409"}),
        # a create can be refused by the state of what it points at (a resolution of a cancelled meeting)
        ("/api/v1/resolutions/", "post", {"400", "401", "403", "409"}),
        # a list: bad filter values, not signed in, a page past the end
        ("/api/v1/needs/", "get", {"400", "401", "403", "404"}),
        ("/api/v1/needs/{id}/", "get", {"401", "403", "404"}),
        # public and read-only: only bad credentials (a wrong token is refused even here) and not found
        ("/api/v1/categories/{id}/", "get", {"401", "403", "404"}),
        # anonymous, no credentials read, throttled per client address
        ("/api/v1/public/needs/", "post", {"400", "429"}),
        ("/api/v1/public/needs/{tracking_code}/", "get", {"404", "429"}),
        ("/api/v1/public/needs/{tracking_code}/rating/", "post", {"400", "404", "409", "429"}),
        # anonymous, unfiltered, paginated: a page link that is not one (400), a page past the end (404)
        ("/api/v1/public/showcase/", "get", {"400", "404"}),
        # anonymous: a ?street= or ?district= that is not one (400)
        ("/api/v1/public/stats/", "get", {"400"}),
        ("/api/v1/auth/token/", "post", {"400", "401", "403", "429"}),
    ],
)
def test_operations_document_the_errors_they_can_answer(schema, path, method, codes):
    errors = _errors(schema, path, method)
    assert set(errors) == codes
    for code, body in errors.items():
        assert body == (VALIDATION_ERROR if code == "400" else ERROR)


def test_every_operation_that_can_refuse_documents_it(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path == "/api/v1/public/stats/":
                continue  # figures for anyone: nothing to refuse
            codes = {code for code in operation["responses"] if code >= "400"}
            assert codes, f"{method.upper()} {path} documents no error"
            if method in {"post", "put", "patch"}:
                assert "400" in codes, f"{method.upper()} {path}"


def test_the_error_components_have_the_shapes_the_handler_answers(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"] == {"detail": {"type": "string"}}
    assert components["Error"]["required"] == ["detail"]
    field_errors = components["ValidationError"]
    assert field_errors["properties"]["detail"] == {"type": "string"}
    assert field_errors["additionalProperties"]["oneOf"][0] == {"type": "array", "items": {"type": "string"}}

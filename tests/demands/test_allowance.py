"""A resident's allowance (issue 9, finding 6): on the public form and POST /api/v1/public/needs/ only
needs that were valid and stored count; invalid attempts have their own, more generous limit."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from demands.models import Need

from ..factories import CategoryFactory

NEW = "/needs/new/"
API = "/api/v1/public/needs/"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture
def rates(settings):
    def set_rates(**scopes: str) -> None:
        merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}

    return set_rates


@pytest.fixture
def need_fields(community_x):
    category = CategoryFactory()
    return {
        "community": community_x.pk,
        "category": category.pk,
        "title": "楼道灯坏了",
        "description": "三单元楼道灯不亮，老人晚上上下楼不方便。",
        "contact_name": "赵秀兰",
        "contact_phone": "13912345678",
    }


def test_a_resident_who_mistypes_the_phone_five_times_can_still_submit_on_the_form(rates, need_fields):
    rates(need_submit="1/hour", need_submit_invalid="30/hour")
    resident = Client()
    for typo in ("1391234567", "2391234567", "139123456789", "一三九", "13912345"):
        response = resident.post(NEW, {**need_fields, "contact_phone": typo, "website": ""})
        assert response.status_code == 200
        assert response.context["form"].errors["contact_phone"]

    stored = resident.post(NEW, {**need_fields, "website": ""})

    assert stored.status_code == 302 and stored["Location"] == "/needs/submitted/"
    assert Need.objects.count() == 1
    # The allowance is one stored need: the next one is refused.
    assert resident.post(NEW, {**need_fields, "title": "第二个", "website": ""}).status_code == 429
    assert Need.objects.count() == 1


def test_invalid_attempts_on_the_form_have_their_own_limit(rates, need_fields):
    rates(need_submit="5/hour", need_submit_invalid="3/hour")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(3):
        assert client.post(NEW, {**need_fields, "contact_phone": "123", "website": ""}).status_code == 200

    refused = client.post(NEW, {**need_fields, "website": ""})

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many attempts" in refused.content.decode()
    assert not Need.objects.exists()


def test_a_resident_who_mistypes_the_phone_five_times_can_still_submit_through_the_api(rates, need_fields):
    rates(need_submit="1/hour", need_submit_invalid="30/hour")
    client = APIClient()
    for typo in ("1391234567", "2391234567", "139123456789", "abc", "13912345"):
        response = client.post(API, {**need_fields, "contact_phone": typo}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["contact_phone"]

    stored = client.post(API, need_fields, format="json")

    assert stored.status_code == 201 and stored.json()["status"] == "submitted"
    assert Need.objects.count() == 1
    again = client.post(API, {**need_fields, "title": "第二个"}, format="json")
    assert again.status_code == 429
    assert again["Retry-After"] == "3600"
    assert Need.objects.count() == 1


def test_invalid_attempts_through_the_api_have_their_own_limit(rates, need_fields):
    rates(need_submit="5/hour", need_submit_invalid="3/hour")
    client = APIClient()
    codes = [client.post(API, {**need_fields, "title": ""}, format="json").status_code for _ in range(4)]
    valid = client.post(API, need_fields, format="json")

    assert codes == [400, 400, 400, 429]
    assert valid.status_code == 429
    assert valid.json()["detail"]
    assert not Need.objects.exists()


def test_the_form_and_the_api_share_one_allowance(rates, need_fields):
    rates(need_submit="1/hour")
    assert Client().post(NEW, {**need_fields, "website": ""}).status_code == 302
    assert APIClient().post(API, {**need_fields, "title": "第二个"}, format="json").status_code == 429
    assert Need.objects.count() == 1

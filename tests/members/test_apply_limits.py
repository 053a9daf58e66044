"""/portal/apply/ (issue 9, finding 6): a honeypot like the residents' need form, and a limit per client
address on applications."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from members.models import MemberUnit

from .test_joining import APPLICATION

APPLY = reverse("portal:unit_apply")
DONE = reverse("portal:unit_apply_done")


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


def _application(community, number: int = 0, **changes) -> dict:
    # Distinct names and credit codes; the codes pass the GB 32100-2015 checksum.
    codes = ["91350100M000100Y43", "91350100M000101Y4Q", "91350100M000102Y4E"]
    return {
        **APPLICATION,
        "community": community.pk,
        "name": f"柳巷书香文化公司{number}",
        "credit_code": codes[number],
        **changes,
    }


def test_the_apply_form_hides_its_honeypot_from_people_and_screen_readers(db):
    page = Client().get(APPLY).content.decode()
    box = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'name="website"' in box and 'tabindex="-1"' in box and 'autocomplete="off"' in box


def test_a_filled_honeypot_stores_no_application_and_gets_the_same_answer(community_x):
    genuine = Client().post(APPLY, _application(community_x, 0, website=""))
    bot = Client().post(APPLY, _application(community_x, 1, website="http://spam.example"))

    assert genuine.status_code == bot.status_code == 302
    assert genuine["Location"] == bot["Location"] == DONE
    assert list(MemberUnit.objects.values_list("name", flat=True)) == ["柳巷书香文化公司0"]


def test_past_the_limit_an_application_is_refused_with_a_clear_message_and_nothing_stored(settings, community_x):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "unit_apply": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = Client()  # the interface is Chinese by default
    for number in range(2):
        assert client.post(APPLY, _application(community_x, number)).status_code == 302

    refused = client.post(APPLY, _application(community_x, 2))

    assert refused.status_code == 429
    assert refused.context["form"].non_field_errors() == [
        "来自您所在网络的申请过多，本次申请未保存。请约 60 分钟后再试。"
    ]
    assert MemberUnit.objects.count() == 2
    assert not MemberUnit.objects.filter(name="柳巷书香文化公司2").exists()


def test_invalid_applications_do_not_use_up_the_limit(settings, community_x):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "unit_apply": "1/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = Client()
    for _ in range(3):
        assert client.post(APPLY, _application(community_x, 0, liaison_phone="123")).status_code == 200
    assert client.post(APPLY, _application(community_x, 0)).status_code == 302
    assert MemberUnit.objects.count() == 1

"""The liaison's side of the loop in the portal: needs dispatched to my units (accept, decline, complete)
and my units' resources. unit_a lies in community_x (liaison_a), unit_b in community_y (liaison_b)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demands import services
from demands.models import Need, NeedEvent, NeedPhoto, Resource

from ..conftest import client_for
from ..factories import CategoryFactory
from .factories import NeedFactory, ResourceFactory

S = Need.Status

# The smallest valid PNG: one transparent pixel.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63382127f71f0004ba02043e571fc70000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def category(db):
    return CategoryFactory(name="关心关爱", code="care")


@pytest.fixture
def need_a(community_x, unit_a, category, street_staff):
    """A need of community_x dispatched to unit_a."""
    need = NeedFactory(community=community_x, category=category, contact_name="李大爷", contact_phone="13755550001")
    return services.need_dispatch(need=need, unit=unit_a, actor=street_staff)


@pytest.fixture
def need_b(community_y, unit_b, category, street_staff):
    need = NeedFactory(community=community_y, category=category, title="柳北社区的需求")
    return services.need_dispatch(need=need, unit=unit_b, actor=street_staff)


def _events(need: Need) -> list[str]:
    return list(NeedEvent.objects.filter(need=need).values_list("to_status", flat=True))


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Seeing -----------------------------------------------------------------------------------------


def test_liaison_sees_the_needs_dispatched_to_own_unit_and_not_others(liaison_a, need_a, need_b):
    client = client_for(liaison_a)
    page = client.get(reverse("portal:need_list"))
    assert page.status_code == 200
    assert list(page.context["needs"]) == [need_a]
    assert need_b.title not in page.content.decode()

    detail = client.get(reverse("portal:need_detail", args=[need_a.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    # Dispatched, not yet accepted: the unit may still decline, so the resident's contact stays masked.
    assert "李大爷" not in body and "13755550001" not in body and need_a.address not in body
    assert "137****0001" in body
    assert client.get(reverse("portal:need_detail", args=[need_b.pk])).status_code == 404


@pytest.mark.parametrize("who", ["liaison_b", "community_y_staff", "member"])
def test_people_without_business_with_the_need_get_404(who, cast, need_a):
    client = client_for(cast[who])
    assert client.get(reverse("portal:need_detail", args=[need_a.pk])).status_code == 404
    assert client.post(reverse("portal:need_accept", args=[need_a.pk])).status_code == 404
    need_a.refresh_from_db()
    assert need_a.status == S.DISPATCHED


def test_anonymous_is_sent_to_sign_in(anonymous, need_a):
    response = client_for(anonymous).get(reverse("portal:need_list"))
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_the_list_filters_by_status_and_marks_overdue_needs(
    liaison_a, need_a, unit_a, community_x, category, street_staff
):
    other = NeedFactory(community=community_x, category=category, title="已接单的需求")
    accepted = services.need_accept(
        need=services.need_dispatch(need=other, unit=unit_a, actor=street_staff), actor=liaison_a
    )
    Need.objects.filter(pk=need_a.pk).update(dispatched_at=timezone.now() - timedelta(days=3))
    client = client_for(liaison_a)
    everything = client.get(reverse("portal:need_list"))
    assert [n.pk for n in everything.context["needs"]] == [need_a.pk, accepted.pk]  # overdue first
    assert everything.context["needs"][0].is_overdue
    assert "Overdue" in everything.content.decode() or "超时" in everything.content.decode()
    only_accepted = client.get(reverse("portal:need_list"), {"status": "accepted"})
    assert list(only_accepted.context["needs"]) == [accepted]
    nonsense = client.get(reverse("portal:need_list"), {"status": "<script>"})
    assert nonsense.status_code == 200 and len(nonsense.context["needs"]) == 2


def test_the_portal_home_lists_the_needs_in_hand(liaison_a, need_a):
    page = client_for(liaison_a).get(reverse("portal:home"))
    body = page.content.decode()
    assert reverse("portal:need_detail", args=[need_a.pk]) in body
    assert reverse("portal:need_list") in body and reverse("portal:resource_list") in body


def test_need_list_query_count_does_not_grow_with_rows(liaison_a, unit_a, community_x, category, street_staff):
    def dispatch(count: int) -> None:
        for need in NeedFactory.create_batch(count, community=community_x, category=category):
            services.need_dispatch(need=need, unit=unit_a, actor=street_staff)

    client = client_for(liaison_a)
    url = reverse("portal:need_list")
    dispatch(2)
    client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    dispatch(12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["needs"]) == 14
    # session, user, groups, the liaison's units (guardian), unread notifications, the page's count, the
    # page of needs joined with category, community and unit — the same however many rows.
    assert len(many) == len(few)


# --- Acting -----------------------------------------------------------------------------------------


def test_liaison_accepts_a_dispatched_need(liaison_a, need_a):
    response = client_for(liaison_a).post(reverse("portal:need_accept", args=[need_a.pk]))
    assert response.status_code == 302
    need_a.refresh_from_db()
    assert need_a.status == S.ACCEPTED and need_a.accepted_at is not None
    event = NeedEvent.objects.filter(need=need_a).last()
    assert (event.from_status, event.to_status, event.actor) == (S.DISPATCHED, S.ACCEPTED, liaison_a)


def test_accepting_needs_a_post(liaison_a, need_a):
    assert client_for(liaison_a).get(reverse("portal:need_accept", args=[need_a.pk])).status_code == 405
    need_a.refresh_from_db()
    assert need_a.status == S.DISPATCHED


def test_liaison_declines_with_a_reason_and_the_need_goes_back_to_the_community(liaison_a, need_a):
    response = client_for(liaison_a).post(reverse("portal:need_decline", args=[need_a.pk]), {"reason": "本周人手不足"})
    assert response.status_code == 302
    need_a.refresh_from_db()
    assert need_a.status == S.SUBMITTED and need_a.unit is None
    event = NeedEvent.objects.filter(need=need_a).last()
    assert (event.to_status, event.note, event.actor) == (S.SUBMITTED, "本周人手不足", liaison_a)
    # It has left the unit's hands.
    assert client_for(liaison_a).get(reverse("portal:need_detail", args=[need_a.pk])).status_code == 404


def test_declining_without_a_reason_is_refused_and_changes_nothing(liaison_a, need_a):
    before = _events(need_a)
    response = client_for(liaison_a).post(reverse("portal:need_decline", args=[need_a.pk]), {"reason": "  "})
    assert response.status_code == 200
    assert response.context["decline_form"].errors
    need_a.refresh_from_db()
    assert need_a.status == S.DISPATCHED and need_a.unit_id is not None
    assert _events(need_a) == before


def test_liaison_completes_an_accepted_need_with_a_result_and_a_photo(liaison_a, need_a):
    services.need_accept(need=need_a, actor=liaison_a)
    photo = SimpleUploadedFile("result.png", TINY_PNG, content_type="image/png")
    response = client_for(liaison_a).post(
        reverse("portal:need_complete", args=[need_a.pk]), {"result": "已上门换好楼道灯", "photos": [photo]}
    )
    assert response.status_code == 302
    need_a.refresh_from_db()
    assert need_a.status == S.COMPLETED and need_a.result == "已上门换好楼道灯"
    assert NeedPhoto.objects.filter(need=need_a).count() == 1
    assert _events(need_a)[-1] == S.COMPLETED
    page = client_for(liaison_a).get(reverse("portal:need_detail", args=[need_a.pk]))
    assert NeedPhoto.objects.get(need=need_a).image.url in page.content.decode()


def test_completing_with_a_file_that_is_not_a_photo_changes_nothing(liaison_a, need_a):
    services.need_accept(need=need_a, actor=liaison_a)
    not_a_photo = SimpleUploadedFile("notes.exe", b"MZ...", content_type="application/octet-stream")
    response = client_for(liaison_a).post(
        reverse("portal:need_complete", args=[need_a.pk]), {"result": "已完成", "photos": [not_a_photo]}
    )
    assert response.status_code == 200 and response.context["complete_form"].errors
    need_a.refresh_from_db()
    assert need_a.status == S.ACCEPTED and need_a.result == ""
    assert not NeedPhoto.objects.filter(need=need_a).exists()


def test_completing_with_more_than_six_photos_changes_nothing(liaison_a, need_a):
    services.need_accept(need=need_a, actor=liaison_a)
    photos = [SimpleUploadedFile(f"p{i}.png", TINY_PNG, content_type="image/png") for i in range(7)]
    response = client_for(liaison_a).post(
        reverse("portal:need_complete", args=[need_a.pk]), {"result": "已完成", "photos": photos}
    )
    assert response.status_code == 200 and response.context["complete_form"].errors
    need_a.refresh_from_db()
    assert need_a.status == S.ACCEPTED
    assert not NeedPhoto.objects.exists()


def test_accepting_an_accepted_need_is_refused_with_a_message(liaison_a, need_a):
    services.need_accept(need=need_a, actor=liaison_a)
    before = _events(need_a)
    response = client_for(liaison_a).post(reverse("portal:need_accept", args=[need_a.pk]))
    assert response.status_code == 302
    assert any("accepted" in m.lower() or "接单" in m for m in _messages(response))
    need_a.refresh_from_db()
    assert need_a.status == S.ACCEPTED
    assert _events(need_a) == before


def test_completing_a_need_not_yet_accepted_is_refused(liaison_a, need_a):
    before = _events(need_a)
    response = client_for(liaison_a).post(reverse("portal:need_complete", args=[need_a.pk]), {"result": "已完成"})
    assert response.status_code == 200
    assert response.context["complete_form"].non_field_errors()
    need_a.refresh_from_db()
    assert need_a.status == S.DISPATCHED and need_a.result == ""
    assert _events(need_a) == before


def test_the_other_units_liaison_cannot_act_on_the_need(liaison_b, liaison_a, need_a):
    services.need_accept(need=need_a, actor=liaison_a)
    client = client_for(liaison_b)
    for name, data in [("need_accept", {}), ("need_decline", {"reason": "不做"}), ("need_complete", {"result": "x"})]:
        assert client.post(reverse(f"portal:{name}", args=[need_a.pk]), data).status_code == 404
    need_a.refresh_from_db()
    assert need_a.status == S.ACCEPTED and need_a.result == ""


def test_community_staff_see_the_need_in_the_portal_but_do_not_act_for_the_unit(community_x_staff, need_a):
    client = client_for(community_x_staff)
    assert client.get(reverse("portal:need_detail", args=[need_a.pk])).status_code == 200
    response = client.post(reverse("portal:need_accept", args=[need_a.pk]))
    assert response.status_code == 302 and _messages(response)
    need_a.refresh_from_db()
    assert need_a.status == S.DISPATCHED


# --- Resources --------------------------------------------------------------------------------------


def _resource_form(unit, category, **extra) -> dict:
    return {
        "unit": unit.pk,
        "category": category.pk,
        "kind": Resource.Kind.VENUE,
        "title": "党员活动室",
        "description": "可容纳40人，周末开放。",
        "capacity": "40",
        "availability": "周六、周日全天",
        "is_free": "on",
        **extra,
    }


def test_liaison_publishes_a_resource_for_own_unit(liaison_a, unit_a, category):
    client = client_for(liaison_a)
    assert client.get(reverse("portal:resource_create")).status_code == 200
    response = client.post(reverse("portal:resource_create"), _resource_form(unit_a, category))
    assert response.status_code == 302
    resource = Resource.objects.get()
    assert (resource.unit, resource.title, resource.capacity, resource.status) == (
        unit_a,
        "党员活动室",
        40,
        Resource.Status.ACTIVE,
    )
    assert "党员活动室" in client.get(reverse("portal:resource_list")).content.decode()


def test_liaison_cannot_publish_a_resource_for_another_unit(liaison_a, unit_b, category):
    response = client_for(liaison_a).post(reverse("portal:resource_create"), _resource_form(unit_b, category))
    assert response.status_code == 200 and response.context["form"].errors
    assert not Resource.objects.exists()


def test_a_user_without_a_unit_cannot_publish(member):
    assert client_for(member).get(reverse("portal:resource_create")).status_code == 404


def test_liaison_edits_withdraws_and_restores_own_resource(liaison_a, unit_a, category):
    resource = ResourceFactory(unit=unit_a, category=category, title="法律咨询")
    client = client_for(liaison_a)
    form = _resource_form(unit_a, category, title="免费法律咨询", capacity="")
    del form["unit"]
    assert client.post(reverse("portal:resource_edit", args=[resource.pk]), form).status_code == 302
    resource.refresh_from_db()
    assert resource.title == "免费法律咨询" and resource.capacity is None and resource.unit == unit_a

    assert client.post(reverse("portal:resource_withdraw", args=[resource.pk])).status_code == 302
    resource.refresh_from_db()
    assert resource.status == Resource.Status.WITHDRAWN
    again = client.post(reverse("portal:resource_withdraw", args=[resource.pk]))
    assert again.status_code == 302 and _messages(again)  # already withdrawn: a message, no 500

    assert client.post(reverse("portal:resource_restore", args=[resource.pk])).status_code == 302
    resource.refresh_from_db()
    assert resource.status == Resource.Status.ACTIVE


def test_liaison_cannot_touch_another_units_resource(liaison_a, unit_b, category):
    resource = ResourceFactory(unit=unit_b, category=category, title="医疗义诊")
    client = client_for(liaison_a)
    assert client.get(reverse("portal:resource_edit", args=[resource.pk])).status_code == 404
    form = _resource_form(unit_b, category, title="被改了")
    assert client.post(reverse("portal:resource_edit", args=[resource.pk]), form).status_code == 404
    assert client.post(reverse("portal:resource_withdraw", args=[resource.pk])).status_code == 404
    resource.refresh_from_db()
    assert resource.title == "医疗义诊" and resource.status == Resource.Status.ACTIVE
    assert "医疗义诊" not in client.get(reverse("portal:resource_list")).content.decode()


def test_resource_list_query_count_does_not_grow_with_rows(liaison_a, unit_a, category):
    client = client_for(liaison_a)
    url = reverse("portal:resource_list")
    ResourceFactory.create_batch(2, unit=unit_a, category=category)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    ResourceFactory.create_batch(10, unit=unit_a, category=category)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)

"""The portal's form for a unit's own need (单位需求, /portal/needs/new/): a liaison files what the unit asks
for; the community and the contact are the unit's (need_file_for_unit, as through the API), every liaison
of the unit follows it, and the unit's allowance (UNIT_NEED_FILE_RATE) is told plainly on the form. Nobody
without a unit to file for finds the form: as resource_create, 404 (the anonymous visitor signs in first).
unit_a lies in community_x (liaison_a, liaison_a2), unit_b in community_y (liaison_b)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demands.models import Need
from members import services as member_services
from members.models import MemberUnit

from ..conftest import client_for
from ..factories import CategoryFactory, MemberUnitFactory

URL = "/portal/needs/new/"
TITLE, DESCRIPTION = "职工子女暑期托管", "暑期需要志愿者协助托管20名职工子女。"
RATE_TEXT = "山西饭店已在60分钟内提交了2条需求，已达单位提交上限，请稍后再试。"

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the unit's allowance counts in the cache


@pytest.fixture
def category(db):
    return CategoryFactory(name="助老服务")


@pytest.fixture
def second_unit(liaison_a, community_y, root):
    """liaison_a is also the liaison of a unit in community_y."""
    unit = MemberUnitFactory(name="第二单位", community=community_y, liaison_name="赵强", liaison_phone="13922223333")
    member_services.unit_membership_add(unit=unit, user=liaison_a, actor=root)
    return unit


def _form(category, **fields) -> dict:
    return {"category": category.pk, "title": TITLE, "description": DESCRIPTION, **fields}


def _rates(settings, **rates) -> None:
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **rates}}


def test_the_route_is_the_portal_need_create():
    assert reverse("portal:need_create") == URL


# --- Filing -------------------------------------------------------------------------------------------


def test_a_liaison_files_the_units_need_and_lands_on_its_page(liaison_a, liaison_a2, unit_a, category):
    client = client_for(liaison_a)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>提交本单位需求</h1>" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert list(page.context["form"].fields) == ["category", "title", "description"]  # one unit: no choice

    response = client.post(URL, _form(category))
    need = Need.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:need_detail", args=[need.pk])
    assert (need.filed_by_unit, need.kind, need.community, need.status, need.channel) == (
        unit_a,
        Need.Kind.UNIT,
        unit_a.community,
        Need.Status.SUBMITTED,
        Need.Channel.WEB,
    )
    assert (need.title, need.description, need.category) == (TITLE, DESCRIPTION, category)
    assert (need.contact_name, need.contact_phone, need.address) == (unit_a.liaison_name, unit_a.liaison_phone, "")
    landed = client.get(response["Location"])
    assert landed.status_code == 200
    assert "需求已提交，社区工作人员将为其派单。" in landed.content.decode()

    # The unit's other liaison finds it in the "filed by my units" tab.
    filed = client_for(liaison_a2).get(reverse("portal:need_list"), {"list": "filed"})
    assert [n.pk for n in filed.context["needs"]] == [need.pk]
    assert f'<a href="{reverse("portal:need_detail", args=[need.pk])}">{TITLE}</a>' in filed.content.decode()


def test_a_liaison_of_two_units_chooses_which_files(liaison_a, unit_a, second_unit, category):
    client = client_for(liaison_a)
    form = client.get(URL).context["form"]
    assert list(form.fields) == ["unit", "category", "title", "description"]
    assert [label for _value, label in form.fields["unit"].choices] == ["山西饭店", "第二单位"]

    unchosen = client.post(URL, _form(category))
    assert unchosen.status_code == 200
    assert unchosen.context["form"].errors == {"unit": ["该字段是必填项。"]}
    assert not Need.objects.exists()

    response = client.post(URL, _form(category, unit=second_unit.pk))
    need = Need.objects.get()
    assert response["Location"] == reverse("portal:need_detail", args=[need.pk])
    assert (need.filed_by_unit, need.community, need.contact_name, need.contact_phone) == (
        second_unit,
        second_unit.community,
        "赵强",
        "13922223333",
    )


def test_a_unit_the_liaison_does_not_serve_is_refused(liaison_a, second_unit, unit_b, category):
    response = client_for(liaison_a).post(URL, _form(category, unit=unit_b.pk))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["unit"] and "选择一个有效的选项" in errors["unit"][0]
    assert not Need.objects.exists()


def test_a_liaison_of_one_unit_files_for_that_unit_whatever_is_posted(liaison_a, unit_a, unit_b, category):
    client_for(liaison_a).post(URL, _form(category, unit=unit_b.pk))
    assert Need.objects.get().filed_by_unit == unit_a


def test_bad_input_is_answered_in_chinese_on_its_fields_and_nothing_is_filed(liaison_a, category):
    inactive = CategoryFactory(name="停用类别", is_active=False)
    response = client_for(liaison_a).post(URL, {"category": inactive.pk, "title": "", "description": "有内容"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["title"] == ["该字段是必填项。"]
    assert "选择一个有效的选项" in errors["category"][0]
    assert '<p class="error">该字段是必填项。</p>' in response.content.decode()
    long_title = client_for(liaison_a).post(URL, _form(category, title="长" * 81))
    assert list(long_title.context["form"].errors) == ["title"]
    assert not Need.objects.exists()


def test_a_unit_no_longer_active_is_told_by_the_service(liaison_a, unit_a, category):
    MemberUnit.objects.filter(pk=unit_a.pk).update(status=MemberUnit.Status.WITHDRAWN)
    response = client_for(liaison_a).post(URL, _form(category))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["只有已加入的成员单位才能提交单位需求。"]
    assert not Need.objects.exists()


# --- The unit's allowance -----------------------------------------------------------------------------


def test_past_the_units_allowance_the_form_says_so_and_files_nothing(liaison_a, liaison_a2, unit_a, category, settings):
    _rates(settings, unit_need_file="2/hour")
    assert client_for(liaison_a).post(URL, _form(category)).status_code == 302
    assert client_for(liaison_a2).post(URL, _form(category)).status_code == 302  # the unit's, whoever files
    response = client_for(liaison_a).post(URL, _form(category, title="第三条"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [RATE_TEXT]
    assert RATE_TEXT in response.content.decode()
    assert Need.objects.filter(filed_by_unit=unit_a).count() == 2
    assert not Need.objects.filter(title="第三条").exists()


# --- Who finds the form, and the links to it ----------------------------------------------------------


def test_the_anonymous_visitor_signs_in_first(db):
    response = client_for(None).get(URL)
    assert (response.status_code, response["Location"]) == (302, f"/portal/login/?next={URL}")
    assert client_for(None).post(URL, {}).status_code == 302
    assert not Need.objects.exists()


@pytest.mark.parametrize("role", ["member", "community_x_staff", "street_staff"])
def test_who_has_no_unit_is_answered_as_by_resource_create(request, role, category):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("portal:resource_create")).status_code == 404
    assert client.get(URL).status_code == 404
    assert client.post(URL, _form(category)).status_code == 404
    assert not Need.objects.exists()


def test_the_link_shows_to_liaisons_on_the_filed_tab_and_the_home_panel(liaison_a, member, community_x_staff):
    link = f'href="{URL}"'
    needs = reverse("portal:need_list")
    liaison = client_for(liaison_a)
    filed = liaison.get(needs, {"list": "filed"}).content.decode()
    assert f'<a class="button" {link}>提交本单位需求</a>' in filed
    assert link not in liaison.get(needs).content.decode()  # the tab of what was dispatched to the unit
    assert f"<a {link}>提交本单位需求</a>" in liaison.get(reverse("portal:home")).content.decode()
    for user in (member, community_x_staff):
        client = client_for(user)
        assert link not in client.get(needs, {"list": "filed"}).content.decode()
        assert link not in client.get(reverse("portal:home")).content.decode()


# --- What stays constant ------------------------------------------------------------------------------


def test_the_form_page_costs_the_same_however_many_units_and_categories(
    liaison_a, unit_a, community_x, category, root, django_assert_num_queries
):
    client = client_for(liaison_a)
    client.get(URL)  # warm process-wide caches (content types)
    # user + units held (guardian's grants) + the units + unread notifications (the header) + categories
    with django_assert_num_queries(5):
        assert client.get(URL).status_code == 200
    for number in range(3):
        unit = MemberUnitFactory(name=f"另一单位{number}", community=community_x)
        member_services.unit_membership_add(unit=unit, user=liaison_a, actor=root)
        CategoryFactory(name=f"类别{number}")
    client.get(URL)  # a new unit account drops the cached group names: read once, as after any change
    with django_assert_num_queries(5):
        page = client.get(URL)
    assert len(page.context["form"].fields["unit"].choices) == 4
    assert len(page.context["form"].fields["category"].queryset) == 4

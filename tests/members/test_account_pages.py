"""Staff workbench (issue 11): staff find or make the accounts they attach to a unit (its liaison) or a
community (its staff) on the unit's / community's own page. The lookup into Django's user screens, which
answered staff with a bare 403, is gone; a new account's password-set link goes to its phone by text
message and is shown to nobody."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from alliance import permissions
from alliance.models import Profile
from members.models import CommunityStaff, UnitMembership

from ..conftest import client_for as _signed_in
from ..factories import MemberUnitFactory, UserFactory

PHONE = "13812341234"
LINK = re.compile(r"/portal/password/set/([^/\s]+)/([^/\s]+)/")

pytestmark = pytest.mark.django_db


def client_for(user):
    """Signed in, in English: the messages asserted are the English source strings."""
    client = _signed_in(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _unit_page(unit) -> str:
    return reverse("admin:members_memberunit_account_add", args=[unit.pk])


def _community_page(community) -> str:
    return reverse("admin:members_community_staff_add", args=[community.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _state() -> tuple:
    """What a refused request must leave as it was."""
    return (
        get_user_model().objects.count(),
        Profile.objects.count(),
        UnitMembership.objects.count(),
        CommunityStaff.objects.count(),
    )


def _person(username: str, phone: str, first_name: str = "") -> object:
    user = UserFactory(username=username, first_name=first_name)
    Profile.objects.create(user=user, phone=phone)
    return user


# --- Making a new account -----------------------------------------------------------------------------


def test_street_staff_make_a_unit_account_texted_its_link_which_no_page_shows(
    street_staff, unit_a, sms_outbox, django_capture_on_commit_callbacks
):
    client = client_for(street_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _unit_page(unit_a), {"create": "1", "name": "李强", "phone": PHONE, "email": "", "username": ""}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:members_memberunit_change", args=[unit_a.pk])

    user = get_user_model().objects.get(username=PHONE)
    assert user.first_name == "李强"
    assert user.profile.phone == PHONE
    assert not user.has_usable_password()
    assert UnitMembership.objects.get(user=user).unit == unit_a
    assert permissions.can_change(user, unit_a)  # members.change_memberunit on the unit

    with_link = [m for m in sms_outbox if LINK.search(m.text)]
    assert [m.phone for m in with_link] == [PHONE]
    token = LINK.search(with_link[0].text).group(2)

    shown = _messages(response)
    assert shown == [
        f"The account {PHONE} was made; a message with a link to set the password was sent to 138****1234."
    ]
    page = client.get(response["Location"]).content.decode()
    assert token not in page
    assert "/portal/password/set/" not in page
    assert all(token not in text for text in shown)


def test_community_staff_make_an_account_for_their_units_only(community_x_staff, unit_a, unit_b, sms_outbox):
    client = client_for(community_x_staff)
    assert client.get(_unit_page(unit_a)).status_code == 200
    before = _state()
    response = client.post(_unit_page(unit_b), {"create": "1", "name": "李强", "phone": PHONE})
    assert response.status_code == 404
    assert _state() == before

    response = client.post(_unit_page(unit_a), {"create": "1", "name": "李强", "phone": PHONE})
    assert response.status_code == 302
    assert UnitMembership.objects.filter(unit=unit_a, user__username=PHONE).count() == 1


def test_a_chosen_user_name_is_used(street_staff, unit_a):
    client_for(street_staff).post(
        _unit_page(unit_a), {"create": "1", "name": "李强", "phone": PHONE, "username": "liqiang"}
    )
    assert get_user_model().objects.get(username="liqiang").profile.phone == PHONE


def test_a_phone_that_is_another_accounts_is_refused_and_that_account_offered(street_staff, unit_a):
    owner = _person("zhangwei", PHONE, "张伟")
    client = client_for(street_staff)
    before = _state()
    response = client.post(_unit_page(unit_a), {"create": "1", "name": "李强", "phone": PHONE})
    assert response.status_code == 200
    assert _state() == before
    with_english = _messages(response)
    assert with_english == ["This phone number belongs to another account."]
    # The existing account is offered, masked, with its button to attach it.
    assert [row["pk"] for row in response.context["results"]] == [owner.pk]
    assert response.context["results"][0]["phone"] == "138****1234"
    assert response.context["results"][0]["name"] == "张*"
    assert "<td>138****1234</td>" in response.content.decode()


def test_invalid_phone_is_a_form_error(street_staff, unit_a):
    before = _state()
    response = client_for(street_staff).post(_unit_page(unit_a), {"create": "1", "name": "李强", "phone": "12345"})
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert _state() == before


# --- Finding and attaching an existing account -------------------------------------------------------------


def test_find_by_phone_and_attach(street_staff, unit_a, sms_outbox, django_capture_on_commit_callbacks):
    person = _person("zhangwei", PHONE, "张伟")
    client = client_for(street_staff)
    response = client.get(_unit_page(unit_a), {"q": PHONE})
    assert [row["username"] for row in response.context["results"]] == ["zhangwei"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_unit_page(unit_a) + f"?q={PHONE}", {"attach": str(person.pk)})
    assert response.status_code == 302
    assert UnitMembership.objects.get(user=person).unit == unit_a
    assert permissions.can_change(person, unit_a)
    assert not [m for m in sms_outbox if LINK.search(m.text)]  # an existing account keeps its password


def test_find_by_name_shows_only_active_accounts(street_staff, unit_a):
    _person("zhangwei", "13900000001", "张伟")
    _person("zhangli", "13900000002", "张丽")
    gone = _person("zhangsan", "13900000003", "张三")
    gone.is_active = False
    gone.save()
    _person("wangfang2", "13900000004", "王芳")
    response = client_for(street_staff).get(_unit_page(unit_a), {"q": "张"})
    assert response.status_code == 200
    assert [row["username"] for row in response.context["results"]] == ["zhangli", "zhangwei"]
    page = response.content.decode()
    assert "13900000001" not in page
    assert "139****0001" in page


def test_a_partial_phone_finds_nobody(street_staff, unit_a):
    _person("zhangwei", PHONE, "张伟")
    response = client_for(street_staff).get(_unit_page(unit_a), {"q": PHONE[:7]})
    assert response.context["results"] == []


def test_attaching_a_liaison_again_changes_nothing(liaison_a, street_staff, unit_a, sms_outbox):
    before = _state()
    response = client_for(street_staff).post(_unit_page(unit_a), {"attach": str(liaison_a.pk)})
    assert response.status_code == 200
    assert _messages(response) == ["liaison_a already holds an account at 山西饭店."]
    assert _state() == before
    assert sms_outbox == []


def test_search_queries_do_not_grow_with_users(street_staff, unit_a, django_assert_num_queries):
    client = client_for(street_staff)
    url = _unit_page(unit_a)
    client.get(url)  # the first request puts the session and the user's group names in the cache
    for fewer, many in ((0, 2), (2, 8)):
        for n in range(fewer, many):
            _person(f"zhang{n}", f"1390000000{n}", "张伟")
        # user (the session and the user's groups come from the cache), the unit, is it visible, the
        # accounts with their profiles, and the header's count of the user's unread notifications
        with django_assert_num_queries(5):
            response = client.get(url, {"q": "张"})
        assert response.status_code == 200
        assert len(response.context["results"]) == many


# --- Community staff ---------------------------------------------------------------------------------


def test_street_staff_make_a_community_staff_account(
    street_staff, community_x, sms_outbox, django_capture_on_commit_callbacks
):
    client = client_for(street_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_community_page(community_x), {"create": "1", "name": "赵敏", "phone": PHONE})
    assert response.status_code == 302
    user = get_user_model().objects.get(username=PHONE)
    assert CommunityStaff.objects.get(user=user).community == community_x
    assert permissions.is_community_staff(user)
    [sms] = [m for m in sms_outbox if LINK.search(m.text)]
    assert sms.phone == PHONE
    assert LINK.search(sms.text).group(2) not in " ".join(_messages(response))


def test_street_staff_attach_a_community_staff_account_once(street_staff, community_x):
    person = _person("zhaomin", PHONE, "赵敏")
    client = client_for(street_staff)
    response = client.post(_community_page(community_x), {"attach": str(person.pk)})
    assert response.status_code == 302
    assert CommunityStaff.objects.filter(user=person, community=community_x).count() == 1
    before = _state()
    response = client.post(_community_page(community_x), {"attach": str(person.pk)})
    assert response.status_code == 200
    assert _state() == before


def test_community_staff_cannot_open_the_community_staff_page(community_x_staff, community_x):
    client = client_for(community_x_staff)
    assert client.get(_community_page(community_x)).status_code == 404
    before = _state()
    assert client.post(_community_page(community_x), {"create": "1", "name": "x", "phone": PHONE}).status_code == 404
    assert _state() == before


# --- No page reachable from the unit's or the community's page answers 403 -----------------------------


def _links_on(page: str) -> set[str]:
    return set(re.findall(r'href="(/admin/[^"#?]*)', page))


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff"])
def test_no_page_linked_from_the_unit_page_refuses_its_staff(who, request, unit_a, liaison_a):
    client = client_for(request.getfixturevalue(who))
    change = reverse("admin:members_memberunit_change", args=[unit_a.pk])
    response = client.get(change)
    assert response.status_code == 200
    page = response.content.decode()
    assert _unit_page(unit_a) in page  # the button
    assert "/admin/auth/user/" not in page  # no lookup into the superusers' user screens
    for href in _links_on(page) | _links_on(client.get(_unit_page(unit_a)).content.decode()):
        if href.endswith("/logout/"):
            continue
        assert client.get(href).status_code != 403, href


def test_no_page_linked_from_the_community_page_refuses_street_staff(street_staff, community_x, community_x_staff):
    client = client_for(street_staff)
    response = client.get(reverse("admin:members_community_change", args=[community_x.pk]))
    page = response.content.decode()
    assert _community_page(community_x) in page
    for href in _links_on(page) | _links_on(client.get(_community_page(community_x)).content.decode()):
        if href.endswith("/logout/"):
            continue
        assert client.get(href).status_code != 403, href


def test_the_add_forms_of_accounts_take_a_user_name_or_phone_not_a_lookup(
    street_staff, community_x_staff, unit_a, community_x
):
    person = _person("zhangwei", PHONE, "张伟")
    for url in (reverse("admin:members_unitmembership_add"), reverse("admin:members_communitystaff_add")):
        page = client_for(street_staff).get(url).content.decode()
        assert "/admin/auth/user/" not in page
    response = client_for(community_x_staff).post(
        reverse("admin:members_unitmembership_add"), {"user": PHONE, "unit": unit_a.pk, "role": "liaison"}
    )
    assert response.status_code == 302
    assert permissions.can_change(person, unit_a)
    before = _state()
    response = client_for(street_staff).post(
        reverse("admin:members_communitystaff_add"), {"user": "nobody", "community": community_x.pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == ["No active account has this user name or phone."]
    assert _state() == before


def test_an_inactive_unit_gets_no_account(street_staff, community_x):
    unit = MemberUnitFactory(community=community_x, status="withdrawn")
    before = _state()
    response = client_for(street_staff).post(_unit_page(unit), {"create": "1", "name": "李强", "phone": PHONE})
    assert response.status_code == 200
    assert _state() == before


def test_the_community_page_links_its_printable_qr_poster(street_staff, community_x):
    client = client_for(street_staff)
    page = client.get(f"/admin/members/community/{community_x.pk}/change/")
    assert page.status_code == 200
    assert f'href="/needs/qr/{community_x.pk}/" id="community-poster"' in page.content.decode()
    assert "QR poster of the need form" in page.content.decode()  # this module signs staff in in English
    poster = client.get(f"/needs/qr/{community_x.pk}/")
    assert poster.status_code == 200

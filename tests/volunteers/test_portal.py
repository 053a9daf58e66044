"""The in-service Party members' portal (双报到): registering at the residence community, claiming and
leaving volunteer posts, taking on and fulfilling residents' micro-wishes, logging hours, and the
quarterly service card (一单一表一卡) — the member's own and the work unit's for its liaisons.
unit_a lies in community_x (liaison_a), unit_b in community_y (liaison_b).

Texts are compared through gettext in the language the page was rendered in, never as literals: the
interface is Chinese by default and its catalogue is filled separately."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import messages as message_levels
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from demands.models import Need, NeedEvent
from volunteers.models import PartyMember, PostClaim, ServiceLog

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import UserFactory
from .factories import PartyMemberFactory, PostFactory, ServiceLogFactory

M = PartyMember.Status
PASSWORD = "Liuxiang-Volunteer-2026"
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _no_rate_limit_used():
    """New accounts are rate-limited per client address in the default cache; every test starts afresh."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def registration(member, community_x, unit_a):
    """The `member` user's verified registration at community_x, working at unit_a."""
    return PartyMemberFactory(
        user=member,
        name="张伟",
        phone="13800138000",
        work_unit=unit_a,
        residence_community=community_x,
        status=M.VERIFIED,
        verified_at=timezone.now(),
    )


@pytest.fixture
def post(community_x):
    return PostFactory(title="楼道文明劝导岗", community=community_x, places=3)


def _messages(response) -> list:
    return list(get_messages(response.wsgi_request))


def _last_level(response) -> int:
    """The level of the message the last action left (earlier ones may still wait to be shown)."""
    return _messages(response)[-1].level


def _said(response, msgid: str) -> str:
    """`msgid` as the page's language says it."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return gettext(msgid)


def _places_left(response, post_pk: int) -> int:
    body = response.content.decode()
    start = body.index(f'data-post="{post_pk}"')
    return int(re.search(r'data-places-left="(\d+)"', body[start : body.index("</li>", start)]).group(1))


def _form_data(community, unit, **overrides) -> dict:
    data = {
        "name": "李明",
        "phone": PHONE,
        "work_unit": unit.pk if unit else "",
        "work_unit_name": "",
        "party_branch": "第二党支部",
        "residence_community": community.pk,
        "skills": "急救、水电维修",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return {**data, **overrides}


# --- Registration (双报到) -------------------------------------------------------------------------


def test_an_anonymous_person_registers_with_the_phone_as_user_name_and_is_signed_in(community_x, unit_a):
    client = Client()
    page = client.get(reverse("portal:member_register"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="password1"' in body and 'name="residence_community"' in body
    assert f'<option value="{unit_a.pk}">' in body

    response = client.post(reverse("portal:member_register"), _form_data(community_x, unit_a))
    assert response.status_code == 302 and response["Location"] == reverse("portal:volunteer_home")
    assert [m.level for m in _messages(response)] == [message_levels.SUCCESS]

    user = get_user_model().objects.get(username=PHONE)
    assert user.check_password(PASSWORD) and user.first_name == "李明"
    member = PartyMember.objects.get()
    assert (member.user, member.name, member.phone, member.status) == (user, "李明", PHONE, M.PENDING)
    assert (member.work_unit, member.residence_community, member.party_branch) == (unit_a, community_x, "第二党支部")

    # Signed in: the volunteer page answers (no redirect to the sign-in page) and shows the pending status.
    home = client.get(reverse("portal:volunteer_home"))
    assert home.status_code == 200 and home.context["user"] == user
    assert home.context["current"] is None  # not verified: no posts or wishes to claim yet
    assert f'data-registration="{member.pk}" data-status="pending"' in home.content.decode()


def test_a_work_unit_that_has_not_joined_is_given_by_name(community_x):
    response = Client().post(
        reverse("portal:member_register"), _form_data(community_x, None, work_unit_name="太原市第一热电厂")
    )
    assert response.status_code == 302
    member = PartyMember.objects.get()
    assert (member.work_unit, member.work_unit_name) == (None, "太原市第一热电厂")


def test_a_second_registration_in_the_same_community_is_refused(community_x, unit_a):
    PartyMemberFactory(phone=PHONE, residence_community=community_x, status=M.PENDING)
    response = Client().post(reverse("portal:member_register"), _form_data(community_x, unit_a))
    assert response.status_code == 200
    expected = _said(response, "This phone number is already registered in this community.")
    assert response.context["form"].non_field_errors() == [expected]
    assert expected in response.content.decode()
    assert PartyMember.objects.count() == 1
    assert not get_user_model().objects.filter(username=PHONE).exists()


def test_a_signed_in_member_registering_again_in_their_community_is_refused(registration, member, community_x):
    client = client_for(member)
    page = client.get(reverse("portal:member_register"))
    assert 'name="password1"' not in page.content.decode()  # the account is theirs already
    response = client.post(
        reverse("portal:member_register"), _form_data(community_x, registration.work_unit, phone=registration.phone)
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        _said(response, "This phone number is already registered in this community.")
    ]
    assert PartyMember.objects.count() == 1


def test_a_signed_in_person_registers_with_their_own_account(member, community_y, unit_b):
    response = client_for(member).post(
        reverse("portal:member_register"), _form_data(community_y, unit_b, password1="", password2="")
    )
    assert response.status_code == 302
    registered = PartyMember.objects.get()
    assert (registered.user, registered.residence_community, registered.status) == (member, community_y, M.PENDING)
    assert not get_user_model().objects.filter(username=PHONE).exists()


def test_an_existing_account_with_the_phone_is_asked_to_sign_in_first(community_x, unit_a):
    UserFactory(username=PHONE)
    response = Client().post(reverse("portal:member_register"), _form_data(community_x, unit_a))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        _said(response, "An account with this phone number exists already; please sign in first.")
    ]
    assert not PartyMember.objects.exists()
    assert f"{reverse('portal:login')}?next={reverse('portal:member_register')}" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "1234"}, "phone"),
        ({"password2": "Another-Password-2026"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password1"),
        ({"work_unit": "", "work_unit_name": ""}, "work_unit_name"),
        ({"residence_community": "999999"}, "residence_community"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_registration_input_is_a_form_error_and_creates_nothing(community_x, unit_a, overrides, field):
    response = Client().post(reverse("portal:member_register"), _form_data(community_x, unit_a, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not PartyMember.objects.exists()
    assert not get_user_model().objects.filter(username=PHONE).exists()


def test_new_accounts_are_rate_limited_per_client_address(community_x, unit_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"member_register": "1/hour"}}
    client = Client()
    assert client.post(reverse("portal:member_register"), _form_data(community_x, unit_a)).status_code == 302
    other = Client().post(reverse("portal:member_register"), _form_data(community_x, unit_a, phone="13912345679"))
    assert other.status_code == 429
    assert PartyMember.objects.count() == 1


# --- Posts ----------------------------------------------------------------------------------------


def test_a_pending_member_cannot_claim_a_post(member, community_x, post):
    PartyMemberFactory(user=member, residence_community=community_x, status=M.PENDING)
    response = client_for(member).post(reverse("portal:post_claim", args=[post.pk]))
    assert response.status_code == 302
    messages = _messages(response)
    assert [m.level for m in messages] == [message_levels.ERROR]
    assert str(messages[0]) == _said(response, "Your registration has not been verified yet.")
    assert not PostClaim.objects.exists()
    post.refresh_from_db()
    assert post.places_taken == 0


def test_a_verified_member_claims_a_post_of_their_community_and_sees_the_places_drop(registration, member, post):
    client = client_for(member)
    home = client.get(reverse("portal:volunteer_home"))
    assert home.status_code == 200 and _places_left(home, post.pk) == 3
    assert reverse("portal:post_claim", args=[post.pk]) in home.content.decode()

    response = client.post(reverse("portal:post_claim", args=[post.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:volunteer_home"))
    assert [m.level for m in _messages(response)] == [message_levels.SUCCESS]
    claim = PostClaim.objects.get()
    assert (claim.post, claim.member, claim.status) == (post, registration, PostClaim.Status.ACTIVE)

    after = client.get(reverse("portal:volunteer_home"))
    assert _places_left(after, post.pk) == 2
    assert after.context["my_claims"] == [claim]
    body = after.content.decode()
    assert f'data-my-claim="{claim.pk}"' in body
    assert reverse("portal:post_leave", args=[claim.pk]) in body


def test_a_post_of_another_community_cannot_be_claimed(registration, member, community_y):
    elsewhere = PostFactory(community=community_y)
    response = client_for(member).post(reverse("portal:post_claim", args=[elsewhere.pk]))
    assert response.status_code == 302
    messages = _messages(response)
    assert [m.level for m in messages] == [message_levels.ERROR]
    assert str(messages[0]) == _said(
        response, "Posts are claimed by verified members registered in the post's community."
    )
    assert not PostClaim.objects.exists()
    # Nor is it listed on the member's page.
    home = client_for(member).get(reverse("portal:volunteer_home"))
    assert f'data-post="{elsewhere.pk}"' not in home.content.decode()


def test_a_full_post_says_it_is_full(registration, member, community_x):
    full = PostFactory(community=community_x, places=1)
    other = PartyMemberFactory(user=UserFactory(), residence_community=community_x)
    PostClaim.objects.create(post=full, member=other)
    type(full).objects.filter(pk=full.pk).update(places_taken=1)

    client = client_for(member)
    home = client.get(reverse("portal:volunteer_home"))
    assert _places_left(home, full.pk) == 0
    assert reverse("portal:post_claim", args=[full.pk]) not in home.content.decode()  # no button, a "full" tag

    response = client.post(reverse("portal:post_claim", args=[full.pk]))
    messages = _messages(response)
    assert [m.level for m in messages] == [message_levels.ERROR]
    assert str(messages[0]) == _said(response, "All places of this post are taken.")
    assert PostClaim.objects.filter(member=registration).count() == 0


def test_leaving_a_post_frees_its_place(registration, member, post):
    client = client_for(member)
    client.post(reverse("portal:post_claim", args=[post.pk]))
    claim = PostClaim.objects.get()
    response = client.post(reverse("portal:post_leave", args=[claim.pk]))
    assert response.status_code == 302
    assert _last_level(response) == message_levels.SUCCESS
    claim.refresh_from_db()
    post.refresh_from_db()
    assert (claim.status, post.places_taken) == (PostClaim.Status.LEFT, 0)
    assert _places_left(client.get(reverse("portal:volunteer_home")), post.pk) == 3

    # Leaving twice is a message, not an error page.
    again = client.post(reverse("portal:post_leave", args=[claim.pk]))
    assert again.status_code == 302 and _last_level(again) == message_levels.ERROR


def test_nobody_else_can_leave_a_members_post_nor_claim_what_does_not_exist(registration, member, post, liaison_b):
    client_for(member).post(reverse("portal:post_claim", args=[post.pk]))
    claim = PostClaim.objects.get()
    assert client_for(liaison_b).post(reverse("portal:post_leave", args=[claim.pk])).status_code == 404
    assert client_for(member).post(reverse("portal:post_claim", args=[999999])).status_code == 404
    assert client_for(member).get(reverse("portal:post_claim", args=[post.pk])).status_code == 405
    claim.refresh_from_db()
    assert claim.status == PostClaim.Status.ACTIVE


def test_anonymous_is_sent_to_sign_in(anonymous, post):
    for url in (
        reverse("portal:volunteer_home"),
        reverse("portal:hours_log"),
        reverse("portal:service_card"),
    ):
        response = client_for(anonymous).get(url)
        assert response.status_code == 302 and "/portal/login/" in response["Location"]
    response = client_for(anonymous).post(reverse("portal:post_claim", args=[post.pk]))
    assert response.status_code == 302 and "/portal/login/" in response["Location"]
    assert not PostClaim.objects.exists()


# --- Micro-wishes ---------------------------------------------------------------------------------


@pytest.fixture
def wish(community_x):
    return NeedFactory(
        kind=Need.Kind.MICRO_WISH,
        community=community_x,
        title="想要一台收音机",
        description="独居老人想听戏曲节目。",
        contact_name="王奶奶",
        contact_phone="13711112222",
        address="桥头街8号2单元",
    )


def test_a_verified_member_takes_on_a_wish_sees_the_contact_then_and_fulfils_it(registration, member, wish):
    client = client_for(member)
    home = client.get(reverse("portal:volunteer_home"))
    body = home.content.decode()
    assert f'data-wish="{wish.pk}"' in body and wish.title in body and wish.description in body
    # Before it is taken on, no contact data of the resident.
    for personal in (wish.contact_name, wish.contact_phone, wish.address):
        assert personal not in body

    response = client.post(reverse("portal:wish_claim", args=[wish.pk]))
    assert response.status_code == 302 and [m.level for m in _messages(response)] == [message_levels.SUCCESS]
    wish.refresh_from_db()
    assert (wish.status, wish.claimed_by) == (Need.Status.ACCEPTED, member)
    event = NeedEvent.objects.filter(need=wish).latest("id")
    assert (event.from_status, event.to_status, event.actor) == (Need.Status.SUBMITTED, Need.Status.ACCEPTED, member)

    after = client.get(reverse("portal:volunteer_home"))
    body = after.content.decode()
    assert f'data-wish="{wish.pk}"' not in body  # no longer to claim
    assert f'data-my-wish="{wish.pk}"' in body
    for personal in (wish.contact_name, wish.contact_phone, wish.address):
        assert personal in body

    # An empty result is refused with a message; a result completes the wish through the needs workflow.
    empty = client.post(reverse("portal:wish_complete", args=[wish.pk]), {"result": "  "})
    assert _last_level(empty) == message_levels.ERROR
    wish.refresh_from_db()
    assert wish.status == Need.Status.ACCEPTED

    done = client.post(reverse("portal:wish_complete", args=[wish.pk]), {"result": "送去一台收音机并教会使用"})
    assert _last_level(done) == message_levels.SUCCESS
    wish.refresh_from_db()
    assert (wish.status, wish.result) == (Need.Status.COMPLETED, "送去一台收音机并教会使用")
    event = NeedEvent.objects.filter(need=wish).latest("id")
    assert (event.from_status, event.to_status, event.actor) == (Need.Status.ACCEPTED, Need.Status.COMPLETED, member)


def test_a_wish_of_another_community_is_refused(registration, member, community_y):
    elsewhere = NeedFactory(kind=Need.Kind.MICRO_WISH, community=community_y)
    assert client_for(member).post(reverse("portal:wish_claim", args=[elsewhere.pk])).status_code == 404
    elsewhere.refresh_from_db()
    assert (elsewhere.status, elsewhere.claimed_by) == (Need.Status.SUBMITTED, None)


def test_a_pending_member_cannot_take_on_a_wish_and_nobody_else_completes_one(member, community_x, wish, liaison_a):
    PartyMemberFactory(user=member, residence_community=community_x, status=M.PENDING)
    response = client_for(member).post(reverse("portal:wish_claim", args=[wish.pk]))
    messages = _messages(response)
    assert [m.level for m in messages] == [message_levels.ERROR]
    assert str(messages[0]) == _said(
        response, "Micro-wishes are taken on by verified members registered in the wish's community."
    )
    wish.refresh_from_db()
    assert wish.status == Need.Status.SUBMITTED
    # Completing a wish one did not take on: not found.
    assert (
        client_for(liaison_a).post(reverse("portal:wish_complete", args=[wish.pk]), {"result": "x"}).status_code == 404
    )


def test_a_wish_taken_on_by_someone_else_is_a_message(registration, member, wish, community_x):
    other_user = UserFactory()
    PartyMemberFactory(user=other_user, residence_community=community_x)
    client_for(other_user).post(reverse("portal:wish_claim", args=[wish.pk]))
    response = client_for(member).post(reverse("portal:wish_claim", args=[wish.pk]))
    assert response.status_code == 302 and _last_level(response) == message_levels.ERROR
    wish.refresh_from_db()
    assert wish.claimed_by == other_user


# --- Hours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["0", "25"])
def test_hours_out_of_range_are_refused_with_a_message(registration, member, hours):
    client = client_for(member)
    response = client.post(
        reverse("portal:hours_log"),
        {
            "registration": registration.pk,
            "date": timezone.localdate().isoformat(),
            "hours": hours,
            "description": "楼道清扫",
        },
    )
    assert response.status_code == 200
    expected = _said(response, "Hours must be more than 0 and at most 24 a day.")
    assert expected in response.content.decode()
    assert not ServiceLog.objects.exists()


def test_a_member_logs_hours_on_a_post_they_hold_and_only_verified_hours_count(registration, member, post):
    client = client_for(member)
    client.post(reverse("portal:post_claim", args=[post.pk]))
    page = client.get(reverse("portal:hours_log"))
    assert page.status_code == 200 and page.context["can_log"]
    # One registration: it is not asked for.
    assert f'type="hidden" name="registration" value="{registration.pk}"' in page.content.decode()

    today = timezone.localdate()
    response = client.post(
        reverse("portal:hours_log"),
        {
            "registration": registration.pk,
            "date": today.isoformat(),
            "hours": "2.5",
            "description": "楼道文明劝导",
            "post": post.pk,
        },
    )
    assert response.status_code == 302 and _last_level(response) == message_levels.SUCCESS
    log = ServiceLog.objects.get()
    assert (log.member, log.hours, log.post, log.verified, log.logged_by) == (
        registration,
        Decimal("2.5"),
        post,
        False,
        member,
    )

    ServiceLogFactory(member=registration, date=today, hours=Decimal("3.0"), verified=True)
    ServiceLogFactory(member=registration, date=today - timedelta(days=200), hours=Decimal("7.0"), verified=True)
    home = client.get(reverse("portal:volunteer_home"))
    assert home.context["quarter_hours"] == Decimal("3.0")  # this quarter, verified only
    assert home.context["quarter_services"] == 1
    body = home.content.decode()
    assert f'data-log="{log.pk}" data-verified="false"' in body


def test_hours_on_a_post_of_another_community_or_in_the_future_are_refused(registration, member, community_y):
    elsewhere = PostFactory(community=community_y)
    client = client_for(member)
    today = timezone.localdate()
    logged = {"registration": registration.pk, "hours": "1", "description": "x"}
    response = client.post(reverse("portal:hours_log"), {**logged, "date": today.isoformat(), "post": elsewhere.pk})
    assert response.status_code == 200 and "post" in response.context["form"].errors
    future = client.post(reverse("portal:hours_log"), {**logged, "date": (today + timedelta(days=3)).isoformat()})
    assert future.status_code == 200
    assert _said(future, "Hours cannot be logged before they are served.") in future.content.decode()
    assert not ServiceLog.objects.exists()


def test_a_pending_member_has_no_hours_form(member, community_x):
    PartyMemberFactory(user=member, residence_community=community_x, status=M.PENDING)
    client = client_for(member)
    page = client.get(reverse("portal:hours_log"))
    assert page.status_code == 200 and page.context["can_log"] is False
    response = client.post(
        reverse("portal:hours_log"), {"date": timezone.localdate().isoformat(), "hours": "1", "description": "x"}
    )
    assert response.status_code == 200
    assert not ServiceLog.objects.exists()


# --- Moving house ---------------------------------------------------------------------------------


def test_a_member_who_moved_house_starts_a_new_registration(registration, member, post, community_y):
    client = client_for(member)
    client.post(reverse("portal:post_claim", args=[post.pk]))
    response = client.post(
        reverse("portal:member_move"), {"registration": registration.pk, "community": community_y.pk}
    )
    assert response.status_code == 302 and _last_level(response) == message_levels.SUCCESS
    registration.refresh_from_db()
    post.refresh_from_db()
    assert registration.status == M.ENDED and post.places_taken == 0
    new = PartyMember.objects.get(user=member, status=M.PENDING)
    assert new.residence_community == community_y
    # The old community is not offered again for the new registration.
    home = client.get(reverse("portal:volunteer_home"))
    choices = [c.pk for c in home.context["move_form"].fields["community"].queryset]
    assert community_y.pk not in choices


# --- The service card (一单一表一卡) ---------------------------------------------------------------


def test_my_service_card_sums_my_verified_hours_of_the_quarter(registration, member, post):
    today = timezone.localdate()
    ServiceLogFactory(member=registration, date=today, hours=Decimal("2.0"), post=post, verified=True)
    ServiceLogFactory(member=registration, date=today, hours=Decimal("1.5"), verified=True)
    ServiceLogFactory(member=registration, date=today, hours=Decimal("4.0"), verified=False)
    response = client_for(member).get(reverse("portal:service_card"))
    assert response.status_code == 200
    assert (response.context["total_hours"], response.context["total_services"]) == (Decimal("3.5"), 2)
    assert response.context["unverified"] == 1
    assert [row["group_key"] for row in response.context["per_community"]] == [registration.residence_community_id]
    # A quarter in the past with nothing; nonsense parameters fall back to this quarter.
    empty = client_for(member).get(reverse("portal:service_card"), {"year": 2001, "quarter": 2})
    assert empty.status_code == 200 and empty.context["total_hours"] == 0
    nonsense = client_for(member).get(reverse("portal:service_card"), {"year": "x", "quarter": "9"})
    assert nonsense.status_code == 200 and nonsense.context["total_hours"] == Decimal("3.5")


@pytest.fixture
def unit_card(unit_a, unit_b, community_x, community_y):
    """unit_a's members: one who served (two verified entries, one not yet verified), one who did not, one
    pending (not on the card); and a member of unit_b."""
    today = timezone.localdate()
    served = PartyMemberFactory(name="赵磊", phone="13600000001", work_unit=unit_a, residence_community=community_x)
    ServiceLogFactory(member=served, date=today, hours=Decimal("2.0"), verified=True)
    ServiceLogFactory(member=served, date=today, hours=Decimal("1.5"), verified=True)
    ServiceLogFactory(member=served, date=today, hours=Decimal("4.0"), verified=False)
    idle = PartyMemberFactory(
        name="钱芳", phone="13600000002", work_unit=unit_a, residence_community=community_y, party_branch="机关党支部"
    )
    pending = PartyMemberFactory(name="孙强", phone="13600000003", work_unit=unit_a, status=M.PENDING)
    other = PartyMemberFactory(name="李娜", phone="13600000004", work_unit=unit_b)
    ServiceLogFactory(member=other, date=today, hours=Decimal("5.0"), verified=True)
    return {"served": served, "idle": idle, "pending": pending, "other": other}


def test_the_unit_service_card_lists_the_units_members_with_verified_hours_and_no_phone(liaison_a, unit_a, unit_card):
    response = client_for(liaison_a).get(reverse("portal:unit_service_card", args=[unit_a.pk]))
    assert response.status_code == 200
    rows = {m.pk: (m.quarter_hours, m.quarter_services) for m in response.context["rows"]}
    assert rows == {unit_card["served"].pk: (Decimal("3.5"), 2), unit_card["idle"].pk: (Decimal("0"), 0)}
    body = response.content.decode()
    assert "赵磊" in body and "钱芳" in body and "机关党支部" in body
    assert "孙强" not in body and "李娜" not in body
    for member in unit_card.values():
        assert member.phone not in body
    totals = response.context["totals"]
    assert (totals["members"], totals["serving"], totals["hours"], totals["services"]) == (2, 1, Decimal("3.5"), 2)


def test_the_unit_service_card_downloads_as_a_sheet_without_phones(liaison_a, unit_a, unit_card):
    client = client_for(liaison_a)
    for response in (
        client.get(reverse("portal:unit_service_card_xlsx", args=[unit_a.pk])),
        client.get(reverse("portal:unit_service_card", args=[unit_a.pk]), {"format": "xlsx"}),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert len(rows) == 3  # the header and unit_a's two verified members
        assert sorted((row[0], row[3], row[4]) for row in rows[1:]) == [("赵磊", 3.5, 2), ("钱芳", 0, 0)]
        flat = " ".join(str(cell) for row in rows for cell in row)
        for member in unit_card.values():
            assert member.phone not in flat


def test_the_unit_service_card_is_for_that_units_liaisons_only(liaison_b, member, community_x_staff, unit_a, unit_card):
    for user in (liaison_b, member, community_x_staff):
        client = client_for(user)
        assert client.get(reverse("portal:unit_service_card", args=[unit_a.pk])).status_code == 404
        assert client.get(reverse("portal:unit_service_card_xlsx", args=[unit_a.pk])).status_code == 404
    assert client_for(liaison_b).get(reverse("portal:unit_service_card", args=[999999])).status_code == 404


# --- The portal home panel ------------------------------------------------------------------------


def test_the_portal_home_shows_my_registration(registration, member):
    response = client_for(member).get(reverse("portal:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-registration="{registration.pk}" data-status="verified"' in body
    assert reverse("portal:volunteer_home") in body


def test_the_sign_in_page_links_to_the_registration(anonymous):
    body = client_for(anonymous).get(reverse("portal:login")).content.decode()
    assert f'href="{reverse("portal:member_register")}"' in body


# --- Query counts ---------------------------------------------------------------------------------


def test_the_volunteer_page_query_count_does_not_grow_with_rows(registration, member, community_x):
    today = timezone.localdate()

    def add(count: int) -> None:
        for post in PostFactory.create_batch(count, community=community_x, places=count + 5):
            PostClaim.objects.create(post=post, member=registration)
            type(post).objects.filter(pk=post.pk).update(places_taken=1)
        NeedFactory.create_batch(count, kind=Need.Kind.MICRO_WISH, community=community_x)
        NeedFactory.create_batch(
            count,
            kind=Need.Kind.MICRO_WISH,
            community=community_x,
            status=Need.Status.ACCEPTED,
            claimed_by=member,
            accepted_at=timezone.now(),
        )
        ServiceLogFactory.create_batch(count, member=registration, date=today, verified=True)
        ServiceLogFactory.create_batch(count, member=registration, date=today, verified=False)

    client = client_for(member)
    url = reverse("portal:volunteer_home")
    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["posts"].object_list) == 14 and len(response.context["wishes_in_hand"]) == 14
    # 15 however many rows: session, user, groups, unread notifications; my registrations; the posts to
    # claim in my community (count, page) and the posts I hold; the wishes to claim (count, page), my wishes
    # in hand and the latest done; the quarter's verified total and the latest logs; the communities of the
    # "moved house" form.
    assert len(many) == len(few)

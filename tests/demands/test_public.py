"""The residents' public pages: the need form, the confirmation, tracking, rating, the showcase, the home
panel and the community posters — no login, and never a contact name, phone number or address."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance import public_figures
from alliance.models import Notification
from demands import services
from demands.models import Need, NeedEvent
from members import services as member_services

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, UserFactory
from .factories import NeedFactory

NEW = "/needs/new/"
SUBMITTED = "/needs/submitted/"
TRACK = "/needs/track/"
RATE = "/needs/track/rate/"
SHOWCASE = "/showcase/"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture
def category(db):
    return CategoryFactory(code="repairs", name="水电维修")


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def form_data(community_, category_, **overrides) -> dict:
    data = {
        "community": community_.pk,
        "category": category_.pk,
        "title": "楼道灯坏了",
        "description": "三单元楼道灯不亮，老人晚上上下楼不方便。",
        "contact_name": "赵秀兰",
        "contact_phone": "13912345678",
        "address": "桥头街12号3单元",
        "website": "",
    }
    return {**data, **overrides}


def submit(community_, category_, **fields) -> Need:
    data = {**form_data(community_, category_, **fields), "community": community_, "category": category_}
    data.pop("website")
    return services.need_submit(data=data, channel=Need.Channel.WEB)


def track(client: Client, code: str, last4: str):
    return client.post(TRACK, {"code": code, "phone_last4": last4})


def set_rate(settings, scope: str, rate: str) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def showcased(count: int, **fields) -> list[Need]:
    """Completed needs of one unit, showcased: what the public lists show."""
    unit = fields.pop("unit", None) or MemberUnitFactory()
    now = timezone.now()
    values = {
        "status": Need.Status.COMPLETED,
        "unit": unit,
        "dispatched_at": now,
        "accepted_at": now,
        "completed_at": now,
        "result": "电工志愿者上门换了灯泡。",
        "showcased_at": now,
    }
    return NeedFactory.create_batch(count, **{**values, **fields})


# --- The form -------------------------------------------------------------------------------------


def test_resident_submits_a_need_and_sees_the_tracking_code(community_x, category):
    client = Client()
    response = client.post(NEW, form_data(community_x, category))

    assert response.status_code == 302 and response["Location"] == SUBMITTED
    need = Need.objects.get()
    assert (need.status, need.channel, need.kind) == (Need.Status.SUBMITTED, Need.Channel.WEB, Need.Kind.RESIDENT)
    assert (need.community, need.category, need.contact_phone) == (community_x, category, "13912345678")
    assert list(need.events.values_list("from_status", "to_status")) == [("", Need.Status.SUBMITTED)]

    page = client.get(SUBMITTED).content.decode()
    assert services.format_tracking_code(need.tracking_code) in page
    assert "13912345678" not in page and "赵秀兰" not in page


def test_the_form_works_in_english_and_says_to_keep_the_code_with_four_digits(community_x, category):
    client = english()
    client.post(NEW, form_data(community_x, category))
    page = client.get(SUBMITTED).content.decode()
    assert "last four digits" in page


def test_the_community_in_the_address_is_chosen_in_the_form(community_x, community_y, category):
    page = Client().get(NEW, {"community": community_y.pk}).content.decode()
    assert re.search(rf'<option value="{community_y.pk}" selected>', page)
    assert not re.search(rf'<option value="{community_x.pk}" selected>', page)


@pytest.mark.parametrize("value", ["abc", "-1", "999999", "99999999999999999999999", "1.5", "", "١"])
def test_a_bad_community_in_the_address_is_ignored(community_x, category, value):
    response = Client().get(NEW, {"community": value})
    assert response.status_code == 200
    assert not re.search(r'<option value="\d+" selected>', response.content.decode())


def test_the_phone_field_brings_up_the_number_pad(db):
    page = Client().get(NEW).content.decode()
    phone = re.search(r'<input[^>]*name="contact_phone"[^>]*>', page).group(0)
    assert 'type="tel"' in phone and 'inputmode="numeric"' in phone


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_phone", "12345"),
        ("contact_phone", "23812345678"),
        ("contact_phone", "1381234567x"),
        ("contact_phone", "1٣٨١٢٣٤٥٦٧٨"),  # Arabic-Indic digits: \d matches them, the database must not get them
        ("title", ""),
        ("title", "长" * 81),
        ("description", ""),
        ("contact_name", ""),
        ("category", ""),
        ("community", "abc"),
        ("community", "99999999999999999999999"),
        ("category", "99999"),
        ("address", "址" * 201),
    ],
)
def test_bad_input_is_shown_again_with_the_error_and_nothing_is_stored(community_x, category, field, value):
    response = english().post(NEW, form_data(community_x, category, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    page = response.content.decode()
    assert 'class="field has-error"' in page
    assert not Need.objects.exists()


def test_a_wrong_phone_number_gets_a_message_in_the_users_language(community_x, category):
    page = english().post(NEW, form_data(community_x, category, contact_phone="12345")).content.decode()
    assert "11-digit mainland China mobile number" in page


@pytest.mark.parametrize("typed", ["+86 139-1234-5678", "139 1234 5678", "１３９１２３４５６７８", "008613912345678"])
def test_phone_numbers_typed_with_spaces_dashes_prefix_or_full_width_digits_are_accepted(community_x, category, typed):
    Client().post(NEW, form_data(community_x, category, contact_phone=typed))
    assert Need.objects.get().contact_phone == "13912345678"


def test_the_honeypot_drops_bots_and_pretends_success(community_x, category, sms_outbox):
    client = Client()
    response = client.post(NEW, form_data(community_x, category, website="http://spam.example/"))

    assert response.status_code == 302 and response["Location"] == SUBMITTED
    assert not Need.objects.exists()
    page = client.get(SUBMITTED).content.decode()
    assert "data-tracking-code" not in page
    assert sms_outbox == []


def test_the_honeypot_is_hidden_from_people_and_screen_readers(db):
    page = Client().get(NEW).content.decode()
    box = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'name="website"' in box and 'tabindex="-1"' in box and 'autocomplete="off"' in box


def test_past_the_rate_limit_the_form_answers_429_with_a_clear_page_and_stores_nothing(settings, community_x, category):
    set_rate(settings, "need_submit", "2/hour")
    client = english()
    for _ in range(2):
        assert client.post(NEW, form_data(community_x, category)).status_code == 302

    response = client.post(NEW, form_data(community_x, category, title="第三个"))

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "Too many attempts" in response.content.decode()
    assert Need.objects.count() == 2
    assert not Need.objects.filter(title="第三个").exists()


def test_typos_do_not_use_up_the_allowance(settings, community_x, category):
    set_rate(settings, "need_submit", "1/hour")
    client = Client()
    for _ in range(3):
        assert client.post(NEW, form_data(community_x, category, contact_phone="123")).status_code == 200
    assert client.post(NEW, form_data(community_x, category)).status_code == 302
    assert Need.objects.count() == 1


# --- Tracking -------------------------------------------------------------------------------------


def test_the_right_code_and_digits_show_the_status_and_the_timeline(
    community_x, category, unit_a, street_staff, liaison_a
):
    need = submit(community_x, category, contact_phone="13912345678")
    services.need_dispatch(need=need, unit=unit_a, actor=street_staff)

    response = track(english(), need.tracking_code, "5678")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-status="dispatched"' in page
    assert need.title in page and category.name in page and community_x.name in page
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r'<li data-status="(\w+)"', timeline) == ["submitted", "dispatched"]
    assert "Dispatched" in timeline
    # Times in Asia/Shanghai, and never who acted.
    at = need.events.last().at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert at in timeline
    assert street_staff.username not in page


def test_the_tracking_page_keeps_the_digits_out_of_the_address(db):
    page = Client().get(TRACK).content.decode()
    form = re.search(r'<form method="post" action="/needs/track/" class="track-form"', page)
    assert form is not None


def test_the_tracking_form_is_filled_with_the_code_just_received(community_x, category):
    client = Client()
    client.post(NEW, form_data(community_x, category))
    code = services.format_tracking_code(Need.objects.get().tracking_code)
    assert f'value="{code}"' in client.get(TRACK).content.decode()


def test_a_wrong_code_and_wrong_digits_get_the_same_answer(community_x, category):
    need = submit(community_x, category, contact_phone="13912345678")
    wrong_code = "ABCDEFGHJKMNP" if need.tracking_code != "ABCDEFGHJKMNP" else "BCDEFGHJKMNPQ"

    by_code = track(english(), wrong_code, "5678")
    by_digits = track(english(), need.tracking_code, "9876")

    assert by_code.status_code == by_digits.status_code == 200

    def skeleton(response, code: str, digits: str) -> str:
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return body.replace(code, "<code>").replace(digits, "<digits>")

    assert skeleton(by_code, wrong_code, "5678") == skeleton(by_digits, need.tracking_code, "9876")
    assert "No need matches this tracking code and these digits" in by_code.content.decode()
    assert need.title not in by_digits.content.decode()


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: services.format_tracking_code(code).lower(),
        lambda code: " ".join(code[i : i + 4] for i in range(0, len(code), 4)),
        lambda code: f"  {services.format_tracking_code(code)}  ",
        lambda code: "".join(chr(ord(ch) + 0xFEE0) for ch in code),  # full width, as Chinese input methods type
    ],
)
def test_codes_typed_in_lower_case_with_dashes_or_spaces_work(community_x, category, typed):
    need = submit(community_x, category, contact_phone="13912345678")
    response = track(Client(), typed(need.tracking_code), "5678")
    assert 'data-status="submitted"' in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "", "phone_last4": ""},
        {"code": "ABCD", "phone_last4": "12"},
        {"code": "ABCD", "phone_last4": "abcd"},
        {"code": "A" * 500, "phone_last4": "1234"},
        {"code": "--- ---", "phone_last4": "1234"},
        {"code": "测试\x00", "phone_last4": "1234"},
        {"code": "ABCD", "phone_last4": "12\x0034"},
        {"code": ["a", "b"], "phone_last4": ["1", "2"]},
    ],
)
def test_bad_tracking_input_is_refused_with_a_message_not_a_500(db, data):
    response = Client().post(TRACK, data)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_past_the_rate_limit_tracking_answers_429_with_a_clear_page(settings, community_x, category):
    set_rate(settings, "need_track", "3/hour")
    need = submit(community_x, category, contact_phone="13912345678")
    client = english()
    for _ in range(3):
        track(client, "ABCDEFGHJKMNP", "0000")

    response = track(client, need.tracking_code, "5678")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts" in page and need.title not in page


# --- Rating ---------------------------------------------------------------------------------------


def completed_need(**fields) -> Need:
    now = timezone.now()
    values = {
        "status": Need.Status.COMPLETED,
        "unit": MemberUnitFactory(),
        "dispatched_at": now,
        "accepted_at": now,
        "completed_at": now,
        "result": "已上门修好",
        "contact_phone": "13912345678",
    }
    return NeedFactory(**{**values, **fields})


def test_a_completed_need_shows_its_result_and_the_rating_form(db):
    need = completed_need()
    page = track(Client(), need.tracking_code, "5678").content.decode()
    assert "已上门修好" in page
    rating = re.search(r'<form method="post" action="/needs/track/rate/".*?</form>', page, re.S).group(0)
    assert f'name="code" value="{services.format_tracking_code(need.tracking_code)}"' in rating
    assert 'name="phone_last4" value="5678"' in rating
    assert rating.count('name="rating"') == 5


def test_rating_a_completed_need_closes_it(db, liaison_a, unit_a):
    need = completed_need(unit=unit_a)
    code = services.format_tracking_code(need.tracking_code).lower()

    response = english().post(RATE, {"code": code, "phone_last4": "5678", "rating": "4", "comment": "师傅很耐心"})

    assert response.status_code == 200
    need.refresh_from_db()
    assert (need.status, need.rating, need.rating_comment) == (Need.Status.CLOSED, 4, "师傅很耐心")
    assert need.closed_at is not None
    assert NeedEvent.objects.filter(need=need, from_status="completed", to_status="closed").count() == 1
    page = response.content.decode()
    assert 'data-status="closed"' in page and 'data-rating="4"' in page
    assert "Thank you for rating" in page
    assert 'action="/needs/track/rate/"' not in page  # no second rating


@pytest.mark.parametrize("status", [Need.Status.SUBMITTED, Need.Status.ACCEPTED, Need.Status.CLOSED])
def test_rating_a_need_that_is_not_completed_is_refused_with_a_message(db, status):
    need = completed_need(status=status, unit=MemberUnitFactory() if status != Need.Status.SUBMITTED else None)
    before = (need.status, need.rating)

    response = english().post(RATE, {"code": need.tracking_code, "phone_last4": "5678", "rating": "5"})

    assert response.status_code == 200
    # The refusal generated from Need.TRANSITIONS, the same for every caller of need_rate.
    assert "Rating is possible only when the status is Completed;" in response.content.decode()
    need.refresh_from_db()
    assert (need.status, need.rating) == before


@pytest.mark.parametrize(
    "data",
    [
        {"rating": ""},
        {"rating": "0"},
        {"rating": "6"},
        {"rating": "abc"},
        {"rating": "4.5"},
        {"rating": "5", "comment": "评" * 301},
        {"rating": "5", "comment": "\x00"},
    ],
)
def test_bad_ratings_are_refused_and_change_nothing(db, data):
    need = completed_need()
    response = Client().post(RATE, {"code": need.tracking_code, "phone_last4": "5678", **data})
    assert response.status_code == 200
    need.refresh_from_db()
    assert need.status == Need.Status.COMPLETED and need.rating is None


def test_a_rating_with_wrong_digits_is_answered_like_a_wrong_lookup(db):
    need = completed_need()
    response = english().post(RATE, {"code": need.tracking_code, "phone_last4": "0000", "rating": "1"})
    assert "No need matches this tracking code and these digits" in response.content.decode()
    need.refresh_from_db()
    assert need.status == Need.Status.COMPLETED


def test_the_rating_address_opened_directly_goes_to_the_tracking_page(db):
    response = Client().get(RATE)
    assert response.status_code == 302 and response["Location"] == TRACK


# --- Showcase, home panel, posters ----------------------------------------------------------------


def test_the_showcase_lists_only_showcased_completed_needs(db):
    now = timezone.now()
    shown = showcased(1, title="帮独居老人修好了水管")[0]
    shown_closed = showcased(1, title="社区义诊", status=Need.Status.CLOSED, closed_at=now, rating=5)[0]
    completed_need(title="还没晒的单")
    NeedFactory(title="刚提交的需求", showcased_at=now)  # cannot be showcased; the selector still refuses it

    page = Client().get(SHOWCASE).content.decode()

    assert shown.title in page and shown_closed.title in page
    assert shown.unit.name in page and "电工志愿者上门换了灯泡。" in page
    assert "还没晒的单" not in page and "刚提交的需求" not in page


def test_the_showcase_is_paginated(db):
    showcased(15)
    first = Client().get(SHOWCASE).content.decode()
    second = Client().get(SHOWCASE, {"page": 2}).content.decode()
    assert first.count('class="panel showcase-item"') == 12
    assert second.count('class="panel showcase-item"') == 3
    assert Client().get(SHOWCASE, {"page": "abc"}).status_code == 200
    assert Client().get(SHOWCASE, {"page": "999"}).status_code == 200


def test_the_home_page_shows_the_latest_six_showcased_needs_and_the_way_in(db):
    needs = showcased(8)
    page = Client().get("/").content.decode()
    assert len(re.findall(r'<li class="item" data-need="(\d+)"', page)) == 6
    latest = sorted(needs, key=lambda n: (n.showcased_at, n.pk), reverse=True)[:6]
    assert [int(pk) for pk in re.findall(r'<li class="item" data-need="(\d+)"', page)] == [n.pk for n in latest]
    assert f'href="{reverse("needs:new")}"' in page and f'href="{reverse("needs:track")}"' in page
    assert f'href="{reverse("needs:showcase")}"' in page


def test_the_poster_carries_a_qr_code_to_the_form_with_the_community_chosen(settings, community_x):
    settings.SITE_URL = "https://dangjian.example.cn"
    response = Client().get(f"/needs/qr/{community_x.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    url = f"https://dangjian.example.cn/needs/new/?community={community_x.pk}"
    assert url in page and community_x.name in page
    assert re.search(r"<svg[^>]*viewBox", page)
    assert "css/needs.css" in page  # the print rules (A4, no header or footer)


def test_the_qr_code_decodes_to_the_form_address(settings, community_x):
    """What the resident's phone reads is what segno was given: the module pattern matches a fresh code."""
    import segno

    settings.SITE_URL = "https://dangjian.example.cn"
    page = Client().get(f"/needs/qr/{community_x.pk}/").content.decode()
    expected = segno.make(f"https://dangjian.example.cn/needs/new/?community={community_x.pk}", error="m")
    modules = re.compile(r'<path class="qrline"[^>]* d="([^"]+)"')
    assert modules.search(page).group(1) == modules.search(expected.svg_inline(scale=1, border=4)).group(1)


@pytest.mark.parametrize("pk", [999999, 99999999999999999999])
def test_the_poster_of_an_unknown_community_is_404(db, pk):
    assert Client().get(f"/needs/qr/{pk}/").status_code == 404


# --- Personal data --------------------------------------------------------------------------------


PEOPLE = [
    # name, phone, address: distinctive, so that any appearance on a page is a leak
    ("欧阳春花", "13700011111", "迎泽区秘密巷一号"),
    ("司马秋月", "15800022222", "迎泽区隐私路二号"),
    ("诸葛冬雪", "18600033333", "迎泽区保密街三号"),
    ("上官夏雨", "19900044444", "迎泽区私宅院四号"),
    ("Wilhelmina Quux", "17700055555", "Flat 5, Nowhere Road"),
]


def test_no_public_page_shows_a_contact_name_phone_number_or_address(
    settings, community_x, category, unit_a, street_staff, liaison_a
):
    set_rate(settings, "need_submit", "100/hour")
    set_rate(settings, "need_track", "100/hour")
    resident = Client()
    needs = []
    for name, phone, address in PEOPLE:
        resident.post(NEW, form_data(community_x, category, contact_name=name, contact_phone=phone, address=address))
        needs.append(Need.objects.get(contact_phone=phone))
    # One stays submitted; one is dispatched; one accepted; one completed and showcased; one rated, showcased.
    _, dispatched, accepted, completed, rated = needs
    services.need_dispatch(need=dispatched, unit=unit_a, actor=street_staff)
    for need in (accepted, completed, rated):
        need = services.need_dispatch(need=need, unit=unit_a, actor=street_staff)
        need = services.need_accept(need=need, actor=liaison_a)
        if need.pk != accepted.pk:
            need = services.need_complete(need=need, actor=liaison_a, result="已完成维修")
            need = services.need_showcase(need=need, actor=street_staff)
            if need.pk == rated.pk:
                services.need_rate(need=need, rating=5, comment="很满意")

    responses = {
        "home": resident.get("/"),
        "showcase": resident.get(SHOWCASE),
        "form": resident.get(NEW, {"community": community_x.pk}),
        "submitted": resident.get(SUBMITTED),
        "track form": resident.get(TRACK),
        "poster": resident.get(f"/needs/qr/{community_x.pk}/"),
    }
    for number, need in enumerate(needs):
        responses[f"track need {number}"] = track(resident, need.tracking_code, need.contact_phone[-4:])
    last4 = completed.contact_phone[-4:]
    responses["rate"] = resident.post(RATE, {"code": completed.tracking_code, "phone_last4": last4, "rating": "4"})

    for label, response in responses.items():
        assert response.status_code == 200, label
        body = response.content.decode()
        for name, phone, address in PEOPLE:
            for secret in (name, phone, phone[:7], address):
                assert secret not in body, f"{secret!r} on {label}"
    # The tracking pages did show the needs (so the scan looked at real content).
    assert 'data-status="closed"' in responses["rate"].content.decode()
    assert completed.title in responses["showcase"].content.decode()


# --- Query counts ---------------------------------------------------------------------------------


def _queries(path: str) -> list[str]:
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_showcase_runs_no_query_for_its_first_pages_and_one_beyond_them(db):
    showcased(2)
    public_figures.refresh()  # the beat entry
    few = _queries(SHOWCASE)
    showcased(70)
    public_figures.refresh()
    # The count and the first five pages (61 rows: the last tells page 5 a sixth follows) are the
    # snapshot's: no COUNT, no query at all.
    assert few == [] and _queries(SHOWCASE) == [] and _queries(SHOWCASE + "?page=5") == []
    # Page 6 lies beyond the stored rows: 1. one page of needs joined with category, community, unit
    # (the count is still the snapshot's).
    deep = _queries(SHOWCASE + "?page=6")
    assert len(deep) == 1 and "JOIN" in deep[0] and "COUNT(" not in deep[0].upper(), deep


def test_the_showcase_pages_show_what_the_database_holds(db):
    needs = showcased(65)
    public_figures.refresh()
    newest_first = sorted(needs, key=lambda need: (need.showcased_at, need.pk), reverse=True)
    shown = []
    for number in range(1, 7):
        page = Client().get(SHOWCASE, {"page": number}).content.decode()
        shown += [int(pk) for pk in re.findall(r'class="panel showcase-item" data-need="(\d+)"', page)]
    assert shown == [need.pk for need in newest_first]


def test_the_home_page_costs_the_same_queries_for_few_and_many_rows(db):
    showcased(1)
    public_figures.refresh()
    few = _queries("/")
    for community in CommunityFactory.create_batch(3):
        showcased(5, community=community, unit=MemberUnitFactory(community=community))
    public_figures.refresh()
    many = _queries("/")
    # The figures, the charts and both panels (showcase, demonstration projects) read the snapshot the
    # beat keeps: no SQL.
    assert few == many == []


# --- The cost of one submission -------------------------------------------------------------------
# Before (measured on PostgreSQL + Redis, community without staff): the API 22 statements, the form 26,
# and 4 Redis commands for the rate limit plus one broker message per notification. Then 8 statements
# (two to find the staff), then 7 (the staff; the need, its history row, its first event and the
# notifications, one INSERT each, in a transaction). Now, on PostgreSQL, the same rows in ONE statement
# (`services._submit_in_one_statement`), which in production is its own transaction: no BEGIN and COMMIT
# round trips. Elsewhere (SQLite) the ORM's INSERTs in a transaction. One rate-limit command, one mark for
# the public figures and one broker message.

SUBMIT_STATEMENTS = {
    "postgresql": [
        "SELECT members_communitystaff",  # the community's staff, with their accounts: before the write
        "SAVEPOINT",  # only inside a transaction (the test's): a clash of tracking codes stays retryable
        "WITH",  # the need, its history row, its first timeline event, the staff's and the resident's notes
        "RELEASE",  # in production none of the three: the one statement commits on its own
    ],
    "sqlite": [
        "SELECT members_communitystaff",  # the community's staff, with their accounts: before the transaction
        "SAVEPOINT",  # need_submit's transaction (inside the test's own; BEGIN in production)
        "INSERT demands_need",
        "INSERT demands_historicalneed",
        "INSERT demands_needevent",  # the first timeline event
        "INSERT alliance_notification",  # the staff's and the resident's, in one statement
        "RELEASE",  # COMMIT in production
    ],
}


def _statement(sql: str) -> str:
    words = sql.replace('"', "").split()
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    if words[0] == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}"
    return words[0]


@pytest.fixture
def redis_commands(monkeypatch) -> list[bytes]:
    """Every command this process sends to Redis (the cache's and the broker's), first word only."""
    from redis.connection import AbstractConnection

    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def record(self, command, check_health=True):
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        packed = packed.encode() if isinstance(packed, str) else packed
        sent.append(packed.split(b"\r\n")[2])
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", record)
    return sent


@pytest.mark.parametrize("path", ["/api/v1/public/needs/", NEW])
def test_a_submission_costs_the_writes_it_must_make(community_x, community_x_staff, category, path):
    client = Client()
    data = form_data(community_x, category)
    # The first one loads the choices lists: the API answers 201, the form redirects to its confirmation.
    assert client.post(path, data).status_code == (201 if path != NEW else 302)
    earlier = list(Notification.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        response = client.post(path, {**data, "title": "第二个"})
    assert response.status_code == (201 if path != NEW else 302)
    assert [_statement(q["sql"]) for q in captured] == SUBMIT_STATEMENTS[connection.vendor]
    need = Need.objects.get(title="第二个")
    assert need.history.count() == 1 and need.events.count() == 1
    told = Notification.objects.exclude(pk__in=earlier)
    assert sorted(told.values_list("kind", "recipient__username")) == [
        ("need_resident:submitted", None),
        ("need_submitted", "community_x_staff"),
    ]


def test_a_submission_tells_the_communitys_active_staff_or_else_the_streets(
    community_x, community_x_staff, community_y, category, street_staff, root
):
    idle = UserFactory(username="community_x_idle")
    member_services.community_staff_add(user=idle, community=community_x, actor=root)
    idle.is_active = False
    idle.save()
    for community in (community_x, community_y):
        assert Client().post(NEW, form_data(community, category)).status_code == 302
    told = {
        community: sorted(
            Notification.objects.filter(kind="need_submitted", subject__contains=community.name).values_list(
                "recipient__username", flat=True
            )
        )
        for community in (community_x, community_y)
    }
    # community_y has no staff: the street's staff and the superuser, each once.
    assert told == {community_x: ["community_x_staff"], community_y: ["root", "street_staff"]}


@pytest.mark.skipif(not settings.REDIS_URL, reason="counts Redis commands: PostgreSQL + Redis only")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/public/needs/", NEW])
def test_a_submission_costs_three_redis_commands(community_x, community_x_staff, category, path, redis_commands):
    from alliance.celery import app as celery_app

    celery_app.conf.task_always_eager = False  # the broker message is one of the three
    try:
        client = Client()
        data = form_data(community_x, category)
        client.post(path, data)  # opens the connections
        redis_commands.clear()
        response = client.post(path, {**data, "title": "第二个"})
        # 1. the rate limit (count this need, read the invalid attempts: one script); after commit
        # 2. one broker message delivering both notifications and 3. the public figures' mark.
        assert response.status_code == (201 if path != NEW else 302)
        assert redis_commands == [b"EVAL", b"LPUSH", b"SET"]
    finally:
        celery_app.control.purge()


# --- The one statement (PostgreSQL) writes what the ORM writes ------------------------------------

NOT_COMPARED = {"id", "need_id", "history_id", "tracking_code", "submitted_at", "updated_at", "waiting_since"}
NOT_COMPARED |= {"history_date", "at", "created_at"}


def _written(need: Need) -> dict:
    """Every column of the rows a submission wrote, but ids, times and the tracking code (random)."""

    def plain(rows) -> list[dict]:
        return [{k: v for k, v in row.items() if k not in NOT_COMPARED} for row in rows]

    code = services.format_tracking_code(need.tracking_code)
    link = reverse("admin:demands_need_change", args=[need.pk])
    notes = Notification.objects.filter(Q(url=link) | Q(subject__contains=code)).order_by("kind").values()
    return {
        "need": plain(Need.objects.filter(pk=need.pk).values()),
        "history": plain(need.history.values()),
        "events": plain(NeedEvent.objects.filter(need=need).values()),
        "notes": [
            {
                **row,
                "subject": row["subject"].replace(code, "<code>"),
                "body": row["body"].replace(code, "<code>"),
                "url": row["url"].replace(str(need.pk), "<id>"),
            }
            for row in plain(notes)
        ],
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement write is PostgreSQL's")
@pytest.mark.parametrize("by_staff", [False, True])
def test_the_one_statement_writes_the_rows_the_orm_writes(
    community_x, community_x_staff, category, by_staff, monkeypatch
):
    actor = community_x_staff if by_staff else None
    channel = Need.Channel.PHONE if by_staff else Need.Channel.API

    def submit(title: str) -> Need:
        data = {k: v for k, v in form_data(community_x, category, title=title).items() if k in services.SUBMIT_FIELDS}
        data.update(community=community_x, category=category)  # as the form and the serializer give them
        return services.need_submit(data=data, channel=channel, actor=actor)

    fast = submit("一条语句")
    monkeypatch.setattr(services, "_submit_in_one_statement", lambda *args, **kwargs: None)
    orm = submit("一条语句")  # the same title: the rows must match column for column
    assert fast.pk != orm.pk and not fast._state.adding
    # What the database computes comes back on the instance, as from save().
    assert fast.waiting_since == Need.objects.get(pk=fast.pk).waiting_since == fast.submitted_at
    written = _written(fast)
    assert written == _written(orm)
    # What the comparison covers: the need with who entered it, a history row naming the author, the
    # first event, the staff's note linking to the need and the resident's with the tracking code.
    assert written["need"][0]["created_by_id"] == (community_x_staff.pk if by_staff else None)
    assert [(h["history_type"], h["history_user_id"], h["history_change_reason"]) for h in written["history"]] == [
        ("+", community_x_staff.pk if by_staff else None, "submitted")
    ]
    assert [(e["to_status"], e["actor_id"]) for e in written["events"]] == [
        ("submitted", community_x_staff.pk if by_staff else None)
    ]
    assert sorted((n["kind"], n["url"], n["status"]) for n in written["notes"]) == [
        ("need_resident:submitted", reverse("needs:track"), "pending"),
        ("need_submitted", reverse("admin:demands_need_change", args=[0]).replace("0", "<id>"), "pending"),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement write is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_submission_is_one_statement_that_commits(
    community_x, community_x_staff, category, monkeypatch
):
    """As in production (no test transaction around it): one SELECT, then the one write, which is its own
    transaction — no BEGIN, SAVEPOINT or COMMIT — and whose rows are there for every other connection."""
    import psycopg

    data = {k: v for k, v in form_data(community_x, category).items() if k in services.SUBMIT_FIELDS}
    data.update(community=community_x, category=category)
    services.need_submit(data=data, channel=Need.Channel.API)  # opens the connection, composes the statement
    commands: list[str] = []
    original = psycopg.Connection._exec_command

    def record(self, command, *args, **kwargs):
        commands.append(bytes(command).decode() if not isinstance(command, str) else command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "_exec_command", record)
    # What runs after the commit (here at once: the write was its own transaction), recorded rather than
    # run: the test's Celery delivers in-process, with statements of its own.
    after: list[str] = []
    monkeypatch.setattr(services, "queue_delivery", lambda rows: after.append(sorted(r.kind for r in rows)))
    monkeypatch.setattr(services.public_figures, "changed", lambda: after.append("figures"))
    with CaptureQueriesContext(connection) as captured:
        need = services.need_submit(data={**data, "title": "第二个"}, channel=Need.Channel.API)
    assert [_statement(q["sql"]) for q in captured] == ["SELECT members_communitystaff", "WITH"]
    assert commands == []  # no BEGIN / COMMIT of psycopg's own
    assert after == [["need_resident:submitted", "need_submitted"], "figures"]
    with psycopg.connect(**connection.get_connection_params()) as other:
        seen = other.execute(
            "SELECT (SELECT count(*) FROM demands_historicalneed WHERE id = %(id)s),"
            " (SELECT count(*) FROM demands_needevent WHERE need_id = %(id)s),"
            " (SELECT count(*) FROM alliance_notification WHERE url = %(url)s)",
            {"id": need.pk, "url": reverse("admin:demands_need_change", args=[need.pk])},
        ).fetchone()
    assert seen == (1, 1, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement write is PostgreSQL's")
def test_a_clash_of_tracking_codes_is_tried_again(community_x, category, monkeypatch):
    taken = NeedFactory(community=community_x, category=category).tracking_code
    codes = iter([taken, "ABCDEFGHJKMNP"])
    monkeypatch.setattr(services, "new_tracking_code", lambda: next(codes))
    data = {k: v for k, v in form_data(community_x, category).items() if k in services.SUBMIT_FIELDS}
    data.update(community=community_x, category=category)
    need = services.need_submit(data=data, channel=Need.Channel.API)
    assert need.tracking_code == "ABCDEFGHJKMNP"
    assert Need.objects.get(pk=need.pk).events.count() == 1
    assert Notification.objects.filter(subject__contains="ABCD-EFGH-JKMNP").count() == 1

"""The public side shows the alliance at work (issue 15): `/activities/` with photos, `/resources/`,
`/units/` with the council roster, `/notices/` with one notice's page and the Atom feed. Each lists exactly
what it should for the street asked for, filters by GET, says what it cannot take (400, never 500), reads a
constant number of queries (and none while its cache is warm), and shows no person's phone or a name next
to contact data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from alliance import public_figures
from demands.models import Resource
from members.models import CouncilSeat, CouncilTerm, MemberUnit, Notice, NoticeAttachment
from projects import services as project_services
from projects.models import ActivityPhoto, ServiceProject

from ..conftest import client_for
from ..demands.factories import ResourceFactory
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, SectorFactory, StreetFactory
from ..images import photo_bytes
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory

PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def town(db, community_x, community_y, unit_a, unit_b, liaison_a, root):
    """柳巷街道 (community_x, community_y) with a second street beside it: units active and applied, their
    resources, projects with activities and photos, a council, and notices in and out of their window."""
    street = community_x.street
    other_street = StreetFactory(name="桃园街道")
    elsewhere = CommunityFactory(street=other_street, name="桃园一社区")
    health, care = CategoryFactory(code="health", name="医疗健康"), CategoryFactory(code="care", name="关心关爱")
    sector = SectorFactory(street=street, name="企业分会")
    MemberUnit.objects.filter(pk=unit_a.pk).update(sector=sector, liaison_name="李秀英", secretary_name="赵书记")
    unit_a.refresh_from_db()
    applied = MemberUnitFactory(name="申请中的公司", community=community_x, status=MemberUnit.Status.APPLIED)
    far = MemberUnitFactory(name="桃园医院", community=elsewhere, unit_type=MemberUnit.UnitType.HOSPITAL)

    resources = {
        "repair": ResourceFactory(unit=unit_a, category=care, title="水电维修", kind=Resource.Kind.SERVICE),
        "clinic": ResourceFactory(
            unit=unit_b, category=health, title="义诊服务", kind=Resource.Kind.TALENT, is_free=False
        ),
        "withdrawn": ResourceFactory(
            unit=unit_a, category=care, title="已撤回的资源", status=Resource.Status.WITHDRAWN
        ),
        "applied": ResourceFactory(unit=applied, category=care, title="未入盟单位的资源"),
        "far": ResourceFactory(unit=far, category=health, title="桃园街道的资源"),
    }
    community_x.address = "桥头街12号社区服务站"
    community_x.save()

    clinic = ProjectFactory(street=street, community=community_x, category=health, title="健康服务在身边")
    care_project = ProjectFactory(street=street, community=community_y, category=care, title="与爱童行")
    draft = ProjectFactory(street=street, community=community_x, category=care, status=ServiceProject.Status.DRAFT)
    far_project = ProjectFactory(street=other_street, community=elsewhere, category=health, title="桃园项目")
    claim = ClaimFactory(project=clinic, unit=unit_a, claimed_by=liaison_a)
    # Recorded through the service, as the portal does: the photo is checked and gets its thumbnail.
    first = project_services.activity_record(
        claim=claim,
        actor=liaison_a,
        data={"date": date(2026, 5, 20), "title": "五月义诊进社区", "place": "桥头街社区活动室", "beneficiaries": 80},
        photos=[SimpleUploadedFile("现场.jpg", photo_bytes((1600, 1200)), content_type="image/jpeg")],
    )
    activities = {
        "may": first,
        "june": ActivityFactory(
            claim=ClaimFactory(project=care_project, unit=unit_b), date=date(2026, 6, 3), title="六月关爱儿童"
        ),
        "draft": ActivityFactory(claim=ClaimFactory(project=draft, unit=unit_b), title="草稿项目的活动"),
        "far": ActivityFactory(claim=ClaimFactory(project=far_project, unit=far), title="桃园街道的活动"),
    }

    term = CouncilTerm.objects.create(street=street, number=1, start=date(2025, 1, 1), end=date(2027, 12, 31))
    CouncilSeat.objects.create(
        street=street,
        term=term,
        role=CouncilSeat.Role.PRESIDENT,
        unit=unit_a,
        holder_name="张会长",
        term_start=term.start,
        term_end=term.end,
    )

    now = timezone.now()
    notices = {
        "old": Notice.objects.create(
            street=street,
            title="关于开展垃圾分类宣传的通知",
            body="各社区：\n请于周六前完成。",
            publish_from=now - timedelta(days=9),
        ),
        "new": Notice.objects.create(
            street=street,
            title="冬季供暖服务公告",
            body="<script>alert(1)</script>\n第二行",
            publish_from=now - timedelta(days=1),
            publish_until=now + timedelta(days=30),
        ),
        "future": Notice.objects.create(
            street=street, title="尚未发布的通知", body="草稿", publish_from=now + timedelta(days=2)
        ),
        "expired": Notice.objects.create(
            street=street,
            title="已过期的通知",
            body="过期",
            publish_from=now - timedelta(days=30),
            publish_until=now - timedelta(days=1),
        ),
        "far": Notice.objects.create(
            street=other_street, title="桃园街道的通知", body="桃园", publish_from=now - timedelta(days=1)
        ),
    }
    attachment = NoticeAttachment(notice=notices["new"], title="供暖时间表")
    attachment.file.save("时间表.pdf", SimpleUploadedFile("时间表.pdf", b"%PDF-1.4 heating"), save=True)
    expired_attachment = NoticeAttachment(notice=notices["expired"], title="旧附件")
    expired_attachment.file.save("旧.pdf", SimpleUploadedFile("旧.pdf", b"%PDF-1.4 old"), save=True)
    public_figures.refresh()
    return {
        "street": street,
        "other_street": other_street,
        "health": health,
        "care": care,
        "sector": sector,
        "resources": resources,
        "activities": activities,
        "notices": notices,
        "attachment": attachment,
        "expired_attachment": expired_attachment,
        "units": {"a": unit_a, "b": unit_b, "applied": applied, "far": far},
    }


def get(path: str, **params) -> tuple[int, str]:
    response = Client().get(path, params)
    return response.status_code, response.content.decode()


def street_of(town) -> dict:
    return {"street": town["street"].pk}


def _cold() -> None:
    """What a visit finds after the cache expired: nothing cached, in the cache or in this process."""
    cache.clear()
    public_figures.forget()


# --- /activities/ ------------------------------------------------------------------------------------


def test_activities_show_the_streets_public_activities_with_thumbnails_and_no_person(town):
    status, page = get("/activities/", **street_of(town))
    assert status == 200
    assert "五月义诊进社区" in page and "六月关爱儿童" in page
    assert "草稿项目的活动" not in page and "桃园街道的活动" not in page
    # Newest first; the unit, community and category are named, never who recorded it.
    assert page.index("六月关爱儿童") < page.index("五月义诊进社区")
    assert "山西饭店" in page and "桥头街社区" in page and "医疗健康" in page
    assert "王芳" not in page and "liaison_a" not in page
    photo = ActivityPhoto.objects.get(activity=town["activities"]["may"])
    assert f'src="/media/{photo.thumbnail.name}"' in page
    with Image.open(photo.thumbnail.path) as thumb:
        assert max(thumb.size) == 480
    with Image.open(photo.image.path) as full:
        assert max(full.size) == 1600


def test_activity_filters_by_community_category_and_month(town):
    street = street_of(town)
    community_y = town["units"]["b"].community
    assert "五月义诊进社区" not in get("/activities/", **street, community=community_y.pk)[1]
    assert "六月关爱儿童" in get("/activities/", **street, community=community_y.pk)[1]
    by_category = get("/activities/", **street, category=town["health"].pk)[1]
    assert "五月义诊进社区" in by_category and "六月关爱儿童" not in by_category
    in_june = get("/activities/", **street, month="2026-06")[1]
    assert "六月关爱儿童" in in_june and "五月义诊进社区" not in in_june


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"month": "abc"}, "“abc” is not a month"),
        ({"month": "2026-13"}, "“2026-13” is not a month"),
        ({"community": "x"}, "“x” is not one of the communities"),
        ({"community": "99999999999999999999999"}, "is not one of the communities"),
        ({"category": "-1"}, "“-1” is not one of the categories"),
    ],
)
def test_activity_filters_it_cannot_take_are_said_and_ignored(town, settings, params, said):
    settings.LANGUAGE_CODE = "en"
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/activities/", {**street_of(town), **params})
    page = response.content.decode()
    assert response.status_code == 400
    assert said in page.replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert "五月义诊进社区" in page and "六月关爱儿童" in page


def test_a_page_number_that_is_no_number_shows_the_first_page(town):
    status, page = get("/activities/", **street_of(town), page="zz")
    assert status == 200 and "五月义诊进社区" in page


def test_activities_read_a_constant_number_of_queries_and_none_while_cached(town, django_assert_num_queries):
    _cold()
    # 1 the snapshot's street list, 2 the street's communities, 3 the categories, 4 the ids of the street's
    # public claims, 5 the page of activities with unit, project, category and community joined, 6 their
    # photos.
    with django_assert_num_queries(6):
        assert get("/activities/", **street_of(town))[0] == 200
    with django_assert_num_queries(0):
        assert get("/activities/", **street_of(town))[0] == 200
    for n in range(15):
        ActivityFactory(claim=town["activities"]["may"].claim, title=f"更多活动{n}")
    _cold()
    with django_assert_num_queries(6):
        status, page = get("/activities/", **street_of(town))
    assert status == 200 and 'rel="next"' in page


def test_the_photos_of_public_activities_are_public_and_others_are_not(town, tmp_path):
    from projects.models import ActivityPhoto as Photo

    shown = Photo.objects.get(activity=town["activities"]["may"])
    assert Client().get(f"/media/{shown.thumbnail.name}").status_code == 200
    hidden = Photo(activity=town["activities"]["draft"])
    hidden.image.save("草稿.png", SimpleUploadedFile("草稿.png", photo_bytes(fmt="PNG")), save=True)
    answer = Client().get(f"/media/{hidden.image.name}")
    assert answer.status_code == 302 and answer["Location"].startswith("/portal/login/")


# --- /resources/ -------------------------------------------------------------------------------------


def test_resources_list_what_active_units_offer_and_how_to_ask_without_a_liaison(town):
    status, page = get("/resources/", **street_of(town))
    assert status == 200
    assert "水电维修" in page and "义诊服务" in page
    for hidden in ("已撤回的资源", "未入盟单位的资源", "桃园街道的资源"):
        assert hidden not in page
    # How to ask: through the community, at its office; never the liaison.
    assert "桥头街12号社区服务站" in page
    assert "李秀英" not in page and town["units"]["a"].liaison_phone not in page
    assert not PHONE.search(page)


def test_the_resource_list_leads_to_the_shared_venues_and_their_free_hours(town):
    page = get("/resources/", **street_of(town))[1]
    assert '<a class="button small" href="/venues/" data-venues>共享场地</a>' in page
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/resources/", street_of(town)).content.decode()
    assert 'href="/venues/" data-venues>Shared venues</a>' in english


def test_resource_filters_by_kind_category_and_community(town):
    street = street_of(town)
    talent = get("/resources/", **street, kind="talent")[1]
    assert "义诊服务" in talent and "水电维修" not in talent
    care = get("/resources/", **street, category=town["care"].pk)[1]
    assert "水电维修" in care and "义诊服务" not in care
    x = get("/resources/", **street, community=town["units"]["a"].community_id)[1]
    assert "水电维修" in x and "义诊服务" not in x
    status, page = get("/resources/", **street, kind="spaceship", community="abc")
    assert status == 400 and "水电维修" in page and "义诊服务" in page


def test_resources_read_a_constant_number_of_queries(town, django_assert_num_queries):
    _cold()
    # 1 the snapshot's street list, 2 the street's communities, 3 the categories, 4 the page of resources
    # with unit, community and category joined.
    with django_assert_num_queries(4):
        assert get("/resources/", **street_of(town))[0] == 200
    for _n in range(25):
        ResourceFactory(unit=town["units"]["a"], category=town["care"])
    _cold()
    with django_assert_num_queries(4):
        status, page = get("/resources/", **street_of(town))
    assert status == 200 and 'rel="next"' in page
    with django_assert_num_queries(0):
        assert get("/resources/", **street_of(town))[0] == 200


# --- /units/ -----------------------------------------------------------------------------------------


def test_units_list_approved_units_by_type_and_sector_with_the_council(town):
    status, page = get("/units/", **street_of(town))
    assert status == 200
    assert "山西饭店" in page and "太原市第五中学" in page
    assert "申请中的公司" not in page and "桃园医院" not in page
    assert "企业分会" in page and "张会长" in page  # the roster of /council/, unit, role and holder
    assert "李秀英" not in page and "赵书记" not in page and not PHONE.search(page)
    by_sector = get("/units/", **street_of(town), sector=town["sector"].pk)[1]
    assert "山西饭店" in by_sector.split('<table class="table units">')[1]
    assert "太原市第五中学" not in by_sector.split('<table class="table units">')[1]
    assert get("/units/", **street_of(town), type="hospital")[1].count('data-unit="') == 0
    assert get("/units/", **street_of(town), type="nonsense")[0] == 400


def test_units_read_a_constant_number_of_queries(town, django_assert_num_queries):
    _cold()
    # 1 the snapshot's street list, 2 the current term, 3 its seats with their units, 4 the sector
    # branches, 5 the page of units with sector and community joined.
    with django_assert_num_queries(5):
        assert get("/units/", **street_of(town))[0] == 200
    for _n in range(60):
        MemberUnitFactory(community=town["units"]["a"].community)
    _cold()
    with django_assert_num_queries(5):
        status, page = get("/units/", **street_of(town))
    assert status == 200 and 'rel="next"' in page
    with django_assert_num_queries(0):
        assert get("/units/", **street_of(town))[0] == 200


# --- /notices/ and the feed ----------------------------------------------------------------------------


def test_notices_list_the_published_ones_newest_first(town):
    status, page = get("/notices/", **street_of(town))
    assert status == 200
    assert page.index("冬季供暖服务公告") < page.index("关于开展垃圾分类宣传的通知")
    for hidden in ("尚未发布的通知", "已过期的通知", "桃园街道的通知"):
        assert hidden not in page
    assert "<script>alert(1)</script>" not in page


def test_a_notice_page_escapes_its_text_keeps_its_lines_and_links_its_attachment(town):
    notice = town["notices"]["new"]
    status, page = get(f"/notices/{notice.pk}/")
    assert status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>第二行" in page
    assert f'href="/media/{town["attachment"].file.name}"' in page
    assert Client().get(f"/media/{town['attachment'].file.name}").status_code == 200


@pytest.mark.parametrize("which", ["future", "expired"])
def test_a_notice_outside_its_window_is_not_found_nor_its_attachments(town, which):
    assert get(f"/notices/{town['notices'][which].pk}/")[0] == 404
    assert get("/notices/99999999999999999999999/")[0] == 404  # past any id column: not found, not a 500
    answer = Client().get(f"/media/{town['expired_attachment'].file.name}")
    assert answer.status_code == 302


def test_the_atom_feed_holds_the_published_notices_of_the_street(town):
    response = Client().get("/notices/feed/", street_of(town))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    titles = [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]
    assert titles == ["冬季供暖服务公告", "关于开展垃圾分类宣传的通知"]
    links = [entry.find(f"{ATOM}link").get("href") for entry in feed.findall(f"{ATOM}entry")]
    assert links[0].endswith(f"/notices/{town['notices']['new'].pk}/")
    other = ET.fromstring(Client().get("/notices/feed/", {"street": town["other_street"].pk}).content)
    assert [e.find(f"{ATOM}title").text for e in other.findall(f"{ATOM}entry")] == ["桃园街道的通知"]
    assert Client().get("/notices/feed/", {"street": "abc"}).status_code == 404
    assert Client().get("/notices/feed/").status_code == 404  # two streets: the feed must name one


def test_notices_read_a_constant_number_of_queries(town, django_assert_num_queries):
    _cold()
    # 1 the snapshot's street list, 2 the page of notices, 3 their attachments.
    with django_assert_num_queries(3):
        assert get("/notices/", **street_of(town))[0] == 200
    now = timezone.now()
    for n in range(25):
        Notice.objects.create(
            street=town["street"], title=f"通知{n}", body="正文", publish_from=now - timedelta(hours=n + 1)
        )
    _cold()
    with django_assert_num_queries(3):
        status, page = get("/notices/", **street_of(town))
    assert status == 200 and 'rel="next"' in page
    with django_assert_num_queries(0):
        get("/notices/", **street_of(town))


# --- Every page: the street, and no personal data --------------------------------------------------------

PAGES = ["/activities/", "/resources/", "/units/", "/notices/"]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_asks_for_a_street_among_several_and_refuses_one_it_does_not_know(town, path):
    status, page = get(path)
    assert status == 200 and 'class="panel street-chooser"' in page
    assert f'href="{path}?street={town["street"].pk}"' in page
    assert get(path, street="abc")[0] == 400
    assert get(path, street="987654")[0] == 400
    status, page = get(path, street=town["other_street"].pk)
    assert status == 200 and "桃园" in page


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_a_phone_or_a_contact_person(town, path):
    # Seeded contact data that must never reach the public side.
    MemberUnit.objects.update(liaison_phone="13912345678", liaison_name="钱联络", secretary_name="孙书记")
    _cold()
    status, page = get(path, **street_of(town))
    assert status == 200
    assert not PHONE.search(page)
    for name in ("钱联络", "孙书记", "王芳", "liaison_a", "李秀英"):
        assert name not in page


def test_the_home_links_to_every_public_section(town):
    status, page = get("/", **street_of(town))
    assert status == 200
    street = town["street"].pk
    for path in PAGES:
        assert f'href="{path}?street={street}"' in page


# --- The admin: street staff publish for their own street ---------------------------------------------


def test_street_staff_publish_a_notice_for_their_street_only(street_staff, community_x):
    mine = community_x.street  # the street the street_staff fixture assigns (柳巷街道)
    other = StreetFactory(name="桃园街道")
    client = client_for(street_staff)
    form = {
        "street": mine.pk,
        "title": "停水通知",
        "body": "明日停水。",
        "publish_from_0": "2026-11-01",
        "publish_from_1": "08:00:00",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/members/notice/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notice.objects.get(title="停水通知")
    assert notice.street == mine and notice.created_by == street_staff
    assert notice.history.count() == 1

    refused = client.post("/admin/members/notice/add/", {**form, "street": other.pk, "title": "越权通知"})
    assert refused.status_code == 200 and not Notice.objects.filter(title="越权通知").exists()

    theirs = Notice.objects.create(street=other, title="桃园的通知", body="x", publish_from=timezone.now())
    assert client.get(f"/admin/members/notice/{theirs.pk}/change/").status_code == 404
    listed = client.get("/admin/members/notice/").content.decode()
    assert "停水通知" in listed and "桃园的通知" not in listed


def test_a_notices_attachment_passes_the_upload_check_in_the_admin(street_staff, community_x):
    client = client_for(street_staff)
    form = {
        "street": community_x.street.pk,
        "title": "防汛通知",
        "body": "请做好防汛准备。",
        "publish_from_0": "2026-11-01",
        "publish_from_1": "08:00:00",
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "0",
        "attachments-0-title": "值班表",
    }
    refused = client.post(
        "/admin/members/notice/add/",
        {**form, "attachments-0-file": SimpleUploadedFile("值班表.pdf", b"MZ\x90\x00 not a pdf")},
    )
    assert refused.status_code == 200
    assert "不是允许的文件类型" in refused.content.decode()
    assert not Notice.objects.filter(title="防汛通知").exists()
    saved = client.post(
        "/admin/members/notice/add/",
        {**form, "attachments-0-file": SimpleUploadedFile("值班表.pdf", b"%PDF-1.4 duty roster")},
    )
    assert saved.status_code == 302
    attachment = NoticeAttachment.objects.get(notice__title="防汛通知")
    assert attachment.file.name.startswith(f"notices/{attachment.notice_id}/") and attachment.file.name.endswith(".pdf")


def test_the_pages_speak_chinese_by_default_and_english_when_asked(town):
    assert "通知公告" in get("/notices/", **street_of(town))[1]
    assert "活动风采" in get("/activities/", **street_of(town))[1]
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/notices/", street_of(town)).content.decode()
    assert "Notices" in english and "通知公告" not in english


class _VisibleText(HTMLParser):
    """The text a visitor reads: text nodes outside scripts, styles and the language chooser's options
    (each language is named in itself there)."""

    SKIP = {"script", "style", "option"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data) -> None:
        if not self.depth:
            self.parts.append(data)


# Words that are Chinese readers' words too: the feed format's name.
ALLOWED_LATIN = {"Atom"}


@pytest.mark.parametrize("path", [*PAGES, "notice", "chooser"])
def test_every_string_of_the_public_pages_is_translated_into_chinese(town, path):
    """An untranslated msgid shows as English on the Chinese page: no Latin word may appear in its text
    (the seeded data is all Chinese)."""
    if path == "notice":
        url, params = f"/notices/{town['notices']['new'].pk}/", {}
    elif path == "chooser":
        url, params = "/activities/", {}
    else:
        url, params = path, street_of(town)
    Notice.objects.filter(pk=town["notices"]["new"].pk).update(body="供暖正文")  # data, not the platform's words
    page = Client().get(url, params).content.decode()
    parser = _VisibleText()
    parser.feed(page)
    words = set(re.findall(r"[A-Za-z]{2,}", " ".join(parser.parts))) - ALLOWED_LATIN
    assert not words, f"{url}: untranslated words {sorted(words)}"


def test_a_mobile_number_a_unit_typed_into_its_offer_is_masked_on_the_public_pages(town):
    """What a unit writes about its offer reaches residents as written — but a mobile number in it (a
    liaison's own, typed into the description) is masked, whatever its spacing; a landline or a longer
    number stays."""
    from ..demands.factories import VenueFactory

    Resource.objects.filter(pk=town["resources"]["repair"].pk).update(
        description="请联系王经理 13912345678 或 139-1234-5679，座机 0351-4040123，单号 202613912345678900",
        availability="周六上午，电话139 1234 5670",
    )
    VenueFactory(resource__unit=town["units"]["a"], resource__description="预约找李老师15800001111")
    _cold()
    resources = get("/resources/", **street_of(town))[1]
    assert "王经理 139****5678 或 139****5679，座机 0351-4040123，单号 202613912345678900" in resources
    assert "周六上午，电话139****5670" in resources
    venues = get("/venues/", **street_of(town))[1]
    assert "预约找李老师158****1111" in venues
    for page in (resources, venues):
        assert not PHONE.search(page)
        assert "139-1234-5679" not in page and "139 1234 5670" not in page and "15800001111" not in page

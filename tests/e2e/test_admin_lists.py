"""The six change lists a street office works from (needs, units, members, claims, meetings, service logs)
fit a 1366×768 laptop with unfold's sidebar open and a 1024×768 tablet with it collapsed, in a real
browser: no horizontal scroll of the page nor of the table's own box, and a long title is cut, its full
text in the cell's `title` attribute (shown on hover).

Elements are found by ids, classes and attributes, never by interface text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, MemberUnitFactory, SectorFactory
from ..meetings.factories import InvitationFactory, MeetingFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

PASSWORD = "pw-for-tests-2026"  # UserFactory's

# 80 characters of Chinese, as long as the titles street offices really type (and longer than any cut).
LONG = "桥头街社区三单元楼道照明灯长期损坏夜间老人上下楼梯极不方便请求尽快派电工上门维修并检查整栋楼线路安全隐患"
LONG = (LONG * 2)[:80]
MEMBER_NAME = "阿卜杜热合曼·买买提艾力·吐尔逊阿依古丽"
LONG_NAME = "太原市迎泽区桥头街道柳巷社区党群服务中心联合第五中学新时代文明实践志愿服务总队"


LISTS = [
    "demands/need",
    "members/memberunit",
    "volunteers/partymember",
    "volunteers/servicelog",
    "projects/projectclaim",
    "meetings/jointmeeting",
]


def long(prefix: str) -> str:
    return (prefix + LONG)[:80]


@pytest.fixture
def live(transactional_db, live_server) -> str:
    cache.clear()  # the live server shares this process's rate-limit counts
    return live_server.url


@pytest.fixture
def rows(community_x, street_staff) -> dict[str, str]:
    """One row with long text in each list; the full text each list's first long column must carry."""
    category = CategoryFactory(code="repairs", name="水电维修")
    sector = SectorFactory(name="非公有制经济组织和社会组织联合分会")
    unit = MemberUnitFactory(name=LONG_NAME, community=community_x, sector=sector)
    NeedFactory(title=long("需求："), community=community_x, category=category, unit=unit)
    member = PartyMemberFactory(name=MEMBER_NAME, work_unit=unit, residence_community=community_x)
    ServiceLogFactory(member=member, description=long("服务："))
    project = ProjectFactory(title=long("项目："), community=community_x, category=category)
    ClaimFactory(project=project, unit=unit)
    meeting = MeetingFactory(title=long("会议："), community=community_x, organiser=street_staff)
    InvitationFactory(meeting=meeting, unit=unit)
    return {
        "demands/need": long("需求："),
        "members/memberunit": LONG_NAME,
        "volunteers/partymember": MEMBER_NAME,
        "volunteers/servicelog": long("服务："),
        "projects/projectclaim": long("项目："),
        "meetings/jointmeeting": long("会议："),
    }


def signed_in_page(browser: Browser, live: str, username: str, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live}/admin/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.locator("input[name=password]")).to_have_count(0)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def laptop(browser: Browser, live: str, street_staff) -> Iterator[Page]:
    yield from signed_in_page(browser, live, street_staff.username, 1366, 768)


@pytest.fixture
def tablet(browser: Browser, live: str, street_staff) -> Iterator[Page]:
    yield from signed_in_page(browser, live, street_staff.username, 1024, 768)


def assert_fits(page: Page, width: int) -> None:
    """Neither the page nor the table's own scrolling box (unfold's, the table's nearest ancestor that
    scrolls sideways) is wider than the window."""
    sizes = page.evaluate(
        """() => {
            let results = document.querySelector('#result_list').parentElement;
            while (!['auto', 'scroll'].includes(getComputedStyle(results).overflowX)) {
                results = results.parentElement;
            }
            return {
                page: document.documentElement.scrollWidth,
                inner: window.innerWidth,
                table: results.scrollWidth,
                box: results.clientWidth,
                columns: [...document.querySelectorAll('#result_list thead th')].map(
                    (th) => `${th.className}:${Math.round(th.getBoundingClientRect().width)}`
                ).join(' '),
            };
        }"""
    )
    assert sizes["inner"] == width
    assert sizes["page"] <= width, sizes
    assert sizes["table"] <= sizes["box"], str(sizes)


@pytest.mark.parametrize("model", LISTS)
def test_the_change_list_fits_a_1366_laptop_and_cuts_long_text(laptop: Page, live: str, rows, model: str) -> None:
    response = laptop.goto(f"{live}/admin/{model}/")
    assert response is not None and response.status == 200
    # A laptop opens with unfold's sidebar beside the list.
    expect(laptop.locator("#nav-sidebar")).to_be_visible()
    assert_list_fits_and_cuts(laptop, rows[model], 1366)


@pytest.mark.parametrize("model", LISTS)
def test_the_change_list_fits_a_1024_tablet_with_the_sidebar_collapsed(
    tablet: Page, live: str, rows, model: str
) -> None:
    response = tablet.goto(f"{live}/admin/{model}/")
    assert response is not None and response.status == 200
    # Below unfold's `xl` width the sidebar is folded away; its button in the header opens it over the page.
    expect(tablet.locator("#nav-sidebar")).to_be_hidden()
    assert_list_fits_and_cuts(tablet, rows[model], 1024)
    tablet.locator("#header-inner .material-symbols-outlined.xl\\:hidden\\!").click()
    expect(tablet.locator("#nav-sidebar")).to_be_visible()
    expect(tablet.locator(f"#nav-sidebar a[href='/admin/{model}/']")).to_be_visible()


def assert_list_fits_and_cuts(page: Page, full: str, width: int) -> None:
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    # The search box is beside the table and the filters open from their button (unfold's sheet).
    expect(page.locator("#changelist-search input[name=q]")).to_be_visible()
    expect(page.locator("#changelist-filter")).to_be_hidden()
    page.locator("#changelist [x-on\\:click='filterOpen = true']").click()
    expect(page.locator("#changelist-filter")).to_be_visible()
    expect(page.locator("#changelist-filter select, #changelist-filter a").first).to_be_visible()
    page.locator("#changelist-filter-close").click()
    expect(page.locator("#changelist-filter")).to_be_hidden()

    cell = page.locator(f"#result_list tbody tr span.truncate[title='{full}']")
    expect(cell).to_have_count(1)
    shown = cell.inner_text()
    assert shown != full and shown.endswith("…") and full.startswith(shown[:-1])
    # The span is one line high: the title is not squeezed into a column of single characters.
    box = cell.bounding_box()
    assert box is not None and box["height"] < 2 * 16
    assert_fits(page, width)

"""Staff's screens of the volunteers: registrations and their verification, posts with their claims,
teams, service hours with their verification and totals, and the quarterly service card per work unit.
Community staff see and decide on the members registered in their communities only."""

from __future__ import annotations

import io
import re
from dataclasses import astuple
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from alliance.periods import Quarter
from volunteers import selectors, services
from volunteers.models import PartyMember, PostClaim, ServiceLog, VolunteerPost, VolunteerTeam

from ..conftest import client_for
from ..factories import MemberUnitFactory
from ..jobs import export_through_job
from .factories import PartyMemberFactory, PostFactory, ServiceLogFactory

M = PartyMember.Status
MEMBERS = "admin:volunteers_partymember_changelist"
POSTS = "admin:volunteers_volunteerpost_changelist"
TEAMS = "admin:volunteers_volunteerteam_changelist"
LOGS = "admin:volunteers_servicelog_changelist"
TOTALS = "admin:volunteers_servicelog_totals"
CARD = "admin:volunteers_servicelog_service_card"
PHONE = re.compile(r"1[3-9][0-9]{9}")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _action(client, url: str, action: str, objects, **data):
    return client.post(reverse(url), {"action": action, "_selected_action": [o.pk for o in objects], **data})


@pytest.fixture
def member_x(community_x, unit_a):
    return PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a, status=M.PENDING)


@pytest.fixture
def member_y(community_y, unit_b):
    return PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_b, status=M.PENDING)


# --- Every screen renders --------------------------------------------------------------------------


def test_every_volunteers_changelist_and_add_page_renders_for_street_staff(street_staff, community_x, unit_a):
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    post = PostFactory(community=community_x)
    claim = services.post_claim(post=post, actor=_account_of(member))
    team = VolunteerTeam.objects.create(name="桥头街志愿服务队", community=community_x, leader=member)
    team.members.add(member)
    log = ServiceLogFactory(member=member)
    client = client_for(street_staff)
    for model in ("partymember", "volunteerpost", "volunteerteam", "servicelog"):
        assert client.get(reverse(f"admin:volunteers_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:volunteers_{model}_add")).status_code == 200
    for model, obj in (("partymember", member), ("volunteerpost", post), ("volunteerteam", team), ("servicelog", log)):
        assert client.get(reverse(f"admin:volunteers_{model}_change", args=[obj.pk])).status_code == 200
        assert client.get(reverse(f"admin:volunteers_{model}_history", args=[obj.pk])).status_code == 200
    page = client.get(reverse("admin:volunteers_volunteerpost_change", args=[post.pk])).content.decode()
    assert member.name in page and claim.status == PostClaim.Status.ACTIVE  # the claims inline
    assert client.get(reverse(TOTALS)).status_code == 200
    assert client.get(reverse(CARD)).status_code == 200
    assert client.get(reverse("admin:volunteers_partymember_import")).status_code == 200
    assert client.get(reverse(MEMBERS), {"quarter_activity": "inactive"}).status_code == 200


def _account_of(member: PartyMember):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=member.phone)
    member.user = user
    member.save(update_fields=["user"])
    return user


# --- Scope of community staff ----------------------------------------------------------------------


def test_community_staff_see_only_the_registrations_of_their_community(community_x_staff, member_x, member_y):
    client = client_for(community_x_staff)
    response = client.get(reverse(MEMBERS))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [member_x]
    # The community's staff see the phone in full (the permission layer lets them).
    assert member_x.phone in response.content.decode()
    other = client.get(reverse("admin:volunteers_partymember_change", args=[member_y.pk]))
    assert other.status_code == 404  # "does not exist", like any object one may not see


def test_community_staff_cannot_verify_a_registration_of_another_community(community_x_staff, member_y):
    client = client_for(community_x_staff)
    _action(client, MEMBERS, "verify", [member_y])
    member_y.refresh_from_db()
    assert member_y.status == M.PENDING


def test_verify_action_verifies_waiting_registrations(community_x_staff, member_x):
    response = _action(client_for(community_x_staff), MEMBERS, "verify", [member_x])
    assert response.status_code == 302
    member_x.refresh_from_db()
    assert member_x.status == M.VERIFIED and member_x.verified_at is not None
    again = _action(client_for(community_x_staff), MEMBERS, "verify", [member_x])
    assert any(m for m in _messages(again))  # "none is waiting", never a 500


def test_reject_action_asks_for_the_reason_then_rejects(community_x_staff, member_x):
    client = client_for(community_x_staff)
    page = _action(client, MEMBERS, "reject", [member_x])
    assert page.status_code == 200 and "reason" in page.context["form"].fields
    member_x.refresh_from_db()
    assert member_x.status == M.PENDING
    _action(client, MEMBERS, "reject", [member_x], apply="1", reason="不在本社区居住")
    member_x.refresh_from_db()
    assert member_x.status == M.REJECTED and member_x.reject_reason == "不在本社区居住"


def test_staff_register_a_member_through_the_service(community_x_staff, community_x, unit_a):
    client = client_for(community_x_staff)
    data = {
        "name": "王强",
        "phone": "13711112222",
        "work_unit": unit_a.pk,
        "work_unit_name": "",
        "party_branch": "机关党支部",
        "residence_community": community_x.pk,
        "skills": "",
    }
    response = client.post(reverse("admin:volunteers_partymember_add"), data)
    assert response.status_code == 302
    member = PartyMember.objects.get(phone="13711112222")
    assert member.status == M.PENDING and member.registered_on == timezone.localdate()
    assert member.history.first().history_user == community_x_staff
    # The same phone again in the same community: the service refuses, shown as a message.
    again = client.post(reverse("admin:volunteers_partymember_add"), data, follow=True)
    assert again.status_code == 200 and _messages(again)
    assert PartyMember.objects.filter(phone="13711112222").count() == 1


def test_staff_correct_a_registration_but_not_its_community(community_x_staff, member_x, community_y):
    client = client_for(community_x_staff)
    url = reverse("admin:volunteers_partymember_change", args=[member_x.pk])
    response = client.post(
        url,
        {
            "name": "张伟伟",
            "work_unit": "",
            "work_unit_name": "未加入的公司",
            "party_branch": "新支部",
            "skills": "义诊",
            "residence_community": community_y.pk,  # read-only here: ignored
            "post_claims-TOTAL_FORMS": "0",
            "post_claims-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    member_x.refresh_from_db()
    assert member_x.name == "张伟伟" and member_x.work_unit is None and member_x.work_unit_name == "未加入的公司"
    assert member_x.residence_community != community_y


def test_not_active_this_quarter_lists_verified_members_without_verified_hours(street_staff, community_x, unit_a):
    active = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    idle = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    only_unverified = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    ServiceLogFactory(member=active)
    ServiceLogFactory(member=only_unverified, verified=False)
    response = client_for(street_staff).get(reverse(MEMBERS), {"quarter_activity": "inactive"})
    assert set(response.context["cl"].result_list) == {idle, only_unverified}


# --- Posts and teams --------------------------------------------------------------------------------


def test_community_staff_manage_the_posts_of_their_community_only(community_x_staff, community_x, community_y):
    mine = PostFactory(community=community_x)
    PostFactory(community=community_y)
    client = client_for(community_x_staff)
    assert list(client.get(reverse(POSTS)).context["cl"].result_list) == [mine]
    response = client.post(
        reverse("admin:volunteers_volunteerpost_add"),
        {
            "community": community_y.pk,
            "title": "别人的岗位",
            "description": "",
            "schedule": "每周日",
            "places": 2,
            "status": "open",
        },
    )
    assert response.status_code == 200  # community_y is not a choice for them
    assert not VolunteerPost.objects.filter(title="别人的岗位").exists()


def test_a_post_cannot_have_fewer_places_than_are_taken(street_staff, community_x, unit_a):
    post = PostFactory(community=community_x, places=2)
    for _ in range(2):
        member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
        services.post_claim(post=post, actor=_account_of(member))
    response = client_for(street_staff).post(
        reverse("admin:volunteers_volunteerpost_change", args=[post.pk]),
        {
            "community": community_x.pk,
            "title": post.title,
            "description": "",
            "schedule": post.schedule,
            "places": 1,
            "status": "open",
            "claims-TOTAL_FORMS": "0",
            "claims-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    post.refresh_from_db()
    assert post.places == 2 and post.places_taken == 2


def test_team_members_are_chosen_among_the_teams_community(street_staff, community_x, community_y, unit_a):
    team = VolunteerTeam.objects.create(name="桥头街志愿服务队", community=community_x)
    here = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    there = PartyMemberFactory(residence_community=community_y, work_unit=unit_a)
    page = client_for(street_staff).get(reverse("admin:volunteers_volunteerteam_change", args=[team.pk]))
    choices = set(page.context["adminform"].form.fields["members"].queryset)
    assert here in choices and there not in choices


# --- Service hours ----------------------------------------------------------------------------------


def test_log_verify_action(community_x_staff, community_y_staff, community_x, unit_a):
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    log = ServiceLogFactory(member=member, verified=False)
    _action(client_for(community_y_staff), LOGS, "verify", [log])
    log.refresh_from_db()
    assert not log.verified  # not theirs to verify
    _action(client_for(community_x_staff), LOGS, "verify", [log])
    log.refresh_from_db()
    assert log.verified and log.verified_by == community_x_staff


def test_log_reject_action_asks_the_reason_and_takes_the_hours_off_the_to_do(community_x_staff, community_x, unit_a):
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    log = ServiceLogFactory(member=member, verified=False)
    client = client_for(community_x_staff)
    assert selectors.workbench_counts(user=community_x_staff)["hours_to_verify"] == 1

    ask = _action(client, LOGS, "reject", [log])
    assert ask.status_code == 200 and "reason" in ask.context["form"].fields
    empty = _action(client, LOGS, "reject", [log], apply="1", reason="")
    assert empty.status_code == 200 and empty.context["form"].errors
    log.refresh_from_db()
    assert log.rejected_at is None

    done = _action(client, LOGS, "reject", [log], apply="1", reason="当天未在岗")
    assert done.status_code == 302
    log.refresh_from_db()
    assert log.rejected_at is not None and log.reject_reason == "当天未在岗" and not log.verified
    # Rejected hours wait for nothing: not on the workbench, not verifiable by the verify action.
    assert selectors.workbench_counts(user=community_x_staff)["hours_to_verify"] == 0
    _action(client, LOGS, "verify", [log])
    log.refresh_from_db()
    assert not log.verified
    waiting = client.get(reverse(LOGS), {"verified__exact": "0", "rejected_at__isempty": "1"})
    assert waiting.context["cl"].result_count == 0


def test_staff_log_hours_for_a_member_through_the_service(community_x_staff, community_x, unit_a):
    member = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    response = client_for(community_x_staff).post(
        reverse("admin:volunteers_servicelog_add"),
        {
            "member": member.pk,
            "date": timezone.localdate().isoformat(),
            "hours": "2.5",
            "description": "助老服务",
        },
    )
    assert response.status_code == 302
    log = ServiceLog.objects.get()
    assert log.logged_by == community_x_staff and log.hours == Decimal("2.5") and not log.verified
    future = client_for(community_x_staff).post(
        reverse("admin:volunteers_servicelog_add"),
        {
            "member": member.pk,
            "date": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "hours": "1",
            "description": "提前登记",
        },
        follow=True,
    )
    assert future.status_code == 200 and ServiceLog.objects.count() == 1


def test_totals_sum_the_verified_hours_only(street_staff, community_x, community_y, unit_a, unit_b):
    a = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    b = PartyMemberFactory(residence_community=community_y, work_unit=unit_b)
    ServiceLogFactory(member=a, hours=Decimal("2.5"))
    ServiceLogFactory(member=a, hours=Decimal("1.0"))
    ServiceLogFactory(member=b, hours=Decimal("4.0"))
    ServiceLogFactory(member=b, hours=Decimal("8.0"), verified=False)
    response = client_for(street_staff).get(reverse(TOTALS))
    assert response.status_code == 200
    verified = ServiceLog.objects.filter(verified=True).aggregate(total=Sum("hours"))["total"]
    assert response.context["overall"]["hours"] == verified == Decimal("7.5")
    groups = {group["key"]: group["rows"] for group in response.context["groups"]}
    by_community = {row["label"]: row["hours"] for row in groups["community"]}
    assert by_community == {community_x.name: Decimal("3.5"), community_y.name: Decimal("4.0")}
    by_unit = {row["label"]: row["hours"] for row in groups["work_unit"]}
    assert by_unit == {unit_a.name: Decimal("3.5"), unit_b.name: Decimal("4.0")}
    assert sum(row["hours"] for row in groups["member"]) == verified
    assert sum(row["hours"] for row in groups["quarter"]) == verified
    # The list's filters carry over.
    filtered = client_for(street_staff).get(reverse(TOTALS), {"community": community_x.pk})
    assert filtered.context["overall"]["hours"] == Decimal("3.5")


def test_service_card_lists_the_units_members_hours_and_no_phone(street_staff, community_x, community_y, unit_a):
    today = timezone.localdate()
    year, quarter = astuple(Quarter.of(today))
    a = PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a, party_branch="一支部")
    b = PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_a)
    idle = PartyMemberFactory(name="王芳", residence_community=community_x, work_unit=unit_a)
    stranger = PartyMemberFactory(name="赵敏", residence_community=community_x, work_unit=MemberUnitFactory())
    ServiceLogFactory(member=a, hours=Decimal("2.0"))
    ServiceLogFactory(member=a, hours=Decimal("1.5"))
    ServiceLogFactory(member=a, hours=Decimal("5.0"), verified=False)
    ServiceLogFactory(member=b, hours=Decimal("3.0"))
    ServiceLogFactory(member=stranger, hours=Decimal("9.0"))
    response = client_for(street_staff).get(reverse(CARD), {"work_unit": unit_a.pk, "year": year, "quarter": quarter})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {a.name, b.name, idle.name}
    assert by_name[a.name][1:] == ("一支部", community_x.name, 3.5, 2)
    assert by_name[b.name][3:] == (3, 1)
    assert by_name[idle.name][3:] == (0, 0)
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not any(PHONE.search(cell) for cell in cells)
    assert not {m.phone for m in (a, b, idle)} & set(cells)


def test_community_staff_get_the_card_of_their_communities_members(community_x_staff, community_x, community_y, unit_a):
    year, quarter = astuple(Quarter.of(timezone.localdate()))
    PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a)
    PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_a)
    response = client_for(community_x_staff).get(
        reverse(CARD), {"work_unit": unit_a.pk, "year": year, "quarter": quarter}
    )
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["张伟"]


def test_every_units_card_is_one_workbook_with_a_sheet_per_unit(
    street_staff, community_x_staff, community_x, community_y, unit_a
):
    year, quarter = astuple(Quarter.of(timezone.localdate()))
    # Names Excel refuses in a sheet's title, and two units whose cleaned names are the same.
    unit_b = MemberUnitFactory(community=community_x, name="晋阳/建设[集团]")
    unit_c = MemberUnitFactory(community=community_y, name="晋阳建设集团")
    quiet = MemberUnitFactory(community=community_y, name="没有党员的单位")
    a = PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a, party_branch="一支部")
    b = PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_a)
    c = PartyMemberFactory(name="王芳", residence_community=community_x, work_unit=unit_b)
    d = PartyMemberFactory(name="赵敏", residence_community=community_y, work_unit=unit_c)
    PartyMemberFactory(name="孙丽", residence_community=community_x, work_unit=None, work_unit_name="未加入的公司")
    ServiceLogFactory(member=a, hours=Decimal("2.0"))
    ServiceLogFactory(member=d, hours=Decimal("1.5"))
    data = {"all-year": year, "all-quarter": quarter}
    content = export_through_job(client_for(street_staff), reverse(CARD), data)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}
    # A sheet per unit with members (in the order of the units' names), titled by the unit's name as far as
    # Excel allows; none for a unit without members, nor for a work unit that is not a member unit.
    members_of = {title: {row[0] for row in rows[1:]} for title, rows in sheets.items()}
    assert members_of == {unit_a.name: {a.name, b.name}, "晋阳建设集团": {c.name}, "晋阳建设集团 (2)": {d.name}}
    assert all(
        rows[0] == ("名称", "党支部", "居住地社区", "本季度已核验服务时长", "本季度服务次数")
        for rows in sheets.values()
    )
    by_name = {row[0]: row for sheet in sheets.values() for row in sheet[1:]}
    assert by_name[a.name][1:] == ("一支部", community_x.name, 2, 1)
    cells = [str(value) for sheet in sheets.values() for row in sheet for value in row if value is not None]
    assert not any(PHONE.search(cell) for cell in cells)
    assert quiet.name not in sheets
    # Community staff: what their communities saw, as for one unit's card.
    content = export_through_job(client_for(community_x_staff), reverse(CARD), data)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    seen = {
        sheet.title: [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] for sheet in workbook.worksheets
    }
    assert seen == {unit_a.name: [a.name], "晋阳建设集团": [c.name]}


# Django's admin ignores a filter value it cannot use (the list is shown), or goes back to the list with
# its error flag (?e=1) for a lookup the database refuses.
SHOWN = (200, None)


def flagged(changelist: str) -> tuple[int, str]:
    return (302, reverse(changelist) + "?e=1")


def too_big(changelist: str) -> tuple[int, str | None]:
    # SQLite cannot bind a number beyond 64 bits (the admin flags the error); PostgreSQL compares it as a
    # numeric and finds nothing (the list is shown, empty).
    return flagged(changelist) if connection.vendor == "sqlite" else SHOWN


@pytest.mark.parametrize(
    ("url", "params", "answer"),
    [
        (MEMBERS, {"residence_community": "99999999999999999999"}, SHOWN),
        # No sidebar filter of work units (a city has thousands); the lookup in the address is the list's.
        (MEMBERS, {"work_unit__id__exact": "abc"}, flagged(MEMBERS)),
        (MEMBERS, {"work_unit": "99999999999999999999"}, too_big(MEMBERS)),
        (LOGS, {"member": "99999999999999999999"}, too_big(LOGS)),
        (TOTALS, {"member": "99999999999999999999"}, too_big(LOGS)),
        (LOGS, {"date__year": "abc"}, flagged(LOGS)),
        (TOTALS, {"date__year": "20261", "date__month": "13"}, flagged(LOGS)),
        (CARD, {"work_unit": "abc", "year": "x", "quarter": "9"}, SHOWN),
        (POSTS, {"community": "-1"}, SHOWN),
    ],
)
def test_bad_filter_values_never_answer_500(url, params, answer, street_staff, community_x):
    response = client_for(street_staff).get(reverse(url), params)
    assert (response.status_code, response.get("Location")) == answer


# --- Query counts -----------------------------------------------------------------------------------


def _grow(kind: str, count: int, community, unit) -> None:
    for _ in range(count):
        member = PartyMemberFactory(residence_community=community, work_unit=unit)
        if kind == "post":
            PostFactory(community=community)
        if kind == "team":
            team = VolunteerTeam.objects.create(name=f"队{member.pk}", community=community, leader=member)
            team.members.add(member)
        if kind == "log":
            ServiceLogFactory(member=member)
            ServiceLogFactory(member=member, verified=False)


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff"])
@pytest.mark.parametrize(
    ("kind", "url"), [("member", MEMBERS), ("post", POSTS), ("team", TEAMS), ("log", LOGS), ("log", TOTALS)]
)
def test_changelist_query_count_does_not_grow_with_rows(who, kind, url, cast, community_x, unit_a):
    client = client_for(cast[who])
    _grow(kind, 2, community_x, unit_a)
    client.get(reverse(url))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(url)).status_code == 200
    _grow(kind, 12, community_x, unit_a)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(url))
    assert response.status_code == 200
    if "cl" in response.context:
        assert len(response.context["cl"].result_list) >= 14
    # session, user, groups, (community staff: their communities), the capped count, one page of rows
    # joined with what the columns show (the phone's visibility decided in SQL), the filters' choices;
    # the totals page: one grouped query per grouping, my latest exports. None per row.
    assert len(many) == len(few)


def test_community_staff_build_a_team_of_their_community(community_x_staff, community_x, community_y, unit_a):
    client = client_for(community_x_staff)
    add = client.post(
        reverse("admin:volunteers_volunteerteam_add"), {"name": "桥头街志愿服务队", "community": community_x.pk}
    )
    assert add.status_code == 302
    team = VolunteerTeam.objects.get()
    assert team.history.first().history_user == community_x_staff
    here = PartyMemberFactory(residence_community=community_x, work_unit=unit_a)
    change = client.post(
        reverse("admin:volunteers_volunteerteam_change", args=[team.pk]),
        {"name": team.name, "community": community_x.pk, "members": [here.pk], "leader": here.pk},
    )
    assert change.status_code == 302
    team.refresh_from_db()
    assert list(team.members.all()) == [here] and team.leader == here
    other = client.post(
        reverse("admin:volunteers_volunteerteam_add"), {"name": "柳北志愿服务队", "community": community_y.pk}
    )
    assert other.status_code == 200  # not a community they work for
    assert VolunteerTeam.objects.count() == 1


def test_phones_staff_may_not_see_are_masked_and_never_exported(community_x_staff, community_x, unit_b, root):
    from members import services as member_services

    # This community's staff member is also the liaison of unit_b (in community_y): they see unit_b's
    # members registered elsewhere, with the phone masked, and the import-layout export leaves them out.
    member_services.unit_membership_add(unit=unit_b, user=community_x_staff, actor=root)
    elsewhere = PartyMemberFactory(residence_community=unit_b.community, work_unit=unit_b)
    mine = PartyMemberFactory(residence_community=community_x, work_unit=unit_b)
    client = client_for(community_x_staff)
    page = client.get(reverse(MEMBERS))
    assert set(page.context["cl"].result_list) == {elsewhere, mine}
    html = page.content.decode()
    assert mine.phone in html and elsewhere.phone not in html
    export = export_through_job(
        client, reverse(MEMBERS), {"action": "export_import_layout", "_selected_action": [elsewhere.pk, mine.pk]}
    )
    cells = {str(v) for row in load_workbook(io.BytesIO(export)).active.iter_rows(values_only=True) for v in row}
    assert mine.phone in cells and elsewhere.phone not in cells

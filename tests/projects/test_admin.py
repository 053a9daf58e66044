"""Staff's screens of the claim table: projects with their claims, approving and rejecting claims,
opening / starting / finishing projects, demonstration plaques, the Excel claim table, activities and
their totals, and commitment reviews beside the residents' ratings. Community staff see and decide on
their communities' projects only."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from demands.models import Need
from projects import selectors, services
from projects.models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, MemberUnitFactory
from ..jobs import export_through_job
from .factories import ActivityFactory, ClaimFactory, ProjectFactory, ReviewFactory

P = ServiceProject.Status
C = ProjectClaim.Status
PROJECTS = "admin:projects_serviceproject_changelist"
CLAIMS = "admin:projects_projectclaim_changelist"
ACTIVITIES = "admin:projects_serviceactivity_changelist"
REVIEWS = "admin:projects_commitmentreview_changelist"
TOTALS = "admin:projects_serviceactivity_totals"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def health(db):
    return CategoryFactory(code="health", name="医疗健康")


@pytest.fixture
def culture(db):
    return CategoryFactory(code="culture_education", name="文化教育")


@pytest.fixture
def project_x(community_x, health):
    return ProjectFactory(title="健康服务在身边", community=community_x, category=health, places=3)


@pytest.fixture
def project_y(community_y, culture):
    return ProjectFactory(title="乐享文化·共创文明", community=community_y, category=culture, places=2)


@pytest.fixture
def street_wide(community_x, health):
    return ProjectFactory(title="党课宣讲", community=None, street=community_x.street, category=health)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _action(client, url: str, action: str, objects, **data):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **data})


def _project_form(project: ServiceProject, **changes) -> dict:
    data = {
        "title": project.title,
        "category": project.category_id,
        "description": project.description,
        "street": project.street_id,
        "community": project.community_id or "",
        "starts_on": project.starts_on.isoformat(),
        "ends_on": project.ends_on.isoformat(),
        "places": project.places,
        "plaque_awarded_on": "",
        "claims-TOTAL_FORMS": "0",
        "claims-INITIAL_FORMS": "0",
    }
    if project.is_demonstration:
        data["is_demonstration"] = "on"
    return {**data, **changes}


# --- Every screen renders --------------------------------------------------------------------------


def test_every_projects_changelist_and_add_page_renders_for_street_staff(street_staff, project_x, unit_a, unit_b):
    pending = ClaimFactory(project=project_x, unit=unit_b, status=C.PENDING)
    approved = ClaimFactory(project=project_x, unit=unit_a)
    activity = ActivityFactory(claim=approved)
    review = ReviewFactory(claim=approved)
    client = client_for(street_staff)
    for model in ("serviceproject", "projectclaim", "serviceactivity", "commitmentreview"):
        assert client.get(reverse(f"admin:projects_{model}_changelist")).status_code == 200
    for model in ("serviceproject", "serviceactivity", "commitmentreview"):
        assert client.get(reverse(f"admin:projects_{model}_add")).status_code == 200
    for model, obj in (
        ("serviceproject", project_x),
        ("projectclaim", pending),
        ("projectclaim", approved),
        ("serviceactivity", activity),
        ("commitmentreview", review),
    ):
        assert client.get(reverse(f"admin:projects_{model}_change", args=[obj.pk])).status_code == 200
        assert client.get(reverse(f"admin:projects_{model}_history", args=[obj.pk])).status_code == 200
    assert client.get(reverse("admin:projects_projectclaim_decide", args=[pending.pk])).status_code == 200
    assert client.get(reverse(TOTALS)).status_code == 200
    # Claims are the units' own, made in the portal with their commitment: staff do not add them.
    assert client.get(reverse("admin:projects_projectclaim_add")).status_code == 403


@pytest.mark.parametrize("who", ["liaison_a", "member"])
def test_people_who_are_not_staff_do_not_enter_the_projects_admin(who, cast, project_x):
    client = client_for(cast[who])
    for url in (reverse(PROJECTS), reverse(CLAIMS), reverse(TOTALS)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_project_change_page_lists_its_claims_with_their_commitments(street_staff, project_x, unit_a):
    ClaimFactory(project=project_x, unit=unit_a, commitment="每季度免费开放会议室不少于20小时")
    body = client_for(street_staff).get(reverse("admin:projects_serviceproject_change", args=[project_x.pk]))
    text = body.content.decode()
    assert unit_a.name in text and "每季度免费开放会议室不少于20小时" in text


def test_the_project_list_says_street_wide_and_counts_places_left(street_staff, project_x, street_wide, unit_a):
    ClaimFactory(project=project_x, unit=unit_a)
    response = client_for(street_staff).get(reverse(PROJECTS))
    rows = {p.pk: p for p in response.context["cl"].result_list}
    assert rows[project_x.pk].places_left_db == 2
    assert rows[street_wide.pk].community is None
    with translation.override("zh-hans"):
        street_wide_label = translation.gettext("Street-wide")
    assert street_wide_label in response.content.decode()
    street_filter = client_for(street_staff).get(reverse(PROJECTS), {"community": "none"})
    assert list(street_filter.context["cl"].result_list) == [street_wide]


# --- Who sees what ----------------------------------------------------------------------------------


def test_community_staff_see_their_communitys_projects_and_the_claims_on_them(
    community_x_staff, community_x, community_y, project_x, street_wide, unit_a, unit_b, health
):
    draft_x = ProjectFactory(community=community_x, category=health, status=P.DRAFT, title="桥头街草稿项目")
    draft_y = ProjectFactory(community=community_y, category=health, status=P.DRAFT, title="柳北社区草稿项目")
    other_y = ProjectFactory(community=community_y, category=health, title="柳北社区的项目")
    claim_x = ClaimFactory(project=project_x, unit=unit_b)
    claim_y = ClaimFactory(project=other_y, unit=unit_b)  # a community_y unit on a community_y project
    client = client_for(community_x_staff)

    shown = set(client.get(reverse(PROJECTS)).context["cl"].result_list)
    expected = set(selectors.projects_visible_to(user=community_x_staff))
    assert shown == expected  # the one permission path decides, not the screen
    assert {project_x, draft_x, street_wide} <= shown
    assert draft_y not in shown

    claims = set(client.get(reverse(CLAIMS)).context["cl"].result_list)
    assert claim_x in claims and claim_y not in claims


def test_community_staff_of_another_community_get_no_access_to_its_project(
    community_y_staff, community_x, project_x, health, unit_a
):
    draft_x = ProjectFactory(community=community_x, category=health, status=P.DRAFT)
    claim = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)
    client = client_for(community_y_staff)

    # A draft of another community does not exist for them.
    response = client.get(reverse("admin:projects_serviceproject_change", args=[draft_x.pk]))
    assert response.status_code == 404
    assert draft_x.title not in client.get(reverse(PROJECTS)).content.decode()

    # A published project of another community may be on their units' claim table, but nothing on it is
    # theirs to change or decide.
    url = reverse("admin:projects_serviceproject_change", args=[project_x.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    client.post(url, _project_form(project_x, title="被改掉的标题"))
    _action(client, reverse(PROJECTS), "finish", [project_x])
    project_x.refresh_from_db()
    assert project_x.title == "健康服务在身边" and project_x.status == P.OPEN

    assert client.get(reverse("admin:projects_projectclaim_decide", args=[claim.pk])).status_code == 404
    _action(client, reverse(CLAIMS), "approve", [claim])
    claim.refresh_from_db()
    assert claim.status == C.PENDING


# --- Projects: add, change, actions ---------------------------------------------------------------


def test_community_staff_create_a_project_for_their_community(community_x_staff, community_x, health):
    client = client_for(community_x_staff)
    form = client.get(reverse("admin:projects_serviceproject_add"))
    assert list(form.context["adminform"].form.fields["community"].queryset) == [community_x]
    data = {
        "title": "独居老人关爱",
        "category": health.pk,
        "description": "结对走访独居老人。",
        "street": community_x.street_id,
        "community": community_x.pk,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "places": "4",
    }
    assert client.post(reverse("admin:projects_serviceproject_add"), data).status_code == 302
    project = ServiceProject.objects.get()
    assert (project.title, project.community, project.status, project.places_taken) == (
        "独居老人关爱",
        community_x,
        P.DRAFT,
        0,
    )
    assert project.history.first().history_user == community_x_staff


def test_community_staff_cannot_create_a_street_wide_project_or_one_of_another_community(
    community_x_staff, community_x, community_y, health
):
    client = client_for(community_x_staff)
    base = {
        "title": "老旧小区环境整治",
        "category": health.pk,
        "description": "x",
        "street": community_x.street_id,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "places": "2",
    }
    other = client.post(reverse("admin:projects_serviceproject_add"), {**base, "community": community_y.pk})
    assert other.status_code == 200 and "community" in other.context["adminform"].form.errors
    street = client.post(reverse("admin:projects_serviceproject_add"), {**base, "community": ""})
    assert street.status_code == 302 and _messages(street)  # the service's refusal, as a message
    assert not ServiceProject.objects.exists()


def test_a_past_version_of_a_claim_is_read_not_saved_back(street_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)
    pending = claim.history.order_by("history_id").first().history_id
    services.claim_approve(claim=claim, actor=street_staff)
    url = reverse("admin:projects_projectclaim_simple_history", args=[claim.pk, pending])
    client = client_for(street_staff)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 405
    claim.refresh_from_db()
    project_x.refresh_from_db()
    assert (claim.status, project_x.places_taken) == (C.APPROVED, 1)


def test_a_project_cannot_end_before_it_starts(street_staff, project_x):
    url = reverse("admin:projects_serviceproject_change", args=[project_x.pk])
    response = client_for(street_staff).post(url, _project_form(project_x, ends_on="2025-06-30"))
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.non_field_errors()
    project_x.refresh_from_db()
    assert project_x.ends_on == date(2026, 12, 31)


def test_adding_a_project_that_ends_before_it_starts_shows_the_constraints_message(street_staff, community_x, health):
    data = {
        "title": "独居老人关爱",
        "category": health.pk,
        "description": "结对走访独居老人。",
        "street": community_x.street_id,
        "community": community_x.pk,
        "starts_on": "2026-07-01",
        "ends_on": "2026-06-30",
        "places": "2",
        "claims-TOTAL_FORMS": "0",
        "claims-INITIAL_FORMS": "0",
    }
    response = client_for(street_staff).post(reverse("admin:projects_serviceproject_add"), data)
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.non_field_errors() == ["项目的结束日期不能早于开始日期。"]
    assert "项目的结束日期不能早于开始日期。" in response.content.decode()
    assert not ServiceProject.objects.exists()


def test_staff_change_a_project_through_the_service(street_staff, project_x, unit_a):
    ClaimFactory(project=project_x, unit=unit_a)
    url = reverse("admin:projects_serviceproject_change", args=[project_x.pk])
    client = client_for(street_staff)
    assert client.post(url, _project_form(project_x, places="1")).status_code == 302
    project_x.refresh_from_db()
    assert project_x.places == 1
    refused = client.post(url, _project_form(project_x, places="0"))  # fewer places than taken (and none)
    assert refused.status_code == 200
    assert "places" in refused.context["adminform"].form.errors
    project_x.refresh_from_db()
    assert project_x.places == 1


def test_open_start_and_finish_a_project(community_x_staff, community_x, health, unit_a, unit_b):
    project = ProjectFactory(community=community_x, category=health, status=P.DRAFT)
    client = client_for(community_x_staff)

    _action(client, reverse(PROJECTS), "open_for_claims", [project])
    project.refresh_from_db()
    assert project.status == P.OPEN
    approved = ClaimFactory(project=project, unit=unit_a)
    pending = ClaimFactory(project=project, unit=unit_b, status=C.PENDING)

    _action(client, reverse(PROJECTS), "start", [project])
    project.refresh_from_db()
    assert project.status == P.RUNNING

    _action(client, reverse(PROJECTS), "finish", [project])
    project.refresh_from_db()
    approved.refresh_from_db()
    pending.refresh_from_db()
    assert (project.status, project.places_taken) == (P.FINISHED, 0)
    assert (approved.status, pending.status) == (C.COMPLETED, C.WITHDRAWN)


def test_a_move_the_project_cannot_make_is_a_message(street_staff, project_x):
    response = _action(client_for(street_staff), reverse(PROJECTS), "open_for_claims", [project_x])
    assert response.status_code == 302 and _messages(response)
    project_x.refresh_from_db()
    assert project_x.status == P.OPEN


def test_marking_a_demonstration_project_asks_for_the_plaque_date(community_x_staff, project_x):
    client = client_for(community_x_staff)
    ask = _action(client, reverse(PROJECTS), "mark_demonstration", [project_x])
    assert ask.status_code == 200 and "plaque_awarded_on" in ask.context["form"].fields
    project_x.refresh_from_db()
    assert not project_x.is_demonstration

    bad = _action(client, reverse(PROJECTS), "mark_demonstration", [project_x], apply="1", plaque_awarded_on="x")
    assert bad.status_code == 200 and bad.context["form"].errors
    done = _action(
        client, reverse(PROJECTS), "mark_demonstration", [project_x], apply="1", plaque_awarded_on="2026-06-29"
    )
    assert done.status_code == 302
    project_x.refresh_from_db()
    assert project_x.is_demonstration and project_x.plaque_awarded_on == date(2026, 6, 29)
    shown = client.get(reverse(PROJECTS), {"is_demonstration__exact": "1"}).context["cl"].result_list
    assert list(shown) == [project_x]


def test_community_staff_cannot_mark_a_street_wide_project(community_x_staff, street_wide):
    response = _action(
        client_for(community_x_staff),
        reverse(PROJECTS),
        "mark_demonstration",
        [street_wide],
        apply="1",
        plaque_awarded_on="2026-06-29",
    )
    assert response.status_code == 302 and _messages(response)
    street_wide.refresh_from_db()
    assert not street_wide.is_demonstration


# --- Claims: approve, reject ----------------------------------------------------------------------


def test_staff_approve_a_claim(community_x_staff, project_x, unit_a, liaison_a):
    claim = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)
    response = _action(client_for(community_x_staff), reverse(CLAIMS), "approve", [claim])
    assert response.status_code == 302
    claim.refresh_from_db()
    project_x.refresh_from_db()
    assert claim.status == C.APPROVED and claim.decided_at is not None
    assert project_x.places_taken == 1  # an approved claim keeps its place


def test_reject_asks_for_the_reason_then_rejects_and_frees_the_place(community_x_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)
    project_x.refresh_from_db()
    assert project_x.places_taken == 1
    client = client_for(community_x_staff)

    ask = _action(client, reverse(CLAIMS), "reject", [claim])
    assert ask.status_code == 200 and "reason" in ask.context["form"].fields
    empty = _action(client, reverse(CLAIMS), "reject", [claim], apply="1", reason="")
    assert empty.status_code == 200 and empty.context["form"].errors
    claim.refresh_from_db()
    assert claim.status == C.PENDING

    done = _action(client, reverse(CLAIMS), "reject", [claim], apply="1", reason="承诺内容与项目不符")
    assert done.status_code == 302
    claim.refresh_from_db()
    project_x.refresh_from_db()
    assert (claim.status, claim.decision_note) == (C.REJECTED, "承诺内容与项目不符")
    assert project_x.places_taken == 0


def test_deciding_on_the_claim_page(street_staff, project_x, unit_a, unit_b):
    first = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)
    second = ClaimFactory(project=project_x, unit=unit_b, status=C.PENDING)
    client = client_for(street_staff)
    change = client.get(reverse("admin:projects_projectclaim_change", args=[first.pk]))
    decide_url = reverse("admin:projects_projectclaim_decide", args=[first.pk])
    assert decide_url in change.content.decode()

    assert client.post(decide_url, {"approve": "1"}).status_code == 302
    first.refresh_from_db()
    assert first.status == C.APPROVED

    url = reverse("admin:projects_projectclaim_decide", args=[second.pk])
    no_reason = client.post(url, {"reject": "1", "reason": ""})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors
    second.refresh_from_db()
    assert second.status == C.PENDING
    assert client.post(url, {"reject": "1", "reason": "名额已满"}).status_code == 302
    second.refresh_from_db()
    project_x.refresh_from_db()
    assert second.status == C.REJECTED and project_x.places_taken == 1


def test_deciding_a_claim_already_decided_is_a_message_not_a_500(street_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a)  # approved already
    client = client_for(street_staff)
    response = client.post(reverse("admin:projects_projectclaim_decide", args=[claim.pk]), {"approve": "1"})
    assert response.status_code == 302 and _messages(response)
    assert _action(client, reverse(CLAIMS), "approve", [claim]).status_code == 302
    claim.refresh_from_db()
    assert claim.status == C.APPROVED


def test_a_refusal_from_the_claim_service_is_an_admin_message(street_staff, project_x, unit_a, monkeypatch):
    """Someone else decided between the list and the click: the service refuses; the screen says so."""
    from alliance.errors import TransitionNotAllowed

    claim = ClaimFactory(project=project_x, unit=unit_a, status=C.PENDING)

    def refuse(**kwargs):
        raise TransitionNotAllowed("Only claims waiting for approval can be approved.")

    monkeypatch.setattr(services, "claim_approve", refuse)
    response = _action(client_for(street_staff), reverse(CLAIMS), "approve", [claim])
    assert response.status_code == 302
    assert any("Only claims waiting" in m for m in _messages(response))


# --- The claim table in Excel ------------------------------------------------------------------------


def test_the_claim_table_export_has_one_row_per_claim(street_staff, project_x, street_wide, unit_a, unit_b):
    unit_a.liaison_name, unit_a.liaison_phone = "赵联络", "13800001111"
    unit_a.save()
    ClaimFactory(project=project_x, unit=unit_a, commitment="每月组织医护人员义诊一次")
    ClaimFactory(project=project_x, unit=unit_b, commitment='=HYPERLINK("x")', status=C.PENDING)
    ClaimFactory(project=street_wide, unit=unit_a, commitment="派出志愿者10人次")
    content = export_through_job(
        client_for(street_staff),
        reverse(PROJECTS),
        {"action": "export_claim_table", "_selected_action": [project_x.pk, street_wide.pk]},
    )
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(header) >= 7 and len(body) == 3
    by_commitment = {row[8]: row for row in body}
    assert set(by_commitment) == {"每月组织医护人员义诊一次", '\'=HYPERLINK("x")', "派出志愿者10人次"}
    first = by_commitment["每月组织医护人员义诊一次"]
    assert (first[1], first[2], first[3], first[7]) == (
        "健康服务在身边",
        "医疗健康",
        project_x.community.name,
        unit_a.name,
    )
    with translation.override("zh-hans"):  # the language the request was served in
        approved, pending, street = str(C.APPROVED.label), str(C.PENDING.label), translation.gettext("Street-wide")
    assert first[9] == approved and by_commitment['\'=HYPERLINK("x")'][9] == pending
    assert by_commitment["派出志愿者10人次"][3] == street
    cells = " ".join(str(v) for row in rows for v in row if v is not None)
    assert "赵联络" not in cells and "13800001111" not in cells  # no person, no phone


def test_community_staff_export_only_the_claims_they_see(community_x_staff, street_wide, unit_a, unit_b):
    ClaimFactory(project=street_wide, unit=unit_a, commitment="桥头街单位的承诺")
    ClaimFactory(project=street_wide, unit=unit_b, commitment="柳北社区单位的承诺")
    content = export_through_job(
        client_for(community_x_staff),
        reverse(PROJECTS),
        {"action": "export_claim_table", "_selected_action": [street_wide.pk]},
    )
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert [row[8] for row in rows[1:]] == ["桥头街单位的承诺"]


# --- Activities and their totals --------------------------------------------------------------------


def test_staff_record_an_activity_for_an_approved_claim(community_x_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a)
    pending = ClaimFactory(project=project_x, unit=MemberUnitFactory(community=project_x.community), status=C.PENDING)
    client = client_for(community_x_staff)
    form = client.get(reverse("admin:projects_serviceactivity_add")).context["adminform"].form
    assert list(form.fields["claim"].queryset) == [claim]  # only approved claims take activities
    data = {
        "claim": claim.pk,
        "date": "2026-05-20",
        "title": "义诊进社区",
        "place": "社区党群服务中心",
        "participants": "6",
        "services": "30",
        "beneficiaries": "150",
        "hours": "3.5",
    }
    assert client.post(reverse("admin:projects_serviceactivity_add"), data).status_code == 302
    activity = ServiceActivity.objects.get()
    assert (activity.claim, activity.beneficiaries, activity.recorded_by) == (claim, 150, community_x_staff)
    refused = client.post(reverse("admin:projects_serviceactivity_add"), {**data, "claim": pending.pk})
    assert refused.status_code == 200
    assert ServiceActivity.objects.count() == 1


def test_an_activity_in_the_future_is_refused_with_a_message(street_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a)
    tomorrow = timezone.localdate().toordinal() + 1
    data = {
        "claim": claim.pk,
        "date": date.fromordinal(tomorrow).isoformat(),
        "title": "义诊",
        "participants": "1",
        "services": "1",
        "beneficiaries": "1",
        "hours": "1",
    }
    response = client_for(street_staff).post(reverse("admin:projects_serviceactivity_add"), data)
    assert response.status_code == 302 and _messages(response)
    assert not ServiceActivity.objects.exists()


@pytest.fixture
def activities(community_x, community_y, health, culture, unit_a, unit_b):
    """Two projects (two categories, two communities), two units, two quarters."""
    health_x = ProjectFactory(title="健康直通车", community=community_x, category=health)
    culture_y = ProjectFactory(title="社区读书角", community=community_y, category=culture)
    claims = [
        ClaimFactory(project=health_x, unit=unit_a),
        ClaimFactory(project=health_x, unit=unit_b),
        ClaimFactory(project=culture_y, unit=unit_b),
    ]
    plan = [
        (claims[0], date(2026, 2, 3), 5, 40, 2, "1.5"),
        (claims[0], date(2026, 5, 9), 7, 65, 3, "2.0"),
        (claims[1], date(2026, 3, 30), 11, 120, 4, "3.5"),
        (claims[2], date(2026, 4, 1), 13, 210, 6, "4.0"),
        (claims[2], date(2026, 6, 30), 2, 15, 1, "0.5"),
    ]
    return [
        ActivityFactory(
            claim=claim, date=day, services=s, beneficiaries=b, participants=p, hours=Decimal(h), title=f"活动{i}"
        )
        for i, (claim, day, s, b, p, h) in enumerate(plan)
    ]


def _expected_totals(rows: list[ServiceActivity], by: str) -> dict:
    key = {
        "project": lambda a: a.claim.project_id,
        "unit": lambda a: a.claim.unit_id,
        "category": lambda a: a.claim.project.category_id,
        "community": lambda a: a.claim.project.community_id or a.claim.unit.community_id,
        "quarter": lambda a: a.date.year * 10 + (a.date.month - 1) // 3 + 1,
    }[by]
    sums: dict = defaultdict(lambda: {"activities": 0, "services": 0, "beneficiaries": 0, "hours": Decimal(0)})
    for activity in rows:
        total = sums[key(activity)]
        total["activities"] += 1
        total["services"] += activity.services
        total["beneficiaries"] += activity.beneficiaries
        total["hours"] += activity.hours
    return dict(sums)


def _shown_totals(response, by: str) -> dict:
    group = next(g for g in response.context["groups"] if g["key"] == by)
    return {
        row["group_key"]: {f: row[f] for f in ("activities", "services", "beneficiaries", "hours")}
        for row in group["rows"]
    }


@pytest.mark.parametrize("by", ["project", "unit", "community", "category", "quarter"])
def test_the_totals_page_shows_the_sums_of_the_rows(by, street_staff, activities):
    response = client_for(street_staff).get(reverse(TOTALS))
    assert response.status_code == 200
    assert _shown_totals(response, by) == _expected_totals(activities, by)
    overall = response.context["overall"]
    assert overall["activities"] == len(activities)
    assert overall["services"] == sum(a.services for a in activities)
    assert overall["beneficiaries"] == sum(a.beneficiaries for a in activities)
    body = response.content.decode()
    quarters = next(g for g in response.context["groups"] if g["key"] == "quarter")["rows"]
    assert [row["group_key"] for row in quarters] == [20261, 20262]
    assert str(overall["beneficiaries"]) in body and all(row["label"] in body for row in quarters)


def test_the_totals_follow_the_list_filters(street_staff, activities, health):
    client = client_for(street_staff)
    changelist = client.get(reverse(ACTIVITIES), {"claim__project__category__id__exact": health.pk})
    totals_url = reverse(TOTALS) + f"?claim__project__category__id__exact={health.pk}"
    assert totals_url.replace("&", "&amp;") in changelist.content.decode()  # the "Totals" link keeps the filter
    response = client.get(totals_url)
    kept = [a for a in activities if a.claim.project.category_id == health.pk]
    assert _shown_totals(response, "quarter") == _expected_totals(kept, "quarter")
    dated = client.get(reverse(TOTALS), {"date__year": "2026", "date__month": "5"})
    assert dated.context["overall"]["activities"] == 1
    bad = client.get(reverse(TOTALS), {"no_such_field": "1"})
    assert bad.status_code == 302


def test_community_staff_totals_count_only_the_activities_they_see(community_x_staff, activities):
    response = client_for(community_x_staff).get(reverse(TOTALS))
    seen = list(selectors.activities_visible_to(user=community_x_staff))
    assert 0 < len(seen) < len(activities)
    assert response.context["overall"]["activities"] == len(seen)
    assert _shown_totals(response, "unit") == _expected_totals(seen, "unit")


# --- Reviews --------------------------------------------------------------------------------------


def _rated_need(unit, community, rating: int, completed: datetime) -> Need:
    return NeedFactory(
        unit=unit,
        community=community,
        status=Need.Status.CLOSED,
        dispatched_at=completed,
        accepted_at=completed,
        completed_at=completed,
        closed_at=completed,
        result="已完成",
        rating=rating,
    )


def test_the_reviews_list_shows_the_residents_rating_beside_the_score(
    street_staff, project_x, unit_a, unit_b, community_x
):
    reviewed = ReviewFactory(claim=ClaimFactory(project=project_x, unit=unit_a), year=2026, quarter=2, score=4)
    unrated = ReviewFactory(claim=ClaimFactory(project=project_x, unit=unit_b), year=2026, quarter=2, score=3)
    _rated_need(unit_a, community_x, 4, datetime(2026, 5, 10, 10, tzinfo=SHANGHAI))
    _rated_need(unit_a, community_x, 5, datetime(2026, 6, 30, 23, 30, tzinfo=SHANGHAI))  # still Q2 in Shanghai
    _rated_need(unit_a, community_x, 1, datetime(2026, 8, 1, 10, tzinfo=SHANGHAI))  # Q3: not this review's
    response = client_for(street_staff).get(reverse(REVIEWS))
    assert response.status_code == 200
    admin_ = response.context["cl"].model_admin
    rows = {r.pk: r for r in response.context["cl"].result_list}
    assert rows[reviewed.pk]._resident_rating == (4.5, 2)
    assert rows[unrated.pk]._resident_rating is None
    with translation.override("zh-hans"):
        shown = admin_.resident_rating(rows[reviewed.pk])
    assert "4.5" in shown and shown in response.content.decode()


def test_staff_review_a_claim_through_the_service(community_x_staff, project_x, unit_a):
    claim = ClaimFactory(project=project_x, unit=unit_a)
    client = client_for(community_x_staff)
    data = {"claim": claim.pk, "year": "2026", "quarter": "2", "score": "5", "comment": "承诺全部兑现"}
    assert client.post(reverse("admin:projects_commitmentreview_add"), data).status_code == 302
    review = CommitmentReview.objects.get()
    assert (review.score, review.reviewer) == (5, community_x_staff)

    url = reverse("admin:projects_commitmentreview_change", args=[review.pk])
    assert client.post(url, {"score": "3", "comment": "二季度活动偏少"}).status_code == 302
    review.refresh_from_db()
    assert (review.score, review.comment, CommitmentReview.objects.count()) == (3, "二季度活动偏少", 1)

    bad = client.post(reverse("admin:projects_commitmentreview_add"), {**data, "quarter": "1", "score": "9"})
    assert bad.status_code == 200 and "score" in bad.context["adminform"].form.errors
    future = client.post(reverse("admin:projects_commitmentreview_add"), {**data, "year": "2100", "quarter": "1"})
    assert future.status_code == 302 and future["Location"] == reverse("admin:projects_commitmentreview_add")
    assert _messages(future) == ["尚未开始的季度不能评议。"]
    assert CommitmentReview.objects.count() == 1


# --- Query counts -----------------------------------------------------------------------------------


def _grow(kind: str, count: int, community_x, health) -> None:
    for _ in range(count):
        unit = MemberUnitFactory(community=community_x)
        project = ProjectFactory(community=community_x, category=health)
        claim = ClaimFactory(project=project, unit=unit, status=C.PENDING if kind == "claim" else C.APPROVED)
        if kind == "activity":
            ActivityFactory(claim=claim)
        if kind == "review":
            ReviewFactory(claim=claim)
            _rated_need(unit, community_x, 5, datetime(2026, 5, 1, 9, tzinfo=SHANGHAI))


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff"])
@pytest.mark.parametrize(
    ("kind", "url"), [("project", PROJECTS), ("claim", CLAIMS), ("activity", ACTIVITIES), ("review", REVIEWS)]
)
def test_changelist_query_count_does_not_grow_with_rows(who, kind, url, cast, community_x, health):
    client = client_for(cast[who])
    _grow(kind, 2, community_x, health)
    client.get(reverse(url))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(url)).status_code == 200
    _grow(kind, 12, community_x, health)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(url))
    assert response.status_code == 200 and len(response.context["cl"].result_list) >= 14
    # session, user, groups, (community staff: their communities), the counts, one page of rows joined
    # with what the columns show, the filters' choices, the date hierarchy, (reviews: the residents'
    # ratings of the page's units in one query): none per row.
    assert len(many) == len(few)


def test_totals_page_query_count_does_not_grow_with_rows(street_staff, community_x, health):
    client = client_for(street_staff)
    _grow("activity", 2, community_x, health)
    client.get(reverse(TOTALS))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(TOTALS))
    _grow("activity", 10, community_x, health)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(TOTALS))
    # session, user, groups, the changelist's counts, one grouped query per grouping.
    assert len(many) == len(few)


# Django's admin ignores a filter value it cannot use (the list is shown), or goes back to the list with
# its error flag (?e=1) for a lookup the database refuses.
SHOWN = (200, None)


def flagged(changelist: str) -> tuple[int, str]:
    return (302, reverse(changelist) + "?e=1")


@pytest.mark.parametrize(
    ("url", "params", "answer"),
    [
        (PROJECTS, {"community": "99999999999999999999"}, SHOWN),
        (PROJECTS, {"community": "abc"}, SHOWN),
        (CLAIMS, {"community": "-1"}, SHOWN),
        (ACTIVITIES, {"date__year": "abc"}, flagged(ACTIVITIES)),
        (TOTALS, {"date__year": "20261", "date__month": "13"}, flagged(ACTIVITIES)),
        (TOTALS, {"community": "99999999999999999999"}, SHOWN),
        (REVIEWS, {"quarter__exact": "x"}, flagged(REVIEWS)),
    ],
)
def test_bad_filter_values_never_answer_500(url, params, answer, street_staff, project_x):
    response = client_for(street_staff).get(reverse(url), params)
    assert (response.status_code, response.get("Location")) == answer


def test_deciding_on_a_claim_that_does_not_exist_is_a_404(street_staff):
    assert client_for(street_staff).get(reverse("admin:projects_projectclaim_decide", args=[999999])).status_code == 404

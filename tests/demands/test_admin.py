"""Staff's screens of the loop: the queue, the dispatch screen, reject / showcase / export, needs entered
on a resident's behalf, and resources. Community staff see and act on their communities' needs only."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from demands import services
from demands.models import Need, NeedEvent, Resource

from ..conftest import client_for
from ..factories import CategoryFactory, MemberUnitFactory
from ..jobs import export_through_job
from .factories import NeedFactory, ResourceFactory

S = Need.Status
CHANGELIST = "admin:demands_need_changelist"


@pytest.fixture
def category(db):
    return CategoryFactory(name="环境整治", code="environment")


@pytest.fixture
def need_x(community_x, category):
    return NeedFactory(community=community_x, category=category, title="桥头街的楼道灯", contact_phone="13700000001")


@pytest.fixture
def need_y(community_y, category):
    return NeedFactory(community=community_y, category=category, title="柳北社区的垃圾清运")


def _backdate(need: Need, days: int) -> None:
    Need.objects.filter(pk=need.pk).update(submitted_at=timezone.now() - timedelta(days=days))


def _completed(need: Need, unit, staff, liaison) -> Need:
    need = services.need_dispatch(need=need, unit=unit, actor=staff)
    need = services.need_accept(need=need, actor=liaison)
    return services.need_complete(need=need, actor=liaison, result="已清理完毕")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- The queue ----------------------------------------------------------------------------------------


def test_community_staff_queue_shows_own_communitys_needs_overdue_first(
    community_x_staff, community_x, category, need_x, need_y
):
    older = NeedFactory(community=community_x, category=category, title="三天前的需求")
    _backdate(older, 3)
    response = client_for(community_x_staff).get(reverse(CHANGELIST))
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [older, need_x]
    assert shown[0].is_overdue and not shown[1].is_overdue
    assert need_y.title not in response.content.decode()


def test_the_overdue_filter_keeps_only_overdue_needs(street_staff, community_x, category, need_x):
    older = NeedFactory(community=community_x, category=category)
    _backdate(older, 3)
    response = client_for(street_staff).get(reverse(CHANGELIST), {"overdue": "yes"})
    assert list(response.context["cl"].result_list) == [older]
    response = client_for(street_staff).get(reverse(CHANGELIST), {"overdue": "no"})
    assert list(response.context["cl"].result_list) == [need_x]


def test_search_finds_a_need_by_its_tracking_code_as_read_aloud(street_staff, need_x, need_y):
    spoken = services.format_tracking_code(need_x.tracking_code).lower()
    response = client_for(street_staff).get(reverse(CHANGELIST), {"q": spoken})
    assert list(response.context["cl"].result_list) == [need_x]


def test_staff_see_the_contact_data_and_the_timeline_on_the_need(community_x_staff, need_x, unit_a, street_staff):
    services.need_dispatch(need=need_x, unit=unit_a, actor=street_staff, note="请尽快联系")
    page = client_for(community_x_staff).get(reverse("admin:demands_need_change", args=[need_x.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "13700000001" in body and need_x.contact_name in body
    assert "请尽快联系" in body  # the timeline inline


def test_community_staff_of_another_community_get_no_access(community_y_staff, need_x, unit_a):
    client = client_for(community_y_staff)
    change = client.get(reverse("admin:demands_need_change", args=[need_x.pk]))
    assert change.status_code == 404  # what one may not see answers 404, as a missing id does
    assert need_x.title not in client.get(reverse(CHANGELIST)).content.decode()
    dispatch_url = reverse("admin:demands_need_dispatch", args=[need_x.pk])
    assert client.get(dispatch_url).status_code == 404
    assert client.post(dispatch_url, {"other_unit": unit_a.pk}).status_code == 404
    client.post(reverse(CHANGELIST), {"action": "reject", "_selected_action": [need_x.pk], "apply": "1", "reason": "x"})
    need_x.refresh_from_db()
    assert need_x.status == S.SUBMITTED and need_x.unit is None


@pytest.mark.parametrize("who", ["liaison_a", "member"])
def test_people_who_are_not_staff_do_not_enter_the_admin(who, cast, need_x):
    response = client_for(cast[who]).get(reverse("admin:demands_need_dispatch", args=[need_x.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- Dispatching ----------------------------------------------------------------------------------


def test_the_dispatch_screen_suggests_units_and_resources_with_reasons(community_x_staff, need_x, unit_a, category):
    ResourceFactory(unit=unit_a, category=category, title="环卫志愿队")
    change = client_for(community_x_staff).get(reverse("admin:demands_need_change", args=[need_x.pk]))
    dispatch_url = reverse("admin:demands_need_dispatch", args=[need_x.pk])
    assert dispatch_url in change.content.decode()  # the "Dispatch" button

    page = client_for(community_x_staff).get(dispatch_url)
    assert page.status_code == 200
    first = page.context["unit_suggestions"][0]["s"]
    assert first.unit_id == unit_a.pk and first.reasons
    body = page.content.decode()
    for reason in first.reasons:
        assert reason in body
    assert "环卫志愿队" in body
    assert page.context["resource_suggestions"][0]["s"].reasons


def test_staff_dispatch_a_need_to_a_suggested_unit(community_x_staff, need_x, unit_a):
    response = client_for(community_x_staff).post(
        reverse("admin:demands_need_dispatch", args=[need_x.pk]), {"target": f"unit:{unit_a.pk}", "note": "周末前处理"}
    )
    assert response.status_code == 302
    need_x.refresh_from_db()
    assert need_x.status == S.DISPATCHED and need_x.unit == unit_a
    event = NeedEvent.objects.filter(need=need_x).last()
    assert (event.to_status, event.note, event.actor) == (S.DISPATCHED, "周末前处理", community_x_staff)


def test_staff_dispatch_a_need_through_a_resource(community_x_staff, need_x, unit_b, category):
    resource = ResourceFactory(unit=unit_b, category=category)
    response = client_for(community_x_staff).post(
        reverse("admin:demands_need_dispatch", args=[need_x.pk]), {"target": f"resource:{resource.pk}"}
    )
    assert response.status_code == 302
    need_x.refresh_from_db()
    assert (need_x.status, need_x.unit, need_x.resource) == (S.DISPATCHED, unit_b, resource)


def test_dispatching_to_another_unit_outside_the_suggestions(street_staff, need_x, community_y):
    far = MemberUnitFactory(community=community_y, name="远处的单位")
    client_for(street_staff).post(reverse("admin:demands_need_dispatch", args=[need_x.pk]), {"other_unit": far.pk})
    need_x.refresh_from_db()
    assert need_x.unit == far


def test_dispatching_without_a_choice_or_to_an_inactive_unit_changes_nothing(street_staff, need_x, community_x):
    url = reverse("admin:demands_need_dispatch", args=[need_x.pk])
    client = client_for(street_staff)
    empty = client.post(url, {"note": "x"})
    assert empty.status_code == 200 and empty.context["form"].errors
    withdrawn = MemberUnitFactory(community=community_x, status="withdrawn")
    for data in ({"target": f"unit:{withdrawn.pk}"}, {"other_unit": withdrawn.pk}, {"target": "unit:x"}):
        refused = client.post(url, data)
        assert refused.status_code == 200 and refused.context["form"].errors
    need_x.refresh_from_db()
    assert need_x.status == S.SUBMITTED and need_x.unit is None
    assert list(NeedEvent.objects.filter(need=need_x).values_list("to_status", flat=True)) == []


def test_dispatching_a_need_already_dispatched_sends_back_to_the_need(street_staff, need_x, unit_a, unit_b):
    services.need_dispatch(need=need_x, unit=unit_a, actor=street_staff)
    response = client_for(street_staff).post(
        reverse("admin:demands_need_dispatch", args=[need_x.pk]), {"target": f"unit:{unit_b.pk}"}
    )
    assert response.status_code == 302 and _messages(response)
    need_x.refresh_from_db()
    assert need_x.unit == unit_a


# --- Actions --------------------------------------------------------------------------------------


def test_reject_asks_for_the_reason_then_rejects(community_x_staff, need_x):
    client = client_for(community_x_staff)
    ask = client.post(reverse(CHANGELIST), {"action": "reject", "_selected_action": [need_x.pk]})
    assert ask.status_code == 200 and "reason" in ask.context["form"].fields
    need_x.refresh_from_db()
    assert need_x.status == S.SUBMITTED

    done = client.post(
        reverse(CHANGELIST),
        {"action": "reject", "_selected_action": [need_x.pk], "apply": "1", "reason": "不属于联盟服务范围"},
    )
    assert done.status_code == 302
    need_x.refresh_from_db()
    assert need_x.status == S.REJECTED and need_x.reject_reason == "不属于联盟服务范围"
    event = NeedEvent.objects.filter(need=need_x).last()
    assert (event.to_status, event.note) == (S.REJECTED, "不属于联盟服务范围")


def test_showcase_and_remove_from_showcase(community_x_staff, street_staff, liaison_a, unit_a, need_x, need_y):
    need_x = _completed(need_x, unit_a, street_staff, liaison_a)
    client = client_for(community_x_staff)
    client.post(reverse(CHANGELIST), {"action": "showcase", "_selected_action": [need_x.pk]})
    need_x.refresh_from_db()
    assert need_x.showcased_at is not None
    client.post(reverse(CHANGELIST), {"action": "unshowcase", "_selected_action": [need_x.pk]})
    need_x.refresh_from_db()
    assert need_x.showcased_at is None


def test_showcasing_a_need_not_completed_is_refused_with_a_message(street_staff, need_x):
    response = client_for(street_staff).post(
        reverse(CHANGELIST), {"action": "showcase", "_selected_action": [need_x.pk]}
    )
    assert response.status_code == 302 and _messages(response)
    need_x.refresh_from_db()
    assert need_x.showcased_at is None


def test_export_returns_a_workbook_with_the_selected_needs(community_x_staff, community_x, category, need_x):
    other = NeedFactory(community=community_x, category=category, title="=cmd|' /C calc'!A0")
    content = export_through_job(
        client_for(community_x_staff),
        reverse(CHANGELIST),
        {"action": "export_xlsx", "_selected_action": [need_x.pk, other.pk]},
    )
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    codes = {row[0] for row in rows[1:]}
    assert services.format_tracking_code(need_x.tracking_code) in codes
    titles = {row[1] for row in rows[1:]}
    assert "桥头街的楼道灯" in titles and "'=cmd|' /C calc'!A0" in titles  # formula written as text
    assert "13700000001" in {row[-1] for row in rows[1:]}  # staff's internal list carries the phone


def test_the_needs_export_runs_as_a_job_in_queries_that_do_not_grow_with_its_rows(
    community_x_staff, community_x, community_y, category
):
    """The export is written by the job, streamed; its queries are the same for 10 and 30 needs. Needs
    of another community chosen in the request (or no longer visible) are left out by the job."""
    from alliance import jobs
    from alliance.models import Job

    elsewhere = NeedFactory(community=community_y, category=category)
    counts = []
    for size in (1, 10, 30):  # the first run fills the process's caches (content types), not measured
        needs = [NeedFactory(community=community_x, category=category) for _ in range(size)]
        job = Job.objects.create(
            kind="export.needs",
            label="needs",
            payload={"ids": [n.pk for n in [*needs, elsewhere]], "filename": "needs.xlsx"},
            requested_by=community_x_staff,
        )
        with CaptureQueriesContext(connection) as queries:
            jobs.run(job.pk)
        job.refresh_from_db()
        assert job.status == Job.Status.DONE
        counts.append(len(queries.captured_queries))
        rows = list(load_workbook(job.result.open("rb"), read_only=True).active.iter_rows(values_only=True))
        codes = {row[0] for row in rows[1:]}
        assert codes == {services.format_tracking_code(n.tracking_code) for n in needs}
    assert counts[1:] == [EXPORT_QUERIES[connection.vendor]] * 2


# The job's claim, the user, the rows (one query, streamed), the result stored and the job finished (the
# user's group names from the cache once the first run read them, alliance/permissions.py).
EXPORT_QUERIES = {"sqlite": 9, "postgresql": 9}


# --- Entering a need on a resident's behalf --------------------------------------------------------


def _entry(community, category, **extra) -> dict:
    return {
        "channel": "phone",
        "kind": "resident",
        "community": community.pk,
        "category": category.pk,
        "title": "独居老人需要助餐",
        "description": "83岁独居老人做饭不便，希望有人送餐。",
        "contact_name": "赵秀英",
        "contact_phone": "13912340001",
        "address": "桥头街8号楼",
        **extra,
    }


def test_staff_enter_a_need_taken_by_phone(community_x_staff, community_x, category):
    client = client_for(community_x_staff)
    assert client.get(reverse("admin:demands_need_add")).status_code == 200
    response = client.post(reverse("admin:demands_need_add"), _entry(community_x, category))
    assert response.status_code == 302
    need = Need.objects.get()
    assert (need.channel, need.status, need.created_by, need.community) == (
        Need.Channel.PHONE,
        S.SUBMITTED,
        community_x_staff,
        community_x,
    )
    assert len(need.tracking_code) == services.TRACKING_LENGTH
    event = NeedEvent.objects.get(need=need)
    assert (event.from_status, event.to_status, event.actor) == ("", S.SUBMITTED, community_x_staff)


def test_community_staff_cannot_enter_a_need_for_another_community(community_x_staff, community_y, category):
    response = client_for(community_x_staff).post(reverse("admin:demands_need_add"), _entry(community_y, category))
    assert response.status_code == 200 and "community" in response.context["adminform"].form.errors
    assert not Need.objects.exists()


def test_entering_a_need_with_a_bad_phone_number_is_refused(community_x_staff, community_x, category):
    data = _entry(community_x, category, contact_phone="12345")
    response = client_for(community_x_staff).post(reverse("admin:demands_need_add"), data)
    assert response.status_code == 200 and "contact_phone" in response.context["adminform"].form.errors
    assert not Need.objects.exists()


def test_the_change_form_edits_what_the_need_says_not_where_it_stands(community_x_staff, need_x, category):
    url = reverse("admin:demands_need_change", args=[need_x.pk])
    client = client_for(community_x_staff)
    form = client.get(url).context["adminform"].form
    assert set(form.fields) == set(services.EDIT_FIELDS)
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(title="更正后的标题", category=category.pk, status="closed")
    for prefix in ("events", "photos"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    assert client.post(url, data).status_code == 302
    need_x.refresh_from_db()
    assert need_x.title == "更正后的标题" and need_x.status == S.SUBMITTED


# --- Resources -------------------------------------------------------------------------------------


def test_staff_publish_withdraw_and_restore_a_resource(community_x_staff, unit_a, category):
    client = client_for(community_x_staff)
    data = {"unit": unit_a.pk, "category": category.pk, "kind": "talent", "title": "法律顾问", "is_free": "on"}
    assert client.post(reverse("admin:demands_resource_add"), data).status_code == 302
    resource = Resource.objects.get()
    assert resource.unit == unit_a
    url = reverse("admin:demands_resource_changelist")
    client.post(url, {"action": "withdraw", "_selected_action": [resource.pk]})
    resource.refresh_from_db()
    assert resource.status == Resource.Status.WITHDRAWN
    client.post(url, {"action": "restore", "_selected_action": [resource.pk]})
    resource.refresh_from_db()
    assert resource.status == Resource.Status.ACTIVE


def test_community_staff_cannot_publish_for_a_unit_of_another_community(community_x_staff, unit_b, category):
    data = {"unit": unit_b.pk, "category": category.pk, "kind": "talent", "title": "法律顾问", "is_free": "on"}
    response = client_for(community_x_staff).post(reverse("admin:demands_resource_add"), data)
    assert response.status_code == 200
    assert not Resource.objects.exists()


# --- Every screen renders; query counts ------------------------------------------------------------


def test_every_demands_changelist_and_add_page_renders_for_street_staff(
    street_staff, need_x, unit_a, liaison_a, category
):
    ResourceFactory(unit=unit_a, category=category)
    client = client_for(street_staff)
    for model in ("need", "resource"):
        assert client.get(reverse(f"admin:demands_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:demands_{model}_add")).status_code == 200
    assert client.get(reverse("admin:demands_need_change", args=[need_x.pk])).status_code == 200
    assert client.get(reverse("admin:demands_need_dispatch", args=[need_x.pk])).status_code == 200
    assert client.get(reverse("admin:demands_need_history", args=[need_x.pk])).status_code == 200
    done = _completed(need_x, unit_a, street_staff, liaison_a)
    assert client.get(reverse("admin:demands_need_change", args=[done.pk])).status_code == 200
    resource = Resource.objects.get()
    assert client.get(reverse("admin:demands_resource_change", args=[resource.pk])).status_code == 200


@pytest.mark.parametrize("who", ["street_staff", "community_x_staff"])
def test_need_changelist_query_count_does_not_grow_with_rows(who, cast, community_x, category, unit_a):
    client = client_for(cast[who])
    url = reverse(CHANGELIST)

    def make(count: int) -> None:
        needs = NeedFactory.create_batch(count, community=community_x, category=category)
        Need.objects.filter(pk__in=[n.pk for n in needs[: count // 2]]).update(status=S.DISPATCHED, unit=unit_a)

    make(4)
    client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 34
    # session, user, groups, (community staff: their communities), the counts, the page of needs joined
    # with category, community and unit, the filters' choices, the date hierarchy: none per row.
    assert len(many) == len(few)


def test_resource_changelist_query_count_does_not_grow_with_rows(street_staff, unit_a, unit_b, category):
    client = client_for(street_staff)
    url = reverse("admin:demands_resource_changelist")
    ResourceFactory.create_batch(2, unit=unit_a, category=category)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    ResourceFactory.create_batch(20, unit=unit_b, category=category)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_a_refusal_from_the_service_is_an_admin_message_not_a_500(street_staff, need_x, unit_a, monkeypatch):
    """Someone else dispatched the need between the form and the click: the service refuses (the race
    itself is proven in test_concurrency); the screen says so."""
    from alliance.errors import TransitionNotAllowed

    def refuse(**kwargs):
        raise TransitionNotAllowed("Only submitted needs can be dispatched; this need is Dispatched.")

    monkeypatch.setattr(services, "need_dispatch", refuse)
    response = client_for(street_staff).post(
        reverse("admin:demands_need_dispatch", args=[need_x.pk]), {"target": f"unit:{unit_a.pk}"}
    )
    assert response.status_code == 200
    assert any("Only submitted needs" in m for m in _messages(response))

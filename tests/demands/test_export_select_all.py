"""The admin's "select all N" of a filtered list, exported as a job: the job row stores the list's filters
(its query string), not a million ids, and the worker evaluates them again within the requester's scope;
an explicit selection is still stored as its ids. Filters that are no longer valid fail the job with a
clear message."""

from __future__ import annotations

import io

import pytest
from django.test import TestCase
from django.urls import reverse
from openpyxl import load_workbook

from alliance import jobs
from alliance.models import Job
from demands import exports
from demands.models import Need
from demands.services import format_tracking_code
from volunteers.models import PartyMember

from ..conftest import client_for
from ..factories import CategoryFactory
from ..jobs import post_for_job, result_of
from ..volunteers.factories import PartyMemberFactory
from .factories import NeedFactory

CHANGELIST = "admin:demands_need_changelist"
MEMBERS = "admin:volunteers_partymember_changelist"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def category(db):
    return CategoryFactory(name="环境整治", code="environment")


def _codes(content: bytes) -> set[str]:
    rows = list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    return {row[0] for row in rows[1:]}


def test_select_all_stores_the_lists_filters_and_exports_what_they_match_in_the_requesters_scope(
    community_x_staff, community_x, community_y, category
):
    wanted = [NeedFactory(community=community_x, category=category, status=Need.Status.SUBMITTED) for _ in range(3)]
    NeedFactory(community=community_x, category=category, status=Need.Status.REJECTED, reject_reason="重复")
    NeedFactory(community=community_y, category=category, status=Need.Status.SUBMITTED)  # not the staff's
    client = client_for(community_x_staff)
    url = reverse(CHANGELIST) + "?status__exact=submitted"
    job = post_for_job(
        client, url, {"action": "export_xlsx", "select_across": "1", "index": "0", "_selected_action": [wanted[0].pk]}
    )
    assert job.status == Job.Status.DONE, job.failure_reason
    assert job.payload["changelist"] == {"model": "demands.need", "query": "status__exact=submitted", "narrow": ""}
    assert "ids" not in job.payload
    assert _codes(result_of(client, job)) == {format_tracking_code(n.tracking_code) for n in wanted}
    assert job.outcome == "已导出 3 行。"


def test_an_explicit_selection_is_still_stored_as_its_ids(community_x_staff, community_x, category):
    needs = [NeedFactory(community=community_x, category=category) for _ in range(3)]
    client = client_for(community_x_staff)
    job = post_for_job(
        client,
        reverse(CHANGELIST) + "?status__exact=submitted",
        {"action": "export_xlsx", "select_across": "0", "index": "0", "_selected_action": [needs[0].pk, needs[2].pk]},
    )
    assert job.status == Job.Status.DONE, job.failure_reason
    assert sorted(job.payload["ids"]) == sorted([needs[0].pk, needs[2].pk])
    assert "changelist" not in job.payload
    assert _codes(result_of(client, job)) == {format_tracking_code(needs[i].tracking_code) for i in (0, 2)}


def test_select_all_is_evaluated_when_the_job_runs_for_who_asked_now(community_x_staff, community_x, category, root):
    """The filters are evaluated by the worker: a need that arrived meanwhile is in the file, and rows the
    requester may no longer see are not (here: they no longer work for the
    community, and may no longer see the list at all: the job fails and says why)."""
    from members import services as member_services
    from members.models import CommunityStaff

    first = NeedFactory(community=community_x, category=category)
    client = client_for(community_x_staff)
    with TestCase.captureOnCommitCallbacks(execute=False):  # queued, not run yet
        response = client.post(
            reverse(CHANGELIST),
            {"action": "export_xlsx", "select_across": "1", "index": "0", "_selected_action": [first.pk]},
        )
    assert response.status_code == 302
    job = Job.objects.get()
    later = NeedFactory(community=community_x, category=category)
    assert jobs.run(job.pk) is True
    job.refresh_from_db()
    assert _codes(result_of(client, job)) == {format_tracking_code(n.tracking_code) for n in (first, later)}

    again = Job.objects.create(
        kind=exports.EXPORT_NEEDS, label="x", payload=job.payload, requested_by=community_x_staff
    )
    member_services.community_staff_remove(assignment=CommunityStaff.objects.get(user=community_x_staff), actor=root)
    assert jobs.run(again.pk) is True
    again.refresh_from_db()
    assert (again.status, again.failure_reason, bool(again.result)) == (
        Job.Status.FAILED,
        "您已无权查看此列表。",
        False,
    )


def test_filters_no_longer_valid_fail_the_job_with_a_clear_message(community_x_staff, community_x, category):
    NeedFactory(community=community_x, category=category)
    job = Job.objects.create(
        kind=exports.EXPORT_NEEDS,
        label="x",
        payload={"changelist": {"model": "demands.need", "query": "no_such_field=1", "narrow": ""}},
        requested_by=community_x_staff,
    )
    assert jobs.run(job.pk) is True
    job.refresh_from_db()
    assert (job.status, job.failure_reason, bool(job.result)) == (
        Job.Status.FAILED,
        "列表的筛选条件已失效，请重新导出。",
        False,
    )


def test_select_all_in_the_import_layout_applies_the_admins_narrowing_too(street_staff, community_x, community_y):
    """The members' import layout narrows the rows to the phones the user may see in full
    (`get_export_queryset`): a select-all stores that too and the worker applies it."""
    mine = [PartyMemberFactory(residence_community=community_x) for _ in range(2)]
    PartyMemberFactory(residence_community=community_y)
    client = client_for(street_staff)
    community_filter = client.get(reverse(MEMBERS)).context["cl"].get_filters_params()
    assert community_filter == {}
    query = f"residence_community={community_x.pk}"
    response = client.get(reverse(MEMBERS) + "?" + query)
    assert response.status_code == 200
    assert {m.pk for m in response.context["cl"].result_list} == {m.pk for m in mine}
    job = post_for_job(
        client,
        reverse(MEMBERS) + "?" + query,
        {"action": "export_import_layout", "select_across": "1", "index": "0", "_selected_action": [mine[0].pk]},
    )
    assert job.status == Job.Status.DONE, job.failure_reason
    assert job.payload["changelist"] == {
        "model": "volunteers.partymember",
        "query": query,
        "narrow": "get_export_queryset",
    }
    rows = list(
        load_workbook(io.BytesIO(result_of(client, job)), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert sorted(row[1] for row in rows[1:]) == sorted(
        m.phone for m in PartyMember.objects.filter(pk__in=[m.pk for m in mine])
    )

"""Resolutions forwarded up (issue 14): a community's to its street's next coordination meeting, a street's
to its district's; the link both ways; the higher body's answer (done with its result, or declined with its
reason) flows back and the original's owner is told; one forward at a time, even from two threads."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance import permissions
from alliance.errors import Conflict, TransitionNotAllowed
from alliance.models import Notification
from alliance.periods import Quarter
from alliance.reports import ReportContext
from meetings import selectors, services
from meetings.models import JointMeeting, Level, Resolution, ResolutionProgress
from meetings.report_sheets import RESOLUTIONS
from members import services as member_services
from members.models import District

from ..api import api_client as _api
from ..conftest import client_for
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory, SeriesFactory, local

R = Resolution.Status


@pytest.fixture
def district(db):
    return District.objects.create(name="秦都区")


@pytest.fixture
def street(community_x, district):
    street = community_x.street
    street.district = district
    street.save(update_fields=["district"])
    return street


@pytest.fixture
def community_meeting(community_x, community_x_staff):
    start = timezone.now() - timedelta(days=2)
    return MeetingFactory(
        level=Level.COMMUNITY,
        community=community_x,
        street=community_x.street,
        organiser=community_x_staff,
        start=start,
        status=JointMeeting.Status.HELD,
        title="桥头街社区联席会议",
    )


@pytest.fixture
def original(community_meeting, unit_a):
    return ResolutionFactory(meeting=community_meeting, owner=unit_a, text="协调交警大队为辖区道路安装防护栏")


def _street_meeting(street, days: int, **kwargs) -> JointMeeting:
    start = local(timezone.localdate() + timedelta(days=days), time(9, 0))
    return MeetingFactory(level=Level.STREET, street=street, start=start, **kwargs)


def _district_meeting(district, days: int, **kwargs) -> JointMeeting:
    start = local(timezone.localdate() + timedelta(days=days), time(9, 0))
    return MeetingFactory(level=Level.DISTRICT, district=district, start=start, title="区域化党建指导委员会", **kwargs)


@pytest.fixture
def district_staff(district, root):
    user = UserFactory(username="district_staff")
    member_services.district_staff_add(user=user, district=district, actor=root)
    return user


def test_a_community_resolution_goes_to_the_streets_next_coordination_meeting(
    original, street, community_x_staff, unit_a
):
    _street_meeting(street, 40, title="later")
    _street_meeting(street, -3, title="already held")
    _street_meeting(street, 5, title="cancelled", status=JointMeeting.Status.CANCELLED)
    following = _street_meeting(street, 10, title="街道党建联席会议")

    forwarded = services.resolution_forward(resolution=original, actor=community_x_staff, reason="社区无法协调交警")

    assert forwarded.status == R.FORWARDED
    assert forwarded.forward_street_id == street.pk and forwarded.forward_district_id is None
    assert forwarded.forward_note == "社区无法协调交警"
    item = Resolution.objects.get(forwarded_from=original)
    assert item.meeting == following
    assert (item.text, item.owner, item.status) == (original.text, unit_a, R.OPEN)
    assert item.due_date == timezone.localdate() + timedelta(days=10 + services.FORWARDED_DUE_DAYS)
    # The link both ways, as every list reads it.
    row = selectors.resolutions_visible_to(user=community_x_staff).get(pk=original.pk)
    assert (row.forwarded_to_id, row.forwarded_to_meeting_id, row.forwarded_to_title) == (
        item.pk,
        following.pk,
        "街道党建联席会议",
    )


def test_with_no_street_meeting_planned_it_waits_until_one_is_planned(original, street, community_x_staff):
    services.resolution_forward(resolution=original, actor=community_x_staff)
    assert not Resolution.objects.filter(forwarded_from=original).exists()
    assert Resolution.objects.get(pk=original.pk).status == R.FORWARDED

    series = SeriesFactory(level=Level.STREET, street=street, recurrence="quarterly", title="街道党建联席会议")
    planned = services.series_plan(series=series)

    item = Resolution.objects.get(forwarded_from=original)
    assert item.meeting == min(planned, key=lambda m: m.start)
    # Planning again attaches nothing twice.
    services.series_plan(series=series)
    assert Resolution.objects.filter(forwarded_from=original).count() == 1


def test_a_meeting_planned_by_staff_takes_the_waiting_items(original, street, community_x_staff, street_staff):
    services.resolution_forward(resolution=original, actor=community_x_staff)
    start = timezone.now() + timedelta(days=20)
    meeting = services.meeting_create(
        actor=street_staff,
        data={
            "level": "street",
            "title": "街道协调会",
            "start": start,
            "end": start + timedelta(hours=2),
            "place": "三楼",
        },
    )
    assert list(meeting.resolutions.values_list("forwarded_from_id", flat=True)) == [original.pk]


def test_the_street_settles_it_and_the_result_flows_back_to_the_owner(
    original, street, community_x_staff, street_staff, liaison_a
):
    _street_meeting(street, 10)
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)

    services.resolution_done(resolution=item, actor=street_staff, result="交警大队已安装防护栏和隔离带")

    original.refresh_from_db()
    assert original.status == R.DONE and original.done_at is not None
    assert original.result == "交警大队已安装防护栏和隔离带"
    note = ResolutionProgress.objects.get(resolution=original)
    assert "交警大队已安装防护栏和隔离带" in note.text
    told = Notification.objects.get(recipient=liaison_a, kind=f"resolution_answered:{original.pk}")
    assert "交警大队已安装防护栏和隔离带" in told.body
    assert original.history.first().history_change_reason == "done above"


def test_the_street_declines_it_and_the_original_is_open_again_with_the_reason(
    original, street, community_x_staff, street_staff, liaison_a
):
    _street_meeting(street, 10)
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)

    services.resolution_decline(resolution=item, actor=street_staff, reason="属物业管理事项，请社区协调物业公司")

    original.refresh_from_db()
    item.refresh_from_db()
    assert item.status == R.DECLINED
    assert original.status == R.OPEN and original.decline_reason == "属物业管理事项，请社区协调物业公司"
    assert Notification.objects.filter(recipient=liaison_a, kind=f"resolution_answered:{original.pk}").count() == 1
    # Open again below: it may be forwarded again, and the street gets a new item.
    services.resolution_forward(resolution=original, actor=community_x_staff, reason="物业公司拒绝")
    assert Resolution.objects.filter(forwarded_from=original).count() == 2


def test_a_street_item_goes_on_to_the_district_and_the_answer_settles_the_whole_chain(
    original, street, district, community_x_staff, street_staff, district_staff
):
    _street_meeting(street, 10)
    services.resolution_forward(resolution=original, actor=community_x_staff)
    street_item = Resolution.objects.get(forwarded_from=original)
    district_meeting = _district_meeting(district, 30)

    services.resolution_forward(resolution=street_item, actor=street_staff, reason="需区交通部门协调")
    district_item = Resolution.objects.get(forwarded_from=street_item)
    assert district_item.meeting == district_meeting
    street_item.refresh_from_db()
    assert (street_item.status, street_item.forward_district_id) == (R.FORWARDED, district.pk)

    services.resolution_done(resolution=district_item, actor=district_staff, result="区交通局已批复")

    for resolution in (street_item, original):
        resolution.refresh_from_db()
        assert (resolution.status, resolution.result) == (R.DONE, "区交通局已批复")
    # Reopened at the district: the answer is withdrawn all the way down.
    services.resolution_reopen(resolution=district_item, actor=district_staff)
    for resolution in (street_item, original):
        resolution.refresh_from_db()
        assert resolution.status == R.FORWARDED


def test_a_district_meetings_resolution_has_nowhere_higher_to_go(district, district_staff, unit_a):
    resolution = ResolutionFactory(meeting=_district_meeting(district, -2), owner=unit_a)
    response = _api(district_staff).post(f"/api/v1/resolutions/{resolution.pk}/forward/", {}, format="json")
    assert response.status_code == 409
    assert Resolution.objects.get(pk=resolution.pk).status == R.OPEN


def test_a_street_without_a_district_cannot_forward_up(community_x, street_staff, unit_a):
    resolution = ResolutionFactory(meeting=_street_meeting(community_x.street, -2), owner=unit_a)
    with pytest.raises(TransitionNotAllowed):
        services.resolution_forward(resolution=resolution, actor=street_staff)
    assert Resolution.objects.get(pk=resolution.pk).status == R.OPEN


def test_only_an_open_resolution_is_forwarded_and_only_once(original, street, community_x_staff):
    services.resolution_forward(resolution=original, actor=community_x_staff)
    response = _api(community_x_staff).post(f"/api/v1/resolutions/{original.pk}/forward/", {}, format="json")
    assert response.status_code == 409
    assert "已上报" in response.json()["detail"]


def test_who_may_forward_and_decline(original, street, cast):
    # The owner unit's liaison sees it but does not forward it (the meeting's staff do); others do not see it.
    assert _api(cast["liaison_a"]).post(f"/api/v1/resolutions/{original.pk}/forward/", {}).status_code == 403
    assert _api(cast["liaison_b"]).post(f"/api/v1/resolutions/{original.pk}/forward/", {}).status_code == 404
    assert _api(cast["community_y_staff"]).post(f"/api/v1/resolutions/{original.pk}/forward/", {}).status_code == 404
    assert Resolution.objects.get(pk=original.pk).status == R.OPEN
    assert permissions.actions_allowed(cast["community_x_staff"], original) == ["done", "forward"]
    assert permissions.actions_allowed(cast["liaison_a"], original) == []
    # Declining is for items forwarded from below only.
    response = _api(cast["community_x_staff"]).post(
        f"/api/v1/resolutions/{original.pk}/decline/", {"reason": "不受理"}, format="json"
    )
    assert response.status_code == 409


def test_the_api_forwards_and_shows_the_link_both_ways(original, street, community_x_staff, street_staff):
    following = _street_meeting(street, 10)
    response = _api(community_x_staff).post(
        f"/api/v1/resolutions/{original.pk}/forward/", {"reason": "社区无法解决"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    item = Resolution.objects.get(forwarded_from=original)
    assert (body["status"], body["forwarded_to"], body["forwarded_to_meeting"]) == ("forwarded", item.pk, following.pk)
    assert (body["forward_street"], body["forward_note"]) == (street.pk, "社区无法解决")
    shown = _api(street_staff).get(f"/api/v1/resolutions/{item.pk}/").json()
    assert (shown["forwarded_from"], shown["forwarded_to"], shown["status"]) == (original.pk, None, "open")
    done = _api(street_staff).post(f"/api/v1/resolutions/{item.pk}/done/", {"result": "已安装"}, format="json")
    assert (done.status_code, done.json()["result"]) == (200, "已安装")
    assert _api(community_x_staff).get(f"/api/v1/resolutions/{original.pk}/").json()["status"] == "done"


def test_bad_input_to_forward_and_decline_is_a_field_error(original, street, community_x_staff, street_staff):
    response = _api(community_x_staff).post(
        f"/api/v1/resolutions/{original.pk}/forward/", {"reason": "x" * 301}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    _street_meeting(street, 10)
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)
    response = _api(street_staff).post(f"/api/v1/resolutions/{item.pk}/decline/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert Resolution.objects.get(pk=item.pk).status == R.OPEN


def test_the_resolution_list_costs_the_same_queries_with_more_forwarded_rows(street, community_x_staff, unit_a):
    following = _street_meeting(street, 10)
    client = _api(community_x_staff)

    def forward_some(n: int) -> None:
        meeting = MeetingFactory(level=Level.COMMUNITY, community=unit_a.community, organiser=community_x_staff)
        for _ in range(n):
            services.resolution_forward(
                resolution=ResolutionFactory(meeting=meeting, owner=unit_a), actor=community_x_staff
            )

    forward_some(2)
    client.get("/api/v1/resolutions/")  # the session's first request warms the caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/resolutions/").status_code == 200
    forward_some(6)
    with CaptureQueriesContext(connection) as many:
        rows = client.get("/api/v1/resolutions/").json()["results"]
    # The page's rows with the forwarding annotated (subqueries) and joined: the count does not grow.
    assert len(many) == len(few)
    assert sum(1 for r in rows if r["forwarded_to_meeting"] == following.pk) == 8


def test_district_meetings_are_their_districts_and_read_only_to_its_streets_staff(
    district, street, district_staff, street_staff, root, unit_a
):
    meeting = _district_meeting(district, 5)
    resolution = ResolutionFactory(meeting=meeting, owner=unit_a)
    other_district = District.objects.create(name="渭城区")
    elsewhere = _district_meeting(other_district, 5)
    member_services.street_staff_add(user=street_staff, street=street, actor=root)
    permissions.forget_cached_permissions(street_staff)

    assert set(permissions.visible(district_staff, JointMeeting).filter(level="district")) == {meeting}
    assert permissions.can_change(district_staff, meeting) and not permissions.can_change(district_staff, elsewhere)
    assert set(permissions.visible(street_staff, JointMeeting).filter(level="district")) == {meeting}
    assert not permissions.can_change(street_staff, meeting)
    assert permissions.can_view(street_staff, resolution) and not permissions.can_change(street_staff, resolution)
    assert permissions.can_change(district_staff, resolution)
    with pytest.raises(Http404):
        permissions.get_visible_or_404(street_staff, JointMeeting, pk=elsewhere.pk)


def test_another_districts_street_staff_sees_none_of_this_districts_meetings(district, street, root):
    meeting = _district_meeting(district, 5)
    other = StreetFactory(name="西兰路街道", district=District.objects.create(name="渭城区"))
    outsider = UserFactory(username="outsider", is_staff=True)
    member_services.street_staff_add(user=outsider, street=other, actor=root)
    assert not permissions.visible(outsider, JointMeeting).filter(pk=meeting.pk).exists()


def test_the_admin_action_forwards_with_the_reason(original, street, community_x_staff):
    following = _street_meeting(street, 10)
    client = client_for(community_x_staff)
    url = reverse("admin:meetings_resolution_changelist")
    asked = client.post(url, {"action": "forward", "_selected_action": [original.pk]})
    assert asked.status_code == 200 and "reason" in asked.content.decode()
    done = client.post(
        url, {"action": "forward", "_selected_action": [original.pk], "apply": "1", "reason": "社区无法协调交警"}
    )
    assert done.status_code == 302
    item = Resolution.objects.get(forwarded_from=original)
    assert item.meeting == following
    assert Resolution.objects.get(pk=original.pk).forward_note == "社区无法协调交警"


def test_the_owners_portal_shows_where_it_went_and_what_came_back(
    original, street, community_x_staff, street_staff, liaison_a
):
    _street_meeting(street, 10, title="街道党建联席会议")
    services.resolution_forward(resolution=original, actor=community_x_staff)
    page = client_for(liaison_a).get(reverse("portal:resolution_list")).content.decode()
    assert 'data-status="forwarded"' in page and "街道党建联席会议" in page
    item = Resolution.objects.get(forwarded_from=original)
    services.resolution_decline(resolution=item, actor=street_staff, reason="请社区协调物业")
    page = client_for(liaison_a).get(reverse("portal:resolution_list")).content.decode()
    assert "data-declined" in page and "请社区协调物业" in page


def test_the_quarterly_sheet_shows_forwarded_items(original, street, community_x_staff, unit_a):
    following = _street_meeting(street, 10, title="街道党建联席会议")
    InvitationFactory(meeting=following, unit=unit_a)  # a street-wide meeting of the street: it invited its units
    services.resolution_forward(resolution=original, actor=community_x_staff)
    today = timezone.localdate()
    rows = list(RESOLUTIONS.rows(ReportContext(street.pk, Quarter.of(today))))
    by_text = {}
    for row in rows:
        by_text.setdefault(row[2], []).append(row)
    (first, second) = sorted(by_text[original.text], key=lambda r: r[0] == following.title)
    assert first[0] == original.meeting.title and first[11] == "街道党建联席会议"  # went up to
    assert second[0] == following.title and second[10] == original.meeting.title  # came from


# --- Two staff forwarding the same resolution at once ----------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_forwarding_at_once_make_one_item():
    root = UserFactory(username="root-race", is_superuser=True, is_staff=True)
    district = District.objects.create(name="秦都区-race")
    community = CommunityFactory(street=StreetFactory(name="西兰路街道-race", district=district))
    staff = []
    for i in range(2):
        user = UserFactory(username=f"cs{i}-race")
        member_services.community_staff_add(user=user, community=community, actor=root)
        staff.append(user)
    meeting = MeetingFactory(level=Level.COMMUNITY, community=community, street=community.street, organiser=staff[0])
    _street_meeting(community.street, 10)
    resolution = ResolutionFactory(meeting=meeting, owner=MemberUnitFactory(community=community))
    barrier = threading.Barrier(len(staff))
    outcomes: list[str] = []

    def run(user) -> None:
        try:
            barrier.wait()
            services.resolution_forward(resolution=resolution, actor=user)
            outcomes.append("forwarded")
        except Conflict as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["TransitionNotAllowed", "forwarded"]
    assert Resolution.objects.filter(forwarded_from=resolution).count() == 1

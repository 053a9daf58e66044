"""District meetings planned through the API and the admin (issue 14): a district's staff plan the
meetings of their own district, over `/api/v1/meetings/` (with `district` read and written) and on the
admin's add form (which offers them the level 区级 and their district); the staff of a street and the
staff of another district are refused with a clear message and nothing is written. A street-level meeting
names its street when the planner runs several. The world is test_street_scopes.py's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from meetings.models import JointMeeting, Level
from members import services as member_services
from members.models import District, Street

from ..conftest import client_for
from .test_street_scopes import streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

MEETINGS = "/api/v1/meetings/"


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def _body(**changes) -> dict:
    start = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    body = {
        "level": Level.DISTRICT,
        "kind": "regular",
        "title": "区域化党建指导委员会全体会议",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "place": "区委党校报告厅",
    }
    return {**body, **changes}


def _home() -> District:
    return District.objects.get(name="迎泽区")


def test_district_staff_plan_list_and_open_a_meeting_of_their_district(streets):  # noqa: F811
    _things, users = streets
    client = _api(users["officer"])
    home = _home()
    created = client.post(MEETINGS, _body(district=home.pk), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["level"], body["district"], body["street"], body["community"]) == ("district", home.pk, None, None)
    meeting = JointMeeting.objects.get(pk=body["id"])
    assert (meeting.district, meeting.street_id, meeting.organiser_id) == (home, None, users["officer"].pk)

    # Without naming it: their one district.
    second = client.post(MEETINGS, _body(title="第二次全体会议"), format="json")
    assert second.status_code == 201 and second.json()["district"] == home.pk

    listed = client.get(MEETINGS, {"level": "district"}).json()["results"]
    assert {(row["id"], row["district"], row["street"]) for row in listed} == {
        (body["id"], home.pk, None),
        (second.json()["id"], home.pk, None),
    }
    detail = client.get(f"{MEETINGS}{body['id']}/").json()
    assert (detail["title"], detail["district"], detail["status"]) == (
        "区域化党建指导委员会全体会议",
        home.pk,
        "planned",
    )
    # The staff of the district's streets see it; the other district's staff do not.
    assert _api(users["street_staff"]).get(f"{MEETINGS}{body['id']}/").json()["district"] == home.pk
    assert _api(users["far_officer"]).get(f"{MEETINGS}{body['id']}/").status_code == 404

    # They edit it (it is theirs); a street's staff may not.
    edited = client.patch(f"{MEETINGS}{body['id']}/", {"agenda": "一、交通护栏"}, format="json")
    assert edited.status_code == 200 and edited.json()["agenda"] == "一、交通护栏"
    refused = _api(users["street_staff"]).patch(f"{MEETINGS}{body['id']}/", {"agenda": "改"}, format="json")
    assert refused.status_code == 403
    assert JointMeeting.objects.get(pk=body["id"]).agenda == "一、交通护栏"


def test_street_staff_may_not_plan_a_district_meeting(streets):  # noqa: F811
    _things, users = streets
    for extra in ({}, {"district": _home().pk}):
        response = _api(users["street_staff"]).post(MEETINGS, _body(**extra), format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the staff of a district plan its district meetings."}
    assert not JointMeeting.objects.filter(level=Level.DISTRICT).exists()


def test_another_districts_staff_may_not_name_this_district(streets):  # noqa: F811
    _things, users = streets
    response = _api(users["far_officer"]).post(MEETINGS, _body(district=_home().pk), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["district"]
    assert not JointMeeting.objects.filter(level=Level.DISTRICT).exists()
    # Their own district they plan in.
    own = _api(users["far_officer"]).post(MEETINGS, _body(), format="json")
    assert own.status_code == 201 and own.json()["district"] == District.objects.get(name="别区").pk


def test_a_district_meeting_names_no_community(streets):  # noqa: F811
    things, users = streets
    response = _api(users["officer"]).post(MEETINGS, _body(community=things["s1"]["community"].pk), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A district meeting belongs to its district: name no community or sector branch."
    }
    assert not JointMeeting.objects.filter(level=Level.DISTRICT).exists()


def test_staff_of_two_streets_name_the_street_of_a_street_meeting(streets, root):  # noqa: F811
    things, users = streets
    yingze = Street.objects.get(name="迎泽街道")
    liuxiang = things["s1"]["community"].street
    member_services.street_staff_add(user=users["yingze_staff"], street=liuxiang, actor=root)
    client = _api(users["yingze_staff"])
    ambiguous = client.post(MEETINGS, _body(level=Level.STREET), format="json")
    assert ambiguous.status_code == 400
    assert ambiguous.json() == {"detail": "Choose the street this meeting belongs to."}
    chosen = client.post(MEETINGS, _body(level=Level.STREET, street=yingze.pk), format="json")
    assert chosen.status_code == 201, chosen.json()
    assert (chosen.json()["street"], chosen.json()["district"]) == (yingze.pk, None)
    # A street of the other district is not theirs to name (nor to see).
    far = _api(users["yingze_staff"]).post(
        MEETINGS, _body(level=Level.STREET, street=Street.objects.get(name="别区街道").pk), format="json"
    )
    assert far.status_code == 400 and list(far.json()) == ["street"]
    assert JointMeeting.objects.filter(title="区域化党建指导委员会全体会议").count() == 1


def _admin_form(**changes) -> dict:
    day = timezone.localdate() + timedelta(days=7)
    data = {
        "level": Level.DISTRICT,
        "kind": "regular",
        "title": "区域化党建指导委员会（第四季度）",
        "start_0": day.isoformat(),
        "start_1": "09:00",
        "end_0": day.isoformat(),
        "end_1": "11:00",
        "place": "区委党校报告厅",
        "agenda": "通报各街道工作",
    }
    return {**data, **changes}


def test_the_admin_add_form_offers_district_staff_their_level_and_district(streets):  # noqa: F811
    things, users = streets
    client = client_for(users["officer"])
    page = client.get(reverse("admin:meetings_jointmeeting_add"))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert [value for value, _label in form.fields["level"].choices if value] == [Level.DISTRICT]
    assert list(form.fields["district"].queryset) == [_home()]
    assert (form.initial["level"], form.initial["district"]) == (Level.DISTRICT, _home().pk)
    assert not {"street", "community", "sector"} & set(form.fields)
    # The units of their district's streets may be invited.
    assert {things["s1"]["unit"], things["s2"]["unit"]} <= set(form.fields["units"].queryset)
    assert things["s3"]["unit"] not in set(form.fields["units"].queryset)

    saved = client.post(
        reverse("admin:meetings_jointmeeting_add"), _admin_form(district=_home().pk, units=[things["s1"]["unit"].pk])
    )
    assert saved.status_code == 302
    meeting = JointMeeting.objects.get(title="区域化党建指导委员会（第四季度）")
    assert (meeting.level, meeting.district, meeting.street_id) == (Level.DISTRICT, _home(), None)
    assert list(meeting.invitations.values_list("unit_id", flat=True)) == [things["s1"]["unit"].pk]
    # Its change page names the district it belongs to.
    change = client.get(reverse("admin:meetings_jointmeeting_change", args=[meeting.pk]))
    assert change.status_code == 200 and "迎泽区" in change.content.decode()
    assert (
        client_for(users["far_officer"])
        .get(reverse("admin:meetings_jointmeeting_change", args=[meeting.pk]))
        .status_code
        == 404
    )


def test_the_admin_add_form_of_street_staff_offers_no_district_level(streets):  # noqa: F811
    _things, users = streets
    client = client_for(users["street_staff"])
    form = client.get(reverse("admin:meetings_jointmeeting_add")).context["adminform"].form
    assert Level.DISTRICT not in {value for value, _label in form.fields["level"].choices}
    assert "district" not in form.fields
    # A forged district level is refused by the form, and nothing is written.
    refused = client.post(reverse("admin:meetings_jointmeeting_add"), _admin_form(district=_home().pk))
    assert refused.status_code == 200 and "level" in refused.context["adminform"].form.errors
    assert not JointMeeting.objects.filter(level=Level.DISTRICT).exists()


def test_another_districts_staff_cannot_add_in_this_district_through_the_admin(streets):  # noqa: F811
    _things, users = streets
    client = client_for(users["far_officer"])
    refused = client.post(reverse("admin:meetings_jointmeeting_add"), _admin_form(district=_home().pk))
    assert refused.status_code == 200 and "district" in refused.context["adminform"].form.errors
    assert not JointMeeting.objects.filter(level=Level.DISTRICT).exists()
    assert not [str(m) for m in get_messages(refused.wsgi_request)]


def test_district_staff_filter_the_meetings_by_street_or_by_their_district(streets):  # noqa: F811
    things, users = streets
    client = _api(users["officer"])
    home = _home()
    own = client.post(MEETINGS, _body(district=home.pk), format="json").json()["id"]
    yingze = Street.objects.get(name="迎泽街道")

    def ids(**query) -> set[int]:
        response = client.get(MEETINGS, {"page_size": 100, **query})
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    in_yingze = ids(street=yingze.pk)
    assert things["s2"]["meeting"].pk in in_yingze and things["s1"]["meeting"].pk not in in_yingze
    assert in_yingze == set(JointMeeting.objects.filter(street=yingze).values_list("pk", flat=True))
    assert ids(district=home.pk) == {own}
    assert ids(street=Street.objects.get(name="别区街道").pk) == set()  # another district's street: nothing
    assert client.get(MEETINGS, {"street": "x"}).status_code == 400

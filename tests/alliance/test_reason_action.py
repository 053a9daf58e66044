"""The one screen of every action that refuses or cancels with a reason (`ScopedAdminMixin.ask_reason`,
`admin/reason_action.html`): as an admin action it lists the objects with their ids carried along, as
the page of one object it goes back to that object. The apps' tests cover each action's service call."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from demands.models import Need
from meetings.models import JointMeeting, Level

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory
from ..meetings.factories import MeetingFactory

NEEDS = "admin:demands_need_changelist"


def test_the_action_asks_on_the_shared_page_with_each_object_and_its_id(community_x_staff, community_x):
    need = NeedFactory(community=community_x, category=CategoryFactory(), title="桥头街的楼道灯")
    response = client_for(community_x_staff).post(reverse(NEEDS), {"action": "reject", "_selected_action": [need.pk]})

    assert response.status_code == 200
    assert response.templates[0].name == "admin/reason_action.html"
    assert [row[1] for row in response.context["rows"]] == [
        f"桥头街的楼道灯 · 桥头街社区 · {need.get_status_display()}"
    ]
    page = response.content.decode()
    assert f'<input type="hidden" name="_selected_action" value="{need.pk}">' in page
    assert '<input type="hidden" name="action" value="reject">' in page
    assert 'maxlength="300" required id="id_reason"' in page
    need.refresh_from_db()
    assert need.status == Need.Status.SUBMITTED  # asking changes nothing


def test_the_action_warns_when_nothing_could_be_refused(community_x_staff, community_x):
    need = NeedFactory(community=community_x, category=CategoryFactory(), status=Need.Status.REJECTED)
    client = client_for(community_x_staff)
    response = client.post(
        reverse(NEEDS), {"action": "reject", "_selected_action": [need.pk], "apply": "1", "reason": "重复提交"}
    )

    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["warning"]


def test_the_page_of_one_meeting_carries_no_action_and_goes_back_to_the_meeting(street_staff, community_x):
    meeting = MeetingFactory(title="桥头街社区大党委会议", level=Level.COMMUNITY, community=community_x)
    client = client_for(street_staff)
    url = reverse("admin:meetings_jointmeeting_cancel", args=[meeting.pk])
    change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])

    asked = client.get(url)
    assert asked.status_code == 200 and asked.context["action"] == ""
    page = asked.content.decode()
    assert 'name="action"' not in page and 'name="_selected_action"' not in page
    assert f'<a href="{change_url}">桥头街社区大党委会议</a>' in page  # the crumb back to the meeting

    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 200 and empty.context["form"].errors
    done = client.post(url, {"reason": "与区委会议冲突"})
    assert (done.status_code, done["Location"]) == (302, change_url)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancel_reason) == (JointMeeting.Status.CANCELLED, "与区委会议冲突")

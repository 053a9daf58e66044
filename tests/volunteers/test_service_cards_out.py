"""一单一表一卡 goes out: at the quarter's close each work unit's liaisons are sent the link to their
members' service card, once per unit and quarter."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from alliance.models import Notification
from alliance.periods import Quarter
from volunteers import services
from volunteers.models import PartyMember

from .factories import PartyMemberFactory, ServiceLogFactory

Q3 = Quarter(2026, 3)


def test_each_work_units_liaisons_get_the_link_once(unit_a, unit_b, liaison_a, liaison_b, community_x):
    PartyMemberFactory(work_unit=unit_a, residence_community=community_x)
    assert services.service_cards_send(quarter=Q3) == 1
    told = Notification.objects.get(kind=f"service_card:2026Q3:{unit_a.pk}")
    assert told.recipient == liaison_a
    assert told.url == f"/portal/units/{unit_a.pk}/service-card/?year=2026&quarter=3"
    # unit_b has no in-service members registered: no card, no message.
    assert not Notification.objects.filter(recipient=liaison_b, kind__startswith="service_card:").exists()
    # The beat firing again, or the task retried, sends nothing more.
    assert services.service_cards_send(quarter=Q3) == 0
    assert Notification.objects.filter(kind__startswith="service_card:").count() == 1


def test_a_member_who_moved_away_but_served_in_the_quarter_still_sends_the_card(unit_a, liaison_a, community_x):
    member = PartyMemberFactory(work_unit=unit_a, residence_community=community_x, status=PartyMember.Status.ENDED)
    ServiceLogFactory(member=member, date=date(2026, 9, 30))
    assert services.service_cards_send(quarter=Q3) == 1
    assert services.service_cards_send(quarter=Quarter(2026, 4)) == 0


def test_members_with_a_free_text_work_unit_have_no_liaison_to_tell(community_x, liaison_a):
    PartyMemberFactory(work_unit=None, work_unit_name="省城建设集团", residence_community=community_x)
    assert services.service_cards_send(quarter=Q3) == 0


def test_without_a_quarter_it_is_the_one_just_ended(unit_a, liaison_a, community_x, time_machine):
    time_machine.move_to(datetime(2026, 10, 1, 2, 30, tzinfo=ZoneInfo("Asia/Shanghai")))
    PartyMemberFactory(work_unit=unit_a, residence_community=community_x)
    services.service_cards_send()
    assert Notification.objects.filter(kind=f"service_card:2026Q3:{unit_a.pk}").exists()

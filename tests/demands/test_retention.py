"""PIPL art. 19 (issue 9): a resident's contact data is kept no longer than needed. RESIDENT_DATA_RETENTION_DAYS
(180) after a need was closed or rejected, its contact name, phone and address are emptied — in the need, in
every history row of it, and in the text messages sent to that phone; the rest of the need stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.celery import app as celery_app
from alliance.errors import Conflict
from alliance.models import Notification
from demands import services, tasks
from demands.models import Need

from ..factories import UserFactory

CONTACT = {"contact_name": "李大爷", "contact_phone": "13712345678", "address": "桥头街12号3单元"}
BLANK = {"contact_name": "", "contact_phone": "", "address": ""}


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def ended(need_in):
    """A need that ended (closed or rejected) `days` ago, with a second history row (an edit by staff)."""

    def make(days: float, status: str = Need.Status.CLOSED, **fields) -> Need:
        need = need_in(status, **{**CONTACT, **fields})
        stamp = "closed_at" if status == Need.Status.CLOSED else "rejected_at"
        setattr(need, stamp, _days_ago(days))
        need.save()
        return need

    return make


def _contact(need: Need) -> dict:
    need.refresh_from_db()
    return {field: getattr(need, field) for field in CONTACT}


def _history_contacts(need: Need) -> set[tuple]:
    return set(need.history.values_list("contact_name", "contact_phone", "address"))


def test_a_need_closed_181_days_ago_loses_its_contact_data_with_every_history_row(ended):
    need = ended(181)
    assert need.history.count() == 2 and _history_contacts(need) == {tuple(CONTACT.values())}
    assert services.needs_anonymise_expired() == 1
    assert _contact(need) == BLANK
    assert need.anonymised_at is not None
    # Every row, old and new, is blank: the history keeps what happened, not who asked.
    assert need.history.count() == 3
    assert _history_contacts(need) == {("", "", "")}
    # What the need was stays for the figures and the showcase.
    assert (need.status, need.rating, need.result, need.title) == (Need.Status.CLOSED, 5, "已上门修好", need.title)


def test_a_rejected_need_is_anonymised_too(ended):
    need = ended(181, status=Need.Status.REJECTED)
    services.needs_anonymise_expired()
    assert _contact(need) == BLANK


def test_a_need_closed_179_days_ago_is_untouched(ended):
    need = ended(179)
    assert services.needs_anonymise_expired() == 0
    assert _contact(need) == CONTACT
    assert need.anonymised_at is None
    assert need.history.count() == 2 and _history_contacts(need) == {tuple(CONTACT.values())}


@pytest.mark.parametrize(
    "status",
    [Need.Status.SUBMITTED, Need.Status.DISPATCHED, Need.Status.ACCEPTED, Need.Status.COMPLETED],
)
def test_a_need_not_ended_is_never_touched_however_old(need_in, status):
    long_ago = _days_ago(800)
    need = need_in(status, **CONTACT)
    Need.objects.filter(pk=need.pk).update(
        submitted_at=long_ago, dispatched_at=long_ago, accepted_at=long_ago, completed_at=long_ago
    )
    assert services.needs_anonymise_expired() == 0
    assert _contact(need) == CONTACT


def test_running_twice_changes_nothing_more(ended):
    need = ended(400)
    assert services.needs_anonymise_expired() == 1
    need.refresh_from_db()
    first = (need.anonymised_at, need.history.count())
    assert services.needs_anonymise_expired() == 0
    need.refresh_from_db()
    assert (need.anonymised_at, need.history.count()) == first


def test_it_works_through_the_needs_in_chunks(ended):
    needs = [ended(200 + i, contact_phone=f"1371234{i:04d}") for i in range(7)]
    fresh = ended(10)
    assert services.needs_anonymise_expired(batch_size=3) == 7
    assert all(_contact(need) == BLANK for need in needs)
    assert _contact(fresh) == CONTACT


def test_the_retention_period_is_configurable(settings, ended):
    settings.RESIDENT_DATA_RETENTION_DAYS = 30
    need = ended(31)
    services.needs_anonymise_expired()
    assert _contact(need) == BLANK


def test_messages_sent_to_the_residents_phone_are_cleared_but_not_an_accounts(ended):
    ended(181)
    to_resident = Notification.objects.create(phone=CONTACT["contact_phone"], subject="您的需求", body="已办结")
    stuck = Notification.objects.create(phone=CONTACT["contact_phone"], subject="您的需求", body="已受理")
    to_account = Notification.objects.create(
        recipient=UserFactory(username="same-phone-liaison"), phone=CONTACT["contact_phone"], subject="x", body="y"
    )
    Notification.objects.filter(pk=to_resident.pk).update(status=Notification.Status.SENT)
    Notification.objects.all().update(created_at=_days_ago(190))
    services.needs_anonymise_expired()
    to_resident.refresh_from_db()
    stuck.refresh_from_db()
    to_account.refresh_from_db()
    assert (to_resident.phone, to_resident.email, to_resident.status) == ("", "", Notification.Status.SENT)
    # A message never delivered in half a year is not sent to nobody later: it is withdrawn.
    assert (stuck.phone, stuck.status) == ("", Notification.Status.CANCELLED)
    assert to_account.phone == CONTACT["contact_phone"]


def test_following_the_need_by_tracking_code_stops_working(client, ended):
    need = ended(181)
    url = f"/api/v1/public/needs/{need.tracking_code}/?phone_last4=5678"
    assert client.get(url).status_code == 200
    services.needs_anonymise_expired()
    assert client.get(url).status_code == 404


def test_the_beat_task_runs_it_daily_and_marks_the_history_row_as_the_systems(ended):
    entry = next(e for e in celery_app.conf.beat_schedule.values() if e["task"] == tasks.anonymise_resident_data.name)
    assert entry["schedule"].hour == {3}
    need = ended(181)
    tasks.anonymise_resident_data.delay()
    row = need.history.order_by("-history_id").first()
    assert row.history_user is None
    assert row.history_change_reason == (
        "system: demands.tasks.anonymise_resident_data: contact data removed after the retention period"
    )


def test_an_anonymised_need_cannot_be_edited_back_and_its_admin_page_shows_when_the_data_went(
    ended, community_x_staff, as_user
):
    need = ended(181)
    services.needs_anonymise_expired()
    need.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        services.need_update(need=need, actor=community_x_staff, data={"contact_phone": "13900001111"})
    assert str(refused.value) == "该需求的联系信息已在保存期满后删除，不能再修改。"
    client = as_user(community_x_staff)
    url = reverse("admin:demands_need_change", args=[need.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "contact data removed at" in page.content.decode().lower()
    assert 'name="contact_phone"' not in page.content.decode()  # nothing to type the number back into

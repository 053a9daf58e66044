"""通知 in the admin: each staff member's own notifications, the unread count in the header, marking read;
the daily digest that replaces hundreds of single messages for staff's routine alerts (each kind routed to
it is checked below: in the inbox at once, sent only in the digest, one message per person); an import
tells each community's staff once, however many members it registered."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from celery.schedules import crontab
from django.utils import translation
from openpyxl import Workbook

from alliance import notifications, passwords, site
from alliance.celery import app as celery_app
from alliance.models import Notification, Profile
from alliance.tasks import send_daily_digests
from volunteers.imports import MemberImporter

from ..conftest import client_for
from ..factories import UserFactory

INBOX = "/admin/inbox/"


def _notify(user, subject: str, **kwargs) -> Notification:
    return notifications.notify(
        recipient=user, subject=subject, body=f"{subject}：详情", url="/admin/", by_sms=False, **kwargs
    )


def _english(user):
    client = client_for(user)
    client.cookies["django_language"] = "en"
    return client


def _header(count: int) -> str:
    return f'<a href="/admin/inbox/" class="inbox-link">Notifications ({count})</a>'


def _subjects(response) -> list[str]:
    return [n.subject for n in response.context["page"].object_list]


# --- The inbox ---------------------------------------------------------------------------------------


def test_staff_see_only_their_own_notifications_newest_first(community_x_staff, street_staff):
    _notify(community_x_staff, "新单位申请")
    _notify(street_staff, "街道的通知")
    _notify(community_x_staff, "党员报到待审核")
    page = _english(community_x_staff).get(INBOX)
    assert page.status_code == 200
    assert _subjects(page) == ["党员报到待审核", "新单位申请"]
    text = page.content.decode()
    assert "街道的通知" not in text
    assert _header(2) in text
    assert text.count('class="unread"') == 2
    assert "党员报到待审核：详情" in text and 'href="/admin/"' in text


def test_the_header_counts_the_signed_in_staff_members_unread_notifications_on_every_admin_page(
    community_x_staff, street_staff
):
    for n in range(3):
        _notify(community_x_staff, f"通知{n}")
    _notify(street_staff, "别人的")
    Notification.objects.filter(subject="通知0").update(read_at="2026-11-27T10:00:00+08:00")
    assert _header(2) in _english(community_x_staff).get("/admin/").content.decode()
    assert _header(1) in _english(street_staff).get("/admin/").content.decode()


def test_mark_one_read_then_all_read(community_x_staff):
    _first, second, _third = (_notify(community_x_staff, f"通知{n}") for n in range(3))
    client = _english(community_x_staff)
    response = client.post(INBOX, {"notification": second.pk})
    assert (response.status_code, response["Location"]) == (302, INBOX)
    second.refresh_from_db()
    assert second.read_at is not None
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    page = client.get(INBOX).content.decode()
    assert _header(2) in page
    assert page.count('class="unread"') == 2 and page.count('class="read"') == 1

    assert client.post(INBOX, {"all": "1"}).status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    assert _header(0) in client.get(INBOX).content.decode()


def test_another_persons_notification_cannot_be_marked(community_x_staff, street_staff):
    theirs = _notify(street_staff, "街道的通知")
    mine = _notify(community_x_staff, "我的通知")
    client = _english(community_x_staff)
    assert client.post(INBOX, {"notification": theirs.pk}).status_code == 404
    assert client.post(INBOX, {"notification": "not a number"}).status_code == 404
    # "Mark all" marks only one's own.
    assert client.post(INBOX, {"all": "1"}).status_code == 302
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None and mine.read_at is not None


@pytest.mark.parametrize("who", ["anonymous", "liaison_a", "member"])
def test_people_who_are_not_staff_are_sent_to_the_admin_sign_in(cast, who):
    client = client_for(cast[who])
    for response in (client.get(INBOX), client.post(INBOX, {"all": "1"})):
        assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/inbox/")


def test_the_inbox_pages_through_a_long_list(community_x_staff):
    for n in range(30):
        _notify(community_x_staff, f"通知{n:02d}")
    client = _english(community_x_staff)
    assert _subjects(client.get(INBOX)) == [f"通知{n:02d}" for n in range(29, 4, -1)]
    second = client.get(INBOX, {"page": 2})
    assert _subjects(second) == [f"通知{n:02d}" for n in range(4, -1, -1)]
    # Marking on page 2 comes back to page 2.
    response = client.post(INBOX, {"notification": Notification.objects.get(subject="通知00").pk, "page": "2"})
    assert response["Location"] == f"{INBOX}?page=2"


def test_the_inbox_costs_the_same_queries_however_many_notifications(community_x_staff, django_assert_num_queries):
    client = _english(community_x_staff)
    for n in range(3):
        _notify(community_x_staff, f"通知{n}")
    client.get(INBOX)  # the session's first use

    def count() -> None:
        # user (the session and my groups come from the cache once read); the header's COUNT of my unread;
        # the page of my notifications (and one more, which says whether there is a next page). None grows
        # with them. (The app list's permission queries are gone: alliance/admin/navigation.py.)
        with django_assert_num_queries(3):
            assert client.get(INBOX).status_code == 200

    count()
    for n in range(40):
        _notify(community_x_staff, f"更多{n}")
    count()


# --- The daily digest ----------------------------------------------------------------------------------


def _members_file(importer: MemberImporter, community, count: int) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(importer.header())
    for n in range(count):
        values = {
            "name": f"党员{n}",
            "phone": f"137{n:08d}",
            "work_unit": "某科技公司",
            "party_branch": "第一党支部",
            "residence_community": community.name,
            "skills": "",
        }
        sheet.append([values.get(column.key, "") for column in importer.columns])
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "党员.xlsx"
    return upload


@pytest.fixture
def imported(street_staff, community_x, community_x_staff, django_capture_on_commit_callbacks, settings, tmp_path):
    """Street staff import 30 members of community_x (the import's writes, without its job)."""
    settings.MEDIA_ROOT = tmp_path
    importer = MemberImporter(actor=street_staff)
    # In the platform's language, as the import's job runs it.
    with django_capture_on_commit_callbacks(execute=True), translation.override("zh-hans"):
        outcome = importer.execute(_members_file(importer, community_x, 30))
    assert outcome.written and outcome.actions == {"create": 30}
    return community_x_staff


@pytest.fixture
def held(community_x_staff, django_capture_on_commit_callbacks):
    """30 notifications to a staff member made with `digest=True`: held for the inbox and the digest."""
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(30):
            _notify(community_x_staff, f"新党员{n}待审核", digest=True)
    return community_x_staff


def test_a_bulk_import_tells_the_communitys_staff_once_not_once_per_row(imported, mailoutbox, sms_outbox):
    told = Notification.objects.get(recipient=imported)
    assert told.subject == "通过导入登记了 30 名在职党员" and told.in_digest is False
    assert [m.subject for m in mailoutbox] == [told.subject] and sms_outbox == []
    assert _header(1) in _english(imported).get(INBOX).content.decode()


def test_notifications_for_the_digest_wait_in_the_inbox(held, mailoutbox, sms_outbox):
    rows = Notification.objects.filter(recipient=held)
    assert rows.count() == 30
    assert set(rows.values_list("in_digest", "status")) == {(True, Notification.Status.PENDING)}
    assert mailoutbox == [] and sms_outbox == []
    assert notifications.deliver_pending() == 0  # the sweep leaves them to the digest
    assert mailoutbox == []
    assert _header(30) in _english(held).get(INBOX).content.decode()


def test_the_digest_sends_one_message_per_person_once(
    held, mailoutbox, sms_outbox, django_capture_on_commit_callbacks, settings
):
    # In the platform's language (no person stores one), even when run inside an English request.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [held.email]
    assert message.subject == "今天有 30 条新通知"
    first = list(Notification.objects.filter(recipient=held, in_digest=True).order_by("created_at", "id")[:5])
    assert message.body.splitlines() == [n.subject for n in first] + ["…", f"{site.FALLBACK}/admin/inbox/"]
    assert sms_outbox == []  # the rows were meant for e-mail only
    assert set(Notification.objects.filter(in_digest=True).values_list("status", flat=True)) == {
        Notification.Status.SENT
    }
    # The digest's own message is not another line in the inbox.
    assert _header(30) in _english(held).get(INBOX).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 0
    assert len(mailoutbox) == 1


def test_what_was_read_in_the_inbox_is_not_sent_again(held, mailoutbox, django_capture_on_commit_callbacks):
    notifications.mark_read(user=held)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 0
    assert mailoutbox == []
    assert not Notification.objects.filter(status=Notification.Status.PENDING).exists()


def test_residents_and_password_links_are_never_held_for_the_digest(
    community_x_staff, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    liaison = UserFactory(username="liaison", email="liaison@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        resident = notifications.notify(subject="查询码", body="您的查询码是 ABC123", phone="13800001111", digest=True)
        link = notifications.notify(
            recipient=community_x_staff,
            subject="设置密码",
            body="请设置密码",
            url=passwords.PASSWORD_LINK,
            by_sms=False,
            digest=True,
        )
        not_staff = notifications.notify(
            recipient=liaison, subject="单位已审核", body="欢迎", by_sms=False, digest=True
        )
        staff = notifications.notify(
            recipient=community_x_staff, subject="新党员", body="待审核", by_sms=False, digest=True
        )
    assert (resident.in_digest, not_staff.in_digest, staff.in_digest) == (False, False, True)
    assert [m.phone for m in sms_outbox] == ["13800001111"]
    assert link.in_digest is False
    assert sorted(m.subject for m in mailoutbox) == sorted(["单位已审核", link.subject])


def test_a_held_staff_notification_is_never_sent_on_its_own(community_x_staff, mailoutbox):
    row = _notify(community_x_staff, "协议即将到期", digest=True)
    assert row.in_digest is True
    assert notifications.deliver(row.pk) is False  # never sent on its own
    assert mailoutbox == []


def test_the_digest_runs_every_evening_at_six_shanghai_time():
    entry = next(e for e in celery_app.conf.beat_schedule.values() if e["task"] == send_daily_digests.name)
    assert entry["schedule"] == crontab(hour=18, minute=0)
    assert celery_app.conf.timezone == "Asia/Shanghai"


def test_the_header_says_tongzhi_in_chinese(community_x_staff):
    _notify(community_x_staff, "党员报到待审核")
    page = client_for(community_x_staff).get("/admin/").content.decode()
    assert '<a href="/admin/inbox/" class="inbox-link">通知 (1)</a>' in page  # zh


def test_each_person_gets_their_own_digest_by_the_channels_their_rows_were_meant_for(
    community_x_staff, street_staff, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    Profile.objects.create(user=street_staff, phone="13900002222")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            notifications.notify(recipient=street_staff, subject=f"街道{n}", body="详情", digest=True)
        _notify(community_x_staff, "社区的", digest=True)
    assert mailoutbox == [] and sms_outbox == []
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 2
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [(street_staff.email, "今天有 2 条新通知"), (community_x_staff.email, "今天有 1 条新通知")]
    )
    # Street staff's rows were meant for their phone too; the community's were e-mail only.
    assert [(m.phone, m.text.split("】")[0]) for m in sms_outbox] == [("13900002222", "【今天有 2 条新通知")]


def test_times_are_shown_in_shanghai_time(community_x_staff):
    row = _notify(community_x_staff, "会议提醒")
    Notification.objects.filter(pk=row.pk).update(created_at=datetime(2026, 11, 27, 16, 30, tzinfo=UTC))
    page = _english(community_x_staff).get(INBOX).content.decode()
    assert '<time datetime="2026-11-28T00:30:00+08:00">2026-11-28 00:30</time>' in page


# --- Which staff alerts wait for the digest ---------------------------------------------------------------
# Routine alerts with no deadline of the day: each made by its real service, then the same checks.


def _unit_applied(c):
    from ..members.test_joining import _apply

    _apply(c["community_x"])
    return c["community_x_staff"]


def _member_registered(c):
    from volunteers import services as volunteer_services

    applicant = UserFactory(username="13700001111")
    volunteer_services.member_register(
        data={
            "name": "李明",
            "phone": "13700001111",
            "work_unit_name": "某科技公司",
            "party_branch": "第一党支部",
            "residence_community": c["community_x"],
        },
        actor=applicant,
        on_behalf=False,
    )
    return c["community_x_staff"]


def _claim_created(c):
    from projects import services as project_services

    from ..projects.factories import ProjectFactory

    project = ProjectFactory(community=c["community_x"], street=c["community_x"].street, places=2)
    project_services.claim_create(project=project, unit=c["unit_a"], commitment="每月一次义诊", actor=c["liaison_a"])
    return c["community_x_staff"]


def _wish_taken(c):
    from demands import services as demand_services
    from demands.models import Need

    from ..demands.factories import NeedFactory

    wish = NeedFactory(community=c["community_x"], kind=Need.Kind.MICRO_WISH)
    demand_services.need_take_on_wish(need=wish, claimant=UserFactory(username="wish-member"))
    return c["community_x_staff"]


def _agreement_expiring(c):
    from datetime import timedelta

    from django.utils import timezone

    from members import services as member_services

    from ..factories import AgreementFactory

    AgreementFactory(unit=c["unit_a"], term_end=timezone.localdate() + timedelta(days=30))
    assert member_services.agreements_expiring_notify() == 1
    return c["street_staff"]


def _minutes_missing(c):
    from datetime import timedelta

    from django.utils import timezone

    from meetings import services as meeting_services

    from ..meetings.factories import MeetingFactory

    start = timezone.now() - timedelta(days=5)
    MeetingFactory(start=start, end=start + timedelta(hours=2), organiser=c["street_staff"], status="held")
    assert meeting_services.reminders_send_due() == 1
    return c["street_staff"]


def _quarterly_report_for_the_other_street_staff(c):
    from alliance import jobs
    from alliance.periods import Quarter
    from members import reporting

    report = reporting.report_request(street=c["community_x"].street, quarter=Quarter(2026, 3), actor=c["root"])
    assert jobs.run(report.job_id) is True
    # The one who asked is told at once; the other street staff find it in the digest.
    assert Notification.objects.get(recipient=c["root"], kind=f"quarterly_report:{report.pk}").in_digest is False
    return c["street_staff"]


ROUTINE = {
    "unit_applied": _unit_applied,
    "member_registered": _member_registered,
    "claim_created": _claim_created,
    "wish_taken": _wish_taken,
    "agreement_expiring": _agreement_expiring,
    "reminder:minutes_missing": _minutes_missing,
    "quarterly_report": _quarterly_report_for_the_other_street_staff,
}


@pytest.mark.parametrize("kind", ROUTINE)
def test_routine_staff_alerts_are_in_the_inbox_at_once_and_sent_only_in_the_digest(
    kind, cast, root, community_x, unit_a, mailoutbox, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    context = {**cast, "root": root, "community_x": community_x, "unit_a": unit_a}
    with django_capture_on_commit_callbacks(execute=True):
        staff = ROUTINE[kind](context)
    told = Notification.objects.get(recipient=staff, kind__startswith=kind)
    assert told.in_digest is True and told.status == Notification.Status.PENDING
    assert _header(1) in _english(staff).get(INBOX).content.decode()
    assert [m for m in mailoutbox if staff.email in m.to] == []
    with django_capture_on_commit_callbacks(execute=True):
        send_daily_digests()
    to_staff = [m for m in mailoutbox if staff.email in m.to]
    assert [(m.subject, m.body.splitlines()[0]) for m in to_staff] == [("今天有 1 条新通知", told.subject)]

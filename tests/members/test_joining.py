"""A unit applies through the portal, staff approve it in the admin, and its liaison can then look
after that unit — and no other."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from alliance.errors import InvalidInput, TransitionNotAllowed
from alliance.models import Notification
from members import services
from members.models import MemberUnit, UnitMembership

from ..conftest import client_for
from ..factories import MemberUnitFactory

APPLICATION = {
    "name": "柳巷书香文化公司",
    "credit_code": "91350100M000100Y43",
    "unit_type": "private_enterprise",
    "level": "district",
    "address": "柳巷88号",
    "description": "可开放阅读空间",
    "party_org_name": "柳巷书香文化公司党支部",
    "party_org_kind": "branch",
    "secretary_name": "赵敏",
    "liaison_name": "孙丽",
    "liaison_phone": "13712345678",
    "liaison_email": "sunli@example.org",
    "party_member_count": "5",
    "agree": "on",
}


def _apply(community, **changes) -> Client:
    client = Client()
    response = client.post(reverse("portal:unit_apply"), {**APPLICATION, "community": community.pk, **changes})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert response["Location"] == reverse("portal:unit_apply_done")
    return client


def test_application_approval_and_the_liaison_edits_only_that_unit(
    community_x, community_x_staff, unit_b, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _apply(community_x)
    unit = MemberUnit.objects.get(name=APPLICATION["name"])
    assert unit.status == MemberUnit.Status.APPLIED
    # The community's staff find the waiting application in their inbox; it is sent in the daily digest.
    told = Notification.objects.get(recipient=community_x_staff, kind="unit_applied")
    assert "柳巷书香文化公司" in told.body and told.in_digest is True
    assert not [m for m in mailoutbox if community_x_staff.email in m.to]

    staff = client_for(community_x_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:members_memberunit_changelist"),
            {"action": "approve", "_selected_action": [unit.pk]},
            follow=True,
        )
    assert response.status_code == 200
    unit.refresh_from_db()
    assert unit.status == MemberUnit.Status.ACTIVE and unit.joined_on is not None

    liaison = get_user_model().objects.get(username="13712345678")
    assert UnitMembership.objects.filter(user=liaison, unit=unit, role="liaison").exists()
    assert not liaison.has_usable_password()
    # The liaison gets the sign-in link by text message and e-mail.
    assert any(m.phone == "13712345678" for m in sms_outbox)
    message = next(m for m in mailoutbox if "sunli@example.org" in m.to)
    link = re.search(r"/portal/password/set/[^\s]+/", message.body).group(0)

    browser = Client()
    response = browser.get(link, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = browser.post(set_url, {"new_password1": "Sheng-Huo-2026!", "new_password2": "Sheng-Huo-2026!"})
    assert response.status_code == 302
    assert browser.login(username="13712345678", password="Sheng-Huo-2026!")

    edit = {k: v for k, v in APPLICATION.items() if k in services.PROFILE_FIELDS}
    response = browser.post(reverse("portal:unit_edit", args=[unit.pk]), {**edit, "address": "柳巷99号"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.address == "柳巷99号"
    assert browser.post(reverse("portal:unit_edit", args=[unit_b.pk]), {**edit}).status_code == 404
    assert browser.get(reverse("portal:unit_detail", args=[unit_b.pk])).status_code == 404


def test_a_signed_in_applicant_is_linked_to_the_unit_on_approval(community_x, street_staff, member):
    client = client_for(member)
    client.post(reverse("portal:unit_apply"), {**APPLICATION, "community": community_x.pk})
    unit = MemberUnit.objects.get(name=APPLICATION["name"])
    assert unit.applicant == member
    services.unit_approve(unit=unit, actor=street_staff)
    assert UnitMembership.objects.filter(user=member, unit=unit).exists()
    assert client.get(reverse("portal:unit_edit", args=[unit.pk])).status_code == 200


def test_application_form_reports_bad_input_in_chinese_and_saves_nothing(community_x):
    response = Client().post(
        reverse("portal:unit_apply"),
        {**APPLICATION, "community": community_x.pk, "credit_code": "91350100M000100Y44", "liaison_phone": "12345"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "统一社会信用代码" in page or "credit code" in page
    assert not MemberUnit.objects.filter(name=APPLICATION["name"]).exists()
    errors = response.context["form"].errors
    assert set(errors) >= {"credit_code", "liaison_phone"}


def test_a_unit_cannot_apply_twice_with_the_same_credit_code(community_x):
    _apply(community_x)
    response = Client().post(reverse("portal:unit_apply"), {**APPLICATION, "community": community_x.pk})
    assert response.status_code == 200
    assert MemberUnit.objects.filter(credit_code=APPLICATION["credit_code"]).count() == 1


def test_a_rejected_unit_may_apply_again(community_x, street_staff):
    _apply(community_x)
    unit = MemberUnit.objects.get(name=APPLICATION["name"])
    services.unit_reject(unit=unit, actor=street_staff, reason="材料不全")
    _apply(community_x)
    assert MemberUnit.objects.filter(credit_code=APPLICATION["credit_code"]).count() == 2


def test_approval_is_refused_for_units_that_are_not_applications(street_staff, unit_a):
    with pytest.raises(TransitionNotAllowed):
        services.unit_approve(unit=unit_a, actor=street_staff)
    unit_a.refresh_from_db()
    assert unit_a.status == MemberUnit.Status.ACTIVE


def test_rejection_needs_a_reason(street_staff, community_x):
    unit = MemberUnitFactory(community=community_x, status=MemberUnit.Status.APPLIED)
    with pytest.raises(InvalidInput):
        services.unit_reject(unit=unit, actor=street_staff, reason="  ")
    unit.refresh_from_db()
    assert unit.status == MemberUnit.Status.APPLIED


def test_staff_of_another_community_cannot_approve(community_y_staff, community_x):
    from django.http import Http404

    unit = MemberUnitFactory(community=community_x, status=MemberUnit.Status.APPLIED)
    with pytest.raises(Http404):
        services.unit_approve(unit=unit, actor=community_y_staff)
    with pytest.raises(Http404):
        services.unit_approve(unit=unit, actor=AnonymousUser())
    unit.refresh_from_db()
    assert unit.status == MemberUnit.Status.APPLIED


def test_withdrawal_takes_away_the_liaisons_access(street_staff, unit_a, liaison_a):
    client = client_for(liaison_a)
    assert client.get(reverse("portal:unit_edit", args=[unit_a.pk])).status_code == 200
    services.unit_withdraw(unit=unit_a, actor=street_staff, reason="单位搬迁")
    assert client.get(reverse("portal:unit_edit", args=[unit_a.pk])).status_code == 404
    unit_a.refresh_from_db()
    assert unit_a.status == MemberUnit.Status.WITHDRAWN
    # The record of what happened stays.
    assert unit_a.history.filter(history_change_reason="withdrawn", history_user=street_staff).exists()


def test_admin_reject_action_asks_for_the_reason(community_x_staff, community_x):
    unit = MemberUnitFactory(community=community_x, status=MemberUnit.Status.APPLIED)
    client = client_for(community_x_staff)
    url = reverse("admin:members_memberunit_changelist")
    response = client.post(url, {"action": "reject", "_selected_action": [unit.pk]})
    assert response.status_code == 200 and unit.name in response.content.decode()
    unit.refresh_from_db()
    assert unit.status == MemberUnit.Status.APPLIED
    response = client.post(url, {"action": "reject", "_selected_action": [unit.pk], "apply": "1", "reason": "不在辖区"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == MemberUnit.Status.REJECTED and unit.review_note == "不在辖区"

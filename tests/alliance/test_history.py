"""Finding 7 of issue 9: every model that holds personal data or permissions keeps a history; grants and
revokes of access (guardian rows, groups, accounts) name who made them, also outside a request; and a
task's changes with nobody named say which task made them."""

from __future__ import annotations

import io

import pytest
from celery import shared_task
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from guardian.models import GroupObjectPermission, UserObjectPermission

from alliance import history
from alliance.models import Profile
from members import services as member_services
from members.models import CommunityStaff, Grid, Sector, UnitMembership

from ..factories import MemberUnitFactory, UserFactory

User = get_user_model()

# Models of our apps that keep no history of their own, and why. Any other model without a history fails
# the test below: a new model that holds personal data cannot be added and forgotten.
WITHOUT_HISTORY = {
    # The outbox of messages: each row is itself the record of one message (status, attempts, times);
    # a copy per delivery attempt would only multiply the phone numbers the retention sweep must clear.
    "alliance.notification",
    # Append-only logs that are themselves a history: who, when, what.
    "demands.needevent",  # a need's timeline (actor, at, from, to, note)
    "demands.needslaflag",  # written once by the scan, never changed
    "meetings.reminder",  # the reminders ledger, written once
    "meetings.resolutionprogress",  # progress notes with author and time, never changed
    "volunteers.pointsentry",  # the points ledger: append-only (model and database), corrections are new rows
    # An assessment's indicator lines are rewritten whole by each computation; the assessment's own history
    # records every computation (score, total, who, when), and an approved one's lines never change again.
    "members.assessmentline",
    # A background job is itself a record of work (who asked, when it ran, how far it got, why it failed),
    # written only by the job mechanism, never edited by a person.
    "alliance.job",
    # A report version is never edited: a rebuild adds the next version and keeps this one (who asked it
    # and when it was generated are on the row).
    "members.quarterlyreport",
    # The public figures' snapshot is computed from rows that keep their own history, and holds only
    # counts and what the public pages show; each refresh replaces it.
    "alliance.publicsnapshot",
    # Verified hours summed per month: computed from the service logs, which keep their own history, and
    # changed only by the services that verify them (volunteers migration 0004 fills them again).
    "volunteers.membermonthhours",
    "volunteers.communitymonthhours",
    # Password-recovery codes by SMS: only a keyed hash, used once within 10 minutes and purged after a
    # day; a history would keep copies of what must vanish. The daily count of texts per phone is a
    # counter the sending raises, purged after a week.
    "alliance.smscode",
    "alliance.smsdailycount",
    # The ledger of expiry alerts sent (council terms, agreements), written once per subject, stage and
    # recipient: itself the record that each alert went out.
    "members.expiryalert",
    # A venue's closed days: dates and a note, no personal data, edited on the venue's page, whose own
    # history records who changed the venue.
    "demands.venueclosure",
}
OUR_APPS = ("alliance", "members", "demands", "projects", "meetings", "volunteers")


def _has_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


def test_every_model_of_ours_keeps_a_history_or_says_why_not():
    missing = {
        model._meta.label_lower
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.label_lower.startswith(f"{app}.historical") and not _has_history(model)
    }
    assert missing == WITHOUT_HISTORY


@pytest.mark.parametrize(
    "model",
    [User, Group, UserObjectPermission, GroupObjectPermission, Profile, Grid, Sector, UnitMembership, CommunityStaff],
    ids=lambda m: m._meta.label,
)
def test_accounts_permissions_and_personal_data_keep_a_history(model):
    assert _has_history(model)
    assert model.history.model._meta.app_label in OUR_APPS  # the tables live in an app we own and migrate


@pytest.mark.django_db
def test_account_history_keeps_no_password_hash_and_no_row_per_sign_in():
    field_names = {f.name for f in User.history.model._meta.get_fields()}
    assert "password" not in field_names and "last_login" not in field_names
    user = UserFactory(username="wangfang")
    assert user.history.count() == 1
    request = RequestFactory().get("/")
    request.session = {}
    user_logged_in.send(sender=User, request=request, user=user)  # saves last_login alone
    assert user.history.count() == 1
    user.set_password("a-new-secret-2026")
    user.save(update_fields=["password"])
    # The change of password is on record (when, by whom), the hash is not.
    assert user.history.count() == 2
    row = User.history.model.objects.filter(id=user.pk).values().order_by("-history_id").first()
    assert "password" not in row and "a-new-secret-2026" not in str(row)


@pytest.mark.django_db
def test_giving_and_taking_a_unit_account_records_the_object_permissions_with_their_author(unit_a, street_staff):
    """No request here (as in a task or a command): the service's actor is the author of every row."""
    user = UserFactory(username="new-liaison")
    membership = member_services.unit_membership_add(unit=unit_a, user=user, actor=street_staff)
    granted = UserObjectPermission.history.filter(user_id=user.pk, object_pk=str(unit_a.pk))
    assert sorted(granted.values_list("permission__codename", "history_type", "history_user")) == [
        ("change_memberunit", "+", street_staff.pk),
        ("view_memberunit", "+", street_staff.pk),
    ]
    assert membership.history.get().history_user == street_staff

    membership_id = membership.pk
    member_services.unit_membership_remove(membership=membership, actor=street_staff)
    revoked = granted.filter(history_type="-")
    assert sorted(revoked.values_list("permission__codename", "history_user", "history_change_reason")) == [
        ("change_memberunit", street_staff.pk, "unit access revoked"),
        ("view_memberunit", street_staff.pk, "unit access revoked"),
    ]
    assert UnitMembership.history.filter(id=membership_id, history_type="-", history_user=street_staff).exists()


@pytest.mark.django_db
def test_making_community_staff_records_the_group_membership_and_the_grant(community_x, street_staff):
    user = UserFactory(username="new-community-staff")
    member_services.community_staff_add(user=user, community=community_x, actor=street_staff)
    last = user.history.order_by("-history_id").first()
    assert last.history_user == street_staff
    assert last.history_change_reason == "community staff added"
    assert [g.group.name for g in last.groups.all()] == ["community_staff"]
    assert UserObjectPermission.history.filter(
        user_id=user.pk, object_pk=str(community_x.pk), history_type="+", history_user=street_staff
    ).exists()

    member_services.community_staff_remove(assignment=CommunityStaff.objects.get(user=user), actor=street_staff)
    last = user.history.order_by("-history_id").first()
    assert last.history_user == street_staff
    assert list(last.groups.all()) == []
    assert UserObjectPermission.history.filter(
        user_id=user.pk, object_pk=str(community_x.pk), history_type="-", history_user=street_staff
    ).exists()


@pytest.mark.django_db
def test_approving_an_application_names_the_approver_on_the_new_account_profile_and_grants(community_x, street_staff):
    unit = MemberUnitFactory(community=community_x, status="applied", liaison_phone="13912345678")
    member_services.unit_approve(unit=unit, actor=street_staff)
    account = User.objects.get(username="13912345678")
    assert set(account.history.values_list("history_user", flat=True)) == {street_staff.pk}
    assert set(Profile.history.filter(user_id=account.pk).values_list("history_user", flat=True)) == {street_staff.pk}
    assert set(
        UserObjectPermission.history.filter(user_id=account.pk).values_list("history_user", "history_change_reason")
    ) == {(street_staff.pk, "unit access granted")}


@shared_task(name="tests.alliance.grant_unit_account")
def grant_unit_account(unit_id: int, user_id: int, actor_id: int) -> None:
    from members.models import MemberUnit

    member_services.unit_membership_add(
        unit=MemberUnit.objects.get(pk=unit_id), user=User.objects.get(pk=user_id), actor=User.objects.get(pk=actor_id)
    )


@shared_task(name="tests.alliance.make_sector")
def make_sector(street_id: int) -> None:
    Sector.objects.create(street_id=street_id, name="学校分会", kind=Sector.Kind.SCHOOL)


@pytest.mark.django_db
def test_a_grant_made_in_a_task_names_the_actor_it_was_given(unit_a, street_staff):
    user = UserFactory(username="liaison-by-task")
    grant_unit_account.delay(unit_a.pk, user.pk, street_staff.pk)
    rows = UserObjectPermission.history.filter(user_id=user.pk)
    assert rows.count() == 2
    assert set(rows.values_list("history_user", "history_change_reason")) == {(street_staff.pk, "unit access granted")}


@pytest.mark.django_db
def test_a_change_a_task_makes_with_nobody_named_says_which_task(community_x):
    make_sector.delay(community_x.street_id)
    row = Sector.history.get(name="学校分会")
    assert row.history_user is None
    assert row.history_change_reason == "system: tests.alliance.make_sector"


@pytest.mark.django_db
def test_the_system_marker_keeps_a_rows_own_reason(community_x):
    grid = Grid(community=community_x, name="第一网格")
    grid._change_reason = "imported"
    with history.system("seed_demo"):
        grid.save()
    assert grid.history.get().history_change_reason == "system: seed_demo: imported"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["auth_user", "auth_group", "members_grid", "members_sector"],
)
def test_the_admin_shows_the_history_of_accounts_groups_grids_and_sectors(name, root, community_x):
    obj = {
        "auth_user": lambda: root,
        "auth_group": lambda: Group.objects.create(name="street_staff"),
        "members_grid": lambda: Grid.objects.create(community=community_x, name="第一网格", keeper_name="张伟"),
        "members_sector": lambda: Sector.objects.create(street=community_x.street, name="驻区单位分会"),
    }[name]()
    client = Client()
    client.force_login(root)
    response = client.get(reverse(f"admin:{name}_history", args=[obj.pk]))
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 1


@pytest.mark.django_db
def test_seed_demo_names_who_granted_and_marks_the_rest_as_the_commands(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "pw-2026-demo", stdout=io.StringIO())
    admin, staff, liaison = (User.objects.get(username=name) for name in ("admin", "staff", "liaison"))
    # The street was given to its staff by `admin`, the command's actor, through the service (streets are
    # assigned, not a bare group); the liaison's access by `admin` too.
    latest = staff.history.order_by("-history_id").first()
    assert (latest.history_user_id, latest.history_change_reason) == (admin.pk, "street staff added")
    grants = UserObjectPermission.history.filter(user_id=liaison.pk)
    assert set(grants.values_list("history_user", "history_change_reason")) == {(admin.pk, "unit access granted")}

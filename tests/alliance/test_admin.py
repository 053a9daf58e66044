from __future__ import annotations

import io

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from members.models import District, MemberUnit

from ..conftest import client_for
from ..factories import AgreementFactory, MemberUnitFactory
from ..jobs import export_through_job

STREET_ONLY = {
    "alliance.category",
    "alliance.workdayoverride",
    "members.street",
    "members.community",
    "members.sector",
    "members.councilseat",
}


def _admin_urls():
    for model, model_admin in admin.site._registry.items():
        yield model._meta.label_lower, model, model_admin


@pytest.mark.parametrize("label", [label for label, *_ in _admin_urls()])
def test_every_changelist_and_add_page_renders_for_street_staff(label, street_staff, unit_a):
    AgreementFactory(unit=unit_a)
    model = next(m for lbl, m, _ in _admin_urls() if lbl == label)
    opts = model._meta
    # District staff are assigned by district staff and superusers: street staff do not open that screen
    # (street scoping, members/admin/organisation.py), so a superuser opens it here; staff are added to a
    # district, so one exists.
    if label == "members.districtstaff":
        District.objects.create(name="迎泽区")
    client = (
        client_for(street_staff)
        if opts.app_label in ("alliance", "members") and label != "members.districtstaff"
        else client_for(type(street_staff).objects.create_superuser("super", "super@example.org", "pw"))
    )
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    # Notifications and reminders are written by services only, claims by the claiming unit's liaison,
    # resolutions on their meeting's page, failed sign-ins by axes, API tokens by their owner, units'
    # assessments by the computation, quarterly reports and background jobs by the build button (their own
    # page), bookings in the portal or the API (where the venue's rules are checked), districts by superusers
    # only (street staff, this test's user for members, read them); every other screen can add.
    no_add = {
        "alliance.job",
        "members.quarterlyreport",
        "members.assessment",
        "alliance.notification",
        "projects.projectclaim",
        "meetings.resolution",
        "meetings.reminder",
        "axes.accessattempt",
        "authtoken.tokenproxy",
        "demands.booking",
        "members.district",
        "volunteers.pointsentry",  # the points ledger: added to only by a correction, on an entry's page
    }
    assert add.status_code == (403 if label in no_add else 200)


def test_community_staff_see_only_the_screens_of_their_work(community_x_staff):
    page = client_for(community_x_staff).get(reverse("admin:index"))
    assert page.status_code == 200
    app_models = {m["object_name"].lower() for app in page.context["app_list"] for m in app["models"]}
    assert {"memberunit", "agreement", "grid", "unitmembership"} <= app_models
    assert not app_models & {name.split(".")[1] for name in STREET_ONLY}
    assert client_for(community_x_staff).get(reverse("admin:members_street_changelist")).status_code == 403


def test_unit_changelist_query_count_does_not_grow_with_rows(street_staff, community_x):
    client = client_for(street_staff)
    url = reverse("admin:members_memberunit_changelist")
    MemberUnitFactory.create_batch(5, community=community_x)
    client.get(url)  # warm caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    MemberUnitFactory.create_batch(40, community=community_x)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_export_the_selection_to_excel(street_staff, community_x):
    units = [
        MemberUnitFactory(community=community_x, name="山西饭店"),
        MemberUnitFactory(community=community_x, name='=HYPERLINK("http://evil")'),
    ]
    content = export_through_job(
        client_for(street_staff),
        reverse("admin:members_memberunit_changelist"),
        {"action": "export_xlsx", "_selected_action": [u.pk for u in units]},
    )
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    names = {row[0] for row in rows[1:]}
    assert "山西饭店" in names
    # A name that a spreadsheet would run as a formula is written as text.
    assert '\'=HYPERLINK("http://evil")' in names
    assert {row[1] for row in rows[1:]} == set(MemberUnit.objects.values_list("credit_code", flat=True))


def test_agreements_ending_within_60_days_are_listed_for_staff(street_staff, unit_a):
    from datetime import timedelta

    from members.selectors import today

    soon = AgreementFactory(
        unit=unit_a, signed_on=today() - timedelta(days=1000), term_end=today() + timedelta(days=30)
    )
    later = AgreementFactory(unit=unit_a, signed_on=today(), term_end=today() + timedelta(days=400))
    response = client_for(street_staff).get(reverse("admin:members_agreement_changelist") + "?term=expiring")
    shown = set(response.context["cl"].result_list)
    assert soon in shown and later not in shown

"""The big exports are scoped (issue 14): needs, member units, the claim table, Party members and every
work unit's service cards — background jobs (alliance/jobs, each app's exports.py) — run as a street's
staff hold nothing of another street, and run as a district's staff hold every street of their district
and nothing of the other district. Each is asked for as staff ask: "select all" of the admin list (the
worker evaluates the list again for the requester) or the service cards' form. The world is
test_street_scopes.py's: 迎泽区 (柳巷, 迎泽) and 别区 (别区街道), a community, unit, need, claim, member and
verified service log in each street."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from alliance.models import Job
from alliance.periods import Quarter

from ..conftest import client_for
from ..jobs import post_for_job, result_of
from .test_street_scopes import SEES, streets  # noqa: F401  (the world: two districts, three streets)

pytestmark = pytest.mark.django_db

TAGS = {"s1": "柳巷", "s2": "迎泽", "s3": "别区"}
# The admin list whose "select all" is exported, and the action that exports it.
LIST_EXPORTS = {
    "needs": ("admin:demands_need_changelist", "export_xlsx"),
    "units": ("admin:members_memberunit_changelist", "export_xlsx"),
    "claims": ("admin:projects_projectclaim_changelist", "export_claim_table"),
    "members": ("admin:volunteers_partymember_changelist", "export_import_layout"),
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _texts(content: bytes) -> set[str]:
    """Every sheet title and every text cell of a workbook."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    texts = set(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            texts.update(str(value) for value in row if value is not None)
    return texts


def _streets_in(texts: set[str]) -> set[str]:
    """The streets of the world whose community or unit a workbook names."""
    return {
        street for street, tag in TAGS.items() if any(f"{tag}社区" in text or f"{tag}单位" in text for text in texts)
    }


def _exported(client, job: Job) -> set[str]:
    assert job.status == Job.Status.DONE, job.failure_reason
    return _streets_in(_texts(result_of(client, job)))


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("export", list(LIST_EXPORTS))
def test_a_select_all_export_holds_exactly_the_streets_the_requester_oversees(streets, who, export):  # noqa: F811
    things, users = streets
    changelist, action = LIST_EXPORTS[export]
    client = client_for(users[who])
    key = {"needs": "need", "units": "unit", "claims": "claim", "members": "member"}[export]
    some_row = things[sorted(SEES[who])[0]][key]
    job = post_for_job(
        client,
        reverse(changelist),
        {"action": action, "select_across": "1", "index": "0", "_selected_action": [some_row.pk]},
    )
    assert _exported(client, job) == SEES[who]


@pytest.mark.parametrize("who", list(SEES))
def test_every_work_units_service_cards_hold_exactly_the_streets_the_requester_oversees(streets, who):  # noqa: F811
    _things, users = streets
    client = client_for(users[who])
    quarter = Quarter.current()
    job = post_for_job(
        client,
        reverse("admin:volunteers_servicelog_service_card"),
        {"all-year": quarter.year, "all-quarter": quarter.quarter},
    )
    assert _exported(client, job) == SEES[who]


def test_an_explicit_selection_of_another_streets_rows_exports_none_of_them(streets):  # noqa: F811
    """Ids forged into the action (another district's need) are narrowed away by the worker."""
    things, users = streets
    client = client_for(users["officer"])
    job = post_for_job(
        client,
        reverse("admin:demands_need_changelist"),
        {
            "action": "export_xlsx",
            "select_across": "0",
            "index": "0",
            "_selected_action": [things["s1"]["need"].pk, things["s3"]["need"].pk],
        },
    )
    assert _exported(client, job) == {"s1"}

"""The lists read their pages off indexes: PostgreSQL's plans for the queries they really send, over tables
filled with enough rows that a sequential scan would be the planner's choice without the indexes.

Each case makes the request (or evaluates the selector) a user would, captures the SQL Django sends, and asks
PostgreSQL for its plan (EXPLAIN, nothing is run). A sequential scan of one of the big tables anywhere in
a plan fails the test — the page, its count (which reads at most EXACT_COUNT_LIMIT + 1 rows in the list's
order), the joins —, and so does a page whose big table's rows are sorted rather than read in order,
but for the cases named in MAY_SORT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance import inbox, public_figures
from demands import selectors as need_selectors
from demands.models import Need
from members.models import MemberUnit

from ..api import api_client as _api
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, UserFactory
from ..projects.factories import ProjectFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="query plans are PostgreSQL's (the production database); SQLite's planner is another program",
)

ROWS = 30_000  # per big table: a few seconds to fill, far past where PostgreSQL stops preferring a full scan
BIG_TABLES = {
    "demands_need",
    "demands_needevent",
    "volunteers_servicelog",
    "volunteers_partymember",
    "projects_projectclaim",
    "projects_serviceactivity",
    "alliance_notification",
}


@pytest.fixture
def city(db, street_staff, community_x, community_x_staff):
    """Five communities, twenty units and projects, fifty people, and ROWS needs (with their timelines),
    Party members, claims, activities and notifications; two service logs per member."""
    communities = [community_x, *(CommunityFactory(street=community_x.street) for _ in range(4))]
    category = CategoryFactory()
    units = [MemberUnitFactory(community=communities[i % 5]) for i in range(20)]
    projects = [ProjectFactory(street=community_x.street, community=communities[i % 5]) for i in range(20)]
    people = [UserFactory() for _ in range(50)]
    community_ids, unit_ids = [c.pk for c in communities], [u.pk for u in units]
    project_ids, people_ids = [p.pk for p in projects], [u.pk for u in people]
    with connection.cursor() as cursor:
        # One in twenty waits to be dispatched, one in twenty to be accepted (clocks running, some overdue),
        # two accepted, one rejected, the rest closed: the mix of a city's needs list.
        cursor.execute(
            """
            INSERT INTO demands_need (kind, title, description, contact_name, contact_phone, address, channel,
                tracking_code, status, submitted_at, dispatched_at, accepted_at, completed_at, closed_at,
                rejected_at, reject_reason, result, rating_comment, updated_at, category_id, community_id, unit_id)
            SELECT 'resident', 'need ' || i, '', 'x', '13700000000', '', 'web', 'PLAN' || lpad(i::text, 12, '0'),
                s.status, now() - i * interval '7 minutes',
                CASE WHEN s.status IN ('submitted', 'rejected') THEN NULL ELSE now() - i * interval '5 minutes' END,
                CASE WHEN s.status IN ('accepted', 'closed') THEN now() - i * interval '4 minutes' END,
                CASE WHEN s.status = 'closed' THEN now() - i * interval '3 minutes' END,
                CASE WHEN s.status = 'closed' THEN now() - i * interval '2 minutes' END,
                CASE WHEN s.status = 'rejected' THEN now() - i * interval '6 minutes' END,
                '', '', '', now(), %s, (%s::bigint[])[1 + i %% 5],
                CASE WHEN s.status IN ('submitted', 'rejected') THEN NULL ELSE (%s::bigint[])[1 + i %% 20] END
            FROM generate_series(1, %s) AS i,
                LATERAL (SELECT CASE i %% 20 WHEN 0 THEN 'submitted' WHEN 1 THEN 'dispatched'
                    WHEN 2 THEN 'accepted' WHEN 3 THEN 'accepted' WHEN 4 THEN 'rejected' ELSE 'closed' END
                    AS status) AS s
            """,
            [category.pk, community_ids, unit_ids, ROWS],
        )
        cursor.execute(
            """
            INSERT INTO demands_needevent (at, from_status, to_status, note, need_id)
            SELECT submitted_at, '', 'submitted', '', id FROM demands_need
            UNION ALL
            SELECT dispatched_at, 'submitted', 'dispatched', '', id FROM demands_need WHERE dispatched_at IS NOT NULL
            """
        )
        cursor.execute(
            """
            INSERT INTO volunteers_partymember (name, phone, work_unit_name, party_branch, skills, registered_on,
                status, reject_reason, created_at, updated_at, residence_community_id, work_unit_id)
            SELECT 'member ' || i, '136' || lpad(i::text, 8, '0'), '', '', '', current_date,
                CASE WHEN i %% 10 = 0 THEN 'pending' ELSE 'verified' END, '', now(), now(),
                (%s::bigint[])[1 + i %% 5], (%s::bigint[])[1 + i %% 20]
            FROM generate_series(1, %s) AS i
            """,
            [community_ids, unit_ids, ROWS],
        )
        cursor.execute(
            """
            INSERT INTO volunteers_servicelog (date, hours, description, verified, created_at, member_id,
                                               reject_reason)
            SELECT current_date - ((m.id + i) %% 700)::int, 2, '', (m.id + i) %% 8 <> 0, now(), m.id, ''
            FROM volunteers_partymember AS m, generate_series(1, 2) AS i
            """,
            [],
        )
        # One claim holding a place per unit and project (400), the rest withdrawn: the unique rule's way.
        cursor.execute(
            """
            INSERT INTO projects_projectclaim (commitment, status, decision_note, created_at, updated_at, unit_id,
                project_id)
            SELECT '', CASE WHEN i > 400 THEN 'withdrawn' WHEN i %% 4 = 0 THEN 'pending' ELSE 'approved' END, '',
                now() - i * interval '1 minute', now(), (%s::bigint[])[1 + i %% 20], (%s::bigint[])[1 + (i / 20) %% 20]
            FROM generate_series(1, %s) AS i
            """,
            [unit_ids, project_ids, ROWS],
        )
        cursor.execute(
            """
            INSERT INTO projects_serviceactivity (date, title, place, participants, services, beneficiaries, hours,
                created_at, claim_id)
            SELECT current_date - (i %% 700), 'activity ' || i, '', 0, 0, 0, 0, now(), c.id
            FROM generate_series(1, %s) AS i
            JOIN projects_projectclaim AS c ON c.id = (SELECT min(id) FROM projects_projectclaim) + i %% 400
            """,
            [ROWS],
        )
        cursor.execute(
            """
            INSERT INTO alliance_notification (email, phone, kind, subject, body, url, status, attempts, last_error,
                created_at, in_digest, recipient_id, read_at)
            SELECT '', '', 'need_submitted', 'subject ' || i, '', '', 'sent', 1, '', now() - i * interval '1 minute',
                false, (%s::bigint[])[1 + i %% 50], CASE WHEN i %% 3 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, %s) AS i
            """,
            [people_ids, ROWS],
        )
        for table in sorted(BIG_TABLES):
            cursor.execute(f"ANALYZE {table}")
    return {"community": community_x, "unit": units[1], "project": projects[0], "person": people[0]}


def _plan(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _full_scans(sql: str) -> list[str]:
    scans = []
    for node in _nodes(_plan(sql)):
        if node["Node Type"] != "Seq Scan" or node.get("Relation Name") not in BIG_TABLES:
            continue
        scans.append(f"{node['Relation Name']} (filter: {node.get('Filter', '-')})")
    return scans


def _sent(action: Callable[[], object]) -> list[str]:
    """The SELECTs on big tables that `action` sends (the paginator's own EXPLAIN aside)."""
    with CaptureQueriesContext(connection) as queries:
        action()
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and any(f'"{t}"' in q["sql"] for t in BIG_TABLES)
    ]


def _get(client, url, params=None) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def _public_page(url: str, params: dict) -> None:
    cache.clear()
    response = Client().get(url, params)
    assert response.status_code == 200, response.content[:500]


def _then_next(client, url: str, params: dict | None = None) -> Callable[[], object]:
    """The list's first page, then the page its `next` link leads to."""

    def both():
        body = _get(client, url, params)
        assert body["next"], f"{url} {params}: the fill is meant to give more than one page"
        _get(client, body["next"])

    return both


def _cases(city, street_staff, community_x_staff) -> dict[str, Callable[[], object]]:
    staff, community = _api(street_staff), _api(community_x_staff)
    community_id, unit, project = city["community"].pk, city["unit"], city["project"]
    need = Need.objects.filter(status=Need.Status.DISPATCHED).order_by("id").first()
    # The public pages read the street list from the snapshot: made here, not inside a captured case.
    public_figures.refresh()
    street = {"street": city["community"].street_id}
    return {
        "needs API": _then_next(staff, "/api/v1/needs/"),
        "needs API, oldest first": _then_next(staff, "/api/v1/needs/", {"ordering": "submitted_at"}),
        "needs API by status": _then_next(staff, "/api/v1/needs/", {"ordering": "-status"}),
        "needs API, waiting to be dispatched": _then_next(staff, "/api/v1/needs/", {"status": "submitted"}),
        "needs API of a community": _then_next(staff, "/api/v1/needs/", {"community": community_id}),
        "needs API of a unit": _then_next(staff, "/api/v1/needs/", {"unit": unit.pk}),
        "needs API, overdue": _then_next(staff, "/api/v1/needs/", {"overdue": "true"}),
        "needs API, community staff": _then_next(community, "/api/v1/needs/"),
        "a need with its timeline": lambda: _get(staff, f"/api/v1/needs/{need.pk}/"),
        "the work queue": lambda: list(need_selectors.need_queue(user=street_staff)[:50]),
        "the overdue needs": lambda: list(
            need_selectors.needs_visible_to(user=street_staff)
            .filter(need_selectors.overdue_q())
            .order_by("waiting_since", "id")[:50]
        ),
        "the SLA scan": lambda: list(need_selectors.due_for_sla_flag("accept")[:100]),
        "service logs API": _then_next(staff, "/api/v1/service-logs/"),
        "service logs API, to verify": _then_next(staff, "/api/v1/service-logs/", {"verified": "false"}),
        "members API": _then_next(staff, "/api/v1/members/"),
        "members API, to verify": _then_next(staff, "/api/v1/members/", {"status": "pending"}),
        "members API of a community": _then_next(staff, "/api/v1/members/", {"community": community_id}),
        "claims API": _then_next(staff, "/api/v1/claims/"),
        "claims API, newest first": _then_next(staff, "/api/v1/claims/", {"ordering": "-created_at"}),
        "claims API of a project": _then_next(staff, "/api/v1/claims/", {"project": project.pk, "page_size": 5}),
        "activities API": _then_next(staff, "/api/v1/activities/"),
        # The public activities page (issue 15), as a visitor finds it once its short cache expired.
        "the public activities page": lambda: _public_page("/activities/", {**street, "page": "2"}),
        "the public activities page of a month": lambda: _public_page(
            "/activities/", {**street, "month": timezone.localdate().strftime("%Y-%m")}
        ),
        "the inbox": lambda: list(inbox.my_notifications(city["person"])[:20]),
        "the unread count": lambda: inbox.my_unread_count(city["person"]),
    }


def _sorts(sql: str) -> list[str]:
    """Sort nodes above a read of a big table: rows put in order after reading them, not read in order."""
    return [
        f"Sort by {node['Sort Key']}"
        for node in _nodes(_plan(sql))
        if node["Node Type"] == "Sort"
        and any(child.get("Relation Name") in BIG_TABLES for child in _nodes(node) if child is not node)
    ]


# A filter whose rows no index holds in the list's order, a scope that is a union of several (a
# community's needs or those dispatched to the staff member's units), and the beat's scan of the overdue
# needs (a few, read off need_open_queue_idx): the matching rows are sorted.
MAY_SORT = {"needs API, overdue", "needs API, community staff", "the SLA scan"}


def test_no_list_reads_a_big_table_from_end_to_end(city, street_staff, community_x_staff):
    assert Need.objects.count() == ROWS and MemberUnit.objects.count() == 20
    failures = {}
    for name, action in _cases(city, street_staff, community_x_staff).items():
        queries = _sent(action)
        assert queries, f"{name}: no query on a big table was captured"
        for sql in queries:
            # Pages only: a count reading up to EXACT_COUNT_LIMIT rows may rather gather them and sort
            # (cheaper than as many reads in index order), and a few timeline rows of a need are sorted.
            is_page = " LIMIT " in sql and not sql.startswith("SELECT COUNT(*)")
            problems = _full_scans(sql) + (_sorts(sql) if is_page and name not in MAY_SORT else [])
            if problems:
                failures.setdefault(name, []).append((problems, sql[:400]))
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)


def test_without_the_list_indexes_the_same_lists_would_read_whole_tables(city, street_staff, community_x_staff):
    """The control: the fill is big enough that the planner needs the indexes (DROP INDEX is undone with the
    test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('demands_need', 'volunteers_servicelog') "
            "AND indexname LIKE '%%_idx'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
    cases = _cases(city, street_staff, community_x_staff)
    for name in ("needs API", "needs API, oldest first", "the work queue", "service logs API"):
        # Without its index a page is read whole and then sorted: a sequential scan, or (when the planner
        # still finds a foreign-key index, as after other tests' loads left different statistics) a sort
        # of every matching row. Either is what the list indexes are there to avoid.
        costs = [cost for sql in _sent(cases[name]) for cost in (*_full_scans(sql), *_sorts(sql))]
        assert costs, f"{name}: read in order even without the indexes — the fill is too small to tell"

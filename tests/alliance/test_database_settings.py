"""PostgreSQL runs with server-side parameters everywhere, and the web processes prepare the statements they
repeat (issue 12: a list's query is planned once per connection, not once per page); no other process does
(an import's long transaction would keep plans made for its tables when they were empty). An operator
behind a transaction pooler turns preparing off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from demands.models import Need

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://alliance:secret@db.example.org:5432/alliance"


def options(*, web: bool = False, **env: str) -> dict:
    """The default database's OPTIONS as a process starts: a web process through alliance/wsgi.py."""
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DATABASE_URL"}}
    environ.update({"DEBUG": "1", "DATABASE_URL": POSTGRES, **env})
    start = "import alliance.wsgi" if web else "import django; django.setup()"
    show = "import json; from django.conf import settings as s; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    code = f"{start}; {show}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_web_process_binds_on_the_server_and_prepares_after_five_runs() -> None:
    assert options(web=True) == {"server_side_binding": True, "prepare_threshold": 5}


def test_workers_commands_and_tests_bind_on_the_server_and_prepare_nothing() -> None:
    assert options() == {"server_side_binding": True, "prepare_threshold": None}
    assert options(DATABASE_PREPARE_THRESHOLD="3") == {"server_side_binding": True, "prepare_threshold": None}


@pytest.mark.parametrize("off", ["off", "none", "OFF"])
def test_preparing_can_be_turned_off_for_a_transaction_pooler(off: str) -> None:
    assert options(web=True, DATABASE_PREPARE_THRESHOLD=off)["prepare_threshold"] is None


def test_the_threshold_and_the_binding_are_the_operators_to_set() -> None:
    assert options(web=True, DATABASE_PREPARE_THRESHOLD="0", DATABASE_SERVER_SIDE_BINDING="0") == {
        "server_side_binding": False,
        "prepare_threshold": 0,
    }


def _prepared_need_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"demands_need"%'])
        return cursor.fetchone()[0]


def _run_a_list_query_seven_times() -> None:
    for community in range(1, 8):  # another value each time: one statement, its parameter bound by the server
        list(Need.objects.filter(community_id=community).values_list("pk", flat=True)[:5])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db
def test_a_query_run_again_and_again_is_prepared_only_with_a_threshold() -> None:
    connection.ensure_connection()
    kept = connection.connection.prepare_threshold
    try:
        connection.connection.prepare_threshold = None  # what every process but the web's runs with
        _run_a_list_query_seven_times()
        assert _prepared_need_statements() == 0
        connection.connection.prepare_threshold = 5  # what prepare_web_statements gives a web process
        _run_a_list_query_seven_times()
        assert _prepared_need_statements() == 1
    finally:
        connection.connection.prepare_threshold = kept

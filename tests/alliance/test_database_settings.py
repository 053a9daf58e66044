"""PostgreSQL runs with server-side parameters and prepared statements (issue 12: a list's query is planned
once per connection, not once per page); an operator behind a transaction pooler turns preparing off."""

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


def options(**env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DATABASE_URL"}}
    environ.update({"DEBUG": "1", "DATABASE_URL": POSTGRES, **env})
    code = "import json, alliance.settings as s; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_by_default_parameters_are_bound_by_the_server_and_statements_prepared_after_five_runs() -> None:
    assert options() == {"server_side_binding": True, "prepare_threshold": 5}


@pytest.mark.parametrize("off", ["off", "none", "OFF"])
def test_preparing_can_be_turned_off_for_a_transaction_pooler(off: str) -> None:
    assert options(DATABASE_PREPARE_THRESHOLD=off)["prepare_threshold"] is None


def test_the_threshold_and_the_binding_are_the_operators_to_set() -> None:
    assert options(DATABASE_PREPARE_THRESHOLD="0", DATABASE_SERVER_SIDE_BINDING="0") == {
        "server_side_binding": False,
        "prepare_threshold": 0,
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db
def test_a_query_run_again_and_again_is_prepared_on_its_connection() -> None:
    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"demands_need"%'])
            return cursor.fetchone()[0]

    assert prepared() == 0
    for community in range(1, 8):  # another value each time: one statement, its parameter bound by the server
        list(Need.objects.filter(community_id=community).values_list("pk", flat=True)[:5])
    assert prepared() == 1

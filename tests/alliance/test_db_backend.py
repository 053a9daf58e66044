"""The PostgreSQL backend (`alliance.db.postgresql`) reads timestamps with psycopg's C loader and gives back
exactly what Django's own loader gives: the same instants, in UTC, tagged with Django's time zone."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.utils import timezone
from psycopg import adapt
from psycopg.pq import Format

from alliance.db.postgresql.base import MAX_PARAMETERS, _TimestamptzLoader, fast_timestamps
from alliance.models import Notification
from demands.models import Need

from ..demands.factories import NeedFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend")

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
INSTANTS = [
    datetime.datetime(2026, 5, 20, 9, 30, tzinfo=SHANGHAI),
    datetime.datetime(2026, 5, 20, 9, 30, 0, 123456, tzinfo=SHANGHAI),
    datetime.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(1899, 1, 1, 0, 0, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
    datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC),
]


def test_the_backend_is_djangos_with_its_own_timestamp_loader(db) -> None:
    assert connection.settings_dict["ENGINE"] == "alliance.db.postgresql"
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(
        connection.connection.adapters.types["timestamptz"].oid, Format.TEXT
    )
    assert issubclass(loader, _TimestamptzLoader) is fast_timestamps()
    assert fast_timestamps()  # psycopg[binary] is the project's dependency: the C loader is there


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_a_timestamp_reads_back_as_djangos_loader_reads_it(db, instant: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, (%s::timestamptz)::text", [instant, instant])
        value, text = cursor.fetchone()
    assert value == instant
    assert value.tzinfo is datetime.UTC
    assert value.utcoffset() == datetime.timedelta(0)

    # Django's own loader, on the same text from the same connection.
    django_adapters = adapt.AdaptersMap(connection.connection.adapters)
    register_tzloader(connection.timezone, django_adapters)
    djangos = django_adapters.get_loader(django_adapters.types["timestamptz"].oid, Format.TEXT)
    expected = djangos(django_adapters.types["timestamptz"].oid, connection.connection).load(text.encode())
    assert (value, value.tzinfo) == (expected, expected.tzinfo)


def test_a_model_field_round_trips(db) -> None:
    need = NeedFactory()
    moment = datetime.datetime(2026, 2, 17, 8, 0, 0, 250000, tzinfo=SHANGHAI)  # Spring Festival's first day
    Need.objects.filter(pk=need.pk).update(dispatched_at=moment)
    read = Need.objects.values_list("dispatched_at", flat=True).get(pk=need.pk)
    assert read == moment
    assert timezone.localtime(read).isoformat() == "2026-02-17T08:00:00.250000+08:00"


def test_a_bulk_write_past_the_servers_parameter_limit_is_cut_into_batches(db) -> None:
    # 8,000 notifications: Django inserts them with one array per column (UNNEST), but updates them with a
    # CASE per column — 1 + 2 × 4 parameters a row, 72,000 in all, past the 65,535 a statement may take when
    # the server binds them (a reminder scan tells this many people at once).
    rows = [Notification(email=f"u{i}@example.org", subject="会议提醒", body="明天上午九点开会。") for i in range(8000)]
    Notification.objects.bulk_create(rows)
    assert Notification.objects.filter(subject="会议提醒").count() == 8000
    for row in rows:
        row.subject, row.url = "会议改期", "/portal/meetings/"
    columns = ["subject", "body", "email", "url"]
    assert (1 + 2 * len(columns)) * len(rows) > MAX_PARAMETERS
    Notification.objects.bulk_update(rows, columns)
    assert Notification.objects.filter(subject="会议改期", url="/portal/meetings/").count() == 8000

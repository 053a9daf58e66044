"""Benchmark data at the sizes the platform must stay fast at (`manage.py generate_scale`), PostgreSQL only.

One writer per app (members, demands, projects, meetings, volunteers), run in that order; each COPYs its
tables (psycopg 3 `cursor.copy`) with ids chosen here, so rows point at each other without a round trip,
and hands on the ids the next one needs through `World`. What the data looks like is said in each writer's
docstring. The load is one transaction with the big tables' indexes and foreign keys built once at the end
(`rows.checks_at_the_end`); afterwards the sequences are moved past the ids and the tables are vacuumed
and analysed, as autovacuum would have left a live database.

Not written: history rows (simple_history) — COPY bypasses the models' signals, and nothing but the
admin's history pages reads them; notifications and the reminder ledger (they are the outbox of
messages already sent); assessments (computed by the platform); photos and files.

Deterministic: one seeded `random.Random`; the same seed on the same day gives the same rows (times are
placed relative to the start of today, Asia/Shanghai)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from alliance.periods import ZONE

from . import demands, meetings, members, projects, volunteers
from .rows import checks_at_the_end, reset_sequences
from .words import Gen
from .world import SCALES, Picker, Scale, World

__all__ = ["SCALES", "Scale", "generate"]

WRITERS = (members.write, demands.write, projects.write, meetings.write, volunteers.write)


def generate(scale: Scale, *, seed: int, password: str, log: Callable[[str], None] = print) -> dict[str, float]:
    """Load `scale` into the (empty) database. Returns the seconds each phase took."""
    from alliance.management.commands.seed_demo import CATEGORIES
    from alliance.models import Category

    timings: dict[str, float] = {}
    began = time.monotonic()
    midnight = timezone.localtime(timezone.now(), ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    world = World(scale=scale, g=Gen(seed), now=midnight, log=log)
    # One hash for every account: hashing is deliberately slow, and thousands of liaisons share it.
    world.password = make_password(password)
    with transaction.atomic():
        categories = [
            Category.objects.update_or_create(code=code, defaults={"name": name, "sort_order": i * 10})[0].pk
            for i, (code, name) in enumerate(CATEGORIES, start=1)
        ]
        # Some categories are asked for far more than others: a Zipf-like share down the list (health first).
        world.category_picker = Picker(world.rng, categories, [1 / (i + 1) for i in range(len(categories))])
        with checks_at_the_end(_tables()):
            for write in WRITERS:
                write(world)
            timings["rows"] = time.monotonic() - began
            log("building indexes and checking foreign keys …")
        reset_sequences(world.loaded)
    timings["indexes and keys"] = time.monotonic() - began - timings["rows"]
    log("vacuuming and analysing …")
    with connection.cursor() as cursor:
        # Outside the transaction (VACUUM cannot run in one): statistics for the planner, and the
        # visibility map that index-only scans need — what autovacuum would have done on a live database.
        for table in sorted({m._meta.db_table for m in world.loaded}):
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    timings["vacuum"] = time.monotonic() - began - timings["rows"] - timings["indexes and keys"]
    timings["total"] = time.monotonic() - began
    return timings


def _tables() -> list[str]:
    """The tables the writers fill: every concrete model of the apps the writers cover, the auth and
    guardian tables of the accounts, and the many-to-many tables between them."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from guardian.models import UserObjectPermission

    models = [
        m
        for label in ("members", "demands", "projects", "meetings", "volunteers")
        for m in apps.get_app_config(label).get_models()
    ]
    models += [get_user_model(), UserObjectPermission]
    # History tables are left alone: nothing is written to them (see above).
    tables = {m._meta.db_table for m in models if "historical" not in m._meta.db_table}
    for m in models:
        for f in m._meta.local_many_to_many:
            tables.add(f.remote_field.through._meta.db_table)
    return sorted(tables)

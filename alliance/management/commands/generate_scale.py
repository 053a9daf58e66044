"""`manage.py generate_scale --scale street|district|city [--seed N] [--password P]`: benchmark data.

Loads one of the sizes the platform must stay fast at into an empty, migrated PostgreSQL database (what
the rows look like: `alliance.scale`). Refuses SQLite (the load is PostgreSQL COPY) and any database that
already holds data — the same check `seed_demo` makes. Never run it against a database anyone uses.

    street    1 street,  9 communities,    128 units,     5,111 members,     5,556 needs,    22,222 service logs
    district  9 streets, 81 communities, 1,155 units,    46,000 members,    50,000 needs,   200,000 service logs
    city     90 streets, 810 communities, 11,550 units, 1,000,000 members, 1,000,000 needs, 5,000,000 service logs

Measured on the 2-core build machine (PostgreSQL 15), shared with other work at a load average of about 8:
district in 18–35 s, city in 469 s (rows 317 s, indexes and keys 133 s, vacuum 19 s; peak RSS 0.5 GB).
Every account (`scale_admin` superuser, `scale_staff` street staff, `scale_community_<id>`,
`scale_liaison_<unit id>`, `scale_member_<n>`) has the password given with --password."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from alliance import demo
from alliance.scale import SCALES, generate

DEFAULT_PASSWORD = "scale-pass-2026"
DEFAULT_SEED = 20261127


class Command(BaseCommand):
    help = "Load benchmark data (street, district or city scale) into an empty PostgreSQL database."

    def add_arguments(self, parser) -> None:
        # "tiny" is for the tests (every table, a few hundred rows): accepted, not advertised.
        parser.add_argument("--scale", required=True, choices=list(SCALES), metavar="{street,district,city}")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the same seed gives the same rows")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every generated account")

    def handle(self, *args, scale: str, seed: int, password: str, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"generate_scale needs PostgreSQL (it loads with COPY); this database is {connection.vendor}. "
                "Set DATABASE_URL=postgres://… to an empty, migrated database."
            )
        if demo.holds_real_data():
            raise CommandError(
                f"The database {connection.settings_dict['NAME']} already holds data. generate_scale loads only "
                "into an empty, migrated database: create one for the benchmark."
            )
        self.stdout.write(f"generating {scale} scale into {connection.settings_dict['NAME']} …")
        timings = generate(SCALES[scale], seed=seed, password=password, log=self.stdout.write)
        summary = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in timings.items())
        self.stdout.write(self.style.SUCCESS(f"{scale} scale loaded: {summary}"))

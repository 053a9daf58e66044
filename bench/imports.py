"""The import of in-service Party members (issue 12) against an openpyxl read-only pass over the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_bench_imports \\
        .venv/bin/python bench/imports.py [--rows 50000] [--rounds 3] [--fresh] [--no-write]

The database must be named `alliance_bench…` (anything else is refused: the script writes to it); it is
created if missing and migrated. One street, one community and one street-staff account are made once; the
workbook (`--rows` members in the import layout) is written to a temporary folder. Every measurement runs
in a fresh child process, so its peak memory is its own:

- **floor**: openpyxl read-only (no Django), every row of the first sheet iterated as values.
- **import**: `volunteers.imports.MemberImporter.execute(file, mode=Mode.ALL)` — streamed, validated and
  written a batch at a time (`bulk_create` with the history rows), everything the job does but its
  messages — inside an outer transaction that is rolled back, so every round imports the same new rows
  (the tables are vacuumed before each round, untimed, so that no round meets the dead rows of the last).

The rounds take turns (floor, import; floor, import; …). Times are wall clock around the work only;
peak memory is VmHWM. Targets: the import's time ≤ 3× the floor's (the median of the rounds' ratios),
and its peak ≤ 200 MB. Prints a table and PASS/FAIL, replaces the "Imports (issue 12)" section of
bench/RESULTS.md (unless --no-write), exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quarterly_report import (  # bench/quarterly_report.py, beside this script
    DB_PREFIX,
    PYTHON,
    RESULT_PREFIX,
    ROOT,
    child_env,
    database_name,
    emit,
    ensure_database,
)
from results import write_section

SECTION = "## Imports (issue 12)"
TARGET_RATIO = 3.0
TARGET_RSS_MB = 200.0
CHILD_TIMEOUT_S = 1800


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()


def child_setup(args: argparse.Namespace) -> None:
    """The community and the account (once per database), and the workbook."""
    _django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from openpyxl import Workbook

    from alliance import permissions
    from members.models import Community, Street, StreetStaff
    from volunteers.imports import MemberImporter

    street, _ = Street.objects.get_or_create(name="基准街道")
    community, _ = Community.objects.get_or_create(street=street, name="基准社区")
    staff, _ = get_user_model().objects.get_or_create(username="bench-import-staff", defaults={"is_staff": True})
    staff.groups.add(Group.objects.get_or_create(name=permissions.STREET_STAFF_GROUP)[0])
    # Street staff of the bench's street (what members.services.street_staff_add records).
    StreetStaff.objects.get_or_create(user=staff, street=street)
    importer = MemberImporter(actor=staff)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(importer.header())
    for n in range(args.rows):
        sheet.append([f"党员{n}", f"139{n:08d}", f"某科技公司{n % 500}", "第一党支部", community.name, "理发、义诊"])
    workbook.save(args.file)
    emit({"staff_id": staff.pk, "bytes": Path(args.file).stat().st_size})


def child_floor(args: argparse.Namespace) -> None:
    from openpyxl import load_workbook

    started, cpu = time.perf_counter(), time.process_time()
    workbook = load_workbook(args.file, read_only=True, data_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
    workbook.close()
    emit({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": rows})


def child_import(args: argparse.Namespace) -> None:
    _django()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from alliance.imports import Mode
    from volunteers.imports import MemberImporter
    from volunteers.models import PartyMember

    staff = get_user_model().objects.get(pk=args.staff_id)
    # Every round's rows are rolled back, and their dead index entries (the same phones, round after
    # round) would make each later round's unique checks and look-ups visit them: a cost no real import
    # pays (autovacuum runs between imports). Cleared before the clock starts.
    with connection.cursor() as cursor:
        tables = [PartyMember._meta.db_table, PartyMember.history.model._meta.db_table]
        cursor.execute(f"VACUUM ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic(), open(args.file, "rb") as file:
        outcome = MemberImporter(actor=staff).execute(file, mode=Mode.ALL)
        transaction.set_rollback(True)  # the next round imports the same rows again
    emit(
        {
            "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu,
            "rows": outcome.rows,
            "written": outcome.written,
            "created": outcome.actions["create"],
            "bad": len(outcome.bad_rows),
        }
    )


CHILDREN = {"setup": child_setup, "floor": child_floor, "import": child_import}


def run_child(kind: str, env: dict[str, str], args: argparse.Namespace, *extra: str) -> dict:
    command = [str(PYTHON), str(Path(__file__).resolve()), "--child", kind, "--file", args.file, *extra]
    command += ["--rows", str(args.rows)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        raise SystemExit(f"child {kind} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor and import (1..9)")
    parser.add_argument("--fresh", action="store_true", help="drop and create the database first")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--staff-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child](args)
        return 0
    if not (1 <= args.rounds <= 9 and 100 <= args.rows <= 500_000):
        parser.error("keep it bounded: --rounds 1..9, --rows 100..500000")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not database_name(url).startswith(DB_PREFIX):
        parser.error(f"set DATABASE_URL to a PostgreSQL database named {DB_PREFIX}… (it is created and written to)")
    command = " ".join([f"DATABASE_URL={url}", ".venv/bin/python", "bench/imports.py", *sys.argv[1:]])
    started = dt.datetime.now().astimezone()

    with tempfile.TemporaryDirectory(prefix="alliance-bench-imports-") as tmp:
        env = child_env(url, tmp)
        ensure_database(url, args.fresh)
        subprocess.run(
            [str(PYTHON), "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={**env, "DEBUG": "1"},
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        args.file = str(Path(tmp) / "members.xlsx")
        setup = run_child("setup", env, args)
        print(f"{args.rows:,} members, {setup['bytes'] / 1024 / 1024:.1f} MB workbook", flush=True)
        staff = ("--staff-id", str(setup["staff_id"]))
        floors, imports = [], []
        for i in range(args.rounds):
            floors.append(run_child("floor", env, args))
            imports.append(run_child("import", env, args, *staff))
            print(
                f"   round {i + 1}: floor {floors[-1]['seconds']:6.2f} s, import {imports[-1]['seconds']:6.2f} s "
                f"(peak {imports[-1]['VmHWM'] / 1024:.0f} MB)",
                flush=True,
            )

    ratio = statistics.median(i["seconds"] / f["seconds"] for f, i in zip(floors, imports, strict=True))
    peak = max(i["VmHWM"] for i in imports) / 1024
    done = all(i["written"] and i["created"] == args.rows and not i["bad"] for i in imports)
    passed = done and ratio <= TARGET_RATIO and peak <= TARGET_RSS_MB
    table = "\n".join(
        [
            "| | floor (openpyxl read-only) | import | ratio |",
            "| --- | --- | --- | --- |",
            f"| median time | {statistics.median(f['seconds'] for f in floors):.2f} s "
            f"| {statistics.median(i['seconds'] for i in imports):.2f} s | {ratio:.2f}× (target ≤ {TARGET_RATIO}×) |",
            f"| peak memory (VmHWM) | {max(f['VmHWM'] for f in floors) / 1024:.0f} MB | {peak:.0f} MB "
            f"| target ≤ {TARGET_RSS_MB:.0f} MB |",
        ]
    )
    verdict = "PASS" if passed else "FAIL"
    print(table + f"\n{verdict}")
    if not args.no_write:
        write_section(
            SECTION,
            f"{SECTION}\n\n`{command}` — {started:%Y-%m-%d %H:%M %Z}, {args.rounds} rounds, {args.rows:,} members "
            f"({setup['bytes'] / 1024 / 1024:.1f} MB); the import validates and writes every row in an outer "
            f"transaction rolled back after each round (commit not timed; tables vacuumed before each round, "
            f"untimed).\n\n{table}\n\n**{verdict}**\n",
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

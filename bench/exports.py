"""The big exports as background jobs (issue 12) against the openpyxl write-only floor writing the same rows,
in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_bench_bg_exports \\
        .venv/bin/python bench/exports.py [--rounds 3] [--kinds needs members claims cards] [--no-write]

The database must be named `alliance_bench…` and hold data of `manage.py generate_scale` (district scale:
~50,000 needs, 46,000 Party members; loaded beforehand, the script does not load it), read as its street
staff account `scale_staff`. Each export is what the admin's "select all" queues — a job whose payload is
the change list's filters — run by `alliance.jobs.run` exactly as the worker runs it (permission narrowing,
the rows from the database, the workbook to a temporary file, the result stored on the job), in a process
whose URLconf and catalogue are loaded before the clock starts, as in a worker that has run before:

- **needs**: the needs export with contacts (`export.needs`), every need of the street;
- **members**: the Party members in the import layout (select-all, narrowed like the action);
- **claims**: the claim table (认领表), every claim;
- **cards**: the service cards of the quarter with the most verified service — a sheet per work unit.

The **floor** writes the same sheets, header and cells with openpyxl in write-only mode, no Django: the cells
are the export's own (dumped once by a probe that iterates the export's sheets), loaded before the clock
starts, so the floor is the bare cost of writing the workbook. Every measurement runs in a fresh child
process; floor and export take turns, round by round. Target: export ≤ 2× floor (the median of the rounds'
ratios) for each kind. Prints a table and PASS/FAIL, replaces the "Exports as jobs (issue 12)" section of
bench/RESULTS.md (unless --no-write), exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
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
    server_version,
)
from results import write_section

SECTION = "## Exports as jobs (issue 12)"
TARGET_RATIO = 2.0
CHILD_TIMEOUT_S = 1800
KINDS = ("needs", "members", "claims", "cards")
STAFF = "scale_staff"


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()


def _payload(kind: str) -> tuple[str, dict]:
    """The job kind and payload the admin's select-all (or the service cards' form) queues."""
    from volunteers import exports as volunteer_exports
    from volunteers.imports import MemberImporter

    if kind == "needs":
        return "export.needs", {"changelist": {"model": "demands.need", "query": "", "narrow": ""}}
    if kind == "members":
        changelist = {"model": "volunteers.partymember", "query": "", "narrow": "get_export_queryset"}
        return MemberImporter.export_kind, {"changelist": changelist}
    if kind == "claims":
        return "export.claim_table", {"changelist": {"model": "projects.projectclaim", "query": "", "narrow": ""}}
    return volunteer_exports.EXPORT_SERVICE_CARDS, {"params": _busiest_quarter()}


def _busiest_quarter() -> dict:
    from django.db.models import Count
    from django.db.models.functions import ExtractQuarter, ExtractYear

    from volunteers.models import ServiceLog

    row = (
        ServiceLog.objects.annotate(y=ExtractYear("date"), q=ExtractQuarter("date"))
        .values("y", "q")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return {"year": row["y"], "quarter": row["q"]}


def child_probe(args: argparse.Namespace) -> None:
    """The export's sheets as cells (what the renderer writes), pickled a sheet at a time for the floor."""
    _django()
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from alliance import exports

    staff = get_user_model().objects.get(username=STAFF)
    job_kind, payload = _payload(args.kind)
    spec = exports._kinds[job_kind]
    queryset = exports._chosen(staff, spec, payload)
    rows = sheets = 0
    with translation.override("zh-hans"), open(args.file, "wb") as out:
        for title, header, sheet_rows in spec.sheets(queryset, staff, payload.get("params", {})):
            cells = [[exports.safe_cell_value(v) for v in row] for row in sheet_rows]
            pickle.dump((title, [str(h) for h in header], cells), out, protocol=pickle.HIGHEST_PROTOCOL)
            rows += len(cells)
            sheets += 1
    emit({"rows": rows, "sheets": sheets, "payload": payload})


def child_floor(args: argparse.Namespace) -> None:
    """openpyxl write-only, no Django: the same sheets, header (bold, as the export) and cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheets = []
    with open(args.file, "rb") as source:
        while True:
            try:
                sheets.append(pickle.load(source))
            except EOFError:
                break
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryFile() as target:
        workbook = Workbook(write_only=True)
        bold = Font(bold=True)
        for title, header, cells in sheets:
            sheet = workbook.create_sheet(title=title[:31])
            head = []
            for label in header:
                cell = WriteOnlyCell(sheet, value=label)
                cell.font = bold
                head.append(cell)
            sheet.append(head)
            for row in cells:
                sheet.append(row)
        workbook.save(target)
        size = target.tell()
    emit({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "bytes": size})


def _warm_up() -> None:
    """What a worker that has run before holds already, loaded before the clock starts: the URLconf (every
    app's admin and views, imported by the first `reverse`) and the Chinese catalogue."""
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext

    reverse("admin:alliance_job_change", args=[1])
    with translation.override("zh-hans"):
        gettext("Name")


def child_export(args: argparse.Namespace) -> None:
    """The job as the worker runs it: `alliance.jobs.run`, the file stored on the job (then removed)."""
    _django()
    from django.contrib.auth import get_user_model

    from alliance import jobs
    from alliance.models import Job

    staff = get_user_model().objects.get(username=STAFF)
    job_kind, payload = _payload(args.kind)
    _warm_up()
    job = Job.objects.create(
        kind=job_kind,
        label=f"bench {args.kind}",
        payload={**payload, "filename": f"{args.kind}.xlsx", "language": "zh-hans"},
        requested_by=staff,
    )
    started, cpu = time.perf_counter(), time.process_time()
    jobs.run(job.pk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    job.refresh_from_db()
    size = job.result.size if job.result else 0
    if job.result:
        job.result.delete(save=False)
    job.delete()
    emit(
        {
            "seconds": seconds,
            "cpu": cpu,
            "status": job.status,
            "reason": job.failure_reason,
            "rows": job.rows_done,
            "bytes": size,
        }
    )


CHILDREN = {"probe": child_probe, "floor": child_floor, "export": child_export}


def run_child(child: str, env: dict[str, str], args: argparse.Namespace, kind: str, file: str) -> dict:
    command = [str(PYTHON), str(Path(__file__).resolve()), "--child", child, "--kind", kind, "--file", file]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        raise SystemExit(f"child {child} {kind} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor and export (1..9)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child](args)
        return 0
    if not 1 <= args.rounds <= 9:
        parser.error("keep it bounded: --rounds 1..9")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not database_name(url).startswith(DB_PREFIX):
        parser.error(f"set DATABASE_URL to a PostgreSQL database named {DB_PREFIX}… loaded by generate_scale")
    command = " ".join([f"DATABASE_URL={url}", ".venv/bin/python", "bench/exports.py", *sys.argv[1:]])
    started_at = dt.datetime.now().astimezone()
    load_before = os.getloadavg()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="alliance-bench-exports-") as tmp:
        env = child_env(url, tmp)
        for kind in args.kinds:
            cells = str(Path(tmp) / f"{kind}.pickle")
            probe = run_child("probe", env, args, kind, cells)
            print(f"{kind}: {probe['rows']:,} rows in {probe['sheets']:,} sheets", flush=True)
            floors, exports_ = [], []
            for i in range(args.rounds):
                floors.append(run_child("floor", env, args, kind, cells))
                exports_.append(run_child("export", env, args, kind, cells))
                print(
                    f"   round {i + 1}: floor {floors[-1]['seconds']:6.2f} s, export {exports_[-1]['seconds']:6.2f} s "
                    f"({exports_[-1]['status']}, {exports_[-1]['rows']:,} rows, peak "
                    f"{exports_[-1]['VmHWM'] / 1024:.0f} MB)",
                    flush=True,
                )
            results[kind] = {"probe": probe, "floors": floors, "exports": exports_}
    load_after = os.getloadavg()

    lines = [
        "| export | rows (sheets) | floor (openpyxl write-only) | export job | ratio | export peak memory | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    passed = True
    for kind, result in results.items():
        floors, exports_, probe = result["floors"], result["exports"], result["probe"]
        ratio = statistics.median(e["seconds"] / f["seconds"] for f, e in zip(floors, exports_, strict=True))
        done = all(e["status"] == "done" and e["rows"] == probe["rows"] for e in exports_)
        ok = done and ratio <= TARGET_RATIO
        passed = passed and ok
        lines.append(
            f"| {kind} | {probe['rows']:,} ({probe['sheets']:,}) | {statistics.median(f['seconds'] for f in floors):.2f} s "
            f"| {statistics.median(e['seconds'] for e in exports_):.2f} s | {ratio:.2f}× "
            f"| {max(e['VmHWM'] for e in exports_) / 1024:.0f} MB "
            f"| ≤ {TARGET_RATIO}×: {'met' if ok else 'missed' if done else 'FAILED'} |"
        )
    table = "\n".join(lines)
    verdict = "PASS" if passed else "FAIL"
    print(table + f"\n{verdict}")
    if not args.no_write:
        write_section(
            SECTION,
            f"{SECTION}\n\n- Date: {started_at:%Y-%m-%d %H:%M %Z}; command: `{command}`\n"
            f"- Machine: nproc {os.cpu_count()}, Python {platform.python_version()}, PostgreSQL "
            f"{server_version(url)}; load average (1 / 5 / 15 min) start → end: "
            f"{' / '.join(f'{x:.2f}' for x in load_before)} → {' / '.join(f'{x:.2f}' for x in load_after)}\n"
            f"- Data: `generate_scale --scale district`, read as the street's staff (`{STAFF}`).\n"
            f"- How: each export is the job the admin's select-all queues (the change list's filters in the "
            f"payload), run by `alliance.jobs.run` as the worker runs it, result stored; the floor writes the "
            f"same cells (dumped by a probe beforehand) with openpyxl write-only, no Django. Fresh child "
            f"process each; floor and export take turns; {args.rounds} rounds, medians; ratio = median of the "
            f"rounds' ratios.\n\n{table}\n\n**{verdict}**\n",
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""The quarterly report (季度报表) of a district-sized street against an openpyxl write-only floor, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_bench_report \\
        .venv/bin/python bench/quarterly_report.py [--rounds 5] [--quarter 2026Q3] [--edition internal]
        [--scale 1.0] [--fresh] [--no-write]

The database must be named `alliance_bench…` (anything else is refused: the script writes to it). It is
created if missing (`--fresh`: dropped and created again), migrated, and loaded once with one street of
`bench/report_data.py` (~1,155 units, ~50,000 needs, ~46,000 Party members, ~200,000 service logs; about
20–30 seconds); later runs find the marker and reuse the data. Every measurement runs in a fresh child
process, so its peak memory is its own:

- **probe** (once, also the warm-up): iterates every registered sheet's `rows(context)`, counts the rows
  and keeps the first SAMPLE rows of each as the renderer would write them (`alliance.reports.cell_value`).
- **report**: `alliance.reports.render_workbook(ReportContext(street, quarter, edition), file)` under
  `translation.override("zh-hans")` into a temporary file — the real thing, SQL included.
- **floor**: openpyxl write-only (no Django) writing the same sheets with the same header, the same row
  count and the same columns, cells plain values: rows cycled from the probe's samples, streamed by a
  generator, so it holds no more than the report should.
- **fetch**: the report's rows without the workbook — every sheet's `rows(context)` iterated and dropped:
  how much of the report's time is the database and the row-making.

The rounds take turns (fetch, report, floor; fetch, report, floor; …) so a drift in a shared machine's load
touches them alike. Times are wall clock around the work only (Django set up and connected before);
peak memory is VmHWM from /proc/self/status (`ru_maxrss` of a child can carry its parent's peak across
fork + exec; VmHWM belongs to the process image). Targets: the report's time ≤ 2× the floor's (the
median of the rounds' ratios), and its peak ≤ 150 MB. Prints a table and PASS/FAIL, replaces the
"Quarterly report (issue 10)" section of bench/RESULTS.md (unless --no-write), exits 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import pickle
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from results import RESULTS, write_section  # bench/results.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SECTION = "## Quarterly report (issue 10)"
DB_PREFIX = "alliance_bench"

TARGET_RATIO = 2.0
TARGET_RSS_MB = 150.0
SAMPLE = 1000  # rows kept per sheet for the floor to cycle: enough variety of text lengths
CHILD_TIMEOUT_S = 1800
RESULT_PREFIX = "RESULT "


# --- Memory ------------------------------------------------------------------------------------------------


def memory_kb() -> dict[str, int]:
    """VmHWM (peak resident set of this process image) and VmRSS (now), in kB."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(rest.split()[0])
    return found


def emit(payload: dict) -> None:
    import resource

    payload.update(memory_kb())
    payload["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


# --- Children ----------------------------------------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()


def _context(args: argparse.Namespace, street_id: int):
    from alliance.periods import Quarter
    from alliance.reports import ReportContext

    return ReportContext(street_id, Quarter.parse(args.quarter), args.edition)


def child_load(args: argparse.Namespace) -> None:
    _django()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import report_data

    from alliance.periods import Quarter

    quarter = Quarter.parse(args.quarter)
    street_id = report_data.loaded_street_id()
    loaded, seconds = False, 0.0
    if street_id is None:
        foreign = report_data.foreign_data()
        if foreign:
            raise SystemExit(
                f"refusing to load: the database holds data that is not the benchmark's ({'; '.join(foreign)})"
            )
        started = time.perf_counter()
        street_id = report_data.load(
            quarter, report_data.Scale.district(args.scale), log=lambda s: print(s, flush=True)
        )
        loaded, seconds = True, time.perf_counter() - started
    started = time.perf_counter()
    assessed = report_data.prepare_assessments(street_id, quarter)
    emit(
        {
            "street_id": street_id,
            "loaded": loaded,
            "seconds": seconds,
            "assessed": assessed,
            "assess_seconds": time.perf_counter() - started,
            "counts": report_data.street_counts(street_id),
        }
    )


def child_probe(args: argparse.Namespace) -> None:
    _django()
    from django.utils import translation

    from alliance.reports import cell_value, sheets

    context = _context(args, args.street_id)
    shapes = []
    started = time.perf_counter()
    with translation.override("zh-hans"):
        for sheet in sheets():
            kept = [(i, c) for i, c in enumerate(sheet.columns) if c.kept_in(context)]
            sample, count = [], 0
            for row in sheet.rows(context):
                if count < SAMPLE:
                    sample.append([cell_value(c, row[i], context) for i, c in kept])
                count += 1
            shapes.append(
                {
                    "key": sheet.key,
                    "title": str(sheet.title)[:31],
                    "header": [str(c.label) for _i, c in kept],
                    "rows": count,
                    "sample": sample,
                }
            )
    with open(args.shape, "wb") as out:
        pickle.dump(shapes, out)
    emit(
        {
            "seconds": time.perf_counter() - started,
            "sheets": [
                {"key": s["key"], "title": s["title"], "columns": len(s["header"]), "rows": s["rows"]} for s in shapes
            ],
        }
    )


def child_fetch(args: argparse.Namespace) -> None:
    _django()
    from django.db import connection
    from django.utils import translation

    from alliance.reports import sheets

    context = _context(args, args.street_id)
    connection.ensure_connection()
    before = memory_kb()["VmRSS"]
    rows = 0
    started, cpu = time.perf_counter(), time.process_time()
    with translation.override("zh-hans"):
        for sheet in sheets():
            for _row in sheet.rows(context):
                rows += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    emit({"seconds": seconds, "cpu": cpu, "rows": rows, "rss_before": before})


def child_report(args: argparse.Namespace) -> None:
    _django()
    from django.db import connection
    from django.utils import translation

    from alliance.reports import render_workbook

    context = _context(args, args.street_id)
    connection.ensure_connection()
    before = memory_kb()["VmRSS"]
    with translation.override("zh-hans"), tempfile.TemporaryFile(dir=args.tmp) as target:
        started, cpu = time.perf_counter(), time.process_time()
        result = render_workbook(context, target)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    emit(
        {
            "seconds": seconds,
            "cpu": cpu,
            "rows": result.rows,
            "row_counts": result.row_counts,
            "size": result.size,
            "rss_before": before,
        }
    )


def child_floor(args: argparse.Namespace) -> None:
    """No Django: what openpyxl alone needs to write these rows."""
    from openpyxl import Workbook

    with open(args.shape, "rb") as source:
        shapes = pickle.load(source)
    before = memory_kb()["VmRSS"]

    def rows(shape: dict):
        sample, n = shape["sample"], shape["rows"]
        for i in range(n):
            yield sample[i % len(sample)]

    with tempfile.TemporaryFile(dir=args.tmp) as target:
        started, cpu = time.perf_counter(), time.process_time()
        workbook = Workbook(write_only=True)
        written = 0
        for shape in shapes:
            worksheet = workbook.create_sheet(title=shape["title"])
            worksheet.append(shape["header"])
            for row in rows(shape):
                worksheet.append(row)
                written += 1
        workbook.save(target)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = target.tell()
    emit({"seconds": seconds, "cpu": cpu, "rows": written, "size": size, "rss_before": before})


CHILDREN = {
    "load": child_load,
    "probe": child_probe,
    "fetch": child_fetch,
    "report": child_report,
    "floor": child_floor,
}


# --- The parent --------------------------------------------------------------------------------------------


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    before_kb: list[int] = field(default_factory=list)
    last: dict = field(default_factory=dict)

    def add(self, payload: dict) -> None:
        self.seconds.append(payload["seconds"])
        self.cpu.append(payload["cpu"])
        self.peak_kb.append(payload["VmHWM"])
        self.before_kb.append(payload.get("rss_before", 0))
        self.last = payload

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024

    @property
    def before_mb(self) -> float:
        return max(self.before_kb) / 1024


def child_env(database_url: str, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PYTEST_VERSION", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url,
        VAR_DIR=tmp,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # As in production: DEBUG off (with it on, Django keeps every query's SQL in memory).
        DEBUG="0",
        SECURE="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    return env


def run_child(kind: str, env: dict[str, str], args: argparse.Namespace, *extra: str, echo: bool = False) -> dict:
    command = [
        str(PYTHON),
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--quarter",
        args.quarter,
        "--edition",
        args.edition,
        "--scale",
        str(args.scale),
        "--tmp",
        env["VAR_DIR"],
        *extra,
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    payload = None
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SystemExit(f"the {kind} child ran over {CHILD_TIMEOUT_S} s") from None
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            payload = json.loads(line[len(RESULT_PREFIX) :])
        elif echo:
            print(f"   {line}", flush=True)
    if proc.returncode != 0 or payload is None:
        sys.stderr.write(err)
        raise SystemExit(f"the {kind} child failed (exit {proc.returncode})")
    return payload


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    parts = urlsplit(url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name} …", flush=True)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_version(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(("postgresql", parts.netloc, parts.path, "", "")), connect_timeout=5) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def table(sheets: list[dict], report: Runs, floor: Runs, fetch: Runs) -> tuple[str, bool]:
    # The verdict is on the median of the rounds' own ratios: report and floor of one round ran next to
    # each other, so a drift in the shared machine's load touches both; the other ratios are shown beside it.
    per_round = [r / f for r, f in zip(report.seconds, floor.seconds, strict=True)]
    ratio = statistics.median(per_round)
    ratio_of_medians = report.median / floor.median
    ratio_best = report.best / floor.best
    ok_time = ratio <= TARGET_RATIO
    ok_rss = report.peak_mb <= TARGET_RSS_MB
    lines = [
        "| sheet | key | columns | rows |",
        "|---|---|---:|---:|",
        *(f"| {s['title']} | `{s['key']}` | {s['columns']} | {s['rows']:,} |" for s in sheets),
        f"| **all** | | | **{sum(s['rows'] for s in sheets):,}** |",
        "",
        "| measure | median | best | every round | CPU (median) | peak RSS | RSS before the work |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for label, runs in (
        ("report (`render_workbook`)", report),
        ("floor (openpyxl write-only, plain values)", floor),
        ("fetch only (rows iterated, no workbook)", fetch),
    ):
        every = " · ".join(f"{s:.2f}" for s in runs.seconds)
        lines.append(
            f"| {label} | {runs.median:.2f} s | {runs.best:.2f} s | {every} | {runs.cpu_median:.2f} s"
            f" | {runs.peak_mb:.0f} MB | {runs.before_mb:.0f} MB |"
        )
    lines += [
        "",
        "| target | figure | verdict |",
        "|---|---:|---|",
        f"| report time ≤ {TARGET_RATIO:g}× floor (median of the rounds' ratios) | {ratio:.2f}×"
        f" (rounds: {' · '.join(f'{x:.2f}' for x in per_round)}; medians: {ratio_of_medians:.2f}×;"
        f" best rounds: {ratio_best:.2f}×) | {verdict(ok_time)} |",
        f"| report peak RSS ≤ {TARGET_RSS_MB:g} MB | {report.peak_mb:.0f} MB | {verdict(ok_rss)} |",
        "",
        f"CPU time of the Python process alone (PostgreSQL's work not counted; steadier than wall clock on a"
        f" shared machine): report / floor = {report.cpu_median / floor.cpu_median:.2f}×.",
        f"Report file {report.last['size'] / 1e6:.1f} MB, floor file {floor.last['size'] / 1e6:.1f} MB. "
        f"Fetch is {fetch.median / report.median:.0%} of the report's median time.",
    ]
    return "\n".join(lines), ok_time and ok_rss


def write_results(body: str, meta: dict) -> None:
    section = f"""{SECTION}

- Date: {meta["started"]}
- Machine: nproc {len(os.sched_getaffinity(0))}, {platform.platform()}, Python {platform.python_version()}; shared
  with other work (load average 1 / 5 / 15 min, start → end: {meta["load"][0]} → {meta["load"][-1]})
- Software: PostgreSQL {meta["pg"]}, Django {package_version("django")}, openpyxl {package_version("openpyxl")}
  ({meta["xml"]}), psycopg {package_version("psycopg")}
- Command: `{meta["command"]}`
- Data: one street of `bench/report_data.py` at scale {meta["scale"]:g} ({meta["load_note"]}): {meta["counts"]};
  about 5 in 6 rows dated in the quarter {meta["quarter"]}, the rest in the one before. Edition: {meta["edition"]}.
  Sheets: those registered in `alliance.reports` at the run{meta["sheets_note"]}.
- Each measure runs in a fresh child process, {meta["rounds"]} rounds taking turns (fetch, report, floor),
  after one probe pass that also warmed PostgreSQL's cache. The report is `render_workbook()` under
  `translation.override("zh-hans")` into a temporary file, SQL included. The floor is openpyxl write-only
  alone (no Django) writing the same sheets, header, column count and row count, with plain cell values
  cycled from the first {SAMPLE:,} rows of each sheet as the report writes them (streamed, not held).
  Times are wall clock around the work only ("CPU": the child's own CPU time over the same span, which
  other work on the machine does not inflate, but which leaves out PostgreSQL's). Peak RSS is the
  child's VmHWM ("before the work": VmRSS once Django was set up and connected — most of the report's
  peak is Django itself).

{body}

The ratio is against the floor measured in the same run. Re-run the command to refresh these figures;
compare ratios, not absolute times, across machines.
"""
    write_section(SECTION, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of fetch, report and floor (1..9)")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--edition", default="internal", choices=("internal", "outward"))
    parser.add_argument("--scale", type=float, default=1.0, help="row counts × this (0.01..2); 1 = district-sized")
    parser.add_argument("--fresh", action="store_true", help="drop and create the database, then load again")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--street-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child](args)
        return 0
    if not (1 <= args.rounds <= 9 and 0.01 <= args.scale <= 2):
        parser.error("keep it bounded: --rounds 1..9, --scale 0.01..2")

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not database_name(url).startswith(DB_PREFIX):
        parser.error(
            f"set DATABASE_URL to a PostgreSQL database named {DB_PREFIX}… (it is created, migrated and written to), "
            f"e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/{DB_PREFIX}_report"
        )
    command = " ".join([f"DATABASE_URL={url}", ".venv/bin/python", "bench/quarterly_report.py", *sys.argv[1:]])
    started = dt.datetime.now().astimezone()
    load = [_load()]

    with tempfile.TemporaryDirectory(prefix="alliance-bench-report-") as tmp:
        env = child_env(url, tmp)
        ensure_database(url, args.fresh)
        print("migrating …", flush=True)
        subprocess.run(
            [str(PYTHON), "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={**env, "DEBUG": "1"},
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        print("loading (once per database) …", flush=True)
        loaded = run_child("load", env, args, echo=True)
        street_id = loaded["street_id"]
        load_note = f"loaded in {loaded['seconds']:.0f} s" if loaded["loaded"] else "loaded by an earlier run, reused"
        print(f"street {street_id}: {load_note}", flush=True)
        counts = ", ".join(f"{n:,} {what}" for what, n in loaded["counts"].items())
        print(f"   {counts}", flush=True)
        if loaded["assessed"]:
            load_note += (
                f"; {loaded['assessed']:,} unit assessments computed in {loaded['assess_seconds']:.0f} s, untimed"
            )
            print(f"   {loaded['assessed']:,} assessments computed in {loaded['assess_seconds']:.1f} s", flush=True)

        shape = str(Path(tmp) / "shape.pickle")
        ids = ("--street-id", str(street_id), "--shape", shape)
        print("probing the sheets (and warming the cache) …", flush=True)
        probe = run_child("probe", env, args, *ids)
        for s in probe["sheets"]:
            print(f"   {s['title']:<32} {s['columns']:>3} columns {s['rows']:>9,} rows", flush=True)
        print(f"   probe took {probe['seconds']:.1f} s", flush=True)

        report, floor, fetch = Runs(), Runs(), Runs()
        for i in range(args.rounds):
            for kind, runs in (("fetch", fetch), ("report", report), ("floor", floor)):
                payload = run_child(kind, env, args, *ids)
                runs.add(payload)
                print(
                    f"   round {i + 1} {kind:<6} {payload['seconds']:7.2f} s  (CPU {payload['cpu']:6.2f} s)  peak {payload['VmHWM'] / 1024:6.0f} MB"
                    f"  (before {payload.get('rss_before', 0) / 1024:.0f} MB)  {payload['rows']:,} rows",
                    flush=True,
                )
        expected = {s["key"]: s["rows"] for s in probe["sheets"]}
        if report.last["row_counts"] != expected:
            print(
                f"warning: the report wrote {report.last['row_counts']}, the probe counted {expected}", file=sys.stderr
            )
        pg = server_version(url)

    load.append(_load())
    body, ok = table(probe["sheets"], report, floor, fetch)
    print()
    print(body)
    keys = [s["key"] for s in probe["sheets"]]
    lxml = package_version("lxml")
    meta = {
        "xml": f"with lxml {lxml}"
        if lxml != "?"
        else "no lxml: openpyxl writes its XML with et_xmlfile, in pure Python",
        "started": started.isoformat(timespec="seconds"),
        "load": load,
        "pg": pg,
        "command": command,
        "scale": args.scale,
        "load_note": load_note,
        "counts": counts,
        "quarter": args.quarter,
        "edition": args.edition,
        "rounds": args.rounds,
        "sheets_note": f" ({', '.join(keys)})",
    }
    if not args.no_write:
        write_results(body, meta)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    print(f"\n{verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)

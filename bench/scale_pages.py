"""The pages issue 12 names, at district or city scale, as ratios to one-query baselines measured in the same run.

    .venv/bin/python bench/scale_pages.py [--scale district|city] [--rounds 5] [--requests 10] [--deep 20]
                                          [--reload] [--no-write]

`--scale district` (the default) uses the database `alliance_bench_scale` (PostgreSQL on 127.0.0.1, trust
auth), created and loaded with `manage.py generate_scale --scale district` the first time (about a minute;
the load time is reported) and kept between runs; `--reload` drops and loads it again. `--scale city` uses
`alliance_scale_city`, which must have been loaded beforehand (`generate_scale --scale city`, about ten
minutes); the bench never loads or drops it. Every run applies the migrations first, so indexes other
branches add are there when the lead reruns it after a merge, and ANALYZEs.

Production settings throughout: DEBUG=0, the manifest static storage over a collectstatic made once
into var/bench_scale_static, Django's psycopg pool of 4 as docker-compose.yml runs it, Redis db 5 for the
cache and the broker (nothing consumes the broker; the run empties db 5 at the end).

1. Every page, in-process, with Django's test client: one Python process makes the request and serves it,
   so a ratio says what the page costs the server against what the baseline costs it, without HTTP or
   worker scheduling in between. Pages and baselines take turns, round by round (a drift in the shared
   machine's load touches them alike); each round makes --requests requests of a page, or fewer when they
   pass ROUND_BUDGET_S (at least 2). Times are per request, wall clock; the table shows the median and the
   90th percentile, the median's ratio to its baseline, the SQL statements of one request and the size
   of the answer.
2. The public pages (figures, showcase, home, submission) under gunicorn (2 sync workers, loopback), as
   the issue measures them: requests per second and latency from 8 client connections, LOAD_ROUND_S per
   page and round, taking turns with the baselines.

Baselines, served through the same middleware (a URLconf of the project's URLs plus two bench-only views):
- `/bench/one-query/`: one indexed SELECT (a need by primary key), anonymous, JSON — for every GET;
- `/bench/one-insert/`: one INSERT into a bench-only table, anonymous POST, JSON — for the submission.
Staff pages run as `scale_staff` (street staff: the widest scope); the submission's throttle is lifted
for the run (it allows 5 an hour per address). Submitted needs stay in the database (a few dozen a run).
Every API list (needs, units, members, claims, service logs, meetings) at page_size 50 and 200: its first
page and a deep one, reached by following `next` --deep times (the cursor the client would follow; the page
reached is timed). The portal's needs list and the admin lists of needs, Party members and service logs.

Writes the "Pages at <scale> scale" section of bench/RESULTS.md and keeps the run's figures in
bench/scale_pages_<scale>.json (git-ignored, like every run's raw figures), from which the "district and city
side by side" section is written whenever both exist (unless --no-write)."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from conn_reuse import _admin, free_port, package_version, server_version, stop_gunicorn, wait_healthy
from psycopg import sql
from results import RESULTS, write_section  # bench/results.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
DATABASES = {"district": "alliance_bench_scale", "city": "alliance_scale_city"}
# The gunicorn workers import this module afresh: the scale reaches them through the environment.
SCALE = os.environ.get("BENCH_SCALE", "district")
# BENCH_DB names another database of the same scale: a branch that adds indexes measures its own copy.
DB_NAME = os.environ.get("BENCH_DB") or DATABASES[SCALE]
DATABASE_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"
SECTION = f"## Pages at {SCALE} scale, after the fixes (issue 12, `bench/scale_pages.py`)"
SIDE_BY_SIDE = "## Pages: district and city side by side (issue 12, `bench/scale_pages.py`)"
# BENCH_REDIS_DB: another Redis database, so that two runs at once do not empty each other's sessions.
REDIS_URL = f"redis://{HOST}:6379/{os.environ.get('BENCH_REDIS_DB', '5')}"
STATIC_ROOT = ROOT / "var" / "bench_scale_static"
ROUND_BUDGET_S = 8.0
PAGE_SIZES = (50, 200)
# Every API list the targets name: (label, path).
API_LISTS = [
    ("needs", "/api/v1/needs/"),
    ("units", "/api/v1/units/"),
    ("members", "/api/v1/members/"),
    ("claims", "/api/v1/claims/"),
    ("service logs", "/api/v1/service-logs/"),
    ("meetings", "/api/v1/meetings/"),
]
# The targets, as the largest ratio to the baseline a page may reach.
TARGET_API = {50: 5.0, 200: 10.0}
TARGET_LIST = 15.0
TARGET_GROWTH = 1.5


@dataclass
class Page:
    label: str
    method: str
    path: str
    who: str  # "staff", "liaison" or "anonymous"
    baseline: str  # the label of the page it is compared with
    target: float | None = None  # the largest ratio to the baseline the issue allows
    times: list[float] = field(default_factory=list)
    queries: int = 0
    size: int = 0
    status: int = 0


# --- The database ------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION",)}
    env.update(DATABASE_URL=DATABASE_URL, DEBUG="1", LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)
    return env


def prepare(reload: bool) -> float | None:
    """Create, migrate and (when empty) load the database. Returns the load's seconds, None if kept."""
    with _admin() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if SCALE == "city" and not exists:
            raise SystemExit(f"{DB_NAME} is missing: load it with `manage.py generate_scale --scale city` first")
        if exists and reload:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    manage = [str(PYTHON), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)
    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://")) as conn:
        loaded = conn.execute("SELECT count(*) FROM members_street").fetchone()[0] > 0
    seconds = None
    if not loaded and SCALE == "city":
        raise SystemExit(f"{DB_NAME} is empty: load it with `manage.py generate_scale --scale city` first")
    if not loaded:
        print(f"loading district scale into {DB_NAME} …", flush=True)
        began = time.monotonic()
        subprocess.run([*manage, "generate_scale", "--scale", "district"], cwd=ROOT, env=_env(), check=True)
        seconds = time.monotonic() - began
    if not (STATIC_ROOT / "staticfiles.json").exists():
        print("collecting static files once …", flush=True)
        subprocess.run(
            [*manage, "collectstatic", "--noinput"],
            cwd=ROOT,
            env={**_env(), "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "STATIC_ROOT": str(STATIC_ROOT)},
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("ANALYZE")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_one_insert (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
    return seconds


# --- In-process measurement -------------------------------------------------------------------------------


# Production settings for the in-process client and the gunicorn workers alike. Anonymous requests only
# reach gunicorn, so each worker may sign with a key of its own.
PRODUCTION = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "DEBUG": "0",
    "SECURE": "0",
    "ALLOWED_HOSTS": f"testserver,{HOST}",
    "STATIC_ROOT": str(STATIC_ROOT),
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "alliance.settings",
    # As docker-compose.yml runs the web service: Django's psycopg pool, 4 connections per process.
    "DATABASE_POOL_MAX_SIZE": "4",
    # The public form allows 5 submissions an hour per address; the bench sends hundreds from one.
    "NEED_SUBMIT_RATE": "1000000/hour",
}


def _django() -> None:
    os.environ.update(PRODUCTION, SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    # As alliance/wsgi.py starts the web processes: their connections prepare the statements they repeat.
    from alliance.db import prepare_web_statements

    prepare_web_statements()

    from django.conf import settings

    from demands.models import Need

    settings.ROOT_URLCONF = _urlconf(Need.objects.order_by("pk").values_list("pk", flat=True).first())


def wsgi_app():
    """What the gunicorn workers serve (`scale_pages:wsgi_app()`): the project plus the baselines."""
    _django()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _urlconf(first_need: int):
    from django.db import connection
    from django.http import JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    import alliance.urls

    def one_query(request):
        from demands.models import Need

        return JsonResponse({"title": Need.objects.filter(pk=first_need).values_list("title", flat=True).first()})

    @csrf_exempt
    def one_insert(request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_one_insert (at) VALUES (now()) RETURNING id")
            return JsonResponse({"id": cursor.fetchone()[0]}, status=201)

    # A module object: Django caches resolvers by URLconf, so it must be hashable.
    urlconf = types.ModuleType("bench_scale_urls")
    urlconf.urlpatterns = [
        path("bench/one-query/", one_query),
        path("bench/one-insert/", one_insert),
        *alliance.urls.urlpatterns,
    ]
    return urlconf


def _follow(client, first: str, times: int) -> tuple[str, int]:
    """The path of the page reached by following `next` from `first` up to `times` times, and its number."""
    from urllib.parse import urlsplit

    path, reached = first, 1
    for _ in range(times):
        link = client.get(path, HTTP_ACCEPT="application/json").json().get("next")
        if not link:
            break
        parts = urlsplit(link)
        path, reached = f"{parts.path}?{parts.query}", reached + 1
    return path, reached


def measure(args: argparse.Namespace) -> tuple[list[Page], dict[str, int], tuple[int, int]]:
    _django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from alliance.models import Category
    from demands.models import Need
    from members.models import Community
    from volunteers.models import PartyMember, ServiceLog

    counts = {
        "needs": Need.objects.count(),
        "Party members": PartyMember.objects.count(),
        "service logs": ServiceLog.objects.count(),
    }
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="scale_staff"))
    # The portal's needs list is a unit liaison's: the liaison of the unit with the most needs.
    busiest = Need.objects.exclude(unit=None).values("unit").annotate(n=Count("id")).order_by("-n")[0]["unit"]
    liaison = Client()
    liaison.force_login(get_user_model().objects.get(username=f"scale_liaison_{busiest}"))
    anonymous = Client()
    community = Community.objects.order_by("pk").values_list("pk", flat=True).first()
    # The public side is per street (issue 14): with several streets, the first community's street's pages.
    street = Community.objects.filter(pk=community).values_list("street_id", flat=True).first()
    category = Category.objects.order_by("pk").values_list("pk", flat=True).first()

    pages = [
        Page("baseline: one indexed SELECT", "GET", "/bench/one-query/", "anonymous", ""),
        Page("baseline: one INSERT", "POST", "/bench/one-insert/", "anonymous", ""),
    ]
    for label, path in API_LISTS:
        for size in PAGE_SIZES:
            first = f"{path}?page_size={size}"
            pages.append(
                Page(f"API {label}, {size} a page, first page", "GET", first, "staff", "select", TARGET_API[size])
            )
            deep, reached = _follow(staff, first, args.deep)
            pages.append(
                Page(f"API {label}, {size} a page, page {reached}", "GET", deep, "staff", "select", TARGET_API[size])
            )
    pages += [
        Page("portal needs list (busiest unit's liaison)", "GET", "/portal/needs/", "liaison", "select", TARGET_LIST),
        Page("admin needs list", "GET", "/admin/demands/need/", "staff", "select", TARGET_LIST),
        Page("admin Party members list", "GET", "/admin/volunteers/partymember/", "staff", "select", TARGET_LIST),
        Page("admin service-logs list", "GET", "/admin/volunteers/servicelog/", "staff", "select", TARGET_LIST),
        Page("service-hours totals page", "GET", "/admin/volunteers/servicelog/totals/", "staff", "select"),
        Page(
            "public figures `/api/v1/public/stats/`",
            "GET",
            f"/api/v1/public/stats/?street={street}",
            "anonymous",
            "select",
        ),
        Page("public home `/`", "GET", f"/?street={street}", "anonymous", "select"),
        Page("public need submission (API)", "POST", "/api/v1/public/needs/", "anonymous", "insert"),
    ]

    if args.only:
        # Baselines always run: every ratio is against them, in the same rounds.
        pages = [p for p in pages if p.label.startswith("baseline") or any(o in p.label for o in args.only)]

    def call(page: Page):
        client = {"staff": staff, "liaison": liaison, "anonymous": anonymous}[page.who]
        if page.method == "GET":
            return client.get(page.path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        return client.post(page.path, _submission(community, category), content_type="application/json")

    for page in pages:  # warm-up, and the statements of one request
        call(page)
        with CaptureQueriesContext(connection) as captured:
            response = call(page)
        page.queries, page.size, page.status = len(captured), len(response.content), response.status_code
        print(f"  {page.label}: {page.status}, {page.queries} queries, {page.size:,} bytes", flush=True)
    for n in range(args.rounds):
        for page in pages:
            began = time.monotonic()
            for i in range(args.requests):
                t = time.perf_counter()
                call(page)
                page.times.append(time.perf_counter() - t)
                if i >= 1 and time.monotonic() - began > ROUND_BUDGET_S:
                    break
        print(f"  round {n + 1} of {args.rounds} done", flush=True)
    return pages, counts, (community, category, street)


# --- Under gunicorn: the public pages' throughput ------------------------------------------------------

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
CONNECTIONS = 8
GUNICORN_WORKERS = 2
LOAD_ROUND_S = 4.0
REQUEST_TIMEOUT_S = 30


@dataclass
class Load:
    label: str
    method: str
    path: str
    baseline: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def _submission(community: int, category: int) -> bytes:
    return json.dumps(
        {
            "community": community,
            "category": category,
            "title": "楼道灯坏了",
            "description": "三单元二楼楼道灯不亮，晚上上下楼不安全。",
            "contact_name": "王伟",
            "contact_phone": f"139{secrets.randbelow(10**8):08d}",
        }
    ).encode()


def hammer(port: int, load: Load, body: Callable[[], bytes]) -> None:
    """CONNECTIONS client threads for LOAD_ROUND_S seconds, each request timed (gunicorn's sync workers
    close the connection after each answer; http.client opens the next)."""
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_ROUND_S

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        headers = {"Accept": "application/json", "Accept-Language": "zh-hans", "Content-Type": "application/json"}
        try:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    conn.request(
                        load.method, load.path, body=body() if load.method == "POST" else None, headers=headers
                    )
                    response = conn.getresponse()
                    response.read()
                    ok = response.status in (200, 201)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    ok = False
                elapsed = time.perf_counter() - began
                with lock:
                    if ok:
                        load.latencies.append(elapsed)
                    else:
                        load.errors += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CONNECTIONS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_ROUND_S + REQUEST_TIMEOUT_S + 5)
    load.seconds += time.perf_counter() - began


def measure_gunicorn(args: argparse.Namespace, community: int, category: int, street: int) -> list[Load]:
    # The public side is per street (issue 14): without `?street=` a district answers the chooser (or a 400).
    loads = [
        Load("baseline: one indexed SELECT", "GET", "/bench/one-query/", ""),
        Load("baseline: one INSERT", "POST", "/bench/one-insert/", ""),
        Load("public figures `/api/v1/public/stats/`", "GET", f"/api/v1/public/stats/?street={street}", "select"),
        Load(
            "public showcase `/api/v1/public/showcase/`", "GET", f"/api/v1/public/showcase/?street={street}", "select"
        ),
        Load("public home `/`", "GET", f"/?street={street}", "select"),
        Load("public need submission (API)", "POST", "/api/v1/public/needs/", "insert"),
    ]
    port = free_port()
    log = ROOT / "var" / "bench_scale_gunicorn.log"
    env = {**os.environ, **PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)}
    command = [str(GUNICORN), "scale_pages:wsgi_app()", "--pythonpath", f"{ROOT / 'bench'},{ROOT}"]
    command += ["--workers", str(GUNICORN_WORKERS), "--bind", f"{HOST}:{port}", "--timeout", "120"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_healthy(proc, port, log)
        body = lambda: _submission(community, category)  # noqa: E731
        for load in loads:  # warm-up: each worker imports, connects and fills its caches
            hammer(port, Load(load.label, load.method, load.path, ""), body)
        for n in range(args.rounds):
            for load in loads:
                hammer(port, load, body)
            print(f"  gunicorn round {n + 1} of {args.rounds} done", flush=True)
    finally:
        stop_gunicorn(proc)
    return loads


def load_table(loads: list[Load]) -> str:
    if not loads:  # --only without "gunicorn"
        return "(the public pages under gunicorn were not measured in this run)"
    base = {"select": loads[0], "insert": loads[1]}
    lines = [
        "| page | req/s | × baseline req/s | median ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for load in loads:
        ratio = f"{load.rps / base[load.baseline].rps:.2f}" if load.baseline else "1"
        if load.latencies:
            median = statistics.median(load.latencies) * 1000
            p99 = statistics.quantiles(load.latencies, n=100)[-1] * 1000 if len(load.latencies) >= 2 else median
        else:
            median = p99 = float("nan")
        lines.append(
            f"| {load.label} | {load.rps:,.1f} | {ratio} | {median:.1f} | {p99:.1f} | {len(load.latencies):,}"
            f" | {load.errors} |"
        )
    return "\n".join(lines)


# --- Report ------------------------------------------------------------------------------------------------


def figures(pages: list[Page]) -> list[dict]:
    """One row per page: what the tables show, and what bench/scale_pages_<scale>.json keeps."""
    base = {"select": pages[0], "insert": pages[1]}
    rows = []
    for page in pages:
        median = statistics.median(page.times)
        p90 = statistics.quantiles(page.times, n=10)[-1] if len(page.times) >= 2 else median
        ratio = median / statistics.median(base[page.baseline].times) if page.baseline else 1.0
        rows.append(
            {
                "label": page.label,
                "status": page.status,
                "median_ms": median * 1000,
                "p90_ms": p90 * 1000,
                "ratio": ratio,
                "target": page.target,
                "queries": page.queries,
                "bytes": page.size,
                "requests": len(page.times),
            }
        )
    return rows


def _verdict(row: dict) -> str:
    if row["target"] is None:
        return ""
    return "met" if row["ratio"] <= row["target"] else f"**miss** (≤ {row['target']:g}×)"


def table(rows: list[dict]) -> str:
    lines = [
        "| page | answer | median ms | p90 ms | × baseline | target | SQL statements | bytes | requests |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['status']} | {row['median_ms']:.1f} | {row['p90_ms']:.1f} | {row['ratio']:.1f}"
            f" | {_verdict(row)} | {row['queries']} | {row['bytes']:,} | {row['requests']} |"
        )
    return "\n".join(lines)


def _key(label: str) -> str:
    """ "API needs, 50 a page, page 21" → "API needs, 50 a page, deep page": the two scales match by label."""
    head, _, tail = label.rpartition(", page ")
    return f"{head}, deep page" if head and tail.isdigit() else label


def side_by_side() -> str | None:
    """District and city from their last runs' figures, with the growth the issue bounds (≤ 1.5×)."""
    runs = {}
    for scale in DATABASES:
        path = ROOT / "bench" / f"scale_pages_{scale}.json"
        if not path.exists():
            return None
        runs[scale] = json.loads(path.read_text(encoding="utf-8"))
    city = {_key(r["label"]): r for r in runs["city"]["rows"]}
    lines = [
        "| page | district ms | district × baseline | city ms | city × baseline | growth (city ms ÷ district ms)"
        " | statements district / city | bytes district / city |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in runs["district"]["rows"]:
        key = _key(row["label"])
        other = city.get(key)
        if other is None or not row["target"]:
            continue
        growth = other["median_ms"] / row["median_ms"]
        verdict = "met" if growth <= TARGET_GROWTH else f"**miss** (≤ {TARGET_GROWTH:g}×)"
        lines.append(
            f"| {key} | {row['median_ms']:.1f} | {row['ratio']:.1f} | {other['median_ms']:.1f} | {other['ratio']:.1f}"
            f" | {growth:.2f} {verdict} | {row['queries']} / {other['queries']} | {row['bytes']:,} / {other['bytes']:,} |"
        )
    return "\n".join(
        [
            SIDE_BY_SIDE,
            "",
            f"- District: `{runs['district']['command']}` ({runs['district']['date']}, `{runs['district']['head']}`)",
            f"- City: `{runs['city']['command']}` ({runs['city']['date']}, `{runs['city']['head']}`)",
            "- Growth is the city's median time over the district's (\"slower at city scale\", as the issue puts it).",
            "  The runs are minutes apart on a shared machine, so a growth near 1.5× is within the drift of its load;",
            "  the ratio columns are each against its own run's baseline (a 1–2 ms view: its own noise moves them).",
            "  Deep pages: the page reached by following `next` --deep times; where the district list is shorter",
            "  (units, claims, meetings at 200 a page) that is its last page, with fewer rows (see the bytes).",
            "",
            *lines,
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(DATABASES), default="district", help="which database to use")
    parser.add_argument("--deep", type=int, default=20, help="`next` links followed to the deep page (1..200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, pages taking turns (1..9)")
    parser.add_argument("--requests", type=int, default=10, help="requests per page and round (2..100)")
    parser.add_argument("--reload", action="store_true", help="drop the database and load it again")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument(
        "--only", action="append", default=[], help="pages whose label contains this (repeatable; implies --no-write)"
    )
    args = parser.parse_args()
    if not (1 <= args.rounds <= 9 and 2 <= args.requests <= 100 and 1 <= args.deep <= 200):
        parser.error("keep the load bounded: --rounds 1..9, --requests 2..100, --deep 1..200")
    if args.reload and args.scale == "city":
        parser.error("the city database is loaded once, by hand (about ten minutes); --reload is for district")
    if args.scale != SCALE:  # the module's settings follow the scale: start again with it in the environment
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "BENCH_SCALE": args.scale})
    command = " ".join([".venv/bin/python", "bench/scale_pages.py", *sys.argv[1:]])
    started = dt.datetime.now().astimezone()
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    loaded_in = prepare(args.reload)
    try:
        pages, counts, form = measure(args)
        # --only measures the named in-process pages; the gunicorn table needs --only gunicorn.
        loads = measure_gunicorn(args, *form) if not args.only or "gunicorn" in args.only else []
    finally:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    load_after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    pg = server_version()
    rows = figures(pages)
    body = table(rows)
    throughput = load_table(loads)
    print()
    print(body)
    print()
    print(throughput)
    if args.no_write or args.only:
        return 0
    sizes = ", ".join(f"{n:,} {label}" for label, n in counts.items())
    load_note = (
        f"loaded in this run by `manage.py generate_scale --scale district` in {loaded_in:.0f} s"
        if loaded_in is not None
        else f"loaded earlier by `manage.py generate_scale --scale {SCALE}`"
    )
    head = _git("rev-parse", "--short", "HEAD")
    (ROOT / "bench" / f"scale_pages_{SCALE}.json").write_text(
        json.dumps({"command": command, "date": started.isoformat(timespec="seconds"), "head": head, "rows": rows})
        + "\n",
        encoding="utf-8",
    )
    text = f"""{SECTION}

- Date: {started.isoformat(timespec="seconds")}; branch state: `{head}`
- Machine: nproc {len(os.sched_getaffinity(0))}, {platform.platform()}, Python {platform.python_version()};
  PostgreSQL {pg}, Django {package_version("django")}, psycopg {package_version("psycopg")}
- Command: `{command}`
- Data: `{DB_NAME}`, {load_note}: {sizes}.
- Load average (1 / 5 / 15 min), start → end: {load_before} → {load_after}. The machine is shared.
- How: every page in-process (Django test client; DEBUG=0, manifest static storage, Redis cache, psycopg pool of
  4 as docker-compose.yml runs it); pages and the baselines take turns round by round; {args.rounds} rounds of up
  to {args.requests} requests each (fewer when a round passes {ROUND_BUDGET_S:.0f} s). Staff pages as street staff
  (`scale_staff`); "× baseline" is the median against the median of the one-indexed-SELECT view (GETs) or the
  one-INSERT view (the submission), both served through the same URLconf and middleware, anonymous. SQL
  statements: of one request, counted after a warm-up. Deep API pages: reached by following `next`
  {args.deep} times. Targets (issue 12): API lists ≤ 5× at 50 a page and ≤ 10× at 200, portal and admin
  lists ≤ 15×. The public pages under gunicorn too (second table). See the script's docstring for the rest.

{body}

Under gunicorn ({GUNICORN_WORKERS} sync workers, the same settings, 127.0.0.1): the public pages'
throughput from {CONNECTIONS} client connections (threads of this process, on the same 2 cores as the server),
{args.rounds} rounds of {LOAD_ROUND_S:.0f} s per page, taking turns, after a warm-up round; "× baseline" is the
ratio of requests per second.

{throughput}
"""
    write_section(SECTION, text)
    both = side_by_side()
    if both:
        write_section(SIDE_BY_SIDE, both)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())

"""Throughput with and without persistent database connections, as ratios to a same-run baseline.

    .venv/bin/python bench/conn_reuse.py [--requests 2000] [--rounds 3] [--clients 4]

Creates the throwaway PostgreSQL database `alliance_bench` (trust auth on 127.0.0.1:5432), migrates and
seeds it, then starts one gunicorn (2 sync workers, own free loopback port) per configuration and sends
bounded rounds of requests to /api/v1/communities/ (public) and /healthz from a few client threads.
Configurations: CONN_MAX_AGE=0 (a new connection per request: the baseline), CONN_MAX_AGE=60, and
Django's psycopg pool (DATABASE_POOL_MAX_SIZE=4). The servers run side by side and the rounds take turns
(round 1 of every configuration, then round 2, …): the machines are shared, and a drift in their load
then touches every configuration alike instead of whichever happened to run last. Only one server is
under load at a time; the idle ones cost nothing but their open connections.
Prints a table and writes bench/RESULTS.md. Every gunicorn is stopped and the database dropped at the
end, also on error, Ctrl-C or SIGTERM.

Nothing leaves the machine: the server and the clients talk over 127.0.0.1 only. Every round is bounded
in count (--requests) and in time (ROUND_DEADLINE_S); a round that hits the deadline is reported as such.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from results import RESULTS, write_section  # bench/results.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
GUNICORN = VENV_BIN / "gunicorn"
SECTION = "## Persistent database connections (`bench/conn_reuse.py`)"

HOST = "127.0.0.1"
PG_ADMIN = f"postgresql://postgres@{HOST}:5432/postgres"
DB_NAME = "alliance_bench"
DATABASE_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"

ENDPOINTS = ("/api/v1/communities/", "/healthz")
WORKERS = 2
WARMUP_REQUESTS = 100
REQUEST_TIMEOUT_S = 10
ROUND_DEADLINE_S = 90
STARTUP_DEADLINE_S = 30

# key (also the connections' application_name), label, environment (CONN_MAX_AGE and
# DATABASE_POOL_MAX_SIZE are removed first, then these are set)
CONFIGS: list[tuple[str, str, dict[str, str]]] = [
    ("bench-age0", "CONN_MAX_AGE=0 (baseline)", {"CONN_MAX_AGE": "0"}),
    ("bench-age60", "CONN_MAX_AGE=60", {"CONN_MAX_AGE": "60"}),
    ("bench-pool4", "pool, DATABASE_POOL_MAX_SIZE=4", {"DATABASE_POOL_MAX_SIZE": "4"}),
]


@dataclass
class Round:
    requests: int
    errors: int
    seconds: float
    hit_deadline: bool

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Measurement:
    config: str
    endpoint: str
    rounds: list[Round] = field(default_factory=list)
    backends_after: int = 0

    @property
    def median_rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)

    @property
    def best_rps(self) -> float:
        # Other work on a shared machine only ever slows a round down: the best round is the closest to
        # what the configuration can do, the median to what it did here.
        return max(r.rps for r in self.rounds)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


def create_database() -> None:
    with _admin() as conn:
        # A leftover from an interrupted run is ours by name; start clean.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def drop_database() -> None:
    with _admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))


def backends(application_name: str) -> int:
    """Connections one configuration's server holds open: shows whether connections outlive requests.
    libpq takes application_name from PGAPPNAME in the server's environment."""
    with _admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [DB_NAME, application_name],
        ).fetchone()
    return int(row[0])


def server_version() -> str:
    with _admin() as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


# --- The server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def base_env(var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CONN_MAX_AGE", "DATABASE_POOL_MAX_SIZE"}}
    # Without REDIS_URL /healthz checks the database only, so it measures what the configurations change.
    env.pop("REDIS_URL", None)
    env.pop("PYTEST_VERSION", None)
    env.update(
        DATABASE_URL=DATABASE_URL,
        VAR_DIR=var_dir,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(GUNICORN),
                "alliance.wsgi:application",
                "--workers",
                str(WORKERS),
                "--bind",
                f"{HOST}:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers too
        )


def stop_gunicorn(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_healthy(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {STARTUP_DEADLINE_S} s; see {log}")


# --- The load --------------------------------------------------------------------------------------


def fire(port: int, path: str, total: int, clients: int) -> Round:
    """`total` GETs from `clients` threads, each on its own keep-alive connection (gunicorn's sync
    workers close after each response; http.client then reconnects on the next request)."""
    remaining = [total]
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + ROUND_DEADLINE_S
    hit_deadline = threading.Event()
    headers = {"Accept": "application/json", "Host": f"{HOST}:{port}"}

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            while True:
                if time.monotonic() > deadline:
                    hit_deadline.set()
                    return
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    conn.close()
                    ok = False
                if not ok:
                    with lock:
                        errors[0] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(ROUND_DEADLINE_S + REQUEST_TIMEOUT_S + 5)
    seconds = time.perf_counter() - started
    done = total - remaining[0]
    return Round(requests=done, errors=errors[0], seconds=seconds, hit_deadline=hit_deadline.is_set())


# --- Report ----------------------------------------------------------------------------------------


def table(results: list[Measurement]) -> str:
    baseline = {m.endpoint: m for m in results if m.config == CONFIGS[0][1]}
    lines = [
        "| configuration | endpoint | median req/s | × baseline | best req/s | × baseline (best) | every round, req/s"
        " | errors | DB backends after |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for m in results:
        base = baseline[m.endpoint]
        errors = sum(r.errors for r in m.rounds)
        rounds = " · ".join(f"{r.rps:,.0f}{'*' if r.hit_deadline else ''}" for r in m.rounds)
        lines.append(
            f"| {m.config} | `{m.endpoint}` | {m.median_rps:,.0f} | {m.median_rps / base.median_rps:.2f}"
            f" | {m.best_rps:,.0f} | {m.best_rps / base.best_rps:.2f} | {rounds} | {errors} | {m.backends_after} |"
        )
    if any(r.hit_deadline for m in results for r in m.rounds):
        lines.append(f"\n\\* the round hit the {ROUND_DEADLINE_S} s deadline before its last request.")
    return "\n".join(lines)


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def write_results(
    command: str, started: dt.datetime, args: argparse.Namespace, body: str, pg: str, load: list[str]
) -> None:
    text = f"""{SECTION}

- Date: {started.isoformat(timespec="seconds")}
- Machine: nproc {len(os.sched_getaffinity(0))}, {platform.platform()}, Python {platform.python_version()}
- Software: PostgreSQL {pg}, Django {package_version("django")}, gunicorn {package_version("gunicorn")},
  psycopg {package_version("psycopg")}, psycopg-pool {package_version("psycopg-pool")}
- Command: `{command}`
- Load average (1 / 5 / 15 min), start → end: {load[0]} → {load[-1]}. The machine is shared with
  other work; "every round" shows how much the rounds varied.
- Setup: one gunicorn per configuration ({WORKERS} sync workers, DEBUG=0, 127.0.0.1), all started before
  the first round; database `{DB_NAME}` migrated and seeded with `seed_demo`; REDIS_URL unset (so
  `/healthz` asks only the database). Per configuration and endpoint: {WARMUP_REQUESTS} warm-up requests,
  then {args.rounds} rounds of {args.requests:,} GETs from {args.clients} client threads (http.client,
  `Accept: application/json`), the configurations taking turns round by round so that a drift in the
  shared machine's load touches all of them alike; one server is under load at a time. The table shows
  the median round and the best round (other work on the machine only slows a round down, so the best
  is the nearest to what a configuration can do), each with its ratio to the baseline's median or best.
  The clients share the machine's CPUs with the server, so the faster configurations are understated
  rather than overstated.
- `/api/v1/communities/` runs two queries (the pager's COUNT and the page, joined to the street);
  `/healthz` runs `SELECT 1`.
- "DB backends after": the configuration's connections to `{DB_NAME}` in `pg_stat_activity`
  (by application_name) right after the last round — 0 means each request opened and closed its own
  connection; persistent connections keep one per worker open, the pool keeps between its minimum (2)
  and maximum (4) per worker.

{body}

The ratio is against the baseline (CONN_MAX_AGE=0) for the same endpoint, measured in the same run.
Re-run the command to refresh these figures; compare ratios, not absolute rates, across machines.
"""
    write_section(SECTION, text)


# --- Main ------------------------------------------------------------------------------------------


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _raise_on_sigterm(signum, frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (at most 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per configuration and endpoint (≤ 9)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (≤ 16)")
    args = parser.parse_args()
    if not (1 <= args.requests <= 20_000 and 1 <= args.rounds <= 9 and 1 <= args.clients <= 16):
        parser.error("keep the load bounded: --requests 1..20000, --rounds 1..9, --clients 1..16")

    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    command = " ".join([".venv/bin/python", "bench/conn_reuse.py", *sys.argv[1:]])
    started = dt.datetime.now().astimezone()
    results: list[Measurement] = []
    load = [_load()]
    procs: list[subprocess.Popen] = []

    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as var_dir:
        env = base_env(var_dir)
        try:
            print(f"creating and seeding {DB_NAME} …", flush=True)
            create_database()
            manage(env, "migrate", "--noinput")
            manage(env, "seed_demo")
            pg = server_version()

            servers: dict[str, int] = {}
            for key, name, extra in CONFIGS:
                port = free_port()
                run_env = {
                    **env,
                    **extra,
                    "DEBUG": "0",
                    "SECURE": "0",
                    "ALLOWED_HOSTS": HOST,
                    "SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters
                    "PGAPPNAME": key,
                }
                log = Path(var_dir) / f"{key}.log"
                print(f"== {name}: gunicorn on {HOST}:{port}", flush=True)
                procs.append(proc := start_gunicorn(run_env, port, log))
                wait_healthy(proc, port, log)
                servers[key] = port

            measurements = {
                (key, path): Measurement(config=name, endpoint=path) for key, name, _ in CONFIGS for path in ENDPOINTS
            }
            for key, _, _ in CONFIGS:
                for path in ENDPOINTS:
                    fire(servers[key], path, WARMUP_REQUESTS, args.clients)
            for i in range(args.rounds):
                for key, name, _ in CONFIGS:
                    for path in ENDPOINTS:
                        r = fire(servers[key], path, args.requests, args.clients)
                        measurements[key, path].rounds.append(r)
                        print(
                            f"   round {i + 1} {name:<31} {path:<22} {r.requests} in {r.seconds:5.2f} s"
                            f" = {r.rps:6,.0f} req/s, {r.errors} errors{' (deadline hit)' if r.hit_deadline else ''}",
                            flush=True,
                        )
            for key, _, _ in CONFIGS:
                held = backends(key)
                for path in ENDPOINTS:
                    measurements[key, path].backends_after = held
            results = list(measurements.values())
        finally:
            for proc in procs:
                stop_gunicorn(proc)
            try:
                drop_database()
            except Exception as exc:  # report, but do not hide the error that brought us here
                print(f"could not drop {DB_NAME}: {exc}", file=sys.stderr)

    load.append(_load())
    body = table(results)
    print()
    print(body)
    write_results(command, started, args, body, pg, load)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    failed = sum(r.errors for m in results for r in m.rounds)
    if failed:
        print(f"{failed} requests failed: the figures are not trustworthy", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

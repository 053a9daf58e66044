"""10,000 due meeting reminders sent by one real Celery worker (issue 12), against a bare INSERT of the
same 10,000 notification rows measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_bench_bg_reminders \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/reminders.py [--reminders 10000] [--rounds 3] [--fresh] [--no-write]

The database must be named `alliance_bench…` (anything else is refused: the script writes to it); it is
created if missing and migrated. The Redis database is flushed before each round (it is the bench's own).
Loaded once: 100 planned meetings starting in 30 minutes (so only the hour-before reminder is due), each
inviting 5 units of 10 active accounts and 50 persons — 100 people a meeting — plus, per meeting, one
declined invitation and one inactive invited person, who must not be reminded.

Each round, on emptied `Reminder` and `Notification` tables:

- **baseline**: a child process `bulk_create`s the same 10,000 `Notification` rows (recipient, e-mail,
  phone, subject, body, url, kind) in one transaction, rolled back — the bare cost of the rows.
- **reminders**: the parent publishes `meetings.tasks.send_due_reminders` to Redis, as beat does, and
  polls PostgreSQL until every notification the scan wrote is `sent`. ONE worker does everything
  (`celery worker -Q notifications,jobs`, started once before the rounds and warmed up): the scan and
  every delivery (e-mail to Django's locmem backend, text to the locmem SMS backend, so the
  gateways cost nothing and what is measured is the platform's own work). The time runs from the publish
  to the last row `sent`.

Then, every round, it checks what "exactly once" means: 10,000 notification rows and 10,000 `Reminder`
rows, one per (meeting, person), no person reminded twice, none of the declined or inactive, every row
sent with one attempt; and running the scan again (in this process) records and sends nothing.

Two workers are measured, one after the other (`--pools`): `solo` (one process: the scan, then the
deliveries, strictly in turn) and `prefork-4` (the compose file's notifications worker, 4 processes).
Target: ≤ 30 s for 10,000 (the median round). The ratio to the baseline is printed for reference. Prints
a table and PASS/FAIL, replaces the "Reminders at scale (issue 12)" section of bench/RESULTS.md (unless
--no-write), exits 1 when a target or a check is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
    ensure_database,
    server_version,
)
from results import write_section

SECTION = "## Reminders at scale (issue 12)"
TARGET_SECONDS = 30.0
MEETINGS = 100
UNITS_PER_MEETING = 5
ACCOUNTS_PER_UNIT = 10
CHILD_TIMEOUT_S = 900
# A deadline for a round, not a measurement: past it the round is reported as failed.
ROUND_DEADLINE_S = 300
MARK = "bench-reminders"


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()


# --- Children ----------------------------------------------------------------------------------------------


def child_load(args: argparse.Namespace) -> None:
    """The meetings and the people (once per database; a later run finds them)."""
    _django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from alliance.models import Profile
    from meetings.models import Invitation, JointMeeting
    from members.models import Community, MemberUnit, Street, UnitMembership

    user_model = get_user_model()
    per_meeting = args.reminders // MEETINGS
    persons = per_meeting - UNITS_PER_MEETING * ACCOUNTS_PER_UNIT
    if persons < 0 or args.reminders % MEETINGS:
        raise SystemExit(f"--reminders must be a multiple of {MEETINGS} and at least {MEETINGS * 50}")
    organiser = user_model.objects.filter(username=f"{MARK}-organiser").first()
    if organiser is not None:
        meeting_ids = list(JointMeeting.objects.filter(organiser=organiser).values_list("pk", flat=True))
        emit({"loaded": False, "meetings": len(meeting_ids)})
        return
    started = time.perf_counter()
    password = make_password(None)
    with transaction.atomic():
        street = Street.objects.create(name="提醒基准街道")
        community = Community.objects.create(street=street, name="提醒基准社区")
        organiser = user_model.objects.create(username=f"{MARK}-organiser", is_staff=True, password=password)
        start = timezone.now() + dt.timedelta(minutes=30)
        meetings = JointMeeting.objects.bulk_create(
            JointMeeting(
                title=f"联席会议{m}",
                start=start,
                end=start + dt.timedelta(hours=1),
                place="社区党群服务中心",
                organiser=organiser,
                community=community,
            )
            for m in range(MEETINGS)
        )
        n_units = MEETINGS * UNITS_PER_MEETING
        units = MemberUnit.objects.bulk_create(
            MemberUnit(
                name=f"提醒基准单位{u}",
                credit_code=f"91110000{u:010d}",
                unit_type=MemberUnit.UnitType.PRIVATE_ENTERPRISE,
                level=MemberUnit.Level.DISTRICT,
                community=community,
                liaison_name="王芳",
                liaison_phone=f"138{u:08d}",
                status=MemberUnit.Status.ACTIVE,
                joined_on=dt.date(2024, 1, 1),
            )
            for u in range(n_units)
        )
        # Each meeting: its units' accounts, its persons, one person who declined, one inactive person.
        extra = 2
        first_person = n_units * ACCOUNTS_PER_UNIT
        users = user_model.objects.bulk_create(
            user_model(
                username=f"{MARK}-{n}",
                email=f"r{n}@example.org",
                password=password,
                is_active=n < first_person or (n - first_person) % (persons + extra) != persons + 1,
            )
            for n in range(first_person + MEETINGS * (persons + extra))
        )
        Profile.objects.bulk_create(Profile(user=user, phone=f"139{user.pk % 10**8:08d}") for user in users)
        unit_accounts, people = users[: n_units * ACCOUNTS_PER_UNIT], users[n_units * ACCOUNTS_PER_UNIT :]
        UnitMembership.objects.bulk_create(
            UnitMembership(unit=units[i // ACCOUNTS_PER_UNIT], user=user) for i, user in enumerate(unit_accounts)
        )
        invitations = []
        for m, meeting in enumerate(meetings):
            for unit in units[m * UNITS_PER_MEETING : (m + 1) * UNITS_PER_MEETING]:
                invitations.append(Invitation(meeting=meeting, unit=unit))
            mine = people[m * (persons + extra) : (m + 1) * (persons + extra)]
            for i, person in enumerate(mine):
                status = Invitation.Status.DECLINED if i == persons else Invitation.Status.INVITED
                invitations.append(Invitation(meeting=meeting, person=person, status=status))
        Invitation.objects.bulk_create(invitations)
    emit({"loaded": True, "meetings": len(meetings), "seconds": time.perf_counter() - started})


def _reset_clock() -> None:
    """Every round the meetings start in 30 minutes again (the hour-before reminder is due)."""
    from django.utils import timezone

    from meetings.models import JointMeeting

    start = timezone.now() + dt.timedelta(minutes=30)
    JointMeeting.objects.filter(organiser__username=f"{MARK}-organiser").update(
        start=start, end=start + dt.timedelta(hours=1), status=JointMeeting.Status.PLANNED
    )


def child_reset(args: argparse.Namespace) -> None:
    _django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE meetings_reminder, alliance_notification")
    _reset_clock()
    emit({})


def child_baseline(args: argparse.Namespace) -> None:
    """The bare rows: 10,000 notifications like the reminders', one bulk INSERT, rolled back."""
    _django()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from alliance.models import Notification

    recipients = list(
        get_user_model()
        .objects.filter(username__startswith=f"{MARK}-", is_active=True)
        .exclude(username=f"{MARK}-organiser")
        .values_list("pk", "email")[: args.reminders]
    )
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        Notification.objects.bulk_create(
            Notification(
                recipient_id=pk,
                email=email,
                phone="13900000000",
                subject="提醒：联席会议一小时后召开",
                body="联席会议将于今天 15:00 在社区党群服务中心召开。",
                url="/portal/meetings/1/",
                kind="reminder:meeting_1h",
            )
            for pk, email in recipients
        )
        transaction.set_rollback(True)
    emit({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": len(recipients)})


def child_check(args: argparse.Namespace) -> None:
    """What "each exactly once" means, asked of the database; then the scan again sends nothing."""
    _django()
    from django.db.models import Count, Max

    from alliance.models import Notification
    from meetings import services
    from meetings.models import Invitation, Reminder

    notes = Notification.objects.filter(kind="reminder:meeting_1h")
    per_person = notes.values("recipient_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    declined = Invitation.objects.filter(status=Invitation.Status.DECLINED).values("person_id")
    reminded_declined = notes.filter(recipient_id__in=declined).count()
    reminded_inactive = notes.filter(recipient__is_active=False).count()
    rows, ledger = notes.count(), Reminder.objects.count()
    sent = notes.filter(status=Notification.Status.SENT).count()
    max_attempts = notes.aggregate(m=Max("attempts"))["m"]
    other = Notification.objects.exclude(kind="reminder:meeting_1h").count()
    again = services.reminders_send_due()
    emit(
        {
            "rows": rows,
            "ledger": ledger,
            "sent": sent,
            "duplicates": per_person,
            "declined": reminded_declined,
            "inactive": reminded_inactive,
            "max_attempts": max_attempts,
            "other": other,
            "again": again,
            "rows_after": Notification.objects.count(),
        }
    )


CHILDREN = {"load": child_load, "reset": child_reset, "baseline": child_baseline, "check": child_check}


# --- The parent --------------------------------------------------------------------------------------------


def run_child(kind: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    command = [str(PYTHON), str(Path(__file__).resolve()), "--child", kind, "--reminders", str(args.reminders)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        raise SystemExit(f"child {kind} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


# The worker's pool: "solo" (one process does the scan and then every delivery, strictly one after the
# other) and the compose file's notifications worker (`--concurrency 4`: deliveries start while the scan's
# later batches are written). Both are one worker node.
POOLS = {"solo": ["--pool=solo"], "prefork-4": ["--pool=prefork", "--concurrency=4"]}


def start_worker(env: dict[str, str], log: Path, pool: str) -> subprocess.Popen:
    worker_env = {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SMS_BACKEND": "alliance.sms.LocmemSmsBackend",
        "LOG_LEVEL": "WARNING",
    }
    command = [str(PYTHON), "-m", "celery", "-A", "alliance", "worker", "-Q", "notifications,jobs"]
    command += [*POOLS[pool], "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _celery(env: dict[str, str]):
    """The Celery app in this process, to publish as beat does (Django set up on the bench database)."""
    os.environ.update(env)
    _django()
    from alliance.celery import app

    return app


def wait_ready(app, worker: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit("the worker stopped:\n" + log.read_text()[-3000:])
        if app.control.ping(timeout=1.0):
            return
    raise SystemExit("the worker did not start:\n" + log.read_text()[-3000:])


def poll_sent(url: str, expected: int, worker: subprocess.Popen, log: Path) -> tuple[float, float]:
    """Seconds until the scan's rows exist and until all are sent, from now (the publish)."""
    import psycopg

    started = time.perf_counter()
    scanned = None
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        while time.perf_counter() - started < ROUND_DEADLINE_S:
            if worker.poll() is not None:
                raise SystemExit("the worker stopped:\n" + log.read_text()[-3000:])
            rows, sent = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM alliance_notification "
                "WHERE kind = 'reminder:meeting_1h'"
            ).fetchone()
            now = time.perf_counter() - started
            if scanned is None and rows >= expected:
                scanned = now
            if sent >= expected:
                return scanned or now, now
            time.sleep(0.05)
    raise SystemExit(f"not all {expected} reminders were sent within {ROUND_DEADLINE_S} s")


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of baseline and reminders (1..9)")
    parser.add_argument("--fresh", action="store_true", help="drop and create the database first")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--pools", nargs="+", choices=sorted(POOLS), default=list(POOLS), help="workers to measure")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child](args)
        return 0
    if not (1 <= args.rounds <= 9 and 5_000 <= args.reminders <= 100_000):
        parser.error("keep it bounded: --rounds 1..9, --reminders 5000..100000")
    url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not database_name(url).startswith(DB_PREFIX):
        parser.error(f"set DATABASE_URL to a PostgreSQL database named {DB_PREFIX}… (it is created and written to)")
    if not redis_url.startswith("redis://"):
        parser.error("set REDIS_URL to a Redis database of the bench's own (it is flushed)")
    command = " ".join(
        [f"DATABASE_URL={url}", f"REDIS_URL={redis_url}", ".venv/bin/python", "bench/reminders.py", *sys.argv[1:]]
    )
    started_at = dt.datetime.now().astimezone()
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="alliance-bench-reminders-") as tmp:
        env = {**child_env(url, tmp), "REDIS_URL": redis_url}
        ensure_database(url, args.fresh)
        subprocess.run(
            [str(PYTHON), "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={**env, "DEBUG": "1"},
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        loaded = run_child("load", env, args)
        print(f"data: {loaded}", flush=True)
        flush_redis(redis_url)
        app = _celery(env)
        measured: dict[str, tuple[list, list, list]] = {}
        for pool in args.pools:
            log = Path(tmp) / f"worker-{pool}.log"
            worker = start_worker(env, log, pool)
            baselines, rounds, checks = measured.setdefault(pool, ([], [], []))
            try:
                wait_ready(app, worker, log)
                # Warm-up: the worker imports and connects once before the first timed round.
                run_child("reset", env, args)
                app.send_task("meetings.tasks.send_due_reminders")
                poll_sent(url, args.reminders, worker, log)
                for i in range(args.rounds):
                    run_child("reset", env, args)
                    flush_redis(redis_url)
                    baselines.append(run_child("baseline", env, args))
                    app.send_task("meetings.tasks.send_due_reminders")
                    scanned, done = poll_sent(url, args.reminders, worker, log)
                    rounds.append({"scanned": scanned, "seconds": done})
                    checks.append(run_child("check", env, args))
                    print(
                        f"   {pool} round {i + 1}: baseline {baselines[-1]['seconds']:6.2f} s, rows written "
                        f"{scanned:6.2f} s, all sent {done:6.2f} s; check {checks[-1]}",
                        flush=True,
                    )
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        load_after = os.getloadavg()

    n = args.reminders
    lines = [
        "| worker | baseline (bulk INSERT of the rows) | reminders: rows written | reminders: all sent "
        "| × baseline | per reminder | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    passed, exact_all = True, True
    for pool, (baselines, rounds, checks) in measured.items():
        base = statistics.median(b["seconds"] for b in baselines)
        total = statistics.median(r["seconds"] for r in rounds)
        scan = statistics.median(r["scanned"] for r in rounds)
        ratio = statistics.median(r["seconds"] / b["seconds"] for r, b in zip(rounds, baselines, strict=True))
        exact = all(
            c["rows"] == n
            and c["ledger"] == n
            and c["sent"] == n
            and c["duplicates"] == 0
            and c["declined"] == 0
            and c["inactive"] == 0
            and c["max_attempts"] == 1
            and c["other"] == 0
            and c["again"] == 0
            and c["rows_after"] == n
            for c in checks
        )
        exact_all = exact_all and exact
        passed = passed and exact and total <= TARGET_SECONDS
        lines.append(
            f"| {pool} | {base:.2f} s | {scan:.2f} s | {total:.2f} s | {ratio:.1f}× | {total / n * 1000:.2f} ms "
            f"| ≤ {TARGET_SECONDS:.0f} s: {'met' if total <= TARGET_SECONDS else 'missed'} |"
        )
    table = "\n".join(lines)
    last = checks[-1]
    checks_line = (
        f"Checks (every round, both workers): {last['rows']:,} notification rows and {last['ledger']:,} ledger "
        f"rows, {last['sent']:,} sent, {last['duplicates']} people reminded twice, {last['declined']} declined "
        f"and {last['inactive']} inactive people reminded, at most {last['max_attempts']} attempt a row; the "
        f"scan run again sent {last['again']}. {'All as required.' if exact_all else '**NOT as required.**'}"
    )
    verdict = "PASS" if passed else "FAIL"
    print(table + "\n" + checks_line + f"\n{verdict}")
    if not args.no_write:
        write_section(
            SECTION,
            f"{SECTION}\n\n- Date: {started_at:%Y-%m-%d %H:%M %Z}; command: `{command}`\n"
            f"- Machine: nproc {os.cpu_count()}, Python {platform.python_version()}, PostgreSQL "
            f"{server_version(url)}; load average (1 / 5 / 15 min) start → end: "
            f"{' / '.join(f'{x:.2f}' for x in load_before)} → {' / '.join(f'{x:.2f}' for x in load_after)}\n"
            f"- Data: {MEETINGS} planned meetings starting in 30 minutes, each inviting {UNITS_PER_MEETING} units "
            f"of {ACCOUNTS_PER_UNIT} accounts and {n // MEETINGS - UNITS_PER_MEETING * ACCOUNTS_PER_UNIT} persons, "
            f"plus one declined and one inactive invitee each (not to be reminded).\n"
            f"- How: ONE worker (`celery worker -Q notifications,jobs`, DEBUG=0; `solo`: one process; "
            f"`prefork-4`: as the compose file's notifications worker), started once and "
            f"warmed up; each round on emptied reminder and notification tables, `send_due_reminders` is "
            f"published to Redis as beat does and the clock stops when the last notification is `sent` "
            f"(e-mail and text to locmem backends: the platform's own work, no gateway). Baseline: one "
            f"`bulk_create` of the same {n:,} notification rows, same run, rounds interleaved. "
            f"{args.rounds} rounds, medians.\n\n{table}\n\n{checks_line}\n\n**{verdict}**\n",
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""The cast every test uses (ARCHITECTURE.md): anonymous, liaison_a, liaison_b, community_x_staff,
community_y_staff, street_staff, member — with unit_a in community_x and unit_b in community_y."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import translation

from alliance import permissions, public_figures, queue, ratelimit, sessions, site, workdays
from alliance.admin import frame as admin_frame
from alliance.api import pagination
from alliance.celery import app as celery_app
from alliance.sms import LocmemSmsBackend
from demands import public_choices
from members import services as member_services

from .factories import CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory


@pytest.fixture(autouse=True)
def _eager_tasks_and_fake_sms(settings):
    """Tasks run in-process (the broker-down and real-worker tests switch this off), text messages go
    to a list. The database is never faked."""
    settings.SMS_BACKEND = "alliance.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox = []
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # A test that took Redis away must not leave the next one skipping the cache or the broker.
    ratelimit.breaker.reset()
    queue.breaker.reset()
    public_figures.breaker.reset()
    sessions.breaker.reset()
    permissions.groups_breaker.reset()
    pagination.count_breaker.reset()
    # The public figures live in the cache between refreshes: each test's pages count that test's rows.
    public_figures.forget()
    # The public form's communities and categories are kept per process: each test has its own rows.
    public_choices.choices.forget()
    # The admin's filters keep the communities they offer, its sidebar its drawings, per process.
    admin_frame.forget()
    # API lists keep their count estimates in the cache: each test counts its own rows.
    pagination.forget_estimates()
    # The platform's address when SITE_URL is unset is the last one a request came in on: none yet.
    site.forget()
    site.breaker.reset()
    # A request in another language (LocaleMiddleware) leaves it active in this thread: each test starts
    # in the platform's default language, whatever ran before it (a module-scoped fixture's request too).
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _every_day_a_working_day(request, monkeypatch):
    """Tests that backdate a clock by whole days ("submitted 3 days ago") mean that many working days; with
    the real calendar their answer would hang on the weekday the suite runs on. So every day is a working
    day, unless a test asks for the real calendar with the `china_calendar` fixture."""
    workdays.forget_here()
    if "china_calendar" not in request.fixturenames:
        monkeypatch.setattr(workdays, "_load_year", lambda year: frozenset())
    yield
    workdays.forget_here()


@pytest.fixture
def china_calendar():
    """The real working-day calendar: the official schedule (weekends, holidays, 调休) and the overrides."""
    workdays.forget_here()


@pytest.fixture
def sms_outbox() -> list:
    return LocmemSmsBackend.outbox


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def community_x(db):
    return CommunityFactory(name="桥头街社区")


@pytest.fixture
def community_y(db):
    return CommunityFactory(name="柳北社区")


@pytest.fixture
def unit_a(community_x):
    return MemberUnitFactory(name="山西饭店", community=community_x)


@pytest.fixture
def unit_b(community_y):
    return MemberUnitFactory(name="太原市第五中学", community=community_y)


@pytest.fixture
def anonymous():
    return AnonymousUser()


@pytest.fixture
def liaison_a(unit_a, root):
    user = UserFactory(username="liaison_a", first_name="王芳")
    member_services.unit_membership_add(unit=unit_a, user=user, actor=root)
    return user


@pytest.fixture
def liaison_b(unit_b, root):
    user = UserFactory(username="liaison_b")
    member_services.unit_membership_add(unit=unit_b, user=user, actor=root)
    return user


@pytest.fixture
def community_x_staff(community_x, root):
    user = UserFactory(username="community_x_staff")
    member_services.community_staff_add(user=user, community=community_x, actor=root)
    return user


@pytest.fixture
def community_y_staff(community_y, root):
    user = UserFactory(username="community_y_staff")
    member_services.community_staff_add(user=user, community=community_y, actor=root)
    return user


@pytest.fixture
def street_staff(root):
    user = UserFactory(username="street_staff", is_staff=True)
    member_services.street_staff_add(user=user, street=StreetFactory(), actor=root)
    return user


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def cast(anonymous, liaison_a, liaison_b, community_x_staff, community_y_staff, street_staff, member) -> dict:
    return {
        "anonymous": anonymous,
        "liaison_a": liaison_a,
        "liaison_b": liaison_b,
        "community_x_staff": community_x_staff,
        "community_y_staff": community_y_staff,
        "street_staff": street_staff,
        "member": member,
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None and user.is_authenticated:
        client.force_login(user)
    return client


@pytest.fixture
def fresh_rate_limits():
    """The rate limits count per client address in the default cache, and every test posts from the same
    one: a module whose tests post (`pytestmark = pytest.mark.usefixtures("fresh_rate_limits")`) starts and
    ends each with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def as_user():
    return client_for


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for `celery_worker_process` (a module overrides it, e.g. to give MEDIA_ROOT)."""
    return {}


@pytest.fixture
def celery_worker_process(worker_env):
    """`celery worker` in its own process, on the test database and the configured Redis (tests that use
    it need PostgreSQL and REDIS_URL, and `django_db(transaction=True)` so the worker sees their rows)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "SMS_BACKEND": "alliance.sms.ConsoleSmsBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DEBUG": "1",
        **worker_env,
    }
    env.pop("PYTEST_VERSION", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "alliance",
            "worker",
            "-Q",
            "notifications,jobs",
            "--pool=solo",
            "--loglevel=INFO",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Worker:
    """A real worker process, with the tasks this test sends going through the broker to it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def wait_for(self, predicate: Callable[[], object], what: str, seconds: float = 90) -> None:
        """Until `predicate()` is true; else the test fails with the worker's output. A deadline for a slow
        start on a busy machine, not a speed assertion."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.3)
        self.process.terminate()
        pytest.fail(f"{what}:\n" + self.process.communicate(timeout=20)[0][-4000:])


@pytest.fixture
def worker(celery_worker_process) -> Worker:
    celery_app.conf.task_always_eager = False  # the autouse fixture sets it back for the next test
    return Worker(celery_worker_process)

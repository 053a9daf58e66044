"""The Redis drill (issue 9): residents submit needs through the public form and the public API while the
test's own Redis runs, while it is stopped, and after it is back. Every submission answers its
confirmation and is stored with its notification rows; the rows written during the outage wait, and a
real Celery worker delivers every one of them once Redis is back and the sweep runs.

PostgreSQL and REDIS_URL only (the worker is a separate process on the test database); the Redis the
test stops is its own `redis-server` on a free port, never the shared one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from alliance import queue, ratelimit
from alliance.celery import app as celery_app
from alliance.models import Notification
from alliance.tasks import deliver_pending_notifications
from demands.models import Need

from ..factories import CategoryFactory

pytestmark = [
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and PostgreSQL shared with a worker process",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to start a Redis of its own"),
]

# Bounds, not speed assertions: a busy machine may take a while to start a worker or a server.
REDIS_LIFETIME = 300  # seconds; `timeout` ends the server even if this process dies without cleaning up
DEADLINE = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate: Callable[[], bool], seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


class OwnRedis:
    """A throw-away redis-server on one port: nothing saved, stopped and started again by the drill."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("timeout", str(REDIS_LIFETIME), "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_for(self.answers, 20):
            self.stop()
            pytest.fail(f"redis-server on port {self.port} did not start")

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def _forget_broker_pools() -> None:
    # The app keeps its pools for the broker URL it first saw (see test_notifications.py).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_redis(settings) -> Iterator[OwnRedis]:
    """The cache, the broker and the worker started after this fixture all use the drill's Redis."""
    server = OwnRedis(_free_port())
    url = f"redis://127.0.0.1:{server.port}/4"
    try:
        server.start()
        settings.REDIS_URL = url  # read by the celery_worker_process fixture
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": url},
        }
        settings.CELERY_BROKER_URL = url
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = settings.REDIS_BROKER_TRANSPORT_OPTIONS
        # The drill submits many needs from one address; the limits are not what it tests.
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "need_submit": "1000/hour"}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        celery_app.conf.task_always_eager = False
        _forget_broker_pools()
        yield server
    finally:
        server.stop()
        _forget_broker_pools()


def _form(community, category, title: str) -> dict:
    return {
        "community": community.pk,
        "category": category.pk,
        "title": title,
        "description": "三单元楼道灯不亮，老人晚上上下楼不方便。",
        "contact_name": "赵秀兰",
        "contact_phone": "13912345678",
        "address": "桥头街12号3单元",
    }


def _residents_submit(community, category, phase: str) -> list[str]:
    """Two needs through the public form and two through the public API; the confirmation each got."""
    answers = []
    for number in range(2):
        page = Client().post("/needs/new/", {**_form(community, category, f"{phase}表单{number}"), "website": ""})
        answers.append(f"{page.status_code} {page.get('Location', '')}")
        api = APIClient().post("/api/v1/public/needs/", _form(community, category, f"{phase}接口{number}"), "json")
        answers.append(f"{api.status_code} {api.json().get('status', api.json())}")
    return answers


CONFIRMATIONS = ["302 /needs/submitted/", "201 submitted"] * 2


def _rows_of(phase: str):
    titles = Need.objects.filter(title__startswith=phase).values_list("pk", flat=True)
    return Notification.objects.filter(url__in=[f"/admin/demands/need/{pk}/change/" for pk in titles])


def _all_sent() -> bool:
    return not Notification.objects.exclude(status=Notification.Status.SENT).exists()


def _fail_with_worker_log(worker: subprocess.Popen, what: str) -> None:
    worker.terminate()
    pytest.fail(f"{what}:\n" + worker.communicate(timeout=20)[0][-4000:])


@pytest.mark.django_db(transaction=True)
def test_redis_drill_every_submission_is_stored_and_every_notification_delivered(
    own_redis, community_x, community_x_staff, request, caplog
):
    category = CategoryFactory()
    worker = request.getfixturevalue("celery_worker_process")

    # Redis runs: submissions are confirmed and the worker delivers their notifications.
    assert _residents_submit(community_x, category, "运行中") == CONFIRMATIONS
    if not _wait_for(_all_sent):
        _fail_with_worker_log(worker, "notifications not delivered while Redis ran")

    # Redis stops: every resident still gets the confirmation, every need is stored with its rows.
    own_redis.stop()
    with caplog.at_level("INFO", logger="alliance"):
        assert _residents_submit(community_x, category, "停机中") == CONFIRMATIONS
    # The limits let them through with one warning; one publish failed (a submission's notifications go
    # in one message), the other three submissions' were not tried.
    assert caplog.text.count("cache unavailable (ConnectionError)") == 1
    assert caplog.text.count("Broker unavailable;") == 1
    assert caplog.text.count("Broker unavailable a moment ago;") == 3
    assert Need.objects.filter(title__startswith="停机中").count() == 4
    # Each need tells community_x's staff member (a row with the need's admin address) and the resident.
    assert _rows_of("停机中").count() == 4
    waiting = Notification.objects.exclude(status=Notification.Status.SENT)
    assert waiting.count() == 8
    assert set(waiting.values_list("status", flat=True)) == {Notification.Status.PENDING}

    # Redis is back on the same port: the sweep (beat's entry, sent through Redis) reaches the worker,
    # which has reconnected, and it delivers every waiting row.
    own_redis.start()
    queue.breaker.reset()  # as if the pause after the failed publish had passed
    ratelimit.breaker.reset()
    _forget_broker_pools()
    deliver_pending_notifications.apply_async()
    if not _wait_for(_all_sent):
        _fail_with_worker_log(worker, "notifications written during the outage not delivered")

    # And new submissions go through the broker again.
    assert _residents_submit(community_x, category, "恢复后") == CONFIRMATIONS
    if not _wait_for(_all_sent):
        _fail_with_worker_log(worker, "notifications not delivered after Redis came back")
    assert Need.objects.count() == 12
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 24
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}

"""Redis unreachable (issue 9, finding 2): residents' submissions go through and are stored, the rate
limits let them pass with one warning, and the broker hand-off after commit tries once and then leaves
the notification rows to the sweep. Runs on SQLite too: the cache and the broker are pointed at a port
where nothing listens."""

from __future__ import annotations

import socket

import pytest
import redis
from django.test import Client
from rest_framework.test import APIClient

from alliance import queue
from alliance.celery import app as celery_app
from alliance.models import Notification
from alliance.tasks import deliver_notification, deliver_notifications, deliver_pending_notifications
from demands.models import Need
from members import services as member_services

from ..factories import CategoryFactory, UserFactory

PHONE = "13912345678"


def _closed_port() -> int:
    """A port on which nothing listens (taken from the system, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_port() -> int:
    return _closed_port()


@pytest.fixture
def cache_down(settings, dead_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port}/4",
            "OPTIONS": {"socket_connect_timeout": settings.REDIS_TIMEOUT, "socket_timeout": settings.REDIS_TIMEOUT},
        }
    }


def _forget_broker_pools() -> None:
    # The app keeps its pools for the broker URL it first saw (see test_notifications.py).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(settings, dead_port):
    """Celery on an unreachable Redis with the options the platform uses with REDIS_URL, tasks not eager."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{dead_port}/4"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = settings.REDIS_BROKER_TRANSPORT_OPTIONS
    celery_app.conf.task_always_eager = False
    _forget_broker_pools()
    yield
    _forget_broker_pools()


@pytest.fixture
def broker_connects(monkeypatch, dead_port) -> list:
    """Every attempt to open a connection to the unreachable broker, in order (they still happen)."""
    attempts = []
    connect = redis.connection.AbstractConnection.connect

    def counted(self, *args, **kwargs):
        if getattr(self, "port", None) == dead_port:
            attempts.append(self.port)
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counted)
    return attempts


@pytest.fixture
def publishes(monkeypatch) -> list:
    """Every delivery the web side tried to hand to the broker (one notification, or a batch: a resident's
    submission sends its notifications in one message)."""
    sent = []
    for task in (deliver_notification, deliver_notifications):

        def counted(*args, _apply_async=task.apply_async, **kwargs):
            sent.append(kwargs.get("args"))
            return _apply_async(*args, **kwargs)

        monkeypatch.setattr(task, "apply_async", counted)
    return sent


@pytest.fixture
def three_officers(community_x, root):
    """Three staff of community_x: each new need there queues three notifications."""
    for number in range(3):
        user = UserFactory(username=f"officer{number}", email=f"officer{number}@example.org")
        member_services.community_staff_add(user=user, community=community_x, actor=root)


def _form(community, category, **changes) -> dict:
    return {
        "community": community.pk,
        "category": category.pk,
        "title": "楼道灯坏了",
        "description": "三单元楼道灯不亮，老人晚上上下楼不方便。",
        "contact_name": "赵秀兰",
        "contact_phone": PHONE,
        "address": "桥头街12号3单元",
        "website": "",
        **changes,
    }


def _api_body(community, category, **changes) -> dict:
    body = _form(community, category, **changes)
    body.pop("website")
    return body


@pytest.mark.django_db
def test_with_the_rate_limit_cache_unreachable_residents_submit_and_one_warning_is_logged(
    cache_down, community_x, caplog
):
    category = CategoryFactory()
    with caplog.at_level("WARNING"):
        forms = [Client().post("/needs/new/", _form(community_x, category, title=f"需求{n}")) for n in range(3)]
        apis = [
            APIClient().post("/api/v1/public/needs/", _api_body(community_x, category, title=f"接口{n}"), format="json")
            for n in range(3)
        ]
        track = APIClient().get("/api/v1/public/needs/XXXX/?phone_last4=5678")
        token = APIClient().post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}, format="json")

    assert [r.status_code for r in forms] == [302, 302, 302]
    assert [r["Location"] for r in forms] == ["/needs/submitted/"] * 3
    assert [r.status_code for r in apis] == [201, 201, 201]
    assert track.status_code == 404
    assert token.status_code == 400
    assert Need.objects.count() == 6
    warnings = [r for r in caplog.records if r.name == "alliance.ratelimit"]
    assert len(warnings) == 1
    assert "cache unavailable (ConnectionError)" in warnings[0].getMessage()
    # No personal data in the log: neither the phone, its last digits, nor the client address.
    for secret in (PHONE, "5678", "127.0.0.1", "赵秀兰"):
        assert secret not in caplog.text


@pytest.mark.django_db
def test_with_the_broker_unreachable_a_submission_is_stored_after_one_connection_attempt(
    broker_down,
    broker_connects,
    publishes,
    three_officers,
    community_x,
    mailoutbox,
    sms_outbox,
    caplog,
    django_capture_on_commit_callbacks,
):
    category = CategoryFactory()
    with caplog.at_level("INFO", logger="alliance.queue"), django_capture_on_commit_callbacks(execute=True):
        first = Client().post("/needs/new/", _form(community_x, category, title="第一个"))
        second = APIClient().post("/api/v1/public/needs/", _api_body(community_x, category), format="json")

    assert first.status_code == 302 and second.status_code == 201
    assert Need.objects.count() == 2
    # Each need: three officers told by e-mail, the resident by text message — eight rows, all waiting.
    rows = Notification.objects.all()
    assert rows.count() == 8
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.PENDING}
    # One publish was tried (the first need's four rows in one message), with one connection attempt (no
    # retries with sleeps); the second need's message was left for the sweep without trying.
    assert len(publishes) == 1
    assert len(broker_connects) == 1
    assert caplog.text.count("Broker unavailable;") == 1
    assert caplog.text.count("Broker unavailable a moment ago;") == 1

    # Redis is back: beat's sweep delivers every row, once.
    assert deliver_pending_notifications.apply().get() == 8
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert len(mailoutbox) == 6 and len(sms_outbox) == 2


@pytest.mark.django_db
def test_the_broker_is_tried_again_after_the_pause(
    broker_down, publishes, three_officers, community_x, django_capture_on_commit_callbacks
):
    category = CategoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post("/needs/new/", _form(community_x, category)).status_code == 302
    assert len(publishes) == 1
    queue.breaker.reset()  # as if the pause had passed

    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post("/needs/new/", _form(community_x, category, title="第二个")).status_code == 302
    assert len(publishes) == 2

"""The public figures and the showcase are computed in the background (alliance.public_figures): visitors
read the snapshot — no SQL on a warm cache, one query per part on a cold one, never an aggregate — and
the snapshot holds exactly what the apps' selectors compute once the writes' refresh has run."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alliance import public_figures
from alliance.errors import TransitionNotAllowed
from alliance.models import PublicSnapshot
from demands import selectors as demand_selectors
from demands import services as demand_services
from demands.api.serializers import ShowcaseSerializer
from demands.models import Need
from meetings import selectors as meeting_selectors
from meetings.models import JointMeeting
from members import selectors as member_selectors
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import ProjectClaim
from volunteers import selectors as volunteer_selectors
from volunteers import services as volunteer_services

from ..demands.factories import NeedFactory, ResourceFactory
from ..factories import CategoryFactory, MemberUnitFactory
from ..meetings.factories import MeetingFactory
from ..projects.factories import ActivityFactory, ClaimFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

STATS = "/api/v1/public/stats/"
SHOWCASE = "/api/v1/public/showcase/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def selectors_say() -> dict:
    """The figures as the apps' selectors compute them now, straight from the tables."""
    units = member_selectors.public_counts()
    needs = demand_selectors.public_counts()
    projects = project_selectors.public_counts()
    volunteers = volunteer_selectors.public_counts()
    return {
        "units": units["units"],
        "resources": needs["resources"],
        "needs": needs["needs"],
        "needs_completed": needs["needs_completed"],
        "projects": projects["projects"],
        "claims": projects["claims"],
        "activities": projects["activities"],
        "services": projects["services"],
        "beneficiaries": projects["beneficiaries"],
        "meetings": meeting_selectors.public_counts()["meetings"],
        "members": volunteers["members"],
        "service_hours": volunteers["service_hours"],
    }


def world(unit) -> None:
    ResourceFactory.create_batch(2, unit=unit)
    NeedFactory.create_batch(3)
    NeedFactory(status=Need.Status.REJECTED)
    NeedFactory(status=Need.Status.CLOSED, unit=unit, completed_at=timezone.now())
    ActivityFactory.create_batch(2, services=7, beneficiaries=30)
    MeetingFactory(status=JointMeeting.Status.HELD)
    ServiceLogFactory(hours=Decimal("2.5"))


def test_the_snapshot_holds_what_the_selectors_compute_after_the_writes_and_a_refresh(
    community_x, unit_a, street_staff, django_capture_on_commit_callbacks
):
    world(unit_a)
    public_figures.refresh()
    assert APIClient().get(STATS).json() == selectors_say()

    pending = ClaimFactory(status=ProjectClaim.Status.PENDING)
    log = ServiceLogFactory(member=PartyMemberFactory(residence_community=community_x), verified=False)
    assert public_figures.refresh_if_due() is False  # nothing marked, and the snapshot is fresh
    with django_capture_on_commit_callbacks(execute=True):
        project_services.claim_approve(claim=pending, actor=street_staff)
        volunteer_services.log_verify(log=log, actor=street_staff)
        demand_services.need_submit(
            data={
                "community": community_x,
                "category": CategoryFactory(),
                "title": "楼道灯坏了",
                "description": "三单元楼道灯不亮。",
                "contact_name": "赵秀兰",
                "contact_phone": "13912345678",
            }
        )
    before = APIClient().get(STATS).json()
    assert before != selectors_say()  # visitors still read the snapshot: no request computes

    assert public_figures.refresh_if_due() is True  # the beat entry's next run
    after = APIClient().get(STATS).json()
    assert after == selectors_say()
    assert (after["claims"], after["needs"], after["service_hours"]) == (
        before["claims"] + 1,
        before["needs"] + 1,
        before["service_hours"] + 2.0,
    )
    assert public_figures.refresh_if_due() is False


def test_a_write_that_rolls_back_marks_nothing(community_x, street_staff, django_capture_on_commit_callbacks):
    public_figures.refresh()
    claim = ClaimFactory(status=ProjectClaim.Status.APPROVED)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionNotAllowed):
        project_services.claim_approve(claim=claim, actor=street_staff)  # already approved: refused
    assert cache.get(public_figures.CHANGED_KEY) is None
    assert public_figures.refresh_if_due() is False


def test_an_old_snapshot_is_refreshed_even_without_a_mark(db, settings):
    public_figures.refresh()
    MemberUnitFactory()  # a row no service wrote (the console, an import script)
    assert public_figures.refresh_if_due() is False
    PublicSnapshot.objects.update(computed_at=timezone.now() - timedelta(seconds=settings.PUBLIC_FIGURES_MAX_AGE))
    assert public_figures.refresh_if_due() is True
    assert APIClient().get(STATS).json() == selectors_say()


def test_stats_and_showcase_run_no_query_on_a_warm_cache_and_one_on_a_cold_one(db, unit_a):
    world(unit_a)
    NeedFactory.create_batch(
        3, status=Need.Status.COMPLETED, unit=unit_a, completed_at=timezone.now(), showcased_at=timezone.now()
    )
    public_figures.refresh()
    client = APIClient()
    for path in (STATS, SHOWCASE):
        with CaptureQueriesContext(connection) as warm:
            assert client.get(path).status_code == 200
        assert len(warm) == 0, path
    for path in (STATS, SHOWCASE):
        cache.clear()  # Redis restarted empty: 1. the snapshot's rows, put back into the cache
        public_figures.forget_local()  # and the process's copy is older than LOCAL_SECONDS
        with CaptureQueriesContext(connection) as cold:
            assert client.get(path).status_code == 200
        assert len(cold) == 1 and "alliance_publicsnapshot" in cold[0]["sql"], path


def test_the_showcase_from_the_snapshot_is_what_the_database_says(db, unit_a):
    now = timezone.now()
    for minutes in range(25):
        NeedFactory(
            status=Need.Status.CLOSED,
            unit=unit_a if minutes % 2 else None,
            completed_at=now - timedelta(minutes=minutes),
            showcased_at=now - timedelta(minutes=minutes),
            result=f"结果{minutes}",
            rating=minutes % 5 + 1 if minutes % 3 else None,
        )
    public_figures.refresh()
    client = APIClient()
    for page_size in (20, 7):
        for page in (1, 2, 3, 4):
            live = demand_selectors.showcase()[(page - 1) * page_size : page * page_size]
            if not live:
                continue
            body = client.get(SHOWCASE, {"page": page, "page_size": page_size}).json()
            assert body["count"] == 25
            assert body["results"] == ShowcaseSerializer(live, many=True).data, (page_size, page)
            assert (body["next"] is None) == (page * page_size >= 25)


def test_before_the_first_refresh_one_visit_computes_the_snapshot(db, unit_a):
    world(unit_a)
    assert not PublicSnapshot.objects.exists()  # a new installation, before the beat's first run
    assert APIClient().get(STATS).json() == selectors_say()
    street = unit_a.community.street_id
    # The street list, and each part of each street (alliance.public_figures: per street since issue 14).
    assert set(PublicSnapshot.objects.values_list("key", flat=True)) == {
        "streets",
        f"figures:{street}",
        f"showcase:{street}",
        f"demonstration_projects:{street}",
    }
    with CaptureQueriesContext(connection) as second:
        APIClient().get(STATS)
    assert len(second) == 0


def test_while_another_process_computes_the_first_snapshot_visits_do_not_compute_too(db, unit_a):
    world(unit_a)
    cache.add(public_figures.LOCK_KEY, 1)  # another web process took the lock
    with CaptureQueriesContext(connection) as visit:
        body = APIClient().get(STATS).json()
    # 1. the snapshot's rows (none yet): no aggregate.
    assert len(visit) == 1 and "alliance_publicsnapshot" in visit[0]["sql"]
    assert set(body.values()) == {0}


def test_a_change_marked_while_the_cache_is_down_is_kept_in_the_database(
    db, street_staff, django_capture_on_commit_callbacks
):
    public_figures.refresh()
    pending = ClaimFactory(status=ProjectClaim.Status.PENDING)
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable), django_capture_on_commit_callbacks(execute=True):
        project_services.claim_approve(claim=pending, actor=street_staff)
    public_figures.breaker.reset()  # Redis is back
    assert PublicSnapshot.objects.filter(key=public_figures.CHANGED_ROW).exists()
    assert public_figures.refresh_if_due() is True
    assert APIClient().get(STATS).json() == selectors_say()
    assert public_figures.refresh_if_due() is False


@pytest.fixture
def redis_commands(monkeypatch) -> list[bytes]:
    """Every command this process sends to Redis, first word only."""
    from redis.connection import AbstractConnection

    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def record(self, command, check_health=True):
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        packed = packed.encode() if isinstance(packed, str) else packed
        sent.append(packed.split(b"\r\n")[2])
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", record)
    return sent


@pytest.mark.skipif(not settings.REDIS_URL, reason="the copy is kept only from a shared cache: PostgreSQL + Redis")
def test_a_process_keeps_what_it_read_for_a_moment_then_sees_another_processs_refresh(
    db, unit_a, monkeypatch, redis_commands
):
    NeedFactory(status=Need.Status.CLOSED, unit=unit_a, completed_at=timezone.now(), showcased_at=timezone.now())
    public_figures.refresh()
    client = APIClient()
    assert client.get(SHOWCASE).json()["count"] == 1
    redis_commands.clear()
    with CaptureQueriesContext(connection) as visits:
        for path in (STATS, SHOWCASE, "/"):
            assert client.get(path).status_code == 200
    assert redis_commands == [] and len(visits) == 0  # the figures, charts and showcase from this process

    # The worker refreshes (another process: this one's copy is left alone).
    NeedFactory(status=Need.Status.CLOSED, unit=unit_a, completed_at=timezone.now(), showcased_at=timezone.now())
    cache.set_many({public_figures.CACHE_PREFIX + key: data for key, data in public_figures.compute().items()})
    assert client.get(SHOWCASE).json()["count"] == 1  # still this process's copy
    later = time.monotonic() + public_figures.LOCAL_SECONDS
    monkeypatch.setattr(public_figures.time, "monotonic", lambda: later)
    redis_commands.clear()
    assert client.get(SHOWCASE).json()["count"] == 2
    assert client.get(SHOWCASE).json()["count"] == 2
    assert redis_commands == [b"MGET"]  # once, and kept again

"""Agreements ending within 60 days: street staff hear of each once per term, through the daily digest,
in the same number of queries for 5 agreements as for 15."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from alliance.models import Notification
from members import services

from ..factories import AgreementFactory


def _ending(count: int) -> list:
    return [AgreementFactory(term_end=timezone.localdate() + timedelta(days=10 + n)) for n in range(count)]


def test_the_scan_costs_the_same_queries_for_5_and_15_agreements(street_staff, root):
    counts = []
    for size in (5, 15):
        _ending(size)
        with CaptureQueriesContext(connection) as queries:
            assert services.agreements_expiring_notify() == size  # those told before are not told again
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Street staff (the superuser too), one row per agreement each, all held for the digest.
    told = Notification.objects.filter(kind__startswith="agreement_expiring:")
    assert told.filter(recipient=street_staff).count() == told.filter(recipient=root).count() == 20
    assert set(told.values_list("in_digest", "status", "phone")) == {(True, Notification.Status.PENDING, "")}


def test_each_agreement_and_term_is_told_once(street_staff):
    (agreement,) = _ending(1)
    with translation.override("zh-hans"):  # the platform's language, as the beat's worker runs it
        assert services.agreements_expiring_notify() == 1
    assert services.agreements_expiring_notify() == 0
    told = Notification.objects.get(recipient=street_staff)
    assert told.kind == f"agreement_expiring:{agreement.pk}:{agreement.term_end.isoformat()}"
    assert told.body == f"{agreement.unit.name} 的共驻共建协议书将于 {agreement.term_end.isoformat()} 到期。"
    assert told.url == f"/admin/members/agreement/{agreement.pk}/change/"
    # A renewed term is news again.
    agreement.term_end += timedelta(days=20)
    agreement.save()
    assert services.agreements_expiring_notify() == 1

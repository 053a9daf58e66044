"""The agreements list's "ends within 60 days" filter lists what the workbench counts: the selector's rule."""

from __future__ import annotations

from datetime import timedelta

from members import selectors
from members.models import MemberUnit

from ..conftest import client_for
from ..factories import AgreementFactory, MemberUnitFactory


def test_the_expiring_filter_lists_the_agreements_of_active_units_only(street_staff, community_x):
    soon = selectors.today() + timedelta(days=20)
    active = AgreementFactory(unit=MemberUnitFactory(community=community_x, status=MemberUnit.Status.ACTIVE))
    withdrawn = AgreementFactory(unit=MemberUnitFactory(community=community_x, status=MemberUnit.Status.WITHDRAWN))
    later = AgreementFactory(unit=MemberUnitFactory(community=community_x, status=MemberUnit.Status.ACTIVE))
    for agreement, end in ((active, soon), (withdrawn, soon), (later, soon + timedelta(days=90))):
        agreement.term_end = end
        agreement.save(update_fields=["term_end"])
    page = client_for(street_staff).get("/admin/members/agreement/?term=expiring")
    assert page.status_code == 200
    assert [a.pk for a in page.context["cl"].result_list] == [active.pk]
    assert list(selectors.agreements_expiring().values_list("pk", flat=True)) == [active.pk]

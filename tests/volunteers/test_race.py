"""The last places of a volunteer post claimed by many members at once: exactly the places are taken.
Real threads on PostgreSQL (SQLite serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from alliance.errors import Conflict
from volunteers import services
from volunteers.models import PostClaim

from ..factories import CommunityFactory, UserFactory
from .factories import PartyMemberFactory, PostFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize("places", [1, 4])
def test_members_claiming_the_last_places_at_once(places):
    community = CommunityFactory()
    members = [
        PartyMemberFactory(residence_community=community, user=UserFactory(username=f"m{places}-{i}"))
        for i in range(30)
    ]
    post = PostFactory(community=community, places=places)
    barrier = threading.Barrier(len(members))
    outcomes: list[str] = []

    def claim(member):
        try:
            barrier.wait()
            services.post_claim(post=post, actor=member.user)
            outcomes.append("claimed")
        except Conflict as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("claimed") == places
    assert outcomes.count("PostFull") == len(members) - places
    post.refresh_from_db()
    assert post.places_taken == places == PostClaim.objects.filter(post=post, status="active").count()

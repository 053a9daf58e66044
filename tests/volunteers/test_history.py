"""Finding 7 of issue 9: a post's places taken change by a conditional UPDATE; each change leaves a history
row of the post, in the member's name."""

from __future__ import annotations

from alliance import history
from volunteers import services
from volunteers.models import VolunteerTeam

from .factories import PartyMemberFactory, PostFactory


def test_a_post_claim_and_leaving_leave_post_history_rows_in_the_members_name(community_x, member):
    PartyMemberFactory(residence_community=community_x, user=member)
    post = PostFactory(community=community_x, places=2)
    claim = services.post_claim(post=post, actor=member)
    row = post.history.order_by("-history_id").first()
    assert (row.places_taken, row.history_type, row.history_user, row.history_change_reason) == (
        1,
        "~",
        member,
        "place taken",
    )
    services.post_leave(claim=claim, actor=member)
    row = post.history.order_by("-history_id").first()
    assert (row.places_taken, row.history_user, row.history_change_reason) == (0, member, "place released")


def test_who_joins_or_leaves_a_team_is_on_record_with_who_changed_it(community_x, community_x_staff):
    team = VolunteerTeam.objects.create(name="桥头街志愿服务队", community=community_x)
    first, second = (PartyMemberFactory(residence_community=community_x) for _ in range(2))
    with history.acting(community_x_staff):
        team.members.add(first, second)
        team.members.remove(first)
    rows = list(team.history.order_by("history_id"))
    assert [sorted(m.partymember_id for m in row.members.all()) for row in rows] == [
        [],
        sorted([first.pk, second.pk]),
        [second.pk],
    ]
    assert [row.history_user for row in rows[1:]] == [community_x_staff, community_x_staff]

"""Finding 7 of issue 9: a post's places taken change by a conditional UPDATE; each change leaves a history
row of the post, in the member's name."""

from __future__ import annotations

from volunteers import services

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

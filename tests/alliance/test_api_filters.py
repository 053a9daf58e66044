"""Every list of the API refuses a query parameter it does not read (400, naming it) and the filters it
documents filter (issue 13: `?tracking_code=` on the needs list was silently ignored)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from demands.models import Need
from meetings.models import JointMeeting, Resolution
from members.models import Assessment, MemberUnit
from projects.models import ProjectClaim, ServiceProject
from volunteers.models import PartyMember, VolunteerPost

from ..api import api_client as _api
from ..demands.factories import NeedFactory, ResourceFactory
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory
from ..meetings.factories import MeetingFactory, ResolutionFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory, ReviewFactory
from ..volunteers.factories import PartyMemberFactory, PostFactory, ServiceLogFactory

PAGES = "cursor, format, page, page_size"
# What each list answers to `?colour=red`: the parameters it reads, in order. A new list needs its row.
ACCEPTS = {
    "/api/v1/categories/": "cursor, format, ordering, page, page_size, search",
    "/api/v1/streets/": f"{PAGES}, search",
    "/api/v1/communities/": f"{PAGES}, search, street",
    "/api/v1/units/": "community, cursor, format, level, ordering, page, page_size, search, sector, status, type",
    "/api/v1/assessments/": f"{PAGES}, quarter, unit, year",
    "/api/v1/needs/": "category, community, cursor, format, kind, ordering, overdue, page, page_size, search, "
    "status, submitted_after, submitted_before, tracking_code, unit",
    "/api/v1/resources/": "category, community, cursor, format, is_free, kind, ordering, page, page_size, search, "
    "status, unit",
    "/api/v1/projects/": "category, community, cursor, demonstration, format, has_places, ordering, page, "
    "page_size, search, status, street_wide",
    "/api/v1/claims/": "cursor, format, ordering, page, page_size, project, status, unit",
    "/api/v1/activities/": "claim, cursor, date_after, date_before, format, ordering, page, page_size, project, unit",
    "/api/v1/reviews/": "claim, cursor, format, page, page_size, quarter, year",
    "/api/v1/meetings/": "community, cursor, district, format, kind, level, ordering, page, page_size, search, "
    "start_after, start_before, status, street, unit",
    "/api/v1/resolutions/": "cursor, format, meeting, ordering, overdue, owner, page, page_size, status",
    "/api/v1/members/": f"community, {PAGES}, search, status, work_unit",
    "/api/v1/posts/": f"community, {PAGES}, status",
    "/api/v1/service-logs/": "cursor, format, member, page, page_size, post, rejected, verified",
    "/api/v1/wishes/": f"community, {PAGES}, status",
    "/api/v1/points/": f"{PAGES}, year",
    "/api/v1/public/showcase/": "format, page, page_size, street",
    "/api/v1/agreements/": "current, cursor, format, page, page_size, unit",
    "/api/v1/venues/": "category, community, cursor, format, is_public, page, page_size, search, unit",
    "/api/v1/bookings/": "community, cursor, format, page, page_size, start_after, start_before, status, unit, venue",
}


def _list_urls() -> set[str]:
    """Every list the API serves: a viewset's `list`, or a generic list view."""

    def walk(patterns, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    urls = set()
    for route, callback in walk(get_resolver().url_patterns, "/"):
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "cls", None)
        if not route.startswith("/api/") or view_class is None:
            continue
        if (actions or {}).get("get") == "list" or (actions is None and hasattr(view_class, "list")):
            urls.add(route.replace("^", "").replace("$", ""))
    return urls


def test_the_table_names_every_list():
    assert _list_urls() == set(ACCEPTS)


@pytest.mark.parametrize("url", sorted(ACCEPTS))
def test_an_unknown_parameter_is_refused_by_name_before_anything_is_read(url, root, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = _api(root).get(url, {"colour": "red", "page_size": "5"})
    assert response.status_code == 400
    assert response.json() == {"detail": f"未知的查询参数：colour。此列表接受的参数：{ACCEPTS[url]}。"}


def test_the_refusal_is_in_the_users_language_and_names_every_unknown_parameter(root):
    response = _api(root).get("/api/v1/needs/", {"tracking_cod": "X", "colour": "red"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Unknown query parameter: colour, tracking_cod. This list accepts: {ACCEPTS['/api/v1/needs/']}."
    }


def test_a_retrieve_ignores_the_query_string(root, community_x):
    need = NeedFactory(community=community_x)
    response = _api(root).get(f"/api/v1/needs/{need.pk}/", {"colour": "red"})
    assert response.status_code == 200
    assert response.json()["id"] == need.pk


# --- The documented filters filter: one value per list, one row that matches and one that does not. ---------


def _categories():
    wanted = CategoryFactory(name="水电维修")
    CategoryFactory(name="法律咨询")
    return {"search": "水电"}, [wanted.pk]


def _streets():
    wanted = StreetFactory(name="府东街道")
    StreetFactory(name="柳巷街道")
    return {"search": "府东"}, [wanted.pk]


def _communities():
    wanted = CommunityFactory(street=StreetFactory(name="府东街道"))
    CommunityFactory()
    return {"street": wanted.street_id}, [wanted.pk]


def _units():
    wanted = MemberUnitFactory(status=MemberUnit.Status.APPLIED, joined_on=None)
    MemberUnitFactory()
    return {"status": "applied"}, [wanted.pk]


def _assessments():
    unit = MemberUnitFactory()
    wanted = Assessment.objects.create(unit=unit, year=2025, quarter=4)
    Assessment.objects.create(unit=unit, year=2026, quarter=1)
    return {"year": "2025", "quarter": "4"}, [wanted.pk]


def _needs():
    wanted = NeedFactory()
    NeedFactory()
    return {"tracking_code": wanted.tracking_code}, [wanted.pk]


def _resources():
    wanted = ResourceFactory(is_free=False)
    ResourceFactory(is_free=True)
    return {"is_free": "false"}, [wanted.pk]


def _projects():
    wanted = ProjectFactory(status=ServiceProject.Status.DRAFT)
    ProjectFactory()
    return {"status": "draft"}, [wanted.pk]


def _claims():
    wanted = ClaimFactory(status=ProjectClaim.Status.PENDING)
    ClaimFactory()
    return {"status": "pending"}, [wanted.pk]


def _activities():
    wanted = ActivityFactory(date=datetime.date(2026, 6, 2))
    ActivityFactory(date=datetime.date(2026, 5, 20))
    return {"date_after": "2026-06-01"}, [wanted.pk]


def _reviews():
    wanted = ReviewFactory(quarter=1)
    ReviewFactory(quarter=2)
    return {"quarter": "1"}, [wanted.pk]


def _meetings():
    wanted = MeetingFactory(status=JointMeeting.Status.CANCELLED, cancel_reason="改期")
    MeetingFactory()
    return {"status": "cancelled"}, [wanted.pk]


def _resolutions():
    wanted = ResolutionFactory(status=Resolution.Status.DONE, done_at=timezone.now())
    ResolutionFactory()
    return {"status": "done"}, [wanted.pk]


def _members():
    wanted = PartyMemberFactory(status=PartyMember.Status.PENDING)
    PartyMemberFactory()
    return {"status": "pending"}, [wanted.pk]


def _posts():
    wanted = PostFactory(status=VolunteerPost.Status.CLOSED)
    PostFactory()
    return {"status": "closed"}, [wanted.pk]


def _service_logs():
    wanted = ServiceLogFactory(verified=False)
    ServiceLogFactory()
    return {"verified": "false"}, [wanted.pk]


def _wishes():
    # The wishes list shows the caller's own (taken on) and the open ones of their verified communities.
    root = User.objects.get(username="root")
    wanted = NeedFactory(kind=Need.Kind.MICRO_WISH, status=Need.Status.COMPLETED, claimed_by=root)
    NeedFactory(kind=Need.Kind.MICRO_WISH, status=Need.Status.ACCEPTED, claimed_by=root)
    return {"status": "completed"}, [wanted.pk]


def _agreements():
    from ..factories import AgreementFactory

    wanted = AgreementFactory()
    AgreementFactory()
    return {"unit": wanted.unit_id}, [wanted.pk]


def _venues():
    from ..demands.factories import VenueFactory

    wanted = VenueFactory()
    VenueFactory()
    return {"unit": wanted.resource.unit_id}, [wanted.pk]


def _bookings():
    from datetime import timedelta

    from django.utils import timezone

    from demands.models import Booking

    from ..demands.factories import VenueFactory

    venue = VenueFactory()
    start = timezone.now() + timedelta(days=2)
    made = [
        Booking.objects.create(
            venue=venue,
            requester=UserFactory(),
            start=start + timedelta(hours=n * 2),
            end=start + timedelta(hours=n * 2 + 1),
            purpose="党课",
            people=5,
            status=status,
        )
        for n, status in enumerate([Booking.Status.APPROVED, Booking.Status.PENDING])
    ]
    return {"status": "approved"}, [made[0].pk]


def _points():
    from volunteers.models import PointsEntry

    member = PartyMemberFactory()
    made = [
        PointsEntry.objects.create(
            member=member,
            community=member.residence_community,
            points=2,
            reason="服务时长",
            source_kind=PointsEntry.Source.SERVICE_LOG,
            source_id=n,
            year=year,
            quarter=2,
        )
        for n, year in enumerate([2025, 2026])
    ]
    return {"year": 2025}, [made[0].pk]


FILTERED: dict[str, Callable[[], tuple[dict, list[int]]]] = {
    "/api/v1/categories/": _categories,
    "/api/v1/streets/": _streets,
    "/api/v1/communities/": _communities,
    "/api/v1/units/": _units,
    "/api/v1/assessments/": _assessments,
    "/api/v1/needs/": _needs,
    "/api/v1/resources/": _resources,
    "/api/v1/projects/": _projects,
    "/api/v1/claims/": _claims,
    "/api/v1/activities/": _activities,
    "/api/v1/reviews/": _reviews,
    "/api/v1/meetings/": _meetings,
    "/api/v1/resolutions/": _resolutions,
    "/api/v1/members/": _members,
    "/api/v1/posts/": _posts,
    "/api/v1/service-logs/": _service_logs,
    "/api/v1/wishes/": _wishes,
    "/api/v1/agreements/": _agreements,
    "/api/v1/venues/": _venues,
    "/api/v1/bookings/": _bookings,
    "/api/v1/points/": _points,
}


def test_every_list_with_filters_has_a_filter_test():
    # The showcase reads pages and its street only (tests/alliance/test_public_streets.py): nothing to filter.
    assert set(FILTERED) == set(ACCEPTS) - {"/api/v1/public/showcase/"}


@pytest.mark.parametrize("url", sorted(FILTERED))
def test_a_documented_filter_filters(url, root):
    params, wanted = FILTERED[url]()
    response = _api(root).get(url, params)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == wanted

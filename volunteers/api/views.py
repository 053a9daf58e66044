"""In-service Party members, posts, micro-wishes and service logs over the API, through the same services
and the same permission layer as the portal and the admin: each step a screen offers is an action here,
refused the same way (400 bad input, 403 seen but not allowed, 404 not seen, 409 the wrong state)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alliance.api.permissions import ObjectPermissions
from alliance.api.serializers import ReasonSerializer
from alliance.api.views import FastListMixin
from alliance.errors import Conflict, InvalidInput
from alliance.periods import Quarter
from alliance.workflow import api_description
from demands.models import Need

from .. import points, selectors, services
from ..models import PartyMember, PointsEntry, PostClaim, ServiceLog
from . import serializers as s


def _changed(obj, data: dict) -> dict:
    """Only the fields the request changes go to the service (an unchanged field is no change)."""
    return {k: v for k, v in data.items() if getattr(obj, k) != v}


class RegisterPermissions(ObjectPermissions):
    """Registering (双报到) is for every signed-in person, not only for those who may add registrations:
    `member_register` decides whether it is their own registration or staff's on someone's behalf."""

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) == "create":
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class MemberFilter(django_filters.FilterSet):
    community = django_filters.NumberFilter(field_name="residence_community")

    class Meta:
        model = PartyMember
        fields = ["work_unit", "status"]


# PUT and PATCH of a registration: the same staff correction.
MEMBER_CORRECT_SCHEMA = extend_schema(
    summary=gettext_lazy("Correct a registration (staff)"),
    request=s.MemberUpdateSerializer,
    responses=s.MemberSerializer,
    examples=[
        OpenApiExample(
            "Correct",
            summary=pgettext_lazy("api example", "Correct"),
            value={"skills": "维修, 法律咨询"},
            request_only=True,
        )
    ],
)


class MemberViewSet(
    FastListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Registrations: staff see their communities', a member their own; phones masked for the others.
    `POST /members/` registers (the portal's form for the person, the admin's for staff); staff verify,
    reject and correct; the member or their staff move the registration to another community."""

    serializer_class = s.MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["name"]
    permission_classes = [RegisterPermissions]
    service_checked_actions = {"verify", "reject", "move"}

    def get_queryset(self):
        return selectors.members_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return {
            "create": s.MemberRegisterSerializer,
            "update": s.MemberUpdateSerializer,
            "partial_update": s.MemberUpdateSerializer,
            "reject": ReasonSerializer,
            "move": s.MemberMoveSerializer,
        }.get(self.action, s.MemberSerializer)

    def _payload(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _done(self, member: PartyMember, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().filter(pk=member.pk).first() or member
        return Response(s.MemberSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary=gettext_lazy("Register an in-service Party member"),
        request=s.MemberRegisterSerializer,
        responses={201: s.MemberSerializer},
        examples=[
            OpenApiExample(
                "Register",
                summary=pgettext_lazy("api example", "Register"),
                value={
                    "name": "李明",
                    "phone": "13912345678",
                    "work_unit": 12,
                    "party_branch": "第一党支部",
                    "residence_community": 3,
                    "skills": "维修",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = self._payload(s.MemberRegisterSerializer)
        return self._done(services.member_register(data=data, actor=request.user), status.HTTP_201_CREATED)

    @MEMBER_CORRECT_SCHEMA
    def update(self, request, *args, **kwargs):
        member = self.get_object()
        data = _changed(member, self._payload(s.MemberUpdateSerializer, partial=kwargs.get("partial", False)))
        if data:
            member = services.member_staff_update(member=member, actor=request.user, data=data)
        return self._done(member)

    @MEMBER_CORRECT_SCHEMA
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Verify a registration (community or street staff)"),
        request=None,
        responses=s.MemberSerializer,
        description=api_description(PartyMember, "verify"),
        examples=[
            OpenApiExample("Verify", summary=pgettext_lazy("api example", "Verify"), value={}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._done(services.member_verify(member=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Reject a registration with a reason (community or street staff)"),
        request=ReasonSerializer,
        responses=s.MemberSerializer,
        description=api_description(PartyMember, "reject"),
        examples=[
            OpenApiExample(
                "Reject",
                summary=pgettext_lazy("api example", "Reject"),
                value={"reason": "不是本社区居民"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        member = self.get_object()
        reason = self._payload(ReasonSerializer)["reason"]
        return self._done(services.member_reject(member=member, actor=request.user, reason=reason))

    @extend_schema(
        summary=gettext_lazy("Move to another residence community (the member, or their staff)"),
        request=s.MemberMoveSerializer,
        responses={201: s.MemberSerializer},
        description=format_lazy(
            "{}\n\n{}",
            api_description(PartyMember, "move_away"),
            gettext_lazy("Answers the new registration (waiting for verification there)."),
        ),
        examples=[
            OpenApiExample(
                "Move",
                summary=pgettext_lazy("api example", "To another community"),
                value={"community": 4},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        member = self.get_object()
        community = self._payload(s.MemberMoveSerializer)["community"]
        new = services.member_move(member=member, actor=request.user, community=community)
        return self._done(new, status.HTTP_201_CREATED)


class PostViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Volunteer posts. `POST /posts/<id>/claims/`: a verified member of the post's community claims a
    place — 409 when the post is full or already held by the member; `/leave/` gives the caller's place
    back. The community's staff create, edit and close posts."""

    serializer_class = s.PostSerializer
    filterset_fields = ["community", "status"]
    service_checked_actions = {"claim", "leave", "close"}

    def get_queryset(self):
        return selectors.posts_visible_to(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return s.PostWriteSerializer
        return s.PostSerializer

    def _done(self, post, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=post.pk)
        return Response(s.PostSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary=gettext_lazy("Open a volunteer post (the community's staff)"),
        request=s.PostWriteSerializer,
        responses={201: s.PostSerializer},
        examples=[
            OpenApiExample(
                "Post",
                summary=pgettext_lazy("api example", "Post"),
                value={"community": 3, "title": "文明劝导岗", "schedule": "每周六上午", "places": 5},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = s.PostWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.post_create(actor=request.user, data=dict(serializer.validated_data))
        return self._done(post, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Edit a volunteer post (the community's staff)"),
        request=s.PostWriteSerializer,
        responses=s.PostSerializer,
        examples=[
            OpenApiExample("Edit", summary=pgettext_lazy("api example", "Edit"), value={"places": 8}, request_only=True)
        ],
    )
    def update(self, request, *args, **kwargs):
        post = self.get_object()
        serializer = s.PostWriteSerializer(post, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = _changed(post, serializer.validated_data)
        if data:
            post = services.post_update(post=post, actor=request.user, data=data)
        return self._done(post)

    @extend_schema(
        summary=gettext_lazy("Edit a volunteer post (the community's staff)"),
        request=s.PostWriteSerializer,
        responses=s.PostSerializer,
        examples=[
            OpenApiExample("Edit", summary=pgettext_lazy("api example", "Edit"), value={"places": 8}, request_only=True)
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Claim a place on the post (a verified member of its community)"),
        request=None,
        responses={201: s.PostClaimSerializer},
        examples=[OpenApiExample("Claim", summary=pgettext_lazy("api example", "Claim"), value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="claims", url_name="claims")
    def claim(self, request, pk=None):
        claim = services.post_claim(post=self.get_object(), actor=request.user)
        return Response(s.PostClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Leave the post (the caller's own place)"),
        request=None,
        responses=s.PostClaimSerializer,
        description=format_lazy(
            "{}\n\n{}", api_description(PostClaim, "leave"), gettext_lazy("409 when the caller does not hold the post.")
        ),
        examples=[OpenApiExample("Leave", summary=pgettext_lazy("api example", "Leave"), value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        post = self.get_object()
        claim = (
            PostClaim.objects.filter(post=post, member__user=request.user, status=PostClaim.Status.ACTIVE)
            .select_related("member", "post")
            .first()
        )
        if claim is None:
            raise Conflict(_("You do not hold this post."))
        return Response(s.PostClaimSerializer(services.post_leave(claim=claim, actor=request.user)).data)

    @extend_schema(
        summary=gettext_lazy("Close the post to new claims (the community's staff)"),
        request=None,
        responses=s.PostSerializer,
        description=gettext_lazy("Allowed when `status` is `open`; moves it to `closed`. Otherwise 409."),
        examples=[OpenApiExample("Close", summary=pgettext_lazy("api example", "Close"), value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._done(services.post_close(post=self.get_object(), actor=request.user))


class WishFilter(django_filters.FilterSet):
    class Meta:
        model = Need
        fields = ["status", "community"]


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Micro-wishes the caller may take on, and the ones they took on")),
    retrieve=extend_schema(summary=gettext_lazy("One micro-wish")),
)
class WishViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Micro-wishes (微心愿) for in-service Party members, as the portal's volunteer home lists them: the
    open wishes of the communities where the caller is a verified member, and the wishes they took on.
    `/take-on/` takes one on (then the resident's contact is shown), `/complete/ {result}` reports it
    fulfilled. Staff follow micro-wishes through `/needs/`."""

    serializer_class = s.WishSerializer
    filterset_class = WishFilter
    service_checked_actions = {"take_on", "complete"}

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated:
            return Need.objects.none()
        # The list offers what the caller may take on now (verified registrations); an action finds any
        # wish of a community where they are registered, so a pending member is told why not (403) and
        # a wish someone else took on answers 409, as in the portal.
        statuses = [PartyMember.Status.VERIFIED] if self.action == "list" else PartyMember.ACTIVE
        communities = PartyMember.objects.filter(user=user, status__in=statuses).values("residence_community_id")
        where = Q(community_id__in=communities)
        if self.action == "list":
            where &= Q(status=Need.Status.SUBMITTED)
        return Need.objects.filter(where | Q(claimed_by=user), kind=Need.Kind.MICRO_WISH).select_related(
            "category", "community"
        )

    def get_serializer_class(self):
        return s.WishCompleteSerializer if self.action == "complete" else s.WishSerializer

    def _done(self, need) -> Response:
        fresh = self.get_queryset().get(pk=need.pk)
        return Response(s.WishSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=gettext_lazy("Take on a micro-wish (a verified member of its community)"),
        request=None,
        responses=s.WishSerializer,
        description=api_description(Need, "take_wish"),
        examples=[
            OpenApiExample("Take on", summary=pgettext_lazy("api example", "Take on"), value={}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"], url_path="take-on", url_name="take-on")
    def take_on(self, request, pk=None):
        return self._done(services.wish_claim(need=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Report a micro-wish fulfilled (the member who took it on)"),
        request=s.WishCompleteSerializer,
        responses=s.WishSerializer,
        description=api_description(Need, "complete_wish"),
        examples=[
            OpenApiExample(
                "Complete",
                summary=pgettext_lazy("api example", "Complete"),
                value={"result": "已送去助听器并教会使用"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        need = self.get_object()
        serializer = s.WishCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._done(
            services.wish_complete(need=need, actor=request.user, result=serializer.validated_data["result"])
        )


class ServiceLogFilter(django_filters.FilterSet):
    rejected = django_filters.BooleanFilter(field_name="rejected_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ServiceLog
        fields = ["member", "verified", "post"]


class ServiceLogViewSet(
    FastListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Hours served: logged by the member (or their staff), corrected while they wait, verified or
    rejected by the member's community staff. Only verified hours count in any total."""

    serializer_class = s.ServiceLogSerializer
    filterset_class = ServiceLogFilter
    # The member corrects their own hours: `log_update` decides (the permission layer's change is staff's).
    service_checked_actions = {"verify", "reject", "update", "partial_update"}

    def get_queryset(self):
        return selectors.logs_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return {
            "reject": ReasonSerializer,
            "update": s.LogUpdateSerializer,
            "partial_update": s.LogUpdateSerializer,
        }.get(self.action, s.ServiceLogSerializer)

    @extend_schema(
        summary=gettext_lazy("Log hours served"),
        examples=[
            OpenApiExample(
                "Log",
                summary=pgettext_lazy("api example", "Log"),
                value={"member": 42, "date": "2026-06-01", "hours": "2.5", "description": "助老陪诊"},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        member = data.pop("member")
        serializer.instance = services.log_hours(member=member, actor=self.request.user, data=data)

    @extend_schema(
        summary=gettext_lazy("Correct hours waiting for verification (the member, or their staff)"),
        request=s.LogUpdateSerializer,
        responses=s.ServiceLogSerializer,
        examples=[
            OpenApiExample(
                "Correct", summary=pgettext_lazy("api example", "Correct"), value={"hours": "3.0"}, request_only=True
            )
        ],
    )
    def update(self, request, *args, **kwargs):
        log = self.get_object()
        serializer = s.LogUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = _changed(log, serializer.validated_data)
        if data:
            log = services.log_update(log=log, actor=request.user, data=data)
        return Response(s.ServiceLogSerializer(log, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=gettext_lazy("Correct hours waiting for verification (the member, or their staff)"),
        request=s.LogUpdateSerializer,
        responses=s.ServiceLogSerializer,
        examples=[
            OpenApiExample(
                "Correct", summary=pgettext_lazy("api example", "Correct"), value={"hours": "3.0"}, request_only=True
            )
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Verify hours (the member's community staff)"),
        request=None,
        responses=s.ServiceLogSerializer,
        description=gettext_lazy("409 when the hours are verified or rejected already."),
        examples=[
            OpenApiExample("Verify", summary=pgettext_lazy("api example", "Verify"), value={}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return Response(s.ServiceLogSerializer(services.log_verify(log=self.get_object(), actor=request.user)).data)

    @extend_schema(
        summary=gettext_lazy("Reject hours with a reason (the member's community staff)"),
        request=ReasonSerializer,
        responses=s.ServiceLogSerializer,
        description=gettext_lazy(
            "409 when the hours are verified or rejected already. Rejected hours count in no total."
        ),
        examples=[
            OpenApiExample(
                "Reject",
                summary=pgettext_lazy("api example", "Reject"),
                value={"reason": "同一天重复登记"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        log = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        log = services.log_reject(log=log, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(s.ServiceLogSerializer(log).data)


# --- Points (积分, issue 15) ----------------------------------------------------------------------------

YEAR_PARAMETER = OpenApiParameter(
    "year", int, description=gettext_lazy("The year, e.g. 2026 (this year when left out)"), required=False
)


class BalancePagination(pagination.PageNumberPagination):
    """Balances are sums ranked in SQL: pages by number (a keyset needs a table's own sort keys)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class PointsViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The points ledger of a year (`?year=Y`, this year by default): a member sees their own entries, a
    liaison their units', staff their scope. `balances/` sums them per member and unit, ranked."""

    serializer_class = s.PointsEntrySerializer
    extra_query_parameters = ("year",)  # read below (alliance.api.filters.KnownParameters)

    def _year(self) -> int:
        value = self.request.query_params.get("year")
        if value in (None, ""):
            return Quarter.current().year
        try:
            return points.check_year(value)
        except InvalidInput as exc:
            raise ValidationError({"year": [str(exc)]}) from None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        return selectors.points_visible_to(user=self.request.user, year=self._year())

    @extend_schema(summary=gettext_lazy("The points ledger of a year"), parameters=[YEAR_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Points per member and unit for a year, ranked"),
        parameters=[YEAR_PARAMETER],
        responses=s.PointsBalanceSerializer(many=True),
    )
    @action(
        detail=False,
        methods=["get"],
        filter_backends=[],
        pagination_class=BalancePagination,
        serializer_class=s.PointsBalanceSerializer,
    )
    def balances(self, request):
        rows = selectors.points_balances(user=request.user, year=self._year())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.PointsBalanceSerializer(page, many=True).data)

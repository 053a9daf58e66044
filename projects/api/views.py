"""Projects, the claim table, activities and reviews over the API, through the same permission layer."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alliance.api.serializers import ReasonSerializer
from alliance.api.views import FastListMixin
from alliance.workflow import api_description
from members import selectors as member_selectors
from members.models import MemberUnit

from .. import selectors, services
from ..models import ProjectClaim, ServiceProject
from . import serializers as s
from .filters import ActivityFilter, ClaimFilter, ProjectFilter

PROJECT_EXAMPLE = OpenApiExample(
    "A community's project",
    summary=pgettext_lazy("api example", "A community's project"),
    value={
        "title": "社区义诊进楼院",
        "category": 1,
        "description": "每月一次，为楼院老人量血压、测血糖。",
        "street": 1,
        "community": 2,
        "starts_on": "2026-03-01",
        "ends_on": "2026-12-31",
        "places": 5,
    },
    request_only=True,
)
NO_BODY = OpenApiExample("No body", summary=pgettext_lazy("api example", "No body"), value={}, request_only=True)


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Create a project (staff); it stays a draft until /open/"),
        examples=[PROJECT_EXAMPLE],
    ),
    update=extend_schema(summary=gettext_lazy("Replace a project's fields (its staff)"), examples=[PROJECT_EXAMPLE]),
    partial_update=extend_schema(
        summary=gettext_lazy("Change some of a project's fields (its staff)"),
        examples=[
            OpenApiExample(
                "More places",
                summary=pgettext_lazy("api example", "More places"),
                value={"places": 8},
                request_only=True,
            )
        ],
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service projects. `POST /projects/<id>/claims/` claims a place: 409 when the project is full,
    not open, or already claimed by that unit. The project's staff open, start and finish it and mark
    it a demonstration project, through the same services as the admin's actions."""

    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    # The services decide (404 when not visible, 403 when visible but not the caller's to change).
    # `demonstration` is not among them: its body is checked after the object's `can_change` (403 first).
    service_checked_actions = {"claim", "open", "start", "finish"}
    search_fields = ["title"]
    ordering_fields = ["starts_on", "places_left_db"]

    def get_queryset(self):
        return selectors.projects_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return {"claim": s.ClaimCreateSerializer, "demonstration": s.DemonstrationSerializer}.get(
            self.action, s.ProjectSerializer
        )

    def _answer(self, project: ServiceProject) -> Response:
        # Read back through the selector: the answer carries `places_left` as every list row does.
        return Response(s.ProjectSerializer(self.get_queryset().get(pk=project.pk)).data)

    def perform_create(self, serializer):
        project = services.project_create(actor=self.request.user, data=dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=project.pk)

    def perform_update(self, serializer):
        project = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(project, k) != v}
        services.project_update(project=project, actor=self.request.user, data=changed)
        serializer.instance = self.get_queryset().get(pk=project.pk)

    @extend_schema(
        summary=gettext_lazy("Open a draft project for claims (its staff)"),
        request=None,
        responses=s.ProjectSerializer,
        description=api_description(ServiceProject, "open"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        return self._answer(services.project_open(project=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Start an open project: claims close (its staff)"),
        request=None,
        responses=s.ProjectSerializer,
        description=api_description(ServiceProject, "start"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.project_start(project=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Finish a project: approved claims complete, pending ones lapse (its staff)"),
        request=None,
        responses=s.ProjectSerializer,
        description=api_description(ServiceProject, "finish"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        return self._answer(services.project_finish(project=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Mark a demonstration project with its plaque date, or take the mark away (its staff)"),
        request=s.DemonstrationSerializer,
        responses=s.ProjectSerializer,
        description=gettext_lazy(
            "The admin's action 'mark as demonstration projects': `plaque_awarded_on` is today when "
            "left out; `is_demonstration: false` takes the mark and the plaque date away."
        ),
        examples=[
            OpenApiExample(
                "Award the plaque",
                summary=pgettext_lazy("api example", "Award the plaque"),
                value={"is_demonstration": True, "plaque_awarded_on": "2026-06-30"},
                request_only=True,
            ),
            OpenApiExample(
                "Take the mark away",
                summary=pgettext_lazy("api example", "Take the mark away"),
                value={"is_demonstration": False},
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def demonstration(self, request, pk=None):
        project = self.get_object()
        serializer = s.DemonstrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = serializer.validated_data["is_demonstration"]
        awarded_on = (serializer.validated_data.get("plaque_awarded_on") or timezone.localdate()) if marked else None
        data = {"is_demonstration": marked, "plaque_awarded_on": awarded_on}
        return self._answer(services.project_update(project=project, actor=request.user, data=data))

    @extend_schema(
        summary=gettext_lazy("Claim a place on an open project for a unit (its liaison)"),
        request=s.ClaimCreateSerializer,
        responses={201: s.ClaimSerializer},
        examples=[
            OpenApiExample(
                "A claim",
                summary=pgettext_lazy("api example", "A claim"),
                value={"commitment": "每月一次义诊，每次不少于2小时"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="claims", url_name="claims")
    def claim(self, request, pk=None):
        project = self.get_object()
        serializer = s.ClaimCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("unit"):
            unit = MemberUnit.objects.filter(pk=data["unit"]).first()
            if unit is None:
                raise ValidationError({"unit": [_("No such member unit.")]})
        else:
            units = list(member_selectors.units_of_liaison(user=request.user)[:2])
            if len(units) != 1:
                raise ValidationError({"unit": [_("Say which of your units claims the project.")]})
            unit = units[0]
        claim = services.claim_create(project=project, unit=unit, commitment=data["commitment"], actor=request.user)
        return Response(s.ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


class ClaimViewSet(FastListMixin, viewsets.ReadOnlyModelViewSet):
    """Claims as the permission layer shows them; staff approve or reject, the unit withdraws."""

    serializer_class = s.ClaimSerializer
    filterset_class = ClaimFilter
    service_checked_actions = {"approve", "reject", "withdraw"}
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.claims_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return ReasonSerializer if self.action == "reject" else s.ClaimSerializer

    @extend_schema(
        summary=gettext_lazy("Approve a claim (the project's staff)"),
        request=None,
        responses=s.ClaimSerializer,
        description=api_description(ProjectClaim, "approve"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(s.ClaimSerializer(services.claim_approve(claim=self.get_object(), actor=request.user)).data)

    @extend_schema(
        summary=gettext_lazy("Reject a claim with the reason the unit is told (the project's staff)"),
        request=ReasonSerializer,
        responses=s.ClaimSerializer,
        description=api_description(ProjectClaim, "reject"),
        examples=[
            OpenApiExample(
                "A reason",
                summary=pgettext_lazy("api example", "A reason"),
                value={"reason": "本项目名额已满足需要"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        claim = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = services.claim_reject(claim=claim, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(s.ClaimSerializer(claim).data)

    @extend_schema(
        summary=gettext_lazy("Withdraw the unit's claim before it is approved (its liaison)"),
        request=None,
        responses=s.ClaimSerializer,
        description=api_description(ProjectClaim, "withdraw"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return Response(s.ClaimSerializer(services.claim_withdraw(claim=self.get_object(), actor=request.user)).data)


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Record an activity under an approved claim (the unit's liaison or staff)"),
        examples=[
            OpenApiExample(
                "An activity",
                summary=pgettext_lazy("api example", "An activity"),
                value={
                    "claim": 1,
                    "date": "2026-06-01",
                    "title": "义诊进社区",
                    "place": "社区活动室",
                    "participants": 6,
                    "services": 12,
                    "beneficiaries": 90,
                    "hours": "3.5",
                },
                request_only=True,
            )
        ],
    )
)
class ActivityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["date"]

    def get_queryset(self):
        return selectors.activities_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        photos = data.pop("photos", [])
        claim = selectors.claim_detail(user=self.request.user, pk=data.pop("claim").pk)
        serializer.instance = services.activity_record(claim=claim, actor=self.request.user, data=data, photos=photos)


REVIEW_CHANGE = extend_schema(
    summary=gettext_lazy("Correct a review's score or comment (staff), as saving it again in the admin does"),
    request=s.ReviewChangeSerializer,
    responses=s.ReviewSerializer,
    examples=[
        OpenApiExample(
            "A corrected score",
            summary=pgettext_lazy("api example", "A corrected score"),
            value={"score": 4, "comment": "活动记录不全"},
            request_only=True,
        )
    ],
)


@extend_schema_view(
    update=REVIEW_CHANGE,
    partial_update=REVIEW_CHANGE,
    create=extend_schema(
        summary=gettext_lazy("Score a claim's commitment for a quarter; saving again replaces the score (staff)"),
        examples=[
            OpenApiExample(
                "A review",
                summary=pgettext_lazy("api example", "A review"),
                value={"claim": 1, "year": 2026, "quarter": 2, "score": 5, "comment": "承诺落实到位"},
                request_only=True,
            )
        ],
    ),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ReviewSerializer
    filterset_fields = ["claim", "year", "quarter"]

    def get_queryset(self):
        return selectors.reviews_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        claim = selectors.claim_detail(user=self.request.user, pk=data.pop("claim").pk)
        serializer.instance = services.review_save(claim=claim, actor=self.request.user, **data)

    def update(self, request, *args, **kwargs):
        review = self.get_object()
        serializer = s.ReviewChangeSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = services.review_save(
            claim=review.claim,
            actor=request.user,
            year=review.year,
            quarter=review.quarter,
            score=data.get("score", review.score),
            comment=data.get("comment", review.comment),
        )
        return Response(s.ReviewSerializer(saved).data)

"""Projects, the claim table, activities and reviews over the API, through the same permission layer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alliance.workflow import api_description
from members import selectors as member_selectors
from members.models import MemberUnit

from .. import selectors, services
from ..models import ProjectClaim
from . import serializers as s
from .filters import ActivityFilter, ClaimFilter, ProjectFilter


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service projects. `POST /projects/<id>/claims/` claims a place: 409 when the project is full,
    not open, or already claimed by that unit."""

    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    service_checked_actions = {"claim"}
    search_fields = ["title"]
    ordering_fields = ["starts_on", "places_left_db"]

    def get_queryset(self):
        return selectors.projects_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return s.ClaimCreateSerializer if self.action == "claim" else s.ProjectSerializer

    def perform_create(self, serializer):
        project = services.project_create(actor=self.request.user, data=dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=project.pk)

    def perform_update(self, serializer):
        project = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(project, k) != v}
        services.project_update(project=project, actor=self.request.user, data=changed)
        serializer.instance = self.get_queryset().get(pk=project.pk)

    @extend_schema(request=s.ClaimCreateSerializer, responses={201: s.ClaimSerializer})
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


class ClaimViewSet(viewsets.ReadOnlyModelViewSet):
    """Claims as the permission layer shows them; staff approve or reject, the unit withdraws."""

    serializer_class = s.ClaimSerializer
    filterset_class = ClaimFilter
    service_checked_actions = {"approve", "reject", "withdraw"}
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.claims_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return s.ClaimReasonSerializer if self.action == "reject" else s.ClaimSerializer

    @extend_schema(request=None, responses=s.ClaimSerializer, description=api_description(ProjectClaim, "approve"))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(s.ClaimSerializer(services.claim_approve(claim=self.get_object(), actor=request.user)).data)

    @extend_schema(
        request=s.ClaimReasonSerializer,
        responses=s.ClaimSerializer,
        description=api_description(ProjectClaim, "reject"),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        claim = self.get_object()
        serializer = s.ClaimReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = services.claim_reject(claim=claim, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(s.ClaimSerializer(claim).data)

    @extend_schema(request=None, responses=s.ClaimSerializer, description=api_description(ProjectClaim, "withdraw"))
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return Response(s.ClaimSerializer(services.claim_withdraw(claim=self.get_object(), actor=request.user)).data)


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
        claim = selectors.claim_detail(user=self.request.user, pk=data.pop("claim").pk)
        serializer.instance = services.activity_record(claim=claim, actor=self.request.user, data=data)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ReviewSerializer
    filterset_fields = ["claim", "year", "quarter"]

    def get_queryset(self):
        return selectors.reviews_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        claim = selectors.claim_detail(user=self.request.user, pk=data.pop("claim").pk)
        serializer.instance = services.review_save(claim=claim, actor=self.request.user, **data)

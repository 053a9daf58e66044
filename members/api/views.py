from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from alliance.periods import MAX_YEAR, MIN_YEAR
from alliance.workflow import api_description
from members import assessments, selectors, services
from members.models import Assessment

from .filters import UnitFilter
from .serializers import (
    AssessmentAdjustSerializer,
    AssessmentReasonSerializer,
    AssessmentRemarkSerializer,
    AssessmentSerializer,
    CommunitySerializer,
    StreetSerializer,
    UnitSerializer,
)


class StreetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StreetSerializer
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.streets()


class CommunityViewSet(viewsets.ReadOnlyModelViewSet):
    """The communities (public): a resident picks one on the need form."""

    serializer_class = CommunitySerializer
    permission_classes = [AllowAny]
    filterset_fields = ["street"]
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.communities_public()


class UnitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Member units, as the permission layer shows them: street staff all, community staff their
    communities', liaisons their own. Liaisons change the profile fields, staff the whole record."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    search_fields = ["name", "credit_code"]
    ordering_fields = ["name", "joined_on", "party_member_count"]

    def get_queryset(self):
        return selectors.units_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.unit_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        unit = serializer.instance
        # A PUT repeats every field; only the ones that differ are a change the caller asks for.
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(unit, k) != v}
        serializer.instance = services.unit_update(unit=unit, actor=self.request.user, data=changed)


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Units' quarterly assessments (按季度考核), `?year=Y&quarter=Q`: street staff see all, community
    staff their communities' units, liaisons their own units. Staff adjust and submit, street staff approve
    or return; the unit's liaison leaves a remark. An approved assessment is locked (409)."""

    serializer_class = AssessmentSerializer
    service_checked_actions = {"submit", "approve", "return_", "adjust", "remark"}
    filterset_fields = ["unit"]

    def get_queryset(self):
        queryset = assessments.assessments_visible_to(user=self.request.user)
        if self.action != "list":
            return queryset
        params = self.request.query_params
        year, quarter = params.get("year"), params.get("quarter")
        if year not in (None, ""):
            if not year.isascii() or not year.isdigit() or not MIN_YEAR <= int(year) <= MAX_YEAR:
                raise ValidationError({"year": [_("Give the year as a number such as 2026.")]})
            queryset = queryset.filter(year=int(year))
        if quarter not in (None, ""):
            if quarter not in ("1", "2", "3", "4"):
                raise ValidationError({"quarter": [_("The quarter is 1, 2, 3 or 4.")]})
            queryset = queryset.filter(quarter=int(quarter))
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="The year, e.g. 2026"),
            OpenApiParameter("quarter", int, description="The quarter, 1 to 4"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, assessment: Assessment) -> Response:
        return Response(AssessmentSerializer(self.get_queryset().get(pk=assessment.pk)).data)

    @extend_schema(request=None, responses=AssessmentSerializer, description=api_description(Assessment, "submit"))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(assessments.assessment_submit(assessment=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=AssessmentSerializer, description=api_description(Assessment, "approve"))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._answer(assessments.assessment_approve(assessment=self.get_object(), actor=request.user))

    @extend_schema(
        request=AssessmentReasonSerializer,
        responses=AssessmentSerializer,
        description=api_description(Assessment, "return"),
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        assessment = self.get_object()
        serializer = AssessmentReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            assessments.assessment_return(
                assessment=assessment, reason=serializer.validated_data["reason"], actor=request.user
            )
        )

    @extend_schema(
        request=AssessmentAdjustSerializer,
        responses=AssessmentSerializer,
        description="Staff adjust the score by −20 to +20 points with a reason; 409 once approved.",
    )
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        assessment = self.get_object()
        serializer = AssessmentAdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self._answer(
            assessments.assessment_adjust(
                assessment=assessment, adjustment=data["adjustment"], comment=data["comment"], actor=request.user
            )
        )

    @extend_schema(
        request=AssessmentRemarkSerializer,
        responses=AssessmentSerializer,
        description="The unit's liaison leaves a remark; 409 once approved.",
    )
    @action(detail=True, methods=["post"])
    def remark(self, request, pk=None):
        assessment = self.get_object()
        serializer = AssessmentRemarkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            assessments.assessment_remark(
                assessment=assessment, text=serializer.validated_data["text"], actor=request.user
            )
        )

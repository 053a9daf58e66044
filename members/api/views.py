from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.exports import XLSX_CONTENT_TYPE
from alliance.models import Job
from alliance.periods import MAX_YEAR, MIN_YEAR, Quarter
from alliance.reports import Edition
from alliance.workflow import api_description
from members import assessments, reporting, selectors, services
from members.downloads import report_file_response
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


class QuarterlyReportView(APIView):
    """季度报表: the current workbook of the caller's street for a quarter (SPEC "Fixed interfaces").

    Street staff get 200 and the .xlsx when it is built, 202 `{status, progress}` while it is being built
    (the first request starts it), 409 when building it failed (staff build a new version from the admin);
    `?edition=outward` the edition for the district. Everyone else signed in: 404. With several streets,
    `?street=<id>` names one."""

    @extend_schema(
        parameters=[
            OpenApiParameter("edition", str, enum=Edition.values, description=str(_("internal (default) or outward"))),
            OpenApiParameter("street", int, description=str(_("the street, when there are several"))),
        ],
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
            202: inline_serializer(
                "QuarterlyReportProgress",
                {
                    "status": serializers.ChoiceField(choices=Job.Status.choices),
                    "progress": serializers.DictField(),
                },
            ),
        },
    )
    def get(self, request, year: int, quarter: int):
        try:
            period = Quarter(year, quarter)
        except ValueError:
            raise NotFound from None
        edition = request.query_params.get("edition", Edition.INTERNAL)
        if edition not in Edition.values:
            raise ValidationError({"edition": [_("Choose internal or outward.")]})
        streets = selectors.report_streets(user=request.user)
        street_id = request.query_params.get("street")
        if street_id is not None:
            if not street_id.isascii() or not street_id.isdigit() or len(street_id) > 18:
                raise ValidationError({"street": [_("Give the street's id, a whole number.")]})
            street = streets.filter(pk=int(street_id)).first()
        else:
            candidates = list(streets[:2])
            if len(candidates) > 1:
                raise ValidationError({"street": [_("There are several streets: name one with ?street=<id>.")]})
            street = candidates[0] if candidates else None
        if street is None:
            raise NotFound
        report = reporting.report_request(street=street, quarter=period, edition=edition, actor=request.user)
        if report.ready:
            return report_file_response(report)
        job = report.job
        body = {
            "status": job.status,
            "progress": {"sheets_done": job.steps_done, "sheets_total": job.steps_total, "rows_written": job.rows_done},
        }
        if job.status == Job.Status.FAILED:
            body["detail"] = _("Building this report failed: %(reason)s") % {"reason": job.failure_reason}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(body, status=status.HTTP_202_ACCEPTED)


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Units' quarterly assessments (按季度考核), `?year=Y&quarter=Q`: street staff see all, community
    staff their communities' units, liaisons their own units. Staff adjust and submit, street staff approve
    or return; the unit's liaison leaves a remark. An approved assessment is locked (409)."""

    serializer_class = AssessmentSerializer
    service_checked_actions = {"submit", "approve", "return_", "adjust", "remark"}
    filterset_fields = ["unit"]
    extra_query_parameters = ("year", "quarter")  # read below (alliance.api.filters.KnownParameters)

    def get_queryset(self):
        queryset = assessments.assessments_visible_to(user=self.request.user)
        if self.action != "list":
            return queryset
        # Pages follow the table's own keys (assessment_list_idx), not the unit's name: a name is in another
        # table, and no index of this one can hand out the rows after it.
        queryset = queryset.order_by("-year", "-quarter", "unit_id", "id")
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

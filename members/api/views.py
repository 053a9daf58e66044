from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api.serializers import ReasonSerializer
from alliance.api.views import FastListMixin
from alliance.exports import XLSX_CONTENT_TYPE
from alliance.models import Job
from alliance.periods import MAX_YEAR, MIN_YEAR, Quarter
from alliance.reports import Edition
from alliance.workflow import api_description
from members import assessments, reporting, selectors, services
from members.downloads import report_file_response
from members.models import Assessment, MemberUnit

from .filters import AgreementFilter, UnitFilter
from .serializers import (
    AgreementRenewSerializer,
    AgreementSerializer,
    AssessmentAdjustSerializer,
    AssessmentReasonSerializer,
    AssessmentRemarkSerializer,
    AssessmentSerializer,
    CommunitySerializer,
    StreetSerializer,
    UnitSerializer,
    UnitWithdrawSerializer,
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


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Record a unit that joined on paper; it is active from today (staff)"),
        examples=[
            OpenApiExample(
                "A unit",
                summary=pgettext_lazy("api example", "A unit"),
                value={
                    "name": "山西饭店",
                    "credit_code": "91140100110012345X",
                    "unit_type": "state_enterprise",
                    "level": "district",
                    "community": 1,
                    "party_org_name": "山西饭店党支部",
                    "liaison_name": "王芳",
                    "liaison_phone": "13800138000",
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary=gettext_lazy("Replace a unit's record (staff) or its profile (its liaison)")),
    partial_update=extend_schema(
        summary=gettext_lazy("Change a unit's profile (its liaison) or record (staff in scope)"),
        description=gettext_lazy(
            "Liaisons change the profile fields (as on the portal's profile form); staff also the name, "
            "code, type, level, community and sector. The status moves only through the actions below."
        ),
        examples=[
            OpenApiExample(
                "The profile",
                summary=pgettext_lazy("api example", "The profile"),
                value={"secretary_name": "李明", "party_member_count": 12, "address": "迎泽大街1号"},
                request_only=True,
            )
        ],
    ),
)
class UnitViewSet(
    FastListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Member units, as the permission layer shows them: street staff all, community staff their
    communities', liaisons their own. Liaisons change the profile fields, staff the whole record. Staff
    approve or reject applications and record a unit's withdrawal (the admin's actions, the same services)."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    # The services decide: 404 when the unit is not visible, 403 when visible but not the caller's to decide.
    service_checked_actions = {"approve", "reject", "withdraw"}
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

    def get_serializer_class(self):
        return {"reject": ReasonSerializer, "withdraw": UnitWithdrawSerializer}.get(self.action, UnitSerializer)

    def _payload(self) -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary=gettext_lazy("Approve a unit's application: it becomes active, its liaison gets an account (staff)"),
        request=None,
        responses=UnitSerializer,
        description=api_description(MemberUnit, "approve"),
        examples=[
            OpenApiExample("No body", summary=pgettext_lazy("api example", "No body"), value={}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(UnitSerializer(services.unit_approve(unit=self.get_object(), actor=request.user)).data)

    @extend_schema(
        summary=gettext_lazy("Reject a unit's application with the reason the applicant is told (staff)"),
        request=ReasonSerializer,
        responses=UnitSerializer,
        description=api_description(MemberUnit, "reject"),
        examples=[
            OpenApiExample(
                "A reason",
                summary=pgettext_lazy("api example", "A reason"),
                value={"reason": "统一社会信用代码与营业执照不符"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        unit = self.get_object()
        reason = self._payload()["reason"]
        return Response(UnitSerializer(services.unit_reject(unit=unit, actor=request.user, reason=reason)).data)

    @extend_schema(
        summary=gettext_lazy("Record that an active unit leaves the alliance; its accounts lose access to it (staff)"),
        request=UnitWithdrawSerializer,
        responses=UnitSerializer,
        description=api_description(MemberUnit, "withdraw"),
        examples=[
            OpenApiExample(
                "A reason",
                summary=pgettext_lazy("api example", "A reason"),
                value={"reason": "单位迁出本街道"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        unit = self.get_object()
        reason = self._payload()["reason"]
        return Response(UnitSerializer(services.unit_withdraw(unit=unit, actor=request.user, reason=reason)).data)


class QuarterlyReportView(APIView):
    """季度报表: the current workbook of the caller's street for a quarter (SPEC "Fixed interfaces").

    Street staff get 200 and the .xlsx when it is built, 202 `{status, progress}` while it is being built
    (the first request starts it), 409 when building it failed (staff build a new version from the admin);
    `?edition=outward` the edition for the district. Everyone else signed in: 404. With several streets,
    `?street=<id>` names one."""

    @extend_schema(
        summary=gettext_lazy("The quarterly report of the caller's street (.xlsx)"),
        parameters=[
            OpenApiParameter(
                "edition", str, enum=Edition.values, description=gettext_lazy("internal (default) or outward")
            ),
            OpenApiParameter("street", int, description=gettext_lazy("the street, when there are several")),
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
            OpenApiParameter("year", int, description=gettext_lazy("The year, e.g. 2026")),
            OpenApiParameter("quarter", int, description=gettext_lazy("The quarter, 1 to 4")),
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
        description=gettext_lazy("Staff adjust the score by −20 to +20 points with a reason; 409 once approved."),
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
        description=gettext_lazy("The unit's liaison leaves a remark; 409 once approved."),
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


class AgreementViewSet(viewsets.ReadOnlyModelViewSet):
    """Co-building agreements (共驻共建协议书) with their versions: staff see their scope's, liaisons their own
    units'. Staff renew one as a new version (`renew`); the old version is kept, marked superseded."""

    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter

    def get_queryset(self):
        # The table's own keys for the pages (as the model orders them), the unit joined, the renewal annotated.
        return selectors.agreements_visible_to(user=self.request.user).order_by("term_end", "id")

    @extend_schema(
        summary=gettext_lazy("Renew an agreement as a new version; the old one is kept, superseded (staff)"),
        request=AgreementRenewSerializer,
        responses={201: AgreementSerializer},
        examples=[
            OpenApiExample(
                "Renewal",
                summary=pgettext_lazy("api example", "Renewal"),
                value={"signed_on": "2026-12-01", "term_end": "2029-11-30"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        agreement = self.get_object()
        serializer = AgreementRenewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        renewal = services.agreement_renew(
            agreement=agreement,
            actor=request.user,
            signed_on=data.pop("signed_on"),
            term_end=data.pop("term_end"),
            data=data,
        )
        body = AgreementSerializer(self.get_queryset().get(pk=renewal.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

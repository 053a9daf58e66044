from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.api.fast import FastListSerializer
from alliance.validators import validate_credit_code

from .. import assessments
from ..models import Agreement, Assessment, Community, MemberUnit, Street


class StreetSerializer(serializers.ModelSerializer):
    community_count = serializers.IntegerField(read_only=True)
    unit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Street
        fields = ["id", "name", "alliance_name", "address", "community_count", "unit_count"]


class CommunitySerializer(serializers.ModelSerializer):
    street_name = serializers.CharField(source="street.name", read_only=True)

    class Meta:
        model = Community
        fields = ["id", "name", "street", "street_name", "address"]


class UnitSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    sector_name = serializers.CharField(source="sector.name", read_only=True, allow_null=True)

    class Meta:
        model = MemberUnit
        fields = [
            "id",
            "name",
            "credit_code",
            "unit_type",
            "level",
            "sector",
            "sector_name",
            "community",
            "community_name",
            "address",
            "description",
            "party_org_name",
            "party_org_kind",
            "secretary_name",
            "liaison_name",
            "liaison_phone",
            "liaison_email",
            "party_member_count",
            "joined_on",
            "status",
            "updated_at",
        ]
        read_only_fields = ["status", "updated_at"]
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)
        # Uniqueness of the credit code is the service's rule (a rejected application does not count).
        validators = []
        extra_kwargs = {"credit_code": {"validators": [validate_credit_code]}}


class UnitWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Why the unit leaves (kept on record)."
    )


class AssessmentIndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    value = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    points = serializers.DecimalField(max_digits=7, decimal_places=2)


class AssessmentSerializer(serializers.ModelSerializer):
    """SPEC "Fixed interfaces": {id, unit, year, quarter, indicators, adjustment, adjustment_comment, total,
    status}. An indicator that does not apply to the unit has `value` null and 0 points."""

    indicators = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = ["id", "unit", "year", "quarter", "indicators", "adjustment", "adjustment_comment", "total", "status"]
        read_only_fields = fields

    @extend_schema_field(AssessmentIndicatorSerializer(many=True))
    def get_indicators(self, obj: Assessment) -> list[dict]:
        lines = [
            {"code": line.code, "label": line.label, "value": line.value, "weight": line.weight, "points": line.points}
            for line in assessments.shown_lines(obj)
        ]
        return AssessmentIndicatorSerializer(lines, many=True).data


class AssessmentReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=assessments.REASON_MAX)


class AssessmentAdjustSerializer(serializers.Serializer):
    adjustment = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=-assessments.ADJUSTMENT_LIMIT, max_value=assessments.ADJUSTMENT_LIMIT
    )
    comment = serializers.CharField(max_length=assessments.COMMENT_MAX, allow_blank=True, required=False, default="")


class AssessmentRemarkSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=assessments.REMARK_MAX)


class AgreementSerializer(serializers.ModelSerializer):
    """A co-building agreement and its place among its versions: `renews` the one it renewed, `renewed_by`
    the one that renewed it (null for the version in force), `superseded_at` when it was renewed."""

    unit_name = serializers.CharField(source="unit.name", read_only=True)
    renewed_by = serializers.IntegerField(source="renewed_by_id", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "unit",
            "unit_name",
            "title",
            "signed_on",
            "term_end",
            "content",
            "version",
            "renews",
            "renewed_by",
            "superseded_at",
        ]
        read_only_fields = fields


class AgreementRenewSerializer(serializers.Serializer):
    """The new version's term; title and content carry over unless given."""

    signed_on = serializers.DateField(label=_("signed on"))
    term_end = serializers.DateField(label=_("term ends on"))
    title = serializers.CharField(max_length=100, required=False)
    content = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["term_end"] < attrs["signed_on"]:
            raise serializers.ValidationError(
                {"term_end": [_("The new term must end on or after the day it is signed.")]}
            )
        return attrs

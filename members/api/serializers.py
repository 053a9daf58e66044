from __future__ import annotations

from rest_framework import serializers

from alliance.validators import validate_credit_code

from ..models import Community, MemberUnit, Street


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
        # Uniqueness of the credit code is the service's rule (a rejected application does not count).
        validators = []
        extra_kwargs = {"credit_code": {"validators": [validate_credit_code]}}

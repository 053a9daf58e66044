from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance import permissions
from alliance.api.fast import FastListSerializer, RowFinishing
from alliance.api.fields import VisibleRelatedField
from alliance.masking import mask_phone

from ..models import PartyMember, PostClaim, ServiceLog, VolunteerPost


class MemberSerializer(RowFinishing, serializers.ModelSerializer):
    """Fixed fields: id, name, phone, work_unit, residence_community, status. The phone in full only for
    the member and the staff of their residence community."""

    work_unit = serializers.SerializerMethodField()
    work_unit_id = serializers.IntegerField(source="work_unit.pk", read_only=True, allow_null=True)
    residence_community_name = serializers.CharField(source="residence_community.name", read_only=True)

    class Meta:
        model = PartyMember
        fields = [
            "id",
            "name",
            "phone",
            "work_unit",
            "work_unit_id",
            "party_branch",
            "residence_community",
            "residence_community_name",
            "skills",
            "registered_on",
            "status",
        ]
        read_only_fields = fields
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)

    def get_work_unit(self, member: PartyMember) -> str:
        return member.work_unit_label

    def finish_representation(self, instance: PartyMember, data: dict) -> None:
        request = self.context.get("request")
        if request is None or not permissions.has_ability(request.user, "volunteers.see_phone", instance):
            data["phone"] = mask_phone(instance.phone)


class PostSerializer(serializers.ModelSerializer):
    places_left = serializers.IntegerField(read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)

    class Meta:
        model = VolunteerPost
        fields = [
            "id",
            "community",
            "community_name",
            "title",
            "description",
            "schedule",
            "places",
            "places_left",
            "status",
        ]
        read_only_fields = ["status"]


class PostClaimSerializer(serializers.ModelSerializer):
    class Meta:
        model = PostClaim
        fields = ["id", "post", "member", "status", "claimed_at"]
        read_only_fields = fields


class ServiceLogSerializer(serializers.ModelSerializer):
    member = VisibleRelatedField(queryset=PartyMember.objects.all(), label=_("member"))

    class Meta:
        model = ServiceLog
        fields = ["id", "member", "post", "wish", "date", "hours", "description", "verified"]
        read_only_fields = ["verified"]
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)

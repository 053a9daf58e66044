from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance.api.fast import FastListSerializer
from alliance.api.fields import VisibleRelatedField

from ..models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject


class ProjectSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True, allow_null=True)
    places_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = ServiceProject
        fields = [
            "id",
            "title",
            "category",
            "category_name",
            "description",
            "street",
            "community",
            "community_name",
            "starts_on",
            "ends_on",
            "places",
            "places_taken",
            "places_left",
            "is_demonstration",
            "plaque_awarded_on",
            "status",
        ]
        read_only_fields = ["places_taken", "status"]


class ClaimCreateSerializer(serializers.Serializer):
    commitment = serializers.CharField(max_length=2000)
    unit = serializers.IntegerField(
        required=False, help_text="The claiming unit; may be left out by a liaison of one unit."
    )


class ClaimSerializer(serializers.ModelSerializer):
    project_title = serializers.CharField(source="project.title", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = ProjectClaim
        fields = [
            "id",
            "project",
            "project_title",
            "unit",
            "unit_name",
            "commitment",
            "status",
            "created_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)


class ClaimReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ActivitySerializer(serializers.ModelSerializer):
    claim = VisibleRelatedField(queryset=ProjectClaim.objects.all(), label=_("claim"))
    project = serializers.IntegerField(source="claim.project_id", read_only=True)
    unit = serializers.IntegerField(source="claim.unit_id", read_only=True)

    class Meta:
        model = ServiceActivity
        fields = [
            "id",
            "claim",
            "project",
            "unit",
            "date",
            "title",
            "place",
            "participants",
            "services",
            "beneficiaries",
            "hours",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class ReviewSerializer(serializers.ModelSerializer):
    claim = VisibleRelatedField(queryset=ProjectClaim.objects.all(), label=_("claim"))

    class Meta:
        model = CommitmentReview
        fields = ["id", "claim", "year", "quarter", "score", "comment", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # saving the same claim and quarter again replaces the score (review_save)

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance.api.fast import FastListSerializer
from alliance.api.fields import VisibleRelatedField
from alliance.uploads import PHOTO_KINDS, check_upload

from ..models import CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject
from ..services import MAX_PHOTOS


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


class DemonstrationSerializer(serializers.Serializer):
    """The admin's "mark as demonstration project" (示范项目, with the plaque date), or taking the mark away."""

    is_demonstration = serializers.BooleanField(label=_("demonstration project"))
    plaque_awarded_on = serializers.DateField(
        label=_("plaque awarded on"),
        required=False,
        allow_null=True,
        help_text="The day the plaque was awarded; today when left out. Only with is_demonstration true.",
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs["is_demonstration"] and attrs.get("plaque_awarded_on"):
            raise serializers.ValidationError(
                {"plaque_awarded_on": [_("A plaque is awarded only to a demonstration project.")]}
            )
        return attrs


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


class ActivitySerializer(serializers.ModelSerializer):
    claim = VisibleRelatedField(queryset=ProjectClaim.objects.all(), label=_("claim"))
    project = serializers.IntegerField(source="claim.project_id", read_only=True)
    unit = serializers.IntegerField(source="claim.unit_id", read_only=True)
    # The portal's activity form takes photos too (multipart); stored as the form stores them.
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, write_only=True, max_length=MAX_PHOTOS
    )

    def validate_photos(self, photos: list) -> list:
        # Checked and re-encoded here (a 400 that names the photo), so the service stores them as they are.
        try:
            return [check_upload(photo, PHOTO_KINDS) for photo in photos]
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

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
            "photos",
        ]
        read_only_fields = ["created_at"]


class ReviewSerializer(serializers.ModelSerializer):
    claim = VisibleRelatedField(queryset=ProjectClaim.objects.all(), label=_("claim"))

    class Meta:
        model = CommitmentReview
        fields = ["id", "claim", "year", "quarter", "score", "comment", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # saving the same claim and quarter again replaces the score (review_save)


class ReviewChangeSerializer(serializers.Serializer):
    """The admin's review change form: the score and comment; the claim and quarter stay as they are."""

    score = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)

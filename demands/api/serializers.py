from __future__ import annotations

import copy
from typing import ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance import permissions
from alliance.api.fast import FastListSerializer, RowFinishing
from alliance.masking import mask_name, mask_phone
from alliance.models import Category
from alliance.uploads import PHOTO_KINDS, check_upload
from alliance.validators import validate_mobile
from members import selectors as member_selectors
from members.models import Community, MemberUnit

from .. import public_choices
from ..models import Booking, Need, NeedEvent, Resource, Venue


class NeedEventSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")

    class Meta:
        model = NeedEvent
        fields = ["status", "at", "note"]


class NeedSerializer(RowFinishing, serializers.ModelSerializer):
    """A need as staff and liaisons see it. Contact data in full only for those who need it
    (the ability "demands.see_contact": staff always, the unit between accepting and closing, the liaisons of
    the unit that filed it), masked for everyone else."""

    category_name = serializers.CharField(source="category.name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, allow_null=True)
    filed_by_unit_name = serializers.CharField(source="filed_by_unit.name", read_only=True, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)

    class Meta:
        model = Need
        fields = [
            "id",
            "kind",
            "category",
            "category_name",
            "community",
            "community_name",
            "title",
            "description",
            "status",
            "tracking_code",
            "unit",
            "unit_name",
            "resource",
            "filed_by_unit",
            "filed_by_unit_name",
            "contact_name",
            "contact_phone",
            "address",
            "channel",
            "submitted_at",
            "dispatched_at",
            "accepted_at",
            "completed_at",
            "closed_at",
            "reject_reason",
            "result",
            "rating",
            "rating_comment",
            "showcased_at",
            "overdue",
        ]
        read_only_fields = [
            "status",
            "tracking_code",
            "unit",
            "resource",
            "filed_by_unit",
            "submitted_at",
            "dispatched_at",
            "accepted_at",
            "completed_at",
            "closed_at",
            "reject_reason",
            "result",
            "rating",
            "rating_comment",
            "showcased_at",
        ]
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)

    # What finish_representation reads, and the rule behind "demands.see_contact" (NeedRules.can_see_contact):
    # a list read as tuples reads these columns, not the whole need (alliance/api/fast.py).
    finish_columns: ClassVar[tuple[str, ...]] = (
        "contact_name",
        "contact_phone",
        "community_id",
        "status",
        "unit_id",
        "claimed_by_id",
        "kind",
        "filed_by_unit_id",
    )

    def finish_representation(self, instance: Need, data: dict) -> None:
        viewer = self.viewer
        if viewer is None or not permissions.has_ability(viewer, "demands.see_contact", instance):
            data["contact_name"] = mask_name(instance.contact_name)
            data["contact_phone"] = mask_phone(instance.contact_phone)
            data["address"] = ""


class NeedDetailSerializer(NeedSerializer):
    timeline = NeedEventSerializer(source="events", many=True, read_only=True)

    class Meta(NeedSerializer.Meta):
        fields = [*NeedSerializer.Meta.fields, "timeline"]


class NeedCreateSerializer(NeedSerializer):
    """Staff entering a need on a resident's behalf (phone call, visit)."""

    channel = serializers.ChoiceField(
        choices=[Need.Channel.PHONE, Need.Channel.VISIT, Need.Channel.STAFF], default=Need.Channel.PHONE
    )


class UnitNeedCreateSerializer(serializers.Serializer):
    """A unit's liaison filing a need of the unit itself (kind "unit", in the unit's community)."""

    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True))
    title = serializers.CharField(min_length=2, max_length=80)
    description = serializers.CharField(min_length=5, max_length=2000)
    contact_name = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="The unit's liaison on record when left out."
    )
    contact_phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        validators=[validate_mobile],
        help_text="The unit's liaison's phone on record when left out.",
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    from_unit = serializers.IntegerField(
        required=False, help_text="The filing unit; may be left out by a liaison of one unit."
    )


class DispatchSerializer(serializers.Serializer):
    unit = serializers.IntegerField(required=False)
    resource = serializers.IntegerField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)

    def validate(self, attrs):
        if not attrs.get("unit") and not attrs.get("resource"):
            raise serializers.ValidationError(_("Choose a unit or a resource."))
        return attrs


class CompleteSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=2000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=6)

    def validate_photos(self, photos: list) -> list:
        # Checked and re-encoded here (a 400 that names the photo), so the service stores them as they are.
        try:
            return [check_upload(photo, PHOTO_KINDS) for photo in photos]
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class SuggestionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField()
    resource_id = serializers.IntegerField(allow_null=True)
    resource_title = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class ResourceSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Resource
        fields = [
            "id",
            "unit",
            "unit_name",
            "category",
            "category_name",
            "kind",
            "title",
            "description",
            "capacity",
            "availability",
            "is_free",
            "status",
            "updated_at",
        ]
        read_only_fields = ["status", "updated_at"]


# --- Public ----------------------------------------------------------------------------------------


class PublicChoiceField(serializers.PrimaryKeyRelatedField):
    """A community or active category by id, checked against the list each process keeps
    (demands.public_choices) instead of one query per submission."""

    def to_internal_value(self, data):
        numeric = isinstance(data, int) or (isinstance(data, str) and data.strip().isdigit())
        if isinstance(data, bool) or not numeric:
            self.fail("incorrect_type", data_type=type(data).__name__)
        # The queryset's model only: get_queryset() would clone the queryset for each submission.
        found = public_choices.lookup(self.queryset.model, data)
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found


class FieldsBuiltOnce:
    """For a ModelSerializer on a busy public path: its fields are built from the model once per process
    and class, and copied for each use (as DRF copies declared fields). ModelSerializer otherwise inspects
    the model on every request: a tenth of a submission's time."""

    _built: ClassVar[dict | None] = None

    def get_fields(self):
        return copy.deepcopy(self._fields_built())

    def _fields_built(self) -> dict:
        cls = type(self)
        if cls.__dict__.get("_built") is None:
            cls._built = super().get_fields()
        return cls._built


class PublicNeedSubmitSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """The resident's need as the public API takes it."""

    def get_fields(self):
        # Shallow copies of the fields built once: binding a field to this serializer sets attributes of
        # its own (name, parent, source), and validating reads, never changes, what the copies share
        # (validators, messages, the choice fields' querysets). DRF's deep copy rebuilt each field with
        # its arguments: the largest part of validating a submission.
        return {name: copy.copy(field) for name, field in self._fields_built().items()}

    community = PublicChoiceField(queryset=member_selectors.communities_public())
    category = PublicChoiceField(queryset=Category.objects.filter(is_active=True))
    contact_phone = serializers.CharField(max_length=11, validators=[validate_mobile])

    class Meta:
        model = Need
        fields = ["community", "category", "title", "description", "contact_name", "contact_phone", "address"]
        extra_kwargs = {"address": {"required": False}}


class PublicNeedSerializer(serializers.ModelSerializer):
    """What a resident sees with the tracking code: never contact data, never staff names."""

    category = serializers.CharField(source="category.name")
    community = serializers.CharField(source="community.name")
    unit = serializers.CharField(source="unit.name", allow_null=True)
    timeline = NeedEventSerializer(source="events", many=True)

    class Meta:
        model = Need
        fields = ["tracking_code", "title", "category", "community", "status", "unit", "result", "rating", "timeline"]


class PublicRatingSerializer(serializers.Serializer):
    phone_last4 = serializers.RegexField(r"^\d{4}$")
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ShowcaseSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    community = serializers.CharField(source="community.name")
    unit = serializers.CharField(source="unit.name", allow_null=True)

    class Meta:
        model = Need
        fields = ["id", "title", "category", "community", "unit", "submitted_at", "completed_at", "result", "rating"]


# --- Shared venues ---------------------------------------------------------------------------------


class VenueSerializer(serializers.ModelSerializer):
    """A venue: the resource's title, unit, category and capacity, and its opening hours and days."""

    id = serializers.IntegerField(source="resource_id", read_only=True)
    title = serializers.CharField(source="resource.title", read_only=True)
    unit = serializers.IntegerField(source="resource.unit_id", read_only=True)
    unit_name = serializers.CharField(source="resource.unit.name", read_only=True)
    community = serializers.IntegerField(source="resource.unit.community_id", read_only=True)
    category = serializers.IntegerField(source="resource.category_id", read_only=True)
    capacity = serializers.IntegerField(source="resource.capacity", read_only=True, allow_null=True)
    is_free = serializers.BooleanField(source="resource.is_free", read_only=True)

    class Meta:
        model = Venue
        fields = [
            "id",
            "title",
            "unit",
            "unit_name",
            "community",
            "category",
            "capacity",
            "is_free",
            "opens_at",
            "closes_at",
            "weekdays",
            "is_public",
        ]


class VenueClosureSerializer(serializers.Serializer):
    """A closed day of a venue: added with its date (and why), removed with its date."""

    date = serializers.DateField()
    note = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class BookingRequestSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    purpose = serializers.CharField(max_length=200)
    people = serializers.IntegerField(min_value=1, max_value=100000)
    unit = serializers.PrimaryKeyRelatedField(queryset=MemberUnit.objects.all(), required=False, allow_null=True)
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all(), required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("unit") and attrs.get("community"):
            raise serializers.ValidationError(_("Book for a unit or for a community, not both."))
        return attrs


class BookingSerializer(serializers.ModelSerializer):
    venue_title = serializers.CharField(source="venue.resource.title", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "venue",
            "venue_title",
            "start",
            "end",
            "purpose",
            "people",
            "unit",
            "community",
            "status",
            "decline_reason",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance import permissions
from alliance.api.fast import FastListSerializer, FromColumns, RowFinishing
from alliance.api.fields import VisibleRelatedField
from alliance.masking import mask_phone
from members.models import Community, MemberUnit

from ..models import PartyMember, PointsEntry, PostClaim, ServiceLog, VolunteerPost


def _work_unit_label(unit_id: int | None, unit_name: str | None, free_text: str) -> str:
    # PartyMember.work_unit_label, from the columns of a list page read as tuples (alliance/api/fast.py).
    return unit_name if unit_id else free_text


def _rejected(rejected_at) -> bool:
    return rejected_at is not None


class MemberSerializer(RowFinishing, serializers.ModelSerializer):
    """Fixed fields: id, name, phone, work_unit, residence_community, status. The phone in full only for
    the member and the staff of their residence community."""

    column_fields: ClassVar[dict[str, FromColumns]] = {
        "work_unit": FromColumns(("work_unit", "work_unit__name", "work_unit_name"), _work_unit_label)
    }

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

    # What finish_representation reads, and the rule behind "volunteers.see_phone" (MemberRules.can_see_phone).
    finish_columns: ClassVar[tuple[str, ...]] = ("phone", "residence_community_id", "user_id")

    def finish_representation(self, instance: PartyMember, data: dict) -> None:
        viewer = self.viewer
        if viewer is None or not permissions.has_ability(viewer, "volunteers.see_phone", instance):
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
        fields = [
            "id",
            "member",
            "post",
            "wish",
            "date",
            "hours",
            "description",
            "verified",
            "rejected",
            "reject_reason",
        ]
        read_only_fields = ["verified", "rejected", "reject_reason"]
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)

    rejected = serializers.SerializerMethodField()
    column_fields: ClassVar[dict[str, FromColumns]] = {"rejected": FromColumns(("rejected_at",), _rejected)}

    def get_rejected(self, log: ServiceLog) -> bool:
        return _rejected(log.rejected_at)


# --- Writes: the input each service takes, field by field as the screens ask for it ------------------


class MemberRegisterSerializer(serializers.Serializer):
    """双报到 through the API: a signed-in person registers themself (as the portal's volunteer/register/),
    staff register a member on their behalf (as the admin's add form)."""

    name = serializers.CharField(max_length=30)
    phone = serializers.CharField(max_length=11)
    work_unit = serializers.PrimaryKeyRelatedField(
        queryset=MemberUnit.objects.all(), required=False, allow_null=True, label=_("work unit")
    )
    work_unit_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    party_branch = serializers.CharField(max_length=100, required=False, allow_blank=True)
    residence_community = serializers.PrimaryKeyRelatedField(
        queryset=Community.objects.all(), label=_("residence community")
    )
    skills = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MemberUpdateSerializer(serializers.Serializer):
    """What staff correct of an active registration (the admin's change form: `services.STAFF_FIELDS`)."""

    name = serializers.CharField(max_length=30, required=False)
    work_unit = serializers.PrimaryKeyRelatedField(
        queryset=MemberUnit.objects.all(), required=False, allow_null=True, label=_("work unit")
    )
    work_unit_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    party_branch = serializers.CharField(max_length=100, required=False, allow_blank=True)
    skills = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MemberMoveSerializer(serializers.Serializer):
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all(), label=_("community"))


class PostWriteSerializer(serializers.ModelSerializer):
    """The admin's post form: community, title, description, schedule, places, status."""

    class Meta:
        model = VolunteerPost
        fields = ["community", "title", "description", "schedule", "places", "status"]
        extra_kwargs = {"status": {"required": False}}


class LogUpdateSerializer(serializers.Serializer):
    """What the member corrects of hours still waiting for verification."""

    date = serializers.DateField(required=False)
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    description = serializers.CharField(max_length=300, required=False)
    post = serializers.PrimaryKeyRelatedField(
        queryset=VolunteerPost.objects.all(), required=False, allow_null=True, label=_("post")
    )


class WishSerializer(serializers.Serializer):
    """A micro-wish (微心愿) as a member sees it: the resident's contact only for the member who took it
    on, while they serve it ("demands.see_contact"); null for everyone else."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    category = serializers.IntegerField(source="category_id", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    community = serializers.IntegerField(source="community_id", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    status = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    accepted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    result = serializers.CharField(read_only=True)
    taken_on_by_me = serializers.SerializerMethodField()
    contact_name = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_taken_on_by_me(self, need) -> bool:
        user = self._user()
        return need.claimed_by_id is not None and need.claimed_by_id == getattr(user, "pk", None)

    def _contact(self, need, field: str) -> str | None:
        user = self._user()
        if user is None or not permissions.has_ability(user, "demands.see_contact", need):
            return None
        return getattr(need, field)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact_name(self, need) -> str | None:
        return self._contact(need, "contact_name")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact_phone(self, need) -> str | None:
        return self._contact(need, "contact_phone")


class WishCompleteSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=2000)


# --- Points (积分, issue 15) ----------------------------------------------------------------------------


class PointsEntrySerializer(serializers.ModelSerializer):
    """A line of the ledger, exactly as SPEC's Fixed interfaces list it; `source` is stable: "<kind>:<id>"
    (service_log, micro_wish, review, correction — a correction's id is the entry it corrects). A review
    re-scored below the rule's score and back shows as more "review:<id>" lines: the points taken back
    (negative), then awarded again."""

    source = serializers.CharField(read_only=True, help_text=_('For example "service_log:123".'))

    class Meta:
        model = PointsEntry
        fields = ["id", "member", "unit", "points", "reason", "source", "quarter", "created_at"]
        read_only_fields = fields


class PointsBalanceSerializer(serializers.Serializer):
    """A member's or a unit's points of the year (one of `member` and `unit` is null)."""

    member = serializers.IntegerField(source="member_id", allow_null=True, read_only=True)
    unit = serializers.IntegerField(source="unit_id", allow_null=True, read_only=True)
    name = serializers.CharField(read_only=True)
    balance = serializers.IntegerField(read_only=True)
    rank = serializers.IntegerField(
        read_only=True, help_text=_("1 for the most points among the rows you see; members and units apart.")
    )

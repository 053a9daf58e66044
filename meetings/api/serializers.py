from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance.api.fields import VisibleRelatedField

from ..models import Invitation, JointMeeting, Resolution


class MeetingSerializer(serializers.ModelSerializer):
    class Meta:
        model = JointMeeting
        fields = [
            "id",
            "level",
            "kind",
            "title",
            "start",
            "end",
            "place",
            "agenda",
            "community",
            "sector",
            "status",
            "series",
            "cancel_reason",
        ]
        read_only_fields = ["status", "series", "cancel_reason"]

    def validate_start(self, value: datetime.datetime) -> datetime.datetime:
        return _plausible(value)

    def validate_end(self, value: datetime.datetime) -> datetime.datetime:
        return _plausible(value)


def _plausible(value: datetime.datetime) -> datetime.datetime:
    # Before 1901 Asia/Shanghai's offset is local mean time (+08:05:43), which no ISO 8601 reader takes back.
    if not 2000 <= value.year <= 2100:
        raise serializers.ValidationError(_("Enter a time between the years 2000 and 2100."))
    return value


class InvitationSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "unit", "unit_name", "status", "responded_at"]
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    invitations = InvitationSerializer(many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "minutes", "invitations"]


class AttendanceSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[c for c in Invitation.Status.choices if c[0] != "invited"])


class ResolutionSerializer(serializers.ModelSerializer):
    meeting = VisibleRelatedField(queryset=JointMeeting.objects.all(), label=_("meeting"))
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)
    owner_name = serializers.CharField(source="owner.name", read_only=True)

    class Meta:
        model = Resolution
        fields = ["id", "meeting", "text", "owner", "owner_name", "due_date", "status", "overdue", "done_at"]
        read_only_fields = ["status", "done_at"]


class ProgressSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)

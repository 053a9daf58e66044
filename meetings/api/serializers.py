from __future__ import annotations

from rest_framework import serializers

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


class InvitationSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None)

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
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)
    owner_name = serializers.CharField(source="owner.name", read_only=True)

    class Meta:
        model = Resolution
        fields = ["id", "meeting", "text", "owner", "owner_name", "due_date", "status", "overdue", "done_at"]
        read_only_fields = ["status", "done_at"]


class ProgressSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)

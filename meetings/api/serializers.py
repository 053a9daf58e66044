from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance import permissions
from alliance.api.fast import FastListSerializer
from alliance.api.fields import VisibleRelatedField
from members.models import District, MemberUnit, Street

from ..models import Invitation, JointMeeting, Resolution


class MeetingSerializer(serializers.ModelSerializer):
    # Where the meeting belongs (issue 14): a street-level meeting names its street when the caller runs
    # several (else it is their one street's); a district-level one its district (else the caller's one
    # district). A community's or sector branch's meeting is its street's, filled in by the service. Only a
    # street or district the caller sees may be named; the service decides whether they may plan there.
    street = VisibleRelatedField(
        queryset=Street.objects.all(),
        required=False,
        allow_null=True,
        label=_("street"),
        help_text=_("The street of a street-level meeting (filled in for the other levels)."),
    )
    district = VisibleRelatedField(
        queryset=District.objects.all(),
        required=False,
        allow_null=True,
        label=_("district"),
        help_text=_("The district of a district-level meeting."),
    )

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
            "street",
            "district",
            "community",
            "sector",
            "status",
            "series",
            "cancel_reason",
        ]
        read_only_fields = ["status", "series", "cancel_reason"]
        list_serializer_class = FastListSerializer  # list pages (alliance/api/fast.py)

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
    """The portal's rule ("meetings.read_minutes"): the minutes and the invitee list are null for a caller
    who may not read the minutes — an invitee that did not attend the held meeting, or any non-staff
    caller before it is held. The resolutions (`/resolutions/?meeting=<id>`) follow the same rule."""

    minutes = serializers.SerializerMethodField(
        help_text="The minutes; null when the caller may not read them (an invitee that did not attend)."
    )
    invitations = serializers.SerializerMethodField(
        help_text="Who was invited and who came; null when the caller may not read the minutes."
    )

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "minutes", "invitations"]

    def _may_read_minutes(self, meeting: JointMeeting) -> bool:
        request = self.context.get("request")
        return request is not None and permissions.has_ability(request.user, "meetings.read_minutes", meeting)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_minutes(self, meeting: JointMeeting) -> str | None:
        return meeting.minutes if self._may_read_minutes(meeting) else None

    @extend_schema_field(InvitationSerializer(many=True, allow_null=True))
    def get_invitations(self, meeting: JointMeeting) -> list | None:
        if not self._may_read_minutes(meeting):
            return None
        return InvitationSerializer(meeting.invitations.all(), many=True, context=self.context).data


class AttendanceSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[c for c in Invitation.Status.choices if c[0] != "invited"])


class ResolutionSerializer(serializers.ModelSerializer):
    meeting = VisibleRelatedField(queryset=JointMeeting.objects.all(), label=_("meeting"))
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, default=False)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    # Forwarding up: the item this one became at the higher body (the latest; null while it waits for that
    # body to plan a meeting, or when never forwarded) and the resolution an item came from.
    forwarded_to = serializers.IntegerField(
        source="forwarded_to_id", read_only=True, allow_null=True, default=None, label=_("forwarded to")
    )
    forwarded_to_meeting = serializers.IntegerField(
        source="forwarded_to_meeting_id", read_only=True, allow_null=True, default=None, label=_("forwarded to meeting")
    )
    forwarded_from = serializers.IntegerField(
        source="forwarded_from_id", read_only=True, allow_null=True, label=_("forwarded from")
    )

    class Meta:
        model = Resolution
        fields = [
            "id",
            "meeting",
            "text",
            "owner",
            "owner_name",
            "due_date",
            "status",
            "overdue",
            "done_at",
            "result",
            "forwarded_from",
            "forwarded_to",
            "forwarded_to_meeting",
            "forward_street",
            "forward_district",
            "forwarded_at",
            "forward_note",
            "decline_reason",
        ]
        read_only_fields = [
            "status",
            "done_at",
            "result",
            "forward_street",
            "forward_district",
            "forwarded_at",
            "forward_note",
            "decline_reason",
        ]


class ForwardSerializer(serializers.Serializer):
    """Why the meeting's body cannot settle the resolution (optional; the higher body reads it)."""

    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DoneSerializer(serializers.Serializer):
    """What came of the resolution (optional; an item forwarded up passes it back to where it came from)."""

    result = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ProgressSerializer(serializers.Serializer):
    """A progress note: `note` (as SPEC's actions name it) or `text` (its earlier name), one of them."""

    note = serializers.CharField(max_length=2000, required=False)
    text = serializers.CharField(max_length=2000, required=False)

    def validate(self, attrs: dict) -> dict:
        note = attrs.get("note", attrs.get("text"))
        if note is None:
            raise serializers.ValidationError({"note": [self.fields["note"].error_messages["required"]]})
        return {"note": note}


class ProgressNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(read_only=True)


class ResolutionUpdateSerializer(serializers.Serializer):
    """What the meeting's staff correct of an open resolution: its text, owner unit and due date."""

    text = serializers.CharField(max_length=2000, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=MemberUnit.objects.all(), required=False, label=_("owner unit"))
    due_date = serializers.DateField(required=False)


class MeetingMoveSerializer(serializers.Serializer):
    """The new time (and place): `end` defaults to the new start plus the meeting's length."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_start(self, value: datetime.datetime) -> datetime.datetime:
        return _plausible(value)

    def validate_end(self, value: datetime.datetime) -> datetime.datetime:
        return _plausible(value)


class MinutesSerializer(serializers.Serializer):
    minutes = serializers.CharField()

"""Meetings, attendance and resolutions over the API, through the same services and permission layer as
the admin and the portal: each step a screen offers is an action here, refused the same way (400 bad
input, 403 seen but not allowed, 404 not seen, 409 the wrong state)."""

from __future__ import annotations

from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alliance.api.serializers import ReasonSerializer
from alliance.api.views import FastListMixin
from alliance.workflow import api_description
from members.models import MemberUnit

from .. import selectors, services
from ..models import Invitation, JointMeeting, Resolution
from . import serializers as s
from .filters import MeetingFilter, ResolutionFilter

# A whole meeting as the plan and replace operations take it.
MEETING_EXAMPLE = {
    "level": "community",
    "kind": "regular",
    "title": "十一月联席会议",
    "start": "2026-11-10T09:00:00+08:00",
    "end": "2026-11-10T10:30:00+08:00",
    "place": "社区党群服务中心",
    "community": 3,
}


class MeetingViewSet(
    FastListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Joint meetings. `POST /meetings/<id>/attendance/ {unit, status}`: a liaison confirms or declines
    for the unit before the meeting; staff record attended / absent once it has begun (or answer for a
    unit before it). Staff cancel (`/cancel/ {reason}`), move (`/move/ {start[, end, place]}`) and write
    the minutes (`/minutes/ {minutes}`, which makes a meeting that has begun held — the screens hold a
    meeting only through its minutes)."""

    filterset_class = MeetingFilter
    service_checked_actions = {"attendance", "cancel", "move", "minutes"}
    search_fields = ["title", "place"]
    ordering_fields = ["start"]

    def get_queryset(self):
        qs = selectors.meetings_visible_to(user=self.request.user)
        return qs.prefetch_related("invitations__unit") if self.action == "retrieve" else qs

    def get_serializer_class(self):
        return {
            "retrieve": s.MeetingDetailSerializer,
            "attendance": s.AttendanceSerializer,
            "cancel": ReasonSerializer,
            "move": s.MeetingMoveSerializer,
            "minutes": s.MinutesSerializer,
        }.get(self.action, s.MeetingSerializer)

    def _payload(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _done(self, meeting: JointMeeting) -> Response:
        fresh = selectors.meetings_visible_to(user=self.request.user).prefetch_related("invitations__unit")
        return Response(s.MeetingDetailSerializer(fresh.get(pk=meeting.pk), context=self.get_serializer_context()).data)

    @extend_schema(
        summary=gettext_lazy("Plan a meeting (staff)"),
        examples=[
            OpenApiExample(
                "Meeting",
                summary=pgettext_lazy("api example", "Meeting"),
                value=MEETING_EXAMPLE,
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Edit a meeting (staff; a new time or place tells the invitees)"),
        examples=[
            OpenApiExample(
                "Edit",
                summary=pgettext_lazy("api example", "Edit"),
                value={"agenda": "一、停车难\n二、垃圾分类"},
                request_only=True,
            )
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Edit a meeting (staff; a new time or place tells the invitees)"),
        examples=[
            OpenApiExample(
                "Edit",
                summary=pgettext_lazy("api example", "Edit"),
                value=MEETING_EXAMPLE,
                request_only=True,
            )
        ],
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.meeting_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        meeting = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(meeting, k) != v}
        if {"start", "end", "place"} & set(changed):
            meeting = services.meeting_reschedule(
                meeting=meeting,
                actor=self.request.user,
                start=changed.pop("start", meeting.start),
                end=changed.pop("end", meeting.end),
                place=changed.pop("place", meeting.place),
            )
        if changed:
            meeting = services.meeting_update(meeting=meeting, actor=self.request.user, data=changed)
        serializer.instance = meeting

    @extend_schema(
        summary=gettext_lazy("Answer an invitation or record attendance"),
        request=s.AttendanceSerializer,
        responses=s.InvitationSerializer,
        description=api_description(Invitation, "confirm", "decline", "attended", "absent"),
        examples=[
            OpenApiExample(
                "Attended",
                summary=pgettext_lazy("api example", "Attended"),
                value={"unit": 12, "status": "attended"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        serializer = s.AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = MemberUnit.objects.filter(pk=serializer.validated_data["unit"]).first()
        if unit is None:
            raise Http404
        invitation = services.attendance_set(
            meeting=meeting, unit=unit, status=serializer.validated_data["status"], actor=request.user
        )
        return Response(s.InvitationSerializer(invitation).data)

    @extend_schema(
        summary=gettext_lazy("Cancel a meeting with a reason (staff; the invitees are told)"),
        request=ReasonSerializer,
        responses=s.MeetingDetailSerializer,
        description=api_description(JointMeeting, "cancel"),
        examples=[
            OpenApiExample(
                "Cancel",
                summary=pgettext_lazy("api example", "Cancel"),
                value={"reason": "与区里的会议冲突"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        reason = self._payload(ReasonSerializer)["reason"]
        return self._done(services.meeting_cancel(meeting=meeting, actor=request.user, reason=reason))

    @extend_schema(
        summary=gettext_lazy("Move a meeting to a new time or place (staff; the invitees are told)"),
        request=s.MeetingMoveSerializer,
        responses=s.MeetingDetailSerializer,
        description=api_description(JointMeeting, "reschedule"),
        examples=[
            OpenApiExample(
                "Move",
                summary=pgettext_lazy("api example", "Move"),
                value={"start": "2026-11-12T14:30:00+08:00", "place": "社区会议室"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        meeting = self.get_object()
        data = self._payload(s.MeetingMoveSerializer)
        end = data.get("end") or data["start"] + (meeting.end - meeting.start)
        moved = services.meeting_reschedule(
            meeting=meeting, actor=request.user, start=data["start"], end=end, place=data.get("place") or None
        )
        return self._done(moved)

    @extend_schema(
        summary=gettext_lazy("Write the minutes (staff; a meeting that has begun becomes held)"),
        request=s.MinutesSerializer,
        responses=s.MeetingDetailSerializer,
        description=format_lazy(
            "{}\n\n{}",
            api_description(JointMeeting, "record_minutes"),
            gettext_lazy("Before the meeting has begun: 409."),
        ),
        examples=[
            OpenApiExample(
                "Minutes",
                summary=pgettext_lazy("api example", "Minutes"),
                value={"minutes": "会议议定：开放夜间停车位30个。"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post", "put"])
    def minutes(self, request, pk=None):
        meeting = self.get_object()
        minutes = self._payload(s.MinutesSerializer)["minutes"]
        return self._done(services.minutes_record(meeting=meeting, actor=request.user, minutes=minutes))


class ResolutionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Resolutions (议定事项): the meeting's staff create, correct (while open), mark done and reopen; the
    owner unit's liaison and the staff write progress notes (`/progress/ {note}`)."""

    serializer_class = s.ResolutionSerializer
    filterset_class = ResolutionFilter
    service_checked_actions = {"progress", "done", "reopen"}
    ordering_fields = ["due_date"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Writing the schema (also `check --deploy`, without a database): the overdue flag reads the
            # working-day calendar's overrides, which it need not.
            return Resolution.objects.none()
        return selectors.resolutions_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return {
            "progress": s.ProgressSerializer,
            "update": s.ResolutionUpdateSerializer,
            "partial_update": s.ResolutionUpdateSerializer,
        }.get(self.action, s.ResolutionSerializer)

    def _done(self, resolution: Resolution) -> Response:
        return Response(s.ResolutionSerializer(self.get_queryset().get(pk=resolution.pk)).data)

    @extend_schema(
        summary=gettext_lazy("Record a resolution of a meeting (staff)"),
        examples=[
            OpenApiExample(
                "Resolution",
                summary=pgettext_lazy("api example", "Resolution"),
                value={"meeting": 7, "text": "协调开放夜间停车位", "owner": 12, "due_date": "2026-12-31"},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Correct an open resolution: text, owner unit, due date (staff)"),
        request=s.ResolutionUpdateSerializer,
        responses=s.ResolutionSerializer,
        examples=[
            OpenApiExample(
                "Later",
                summary=pgettext_lazy("api example", "Later"),
                value={"due_date": "2027-01-31"},
                request_only=True,
            )
        ],
    )
    def update(self, request, *args, **kwargs):
        resolution = self.get_object()
        serializer = s.ResolutionUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if getattr(resolution, k) != v}
        if data:
            resolution = services.resolution_update(resolution=resolution, actor=request.user, data=data)
        return self._done(resolution)

    @extend_schema(
        summary=gettext_lazy("Correct an open resolution: text, owner unit, due date (staff)"),
        request=s.ResolutionUpdateSerializer,
        responses=s.ResolutionSerializer,
        examples=[
            OpenApiExample(
                "Later",
                summary=pgettext_lazy("api example", "Later"),
                value={"due_date": "2027-01-31"},
                request_only=True,
            )
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        meeting = selectors.meeting_detail(user=self.request.user, pk=data.pop("meeting").pk)
        resolution = services.resolution_create(meeting=meeting, actor=self.request.user, **data)
        serializer.instance = selectors.resolutions_visible_to(user=self.request.user).get(pk=resolution.pk)

    @extend_schema(
        summary=gettext_lazy("Write a progress note (the owner unit's liaison or the meeting's staff)"),
        request=s.ProgressSerializer,
        responses=s.ResolutionSerializer,
        examples=[
            OpenApiExample(
                "Progress",
                summary=pgettext_lazy("api example", "Progress"),
                value={"note": "已协调3个车位"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        resolution = self.get_object()
        serializer = s.ProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.resolution_progress(resolution=resolution, actor=request.user, text=serializer.validated_data["note"])
        return self._done(resolution)

    @extend_schema(
        summary=gettext_lazy("Mark a resolution done, with its result (the meeting's staff)"),
        request=s.DoneSerializer,
        responses=s.ResolutionSerializer,
        description=api_description(Resolution, "done"),
        examples=[
            OpenApiExample("Done", summary=pgettext_lazy("api example", "Done"), value={}, request_only=True),
            OpenApiExample(
                "With result",
                summary=pgettext_lazy("api example", "With result"),
                value={"result": "交警大队已安装防护栏"},
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        resolution = self.get_object()
        serializer = s.DoneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = serializer.validated_data.get("result", "")
        return self._done(services.resolution_done(resolution=resolution, actor=request.user, result=result))

    @extend_schema(
        summary=gettext_lazy("Forward a resolution the body cannot settle to the street's or district's next meeting"),
        request=s.ForwardSerializer,
        responses=s.ResolutionSerializer,
        description=api_description(Resolution, "forward"),
        examples=[
            OpenApiExample(
                "Forward",
                summary=pgettext_lazy("api example", "Forward"),
                value={"reason": "需协调交警大队安装防护栏，社区无法解决"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        resolution = self.get_object()
        serializer = s.ForwardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data.get("reason", "")
        return self._done(services.resolution_forward(resolution=resolution, actor=request.user, reason=reason))

    @extend_schema(
        summary=gettext_lazy("Decline an item forwarded to this meeting, with the reason sent back down"),
        request=ReasonSerializer,
        responses=s.ResolutionSerializer,
        description=api_description(Resolution, "decline"),
        examples=[
            OpenApiExample(
                "Decline",
                summary=pgettext_lazy("api example", "Decline"),
                value={"reason": "属社区物业管理事项，请社区协调物业公司"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        resolution = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self._done(services.resolution_decline(resolution=resolution, actor=request.user, reason=reason))

    @extend_schema(
        summary=gettext_lazy("Reopen a resolution marked done too early (the meeting's staff)"),
        request=None,
        responses=s.ResolutionSerializer,
        description=api_description(Resolution, "reopen"),
        examples=[
            OpenApiExample("Reopen", summary=pgettext_lazy("api example", "Reopen"), value={}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._done(services.resolution_reopen(resolution=self.get_object(), actor=request.user))

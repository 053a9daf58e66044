"""Meetings, attendance and resolutions over the API, through the same permission layer."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alliance.workflow import api_description
from members.models import MemberUnit

from .. import selectors, services
from ..models import Invitation, Resolution
from . import serializers as s
from .filters import MeetingFilter, ResolutionFilter


class MeetingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Joint meetings. `POST /meetings/<id>/attendance/ {unit, status}`: a liaison confirms or declines
    for the unit before the meeting; staff record attended / absent once it has begun."""

    filterset_class = MeetingFilter
    service_checked_actions = {"attendance"}
    search_fields = ["title", "place"]
    ordering_fields = ["start"]

    def get_queryset(self):
        qs = selectors.meetings_visible_to(user=self.request.user)
        return qs.prefetch_related("invitations__unit") if self.action == "retrieve" else qs

    def get_serializer_class(self):
        return {"retrieve": s.MeetingDetailSerializer, "attendance": s.AttendanceSerializer}.get(
            self.action, s.MeetingSerializer
        )

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
        request=s.AttendanceSerializer,
        responses=s.InvitationSerializer,
        description=api_description(Invitation, "confirm", "decline", "attended", "absent"),
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


class ResolutionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ResolutionSerializer
    filterset_class = ResolutionFilter
    service_checked_actions = {"progress", "done"}
    ordering_fields = ["due_date"]

    def get_queryset(self):
        return selectors.resolutions_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return s.ProgressSerializer if self.action == "progress" else s.ResolutionSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        meeting = selectors.meeting_detail(user=self.request.user, pk=data.pop("meeting").pk)
        resolution = services.resolution_create(meeting=meeting, actor=self.request.user, **data)
        serializer.instance = selectors.resolutions_visible_to(user=self.request.user).get(pk=resolution.pk)

    @extend_schema(request=s.ProgressSerializer, responses=s.ResolutionSerializer)
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        resolution = self.get_object()
        serializer = s.ProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.resolution_progress(resolution=resolution, actor=request.user, text=serializer.validated_data["text"])
        return Response(s.ResolutionSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=s.ResolutionSerializer, description=api_description(Resolution, "done"))
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        services.resolution_done(resolution=self.get_object(), actor=request.user)
        return Response(s.ResolutionSerializer(self.get_object()).data)

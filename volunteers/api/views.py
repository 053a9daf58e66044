"""In-service Party members, posts and service logs over the API, through the same permission layer."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..models import PartyMember
from . import serializers as s


class MemberFilter(django_filters.FilterSet):
    community = django_filters.NumberFilter(field_name="residence_community")

    class Meta:
        model = PartyMember
        fields = ["work_unit", "status"]


class MemberViewSet(viewsets.ReadOnlyModelViewSet):
    """Registrations: staff see their communities', a member their own; phones masked for the others."""

    serializer_class = s.MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.members_visible_to(user=self.request.user)


class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Volunteer posts. `POST /posts/<id>/claims/`: a verified member of the post's community claims a
    place — 409 when the post is full or already held by the member."""

    serializer_class = s.PostSerializer
    filterset_fields = ["community", "status"]
    service_checked_actions = {"claim"}

    def get_queryset(self):
        return selectors.posts_visible_to(user=self.request.user)

    @extend_schema(request=None, responses={201: s.PostClaimSerializer})
    @action(detail=True, methods=["post"], url_path="claims", url_name="claims")
    def claim(self, request, pk=None):
        claim = services.post_claim(post=self.get_object(), actor=request.user)
        return Response(s.PostClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


class ServiceLogViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ServiceLogSerializer
    filterset_fields = ["member", "verified", "post"]
    service_checked_actions = {"verify"}

    def get_queryset(self):
        return selectors.logs_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        member = data.pop("member")
        serializer.instance = services.log_hours(member=member, actor=self.request.user, data=data)

    @extend_schema(request=None, responses=s.ServiceLogSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return Response(s.ServiceLogSerializer(services.log_verify(log=self.get_object(), actor=request.user)).data)

from __future__ import annotations

from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny

from members import selectors, services

from .filters import UnitFilter
from .serializers import CommunitySerializer, StreetSerializer, UnitSerializer


class StreetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StreetSerializer
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.streets()


class CommunityViewSet(viewsets.ReadOnlyModelViewSet):
    """The communities (public): a resident picks one on the need form."""

    serializer_class = CommunitySerializer
    permission_classes = [AllowAny]
    filterset_fields = ["street"]
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.communities_public()


class UnitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Member units, as the permission layer shows them: street staff all, community staff their
    communities', liaisons their own. Liaisons change the profile fields, staff the whole record."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    search_fields = ["name", "credit_code"]
    ordering_fields = ["name", "joined_on", "party_member_count"]

    def get_queryset(self):
        return selectors.units_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.unit_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        unit = serializer.instance
        # A PUT repeats every field; only the ones that differ are a change the caller asks for.
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(unit, k) != v}
        serializer.instance = services.unit_update(unit=unit, actor=self.request.user, data=changed)

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from alliance import me, registry
from alliance.models import Category


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "code", "description"]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The shared taxonomy of needs, resources and projects (public)."""

    queryset = Category.objects.filter(is_active=True)
    serializer_class = CategorySerializer
    permission_classes = [AllowAny]
    search_fields = ["name"]
    ordering_fields = ["sort_order", "name"]


class TokenView(ObtainAuthToken):
    """`{username, password}` → `{token}`; then send `Authorization: Token <token>`."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
    # ObtainAuthToken names DRF's own parsers; the project's refuse deeply nested JSON with a 400.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "is_staff": serializers.BooleanField(),
                "roles": serializers.ListField(child=serializers.CharField()),
                "units": serializers.ListField(child=serializers.DictField()),
                "communities": serializers.ListField(child=serializers.DictField()),
                "member": serializers.DictField(allow_null=True),
                "calendar_url": serializers.CharField(allow_null=True),
            },
        ),
        description=str(_("The signed-in caller: roles, units, communities.")),
    )
    def get(self, request):
        return Response(me.describe(request.user))


# The figures the street's public pages and scripts rely on (SPEC "Fixed interfaces"); apps provide
# them through `registry.register_public_figures`, and a figure no app provides yet reads 0.
PUBLIC_STATS = (
    "units",
    "resources",
    "needs",
    "needs_completed",
    "projects",
    "claims",
    "activities",
    "services",
    "beneficiaries",
    "meetings",
    "members",
    "service_hours",
)


class PublicStatsView(APIView):
    """What the alliance has done so far, in totals: no names, no contact data."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=inline_serializer("PublicStats", {key: serializers.FloatField() for key in PUBLIC_STATS}))
    def get(self, request):
        figures = {figure.key: figure.value for figure in registry.public_figures()}
        return Response({key: figures.get(key, 0) for key in PUBLIC_STATS})

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from alliance import logins, me, public_figures
from alliance.api import fast
from alliance.api.pagination import KeysetPagination
from alliance.api.throttling import AddressRateThrottle
from alliance.models import Category

from . import authentication


class FastListMixin:
    """`list` of a viewset whose pages are read as tuples when its serializer allows it
    (`alliance.api.fast.values_rows`): the same JSON as `ListModelMixin.list`, without building a model
    instance per row and per related row. Anything else — another paginator, a serializer that needs
    instances — is served exactly as ListModelMixin serves it."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        paginator = self.paginator
        if isinstance(paginator, KeysetPagination):
            reading = fast.values_rows(self.get_serializer_class(), queryset, self.get_serializer_context())
            if reading is not None:
                rows = paginator.paginate_values(queryset, request, reading.lookups, view=self)
                response = self.get_paginated_response(reading.represent(rows))
                # Nothing but str, int, bool and None in it: alliance/api/renderers.py may write it.
                response.plain_json = reading.json_native
                return response
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)


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
    """`{username, password}` → `{token}`; then send `Authorization: Token <token>`.

    The password is checked by `django.contrib.auth.authenticate(request=…)` (in DRF's serializer), so
    django-axes counts failures here as on the login pages and refuses a locked account or address."""

    throttle_classes = [AddressRateThrottle]  # per client address, failing open without the cache
    throttle_scope = "login"
    # ObtainAuthToken names DRF's own parsers; the project's refuse deeply nested JSON with a 400.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
        },
        # Lazy, not str(): the schema is rendered per request in the reader's language.
        summary=_("Get a token"),
        description=_(
            "Exchange a user name and password for a token. A token expires API_TOKEN_TTL_HOURS after it "
            "was issued (401 from then on); ask again for a new one."
        ),
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # axes flags the request it saw in authenticate(): the DRF request, not Django's.
            if getattr(request, "axes_locked_out", False):
                return logins.lockout_response(request._request)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token = authentication.token_for(serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(
        request=None,
        responses={204: None},
        summary=_("Revoke the token"),
        description=_("Revoke the caller's token at once."),
    )
    def delete(self, request, *args, **kwargs):
        authentication.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
                "calendar_url": serializers.CharField(),
            },
        ),
        summary=_("The signed-in caller"),
        description=_("The signed-in caller: roles, units, communities."),
    )
    def get(self, request):
        return Response(me.describe(request.user, request))


# The figures the street's public pages and scripts rely on (SPEC "Fixed interfaces"); apps provide
# them through `registry.register_public_figures`, and a figure no app provides yet reads 0. Read from
# the snapshot the beat keeps (alliance.public_figures): no aggregate runs for a request.
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


STREET_PARAMETER = OpenApiParameter(
    "street",
    int,
    description=_("The street whose public data to give (required when there are several streets)."),
)


def public_scope(request, *, district: bool = False) -> public_figures.Scope:
    """The street a public endpoint answers for (`?street=<id>`; with `district`, or `?district=<id>`):
    with one street and no parameter, that street. 400 naming the parameter, with what it accepts, for a
    malformed or unknown id, and for no street named when there are several (SPEC "Fixed interfaces")."""
    try:
        chosen = public_figures.scope(
            street=request.query_params.get("street"),
            district=request.query_params.get("district") if district else None,
        )
        public_figures.require_street(chosen)
    except public_figures.ScopeError as error:
        raise exceptions.ValidationError({error.field: error.messages}) from None
    return chosen


class PublicStatsView(APIView):
    """What the alliance has done so far, in totals: no names, no contact data. One street's figures
    (`?street=<id>`, or the only street), or the sums of a district's streets (`?district=<id>`)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    # ?street= and ?district= are checked here: a bad one is a 400 (documented by alliance.api.schema).
    checks_query_parameters = True

    @extend_schema(
        summary=_("The alliance's public figures"),
        description=_("What the alliance has done so far, in totals: no names, no contact data."),
        parameters=[
            STREET_PARAMETER,
            OpenApiParameter(
                "district",
                int,
                description=_("A district: the sums of its streets' figures (instead of ?street=)."),
            ),
        ],
        responses=inline_serializer("PublicStats", {key: serializers.FloatField() for key in PUBLIC_STATS}),
    )
    def get(self, request):
        chosen = public_scope(request, district=True)
        if chosen.district is not None:
            found = public_figures.district_figures(chosen.district_street_ids)
        else:
            found = public_figures.figures(chosen.figures_street_id)
        figures = {figure.key: figure.value for figure in found}
        return Response({key: figures.get(key, 0) for key in PUBLIC_STATS})

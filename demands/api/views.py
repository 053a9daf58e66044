"""The needs and resources API, and the public part residents and integrators use without signing in."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from alliance import permissions, ratelimit
from alliance.api.filters import KnownParameters
from alliance.api.pagination import SequencePagination
from alliance.api.serializers import ReasonSerializer
from alliance.api.throttling import AddressRateThrottle
from alliance.api.views import STREET_PARAMETER, FastListMixin, public_scope
from alliance.workflow import api_description
from members import selectors as member_selectors
from members.models import MemberUnit

from .. import matching, selectors, services, showcase
from ..models import Booking, Need, Resource
from . import serializers as s
from .filters import BookingFilter, NeedFilter, ResourceFilter, VenueFilter

NO_BODY = OpenApiExample("No body", summary=pgettext_lazy("api example", "No body"), value={}, request_only=True)
REASON = OpenApiExample(
    "A reason",
    summary=pgettext_lazy("api example", "A reason"),
    value={"reason": "不属于本单位服务范围"},
    request_only=True,
)


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Enter a need on a resident's behalf (staff), or file a unit's own need (its liaison)"),
        description=gettext_lazy(
            "Staff enter a resident's need (phone call, visit) in a community they work for. A unit's "
            "liaison files a need of the unit itself: `kind` is `unit`, the community is the unit's, the contact "
            "the unit's liaison on record unless given; `from_unit` names the unit when the liaison has several. "
            "Every liaison of the unit then reads the need back (`filed_by_unit`). A unit files at most "
            "UNIT_NEED_FILE_RATE needs (30 an hour by default); past it, 429. "
            "A liaison is answered 403 for a unit that is not theirs."
        ),
        examples=[
            OpenApiExample(
                "Staff: a resident's call",
                summary=pgettext_lazy("api example", "Staff: a resident's call"),
                value={
                    "kind": "resident",
                    "community": 1,
                    "category": 2,
                    "title": "楼道灯不亮",
                    "description": "3号楼2单元楼道灯坏了一周。",
                    "contact_name": "张大爷",
                    "contact_phone": "13800138000",
                    "channel": "phone",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Liaison: the unit's own need",
                summary=pgettext_lazy("api example", "Liaison: the unit's own need"),
                value={
                    "category": 2,
                    "title": "职工子女暑期托管",
                    "description": "暑期需要志愿者协助托管20名职工子女。",
                },
                request_only=True,
            ),
        ],
    ),
    update=extend_schema(summary=gettext_lazy("Correct what a need says (its community's staff)")),
    partial_update=extend_schema(
        summary=gettext_lazy("Correct some of what a need says (its community's staff)"),
        examples=[
            OpenApiExample(
                "A better title",
                summary=pgettext_lazy("api example", "A better title"),
                value={"title": "3号楼楼道灯不亮"},
                request_only=True,
            )
        ],
    ),
)
class NeedViewSet(
    FastListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Needs as the permission layer shows them: street staff all, community staff their communities',
    liaisons the ones dispatched to their units and the ones their units filed. Transitions are POSTs on the
    need; a transition the need's status does not allow answers 409."""

    filterset_class = NeedFilter
    service_checked_actions = {"dispatch_to_unit", "accept", "decline", "complete", "reject", "showcase", "unshowcase"}
    search_fields = ["title", "tracking_code"]
    ordering_fields = ["submitted_at", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Writing the schema (also `check --deploy`, without a database): the overdue clock reads the
            # working-day calendar's overrides, which it need not.
            return Need.objects.none()
        qs = selectors.needs_visible_to(user=self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("events")
        return qs

    def get_serializer_class(self):
        return {
            "retrieve": s.NeedDetailSerializer,
            "create": s.NeedCreateSerializer,
            "dispatch_to_unit": s.DispatchSerializer,
            "decline": ReasonSerializer,
            "reject": ReasonSerializer,
            "complete": s.CompleteSerializer,
            "suggestions": s.SuggestionSerializer,
        }.get(self.action, s.NeedSerializer)

    def create(self, request, *args, **kwargs):
        if permissions.is_staff_member(request.user):
            return super().create(request, *args, **kwargs)
        # Not staff: past ObjectPermissions, so a unit's liaison filing the unit's own need.
        serializer = s.UnitNeedCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        unit = self._filing_unit(data.pop("from_unit", None))
        need = services.need_file_for_unit(unit=unit, actor=request.user, data=data)
        body = s.NeedSerializer(need, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _filing_unit(self, pk: int | None) -> MemberUnit:
        if pk is not None:
            unit = MemberUnit.objects.select_related("community").filter(pk=pk).first()
            if unit is None:
                raise ValidationError({"from_unit": [_("No such member unit.")]})
            return unit
        units = list(member_selectors.units_of_liaison(user=self.request.user).select_related("community")[:2])
        if len(units) != 1:
            raise ValidationError({"from_unit": [_("Say which of your units files the need.")]})
        return units[0]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        channel = data.pop("channel", Need.Channel.PHONE)
        serializer.instance = services.need_submit(data=data, channel=channel, actor=self.request.user)

    def perform_update(self, serializer):
        need = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(need, k) != v}
        need = services.need_update(need=need, actor=self.request.user, data=changed)
        # Read back through the selector: the answer carries its annotations (`overdue`) like every other.
        serializer.instance = selectors.needs_visible_to(user=self.request.user).filter(pk=need.pk).first() or need

    def _done(self, need: Need) -> Response:
        fresh = selectors.needs_visible_to(user=self.request.user).prefetch_related("events").filter(pk=need.pk).first()
        return Response(s.NeedDetailSerializer(fresh or need, context=self.get_serializer_context()).data)

    def _payload(self):
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # Not named `dispatch`: that is the method every DRF view routes requests through.
    @extend_schema(
        summary=gettext_lazy("Dispatch a submitted need to a unit or a resource's unit (its community's staff)"),
        request=s.DispatchSerializer,
        responses=s.NeedDetailSerializer,
        description=api_description(Need, "dispatch"),
        examples=[
            OpenApiExample(
                "To a unit",
                summary=pgettext_lazy("api example", "To a unit"),
                value={"unit": 3, "note": "请两日内联系居民"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to_unit(self, request, pk=None):
        need = self.get_object()
        data = self._payload()
        resource = unit = None
        if data.get("resource"):
            resource = Resource.objects.select_related("unit").filter(pk=data["resource"]).first()
            if resource is None:
                raise ValidationError({"resource": [_("No such resource.")]})
        else:
            unit = MemberUnit.objects.filter(pk=data["unit"]).first()
            if unit is None:
                raise ValidationError({"unit": [_("No such member unit.")]})
        return self._done(
            services.need_dispatch(
                need=need, unit=unit, resource=resource, actor=request.user, note=data.get("note", "")
            )
        )

    @extend_schema(
        summary=gettext_lazy("Accept a need dispatched to the unit (its liaison)"),
        request=None,
        responses=s.NeedDetailSerializer,
        description=api_description(Need, "accept"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._done(services.need_accept(need=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Decline a need dispatched to the unit, with the reason (its liaison)"),
        request=ReasonSerializer,
        responses=s.NeedDetailSerializer,
        description=api_description(Need, "decline"),
        examples=[REASON],
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        need = self.get_object()
        return self._done(services.need_decline(need=need, actor=request.user, reason=self._payload()["reason"]))

    @extend_schema(
        summary=gettext_lazy("Complete an accepted need with the result (the unit's liaison or staff)"),
        request=s.CompleteSerializer,
        responses=s.NeedDetailSerializer,
        description=api_description(Need, "complete"),
        examples=[
            OpenApiExample(
                "A result",
                summary=pgettext_lazy("api example", "A result"),
                value={"result": "已更换楼道灯泡"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        need = self.get_object()
        data = self._payload()
        return self._done(
            services.need_complete(need=need, actor=request.user, result=data["result"], photos=data.get("photos", []))
        )

    @extend_schema(
        summary=gettext_lazy("Reject a submitted need, with the reason the resident is told (its community's staff)"),
        request=ReasonSerializer,
        responses=s.NeedDetailSerializer,
        description=api_description(Need, "reject"),
        examples=[
            OpenApiExample(
                "A reason",
                summary=pgettext_lazy("api example", "A reason"),
                value={"reason": "属物业维修范围，已转物业"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        need = self.get_object()
        return self._done(services.need_reject(need=need, actor=request.user, reason=self._payload()["reason"]))

    @extend_schema(
        summary=gettext_lazy("Show a completed need on the public showcase (staff)"),
        request=None,
        responses=s.NeedDetailSerializer,
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def showcase(self, request, pk=None):
        return self._done(services.need_showcase(need=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("Take a need off the public showcase (staff)"),
        request=None,
        responses=s.NeedDetailSerializer,
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def unshowcase(self, request, pk=None):
        return self._done(services.need_unshowcase(need=self.get_object(), actor=request.user))

    # A plain list of a few ranked suggestions: neither the needs' filters nor their pages apply.
    @extend_schema(
        summary=gettext_lazy("Units suggested for a need (its community's staff)"),
        responses=s.SuggestionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def suggestions(self, request, pk=None):
        need = self.get_object()
        if not permissions.can_change(request.user, need):
            raise Http404  # matching is the dispatching staff's tool
        return Response(s.SuggestionSerializer(matching.suggest(need), many=True).data)


RESOURCE_EXAMPLE = OpenApiExample(
    "A venue",
    summary=pgettext_lazy("api example", "A venue"),
    value={
        "unit": 3,
        "category": 2,
        "kind": "venue",
        "title": "职工活动室",
        "description": "可容纳40人，周末开放。",
        "capacity": 40,
        "availability": "周六、周日 9:00-17:00",
        "is_free": True,
    },
    request_only=True,
)


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Publish a resource for a unit (its liaison or staff)"), examples=[RESOURCE_EXAMPLE]
    ),
    update=extend_schema(summary=gettext_lazy("Replace a resource's fields (its unit's liaison or staff)")),
    partial_update=extend_schema(
        summary=gettext_lazy("Change some of a resource's fields (its unit's liaison or staff)"),
        examples=[
            OpenApiExample(
                "Opening hours",
                summary=pgettext_lazy("api example", "Opening hours"),
                value={"availability": "工作日 18:00-21:00"},
                request_only=True,
            )
        ],
    ),
)
class ResourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ResourceSerializer
    filterset_class = ResourceFilter
    service_checked_actions = {"withdraw", "restore"}
    search_fields = ["title", "unit__name"]
    ordering_fields = ["updated_at", "title"]

    def get_queryset(self):
        return selectors.resources_visible_to(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.resource_create(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        resource = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(resource, k) != v}
        serializer.instance = services.resource_update(resource=resource, actor=self.request.user, data=changed)

    @extend_schema(
        summary=gettext_lazy("Withdraw a resource from the catalogue (its unit's liaison or staff)"),
        request=None,
        responses=s.ResourceSerializer,
        description=api_description(Resource, "withdraw"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        resource = services.resource_withdraw(resource=self.get_object(), actor=request.user)
        return Response(s.ResourceSerializer(resource).data)

    @extend_schema(
        summary=gettext_lazy("Put a withdrawn resource back in the catalogue (its unit's liaison or staff)"),
        request=None,
        responses=s.ResourceSerializer,
        description=api_description(Resource, "restore"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        resource = services.resource_restore(resource=self.get_object(), actor=request.user)
        return Response(s.ResourceSerializer(resource).data)


# --- Public: no sign-in, rate-limited per client address ------------------------------------------


class PublicNeedSubmitView(generics.CreateAPIView):
    """A resident submits a need; the answer carries the tracking code to follow it with."""

    serializer_class = s.PublicNeedSubmitSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    # Counted in post(), as on the public form (demands.public_views): only stored needs use up the
    # allowance (need_submit); invalid or refused attempts have their own, more generous count.
    throttle_classes = []
    throttle_scope = "need_submit"

    def _throttled(self, request, scope: str):
        rate = ratelimit.rate_for(scope)
        self.throttled(request, float(rate[1]) if rate else None)

    @extend_schema(
        summary=gettext_lazy("A resident submits a need"),
        description=gettext_lazy("A resident submits a need; the answer carries the tracking code to follow it with."),
        responses={
            201: {"type": "object", "properties": {"tracking_code": {"type": "string"}, "status": {"type": "string"}}}
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if not ratelimit.allow(request, "need_submit_invalid"):
                self._throttled(request, "need_submit_invalid")
            raise ValidationError(serializer.errors)
        # One round trip to the cache: this need counted, and the invalid attempts' limit checked.
        refused = ratelimit.take(request, "need_submit", unless="need_submit_invalid")
        if refused is not None:
            self._throttled(request, refused)
        try:
            need = services.need_submit(data=dict(serializer.validated_data), channel=Need.Channel.API)
        except Exception:  # not stored, whatever the reason: the allowance is given back
            ratelimit.refund(request, "need_submit")
            ratelimit.allow(request, "need_submit_invalid")
            raise
        return Response({"tracking_code": need.tracking_code, "status": need.status}, status=status.HTTP_201_CREATED)


def _tracked(request, tracking_code: str, phone_last4: str) -> Need:
    need = selectors.need_by_tracking(code=tracking_code, phone_last4=phone_last4)
    if need is None:
        # The same answer for an unknown code and for wrong digits.
        raise Http404
    return need


class PublicNeedTrackView(generics.GenericAPIView):
    serializer_class = s.PublicNeedSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AddressRateThrottle]
    throttle_scope = "need_track"

    @extend_schema(
        summary=gettext_lazy("Track a need by its tracking code"),
        parameters=[
            OpenApiParameter(
                "phone_last4",
                str,
                required=True,
                description=gettext_lazy("The last four digits of the contact phone given with the need"),
            )
        ],
    )
    def get(self, request, tracking_code: str):
        need = _tracked(request, tracking_code, request.query_params.get("phone_last4", ""))
        return Response(self.get_serializer(need).data)


class PublicNeedRatingView(generics.GenericAPIView):
    serializer_class = s.PublicRatingSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AddressRateThrottle]
    throttle_scope = "need_track"

    @extend_schema(summary=gettext_lazy("Rate a completed need"), responses=s.PublicNeedSerializer)
    def post(self, request, tracking_code: str):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        need = _tracked(request, tracking_code, data["phone_last4"])
        services.need_rate(need=need, rating=data["rating"], comment=data.get("comment", ""))
        need = _tracked(request, tracking_code, data["phone_last4"])
        return Response(s.PublicNeedSerializer(need).data)


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("The public showcase of completed needs"),
        description=gettext_lazy(
            "Completed needs that staff chose to show, with the unit that did them: no contact data."
        ),
        parameters=[STREET_PARAMETER],
    )
)
class PublicShowcaseView(generics.ListAPIView):
    """Completed needs that staff chose to show, with the unit that did them: no contact data. The count
    and the first pages come from the public snapshot (demands.showcase): no COUNT per request."""

    serializer_class = s.ShowcaseSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    filter_backends = [KnownParameters]  # no filters: a query parameter other than a page's is refused
    pagination_class = SequencePagination
    extra_query_parameters = ("street",)

    def get_queryset(self):
        # Read on first use: the street is chosen once the unknown parameters were refused (filter_queryset).
        return showcase.ShowcaseRows(None)

    def filter_queryset(self, queryset):
        super().filter_queryset(queryset)  # KnownParameters: a parameter it does not read is refused first
        return showcase.ShowcaseRows(public_scope(self.request).street_id)


# --- Shared venues ---------------------------------------------------------------------------------

BOOKING_EXAMPLE = OpenApiExample(
    "A booking",
    summary=pgettext_lazy("api example", "A booking"),
    value={"start": "2026-12-05T09:00:00+08:00", "end": "2026-12-05T11:00:00+08:00", "purpose": "党课", "people": 30},
    request_only=True,
)


# A venue's id is its resource's (the primary key is the one-to-one link), which the schema cannot guess.
VENUE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=gettext_lazy("The venue's resource id"))


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Venues that can be booked, with opening hours and capacity")),
    retrieve=extend_schema(summary=gettext_lazy("One venue, with opening hours and capacity"), parameters=[VENUE_ID]),
    update=extend_schema(
        summary=gettext_lazy("Set a venue's opening hours, days and public listing (its unit's liaison or staff)"),
        description=gettext_lazy("409 when a pending or approved booking to come would fall outside them."),
        parameters=[VENUE_ID],
    ),
    partial_update=extend_schema(
        summary=gettext_lazy("Set a venue's opening hours, days and public listing (its unit's liaison or staff)"),
        description=gettext_lazy("409 when a pending or approved booking to come would fall outside them."),
        parameters=[VENUE_ID],
    ),
)
class VenueViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Changes (hours, closed days) are asked of `permissions.can_change` by ObjectPermissions — VenueRules,
    the resource's rule — and again by the services the portal's forms call."""

    serializer_class = s.VenueSerializer
    filterset_class = VenueFilter
    service_checked_actions = {"bookings"}
    search_fields = ["resource__title", "resource__unit__name"]
    ordering_fields: list[str] = []

    def get_queryset(self):
        return selectors.bookable_venues_visible_to(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "bookings":
            return s.BookingRequestSerializer
        if self.action in ("closures", "closures_remove"):
            return s.VenueClosureSerializer
        return s.VenueSerializer

    def perform_update(self, serializer):
        venue = serializer.instance
        changed = {k: v for k, v in serializer.validated_data.items() if getattr(venue, k) != v}
        serializer.instance = services.venue_hours_update(venue=venue, actor=self.request.user, data=changed)

    @extend_schema(
        summary=gettext_lazy("Close a venue on a day (its unit's liaison or staff)"),
        request=s.VenueClosureSerializer,
        responses={201: s.VenueClosureSerializer},
        description=gettext_lazy("409 when a pending or approved booking holds that day; 400 for a day past."),
        parameters=[VENUE_ID],
    )
    @action(detail=True, methods=["post"])
    def closures(self, request, pk=None):
        venue = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closure = services.venue_closure_add(venue=venue, actor=request.user, **serializer.validated_data)
        return Response(s.VenueClosureSerializer(closure).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Open a venue again on a closed day (its unit's liaison or staff)"),
        request=s.VenueClosureSerializer,
        responses={204: None},
        parameters=[VENUE_ID],
    )
    @action(detail=True, methods=["post"], url_path="closures/remove", url_name="closures-remove")
    def closures_remove(self, request, pk=None):
        venue = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.venue_closure_remove(venue=venue, actor=request.user, date=serializer.validated_data["date"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=gettext_lazy("Ask for a slot of a venue (a community, a unit or a registered Party member)"),
        request=s.BookingRequestSerializer,
        responses={201: s.BookingSerializer},
        description=gettext_lazy(
            "The booking waits for the owner's answer (status `pending`). 409 when an approved booking already "
            "holds the time; 400 when the venue is closed then, the time is not on the hour or half hour, "
            "or more people are expected than it holds."
        ),
        examples=[BOOKING_EXAMPLE],
        parameters=[VENUE_ID],
    )
    @action(detail=True, methods=["post"])
    def bookings(self, request, pk=None):
        venue = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_request(venue=venue, actor=request.user, **serializer.validated_data)
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Venue bookings: one's own, one's venues', and staff's scope")),
    retrieve=extend_schema(summary=gettext_lazy("One venue booking")),
)
class BookingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.BookingSerializer
    filterset_class = BookingFilter
    service_checked_actions = {"approve", "decline", "cancel"}
    ordering_fields: list[str] = []

    def get_queryset(self):
        return selectors.bookings_visible_to(user=self.request.user)

    def get_serializer_class(self):
        return ReasonSerializer if self.action == "decline" else s.BookingSerializer

    @extend_schema(
        summary=gettext_lazy("Approve a booking (the venue's owner); 409 when it overlaps an approved one"),
        request=None,
        responses=s.BookingSerializer,
        description=api_description(Booking, "approve"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        booking = services.booking_approve(booking=self.get_object(), actor=request.user)
        return Response(s.BookingSerializer(booking).data)

    @extend_schema(
        summary=gettext_lazy("Decline a booking, with the reason (the venue's owner)"),
        request=ReasonSerializer,
        responses=s.BookingSerializer,
        description=api_description(Booking, "decline"),
        examples=[REASON],
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        booking = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_decline(
            booking=booking, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(s.BookingSerializer(booking).data)

    @extend_schema(
        summary=gettext_lazy("Cancel a booking (who asked, or the venue's owner): the slot is free again"),
        request=None,
        responses=s.BookingSerializer,
        description=api_description(Booking, "cancel"),
        examples=[NO_BODY],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        booking = services.booking_cancel(booking=self.get_object(), actor=request.user)
        return Response(s.BookingSerializer(booking).data)

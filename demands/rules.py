"""The demands app's answers to the permission layer (registered in `extensions.register()`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alliance import permissions as p

from .models import Need, Resource


class NeedRules:
    """Street staff: their streets' needs (district staff read their district's). Community staff: their
    communities' needs. A unit's liaisons: the needs dispatched to their unit, from dispatch on (a declined
    need leaves them), and the needs their unit filed as its own (need_file_for_unit), from the start —
    every liaison of the unit, not only the one who typed it."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        seen = p.seen_communities(user)
        if seen is None:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        units = p.listed_units(user)
        return queryset.filter(
            Q(community_id__in=seen) | Q(unit_id__in=units) | Q(filed_by_unit_id__in=units) | Q(claimed_by=user)
        )

    def can_change(self, user, obj: Need) -> bool:
        return self.is_staff_for(user, obj)

    def can_add(self, user) -> bool:
        # Staff enter needs on a resident's behalf; a unit's liaison files its own unit's needs
        # (services.need_file_for_unit decides which unit).
        return p.works_on_a_street(user) or bool(p.units_of(user))

    def can_delete(self, user, obj: Need) -> bool:
        return False  # needs are closed or rejected, never deleted: the timeline is the record

    # The questions the need's workflow asks.

    def is_staff_for(self, user, need: Need) -> bool:
        """The need's workflow is its street's and its community's staff's (not the district's)."""
        return p.manages_community(user, need.community_id)

    def is_liaison_for(self, user, need: Need) -> bool:
        return need.unit_id is not None and need.unit_id in p.units_of(user)

    def is_filing_liaison(self, user, need: Need) -> bool:
        """A liaison of the unit that filed the need as its own."""
        return need.filed_by_unit_id is not None and need.filed_by_unit_id in p.units_of(user)

    def is_claimant(self, user, need: Need) -> bool:
        return need.claimed_by_id is not None and need.claimed_by_id == getattr(user, "pk", None)

    def can_see_contact(self, user, need: Need) -> bool:
        """Ability "demands.see_contact" — the resident's name, phone and address: the community's staff and
        street staff always; the liaison of the unit it is dispatched to, and the Party member who took a
        micro-wish on, only while they serve it — from accepting it until it closes (accepted or completed).
        Not when it is merely dispatched (they may still decline), not once it is closed or rejected, not
        after it was declined back (it is no longer their unit's). The liaisons of the unit that filed a unit
        need, always: its contact is the unit's own — its liaison on record, or the person its liaison named
        (need_file_for_unit) — not a resident's, and masking it from the unit protects nobody. Only while the
        need is a unit need: staff may correct the kind, and then the contact is no longer the unit's to see.
        Everyone else sees them masked."""
        if self.is_staff_for(user, need):
            return True
        if need.kind == Need.Kind.UNIT and self.is_filing_liaison(user, need):
            return True
        if p.is_district_staff(user) and p.sees_community(user, need.community_id):
            return True  # the district's guidance committee follows cases up with the resident
        serving = need.status in (Need.Status.ACCEPTED, Need.Status.COMPLETED)
        return serving and (self.is_liaison_for(user, need) or self.is_claimant(user, need))


class ResourceRules:
    """Everyone who works on the platform sees what units offer (it is what dispatching is made of);
    a unit's liaisons and staff change a unit's resources."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if not user.is_authenticated:
            return queryset.none()
        # Staff also see their streets' withdrawn and pending resources; what is active is public anyway.
        seen = p.seen_communities(user) if p.is_staff_member(user) else frozenset()
        if seen is None:  # every street: nothing to narrow, and no need to read the user's units
            return queryset
        offered = Q(unit_id__in=p.units_of(user)) | Q(status=Resource.Status.ACTIVE)
        return queryset.filter(offered | Q(unit__community_id__in=seen)) if seen else queryset.filter(offered)

    def can_change(self, user, obj: Resource) -> bool:
        if obj.unit_id is not None and obj.unit_id in p.units_of(user):
            return True
        if not p.works_on_a_street(user):
            return False
        managed = p.managed_communities(user)
        if managed is None:
            return True
        return obj.unit_id is not None and obj.unit.community_id in managed

    def can_add(self, user) -> bool:
        return p.works_on_a_street(user) or bool(p.units_of(user))

    def can_delete(self, user, obj: Resource) -> bool:
        return False  # withdrawn, not deleted: needs may point at it


NEED_RULES = NeedRules()
RESOURCE_RULES = ResourceRules()


class VenueRules:
    """Venues are resources: whoever sees the resource sees the venue, and whoever may change the resource
    sets its hours and closed days."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        resources = p.visible(user, Resource.objects.all())
        return queryset.filter(resource__in=resources)

    def can_change(self, user, obj) -> bool:
        return p.can_change(user, obj.resource)

    def can_add(self, user) -> bool:
        return p.can_add(user, Resource)

    def can_delete(self, user, obj) -> bool:
        return False


class BookingRules:
    """A booking is seen by the person who asked, by the venue owner's liaisons, by the staff of the street
    the venue's unit belongs to (and community staff of the communities of the venue or of the booking).
    The owner's liaisons decide; street staff decide for any venue of their streets (the street's own
    venues have no other owner); the requester or a decider cancels."""

    def visible(self, user, queryset: QuerySet) -> QuerySet:
        if not user.is_authenticated:
            return queryset.none()
        # Staff: the bookings of venues in, or made for, the communities they see (None: every community).
        seen = p.seen_communities(user) if p.is_staff_member(user) else frozenset()
        if seen is None:
            return queryset
        units = p.units_of(user)
        mine = Q(requester_id=user.pk) | Q(venue__resource__unit_id__in=units) | Q(unit_id__in=units)
        if seen:
            mine |= Q(venue__resource__unit__community_id__in=seen) | Q(community_id__in=seen)
        return queryset.filter(mine)

    def can_change(self, user, obj) -> bool:
        return self.decides(user, obj) or self.cancels(user, obj)

    def can_add(self, user) -> bool:
        return user.is_authenticated

    def can_delete(self, user, obj) -> bool:
        return False  # cancelled, never deleted: the history says who had the room when

    def may_request(self, user, obj) -> bool:
        """Ability "demands.request_booking": for a unit, its liaison; for a community, its staff; street
        staff for either within their streets; in one's own name, staff, liaisons and verified in-service
        Party members."""
        if not user.is_authenticated:
            return False
        runs = p.is_street_staff(user)
        if obj.unit_id is not None:
            return obj.unit_id in p.units_of(user) or (runs and p.manages_street(user, obj.unit.community.street_id))
        if obj.community_id is not None:
            return obj.community_id in p.communities_of(user) or (
                runs and p.manages_street(user, obj.community.street_id)
            )
        return p.is_staff_member(user) or bool(p.units_of(user)) or p.has_ability(user, "volunteers.registered_member")

    def decides(self, user, obj) -> bool:
        """Ability "demands.decide_booking"."""
        unit = obj.venue.resource.unit
        if unit.pk in p.units_of(user):
            return True
        return p.is_street_staff(user) and p.manages_street(user, unit.community.street_id)

    def cancels(self, user, obj) -> bool:
        """Ability "demands.cancel_booking"."""
        return (user.is_authenticated and obj.requester_id == user.pk) or self.decides(user, obj)


VENUE_RULES = VenueRules()
BOOKING_RULES = BookingRules()

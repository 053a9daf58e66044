"""Every write of the members app. Each service checks permission through `alliance.permissions`,
enforces the rule, writes atomically, records history and queues notifications in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from alliance import history, passwords, permissions, public_figures
from alliance.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from alliance.models import Notification, Profile
from alliance.notifications import notify, notify_each, notify_many
from alliance.validators import validate_mobile
from alliance.workflow import move, refuse_other_fields, with_history

from . import selectors
from .models import (
    Agreement,
    Community,
    CommunityStaff,
    CouncilSeat,
    CouncilTerm,
    District,
    DistrictStaff,
    ExpiryAlert,
    MemberUnit,
    Notice,
    Street,
    StreetStaff,
    UnitMembership,
)

# What a unit's own liaison may change; the rest (name, code, type, level, community, status) is the
# street's record of the unit and only its staff change it.
PROFILE_FIELDS = (
    "address",
    "description",
    "party_org_name",
    "party_org_kind",
    "secretary_name",
    "liaison_name",
    "liaison_phone",
    "liaison_email",
    "party_member_count",
)
APPLICATION_FIELDS = ("name", "credit_code", "unit_type", "level", "community", "sector", *PROFILE_FIELDS)
UNIT_PERMISSIONS = ("members.view_memberunit", "members.change_memberunit")


def _require_administer(actor, unit: MemberUnit) -> None:
    if permissions.has_ability(actor, "members.administer_unit", unit):
        return
    permissions.require_change(actor, unit)  # 404 when not visible at all
    raise PermissionDenied(_("Only the street's or the community's staff may do this."))


def _locked(unit: MemberUnit) -> MemberUnit:
    return MemberUnit.objects.select_for_update().get(pk=unit.pk)


def _check_credit_code_free(credit_code: str, *, exclude_pk: int | None = None) -> None:
    if not credit_code:
        return
    clash = MemberUnit.objects.filter(credit_code=credit_code).exclude(status=MemberUnit.Status.REJECTED)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput(_("A unit with this unified social credit code has already joined or applied."))


# --- Joining --------------------------------------------------------------------------------------


def unit_apply(*, data: dict[str, Any], applicant=None) -> MemberUnit:
    """A unit applies to join through the portal. The application waits for staff approval."""
    unknown = set(data) - set(APPLICATION_FIELDS)
    if unknown:
        raise InvalidInput(_("Unexpected fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    unit = MemberUnit(**data, status=MemberUnit.Status.APPLIED)
    if applicant is not None and applicant.is_authenticated:
        unit.applicant = applicant
    unit.full_clean()
    with transaction.atomic():
        _check_credit_code_free(unit.credit_code)
        with_history(unit, applicant, "application").save()
        notify_many(
            selectors.staff_of_community(community_id=unit.community_id),
            subject=_("New application to join the alliance"),
            body=_("%(unit)s (%(community)s) has applied to join the alliance and is waiting for review.")
            % {"unit": unit.name, "community": unit.community.name},
            url=reverse("admin:members_memberunit_change", args=[unit.pk]),
            kind="unit_applied",
            by_sms=False,
            # Digest: a review has no deadline, and a recruiting drive brings applications by the dozen.
            digest=True,
        )
    return unit


def _liaison_account(unit: MemberUnit) -> tuple[Any, bool]:
    """The account the approved unit's liaison signs in with: the applicant's own if they applied signed
    in, else the account whose user name is the liaison's phone, else a new one (phone as identity)."""
    if unit.applicant_id:
        return unit.applicant, False
    user_model = get_user_model()
    user = user_model.objects.filter(username=unit.liaison_phone).first()
    if user is not None:
        return user, False
    user = user_model.objects.create_user(
        username=unit.liaison_phone, email=unit.liaison_email, first_name=unit.liaison_name
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Profile.objects.update_or_create(user=user, defaults={"phone": unit.liaison_phone})
    return user, True


def unit_approve(*, unit: MemberUnit, actor) -> MemberUnit:
    """Approve an application: the unit becomes active, its liaison gets an account and the object
    permissions on the unit, and is told how to sign in."""
    _require_administer(actor, unit)
    # The liaison's account, profile and grants are written in the approver's name.
    with transaction.atomic(), history.acting(actor, "unit approved"):
        public_figures.changed()
        unit = move(
            unit,
            actor=actor,
            action="approve",
            reason="approved",
            joined_on=selectors.today(),
            review_note="",
        )
        user, created = _liaison_account(unit)
        _grant(unit=unit, user=user, role=UnitMembership.Role.LIAISON, actor=actor)
        if created:
            body = _(
                "%(unit)s has joined the alliance. Your account name is %(username)s; "
                "set your password with the link below, then sign in to the portal."
            ) % {"unit": unit.name, "username": user.username}
            url = passwords.PASSWORD_LINK  # the link is made when the message is sent, never stored
        else:
            body = _("%(unit)s has joined the alliance. Sign in to the portal to look after the unit's profile.") % {
                "unit": unit.name
            }
            url = reverse("portal:unit_detail", args=[unit.pk])
        notify(
            recipient=user,
            subject=_("Your unit has joined the alliance"),
            body=body,
            url=url,
            kind="unit_approved",
        )
    return unit


def unit_reject(*, unit: MemberUnit, actor, reason: str) -> MemberUnit:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for rejecting the application."))
    _require_administer(actor, unit)
    with transaction.atomic():
        unit = move(
            unit,
            actor=actor,
            action="reject",
            reason="rejected",
            review_note=reason[:300],
        )
        notify(
            recipient=unit.applicant,
            email=unit.liaison_email,
            phone=unit.liaison_phone,
            subject=_("Your application to join the alliance"),
            body=_("The application of %(unit)s was not approved: %(reason)s")
            % {"unit": unit.name, "reason": unit.review_note},
            kind="unit_rejected",
        )
    return unit


def unit_withdraw(*, unit: MemberUnit, actor, reason: str = "") -> MemberUnit:
    """A unit leaves the alliance: its accounts lose access to it; its record and history stay."""
    _require_administer(actor, unit)
    with transaction.atomic():
        public_figures.changed()
        unit = move(
            unit,
            actor=actor,
            action="withdraw",
            reason="withdrawn",
            review_note=(reason or "")[:300],
        )
        for membership in unit.memberships.select_related("user"):
            _revoke(membership=membership, actor=actor)
    return unit


# --- Editing --------------------------------------------------------------------------------------


def unit_update(*, unit: MemberUnit, actor, data: dict[str, Any]) -> MemberUnit:
    """Change a unit's record. Liaisons change the profile fields; staff change everything but status."""
    with transaction.atomic():
        public_figures.changed()
        # Decide on the stored row, not on an instance a form may already have changed.
        unit = _locked(unit)
        permissions.require_change(actor, unit)
        staff = permissions.has_ability(actor, "members.administer_unit", unit)
        refuse_other_fields(data, {*APPLICATION_FIELDS, "joined_on"} if staff else PROFILE_FIELDS)
        for field, value in data.items():
            setattr(unit, field, value)
        if not permissions.has_ability(actor, "members.administer_unit", unit) and staff:
            raise PermissionDenied(_("You may not move a unit to a community you do not work for."))
        unit.full_clean()
        _check_credit_code_free(unit.credit_code, exclude_pk=unit.pk)
        with_history(unit, actor).save()
    return unit


def _unit_new(*, actor, data: dict[str, Any]) -> MemberUnit:
    """The checks of recording a unit, before it is validated and saved."""
    if not permissions.can_add(actor, MemberUnit):
        raise PermissionDenied(_("Only staff may record units."))
    refuse_other_fields(data, {*APPLICATION_FIELDS, "liaison_email", "joined_on", "status", "description"})
    unit = MemberUnit(**data)
    unit.status = data.get("status", MemberUnit.Status.ACTIVE)
    if unit.status == MemberUnit.Status.ACTIVE and not unit.joined_on:
        unit.joined_on = selectors.today()
    if not permissions.has_ability(actor, "members.administer_unit", unit):
        raise PermissionDenied(_("You may not record a unit in a community you do not work for."))
    return unit


def unit_create(*, actor, data: dict[str, Any]) -> MemberUnit:
    """Staff record a unit directly (a unit that joined on paper): it is active from today."""
    unit = _unit_new(actor=actor, data=data)
    unit.full_clean()
    with transaction.atomic():
        public_figures.changed()
        _check_credit_code_free(unit.credit_code)
        with_history(unit, actor, "created").save()
    return unit


# --- Imports: many units in a constant number of queries ---------------------------------------------
# The Excel import (`members.imports`) checks each row with `unit_build` / `unit_change` — the rules of
# `unit_create` / `unit_update` without a query — and writes a batch with `units_record` / `units_save`.
# What the per-row services look up (the credit code still free, the row locked) the importer has looked
# up for the whole batch; the database's constraints back it up inside the import's transaction.

_RELATIONS = ("community", "sector")


def unit_build(*, actor, data: dict[str, Any]) -> MemberUnit:
    """A unit as `unit_create` would record it, checked but not saved."""
    unit = _unit_new(actor=actor, data=data)
    unit.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
    return unit


def unit_change(*, unit: MemberUnit, actor, data: dict[str, Any]) -> MemberUnit:
    """`unit_update`'s checks of staff's change, applied to `unit` in memory (saved by `units_save`)."""
    if not permissions.has_ability(actor, "members.administer_unit", unit):
        raise PermissionDenied(_("Only the street's or the community's staff may do this."))
    refuse_other_fields(data, {*APPLICATION_FIELDS, "joined_on"})
    for field, value in data.items():
        setattr(unit, field, value)
    if not permissions.has_ability(actor, "members.administer_unit", unit):
        raise PermissionDenied(_("You may not move a unit to a community you do not work for."))
    unit.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
    return unit


def units_record(*, actor, units: list[MemberUnit]) -> list[MemberUnit]:
    """Save units made by `unit_build`, with their history rows ("created")."""
    return history.bulk_create(MemberUnit, units, actor=actor, reason="created")


def units_save(*, actor, units: list[MemberUnit], fields: set[str]) -> None:
    """Save the changed `fields` of units changed by `unit_change`, with their history rows."""
    if units:
        MemberUnit.objects.bulk_update(units, sorted(fields))
        history.bulk_create_records(MemberUnit, units, actor=actor)


# --- Accounts -------------------------------------------------------------------------------------


def _grant(*, unit: MemberUnit, user, role: str, actor) -> UnitMembership:
    # guardian writes its rows itself (one object at a time: its signals reach the history); the context
    # names the author, also when this runs from a task or a command.
    with history.acting(actor, "unit access granted"):
        membership, _created = UnitMembership.objects.get_or_create(unit=unit, user=user, defaults={"role": role})
        if membership.role != role:
            membership.role = role
            with_history(membership, actor).save(update_fields=["role"])
        for perm in UNIT_PERMISSIONS:
            assign_perm(perm, user, unit)
    permissions.forget_cached_permissions(user)
    return membership


def _revoke(*, membership: UnitMembership, actor) -> None:
    with history.acting(actor, "unit access revoked"):
        for perm in UNIT_PERMISSIONS:
            remove_perm(perm, membership.user, membership.unit)
        permissions.access_revoked(user=membership.user, obj=membership.unit, actor=actor)
        with_history(membership, actor).delete()


def unit_membership_add(*, unit: MemberUnit, user, role: str = UnitMembership.Role.LIAISON, actor) -> UnitMembership:
    _require_administer(actor, unit)
    if unit.status != MemberUnit.Status.ACTIVE:
        raise TransitionNotAllowed(_("Accounts can be given only to active units."))
    with transaction.atomic():
        membership = _grant(unit=unit, user=user, role=role, actor=actor)
        notify(
            recipient=user,
            subject=_("You can now look after %(unit)s") % {"unit": unit.name},
            body=_("You have been given an account at %(unit)s on the alliance platform.") % {"unit": unit.name},
            url=reverse("portal:unit_detail", args=[unit.pk]),
            kind="unit_account",
        )
    return membership


def unit_account_password_link(*, membership: UnitMembership, actor):
    """Staff send a unit account a new password-set link (the first one expired or was lost); any
    earlier link stops working."""
    _require_administer(actor, membership.unit)
    with transaction.atomic():
        return passwords.password_link_send(user=membership.user)


def unit_membership_remove(*, membership: UnitMembership, actor) -> None:
    _require_administer(actor, membership.unit)
    with transaction.atomic():
        _revoke(membership=membership, actor=actor)


def _runs_street_of(actor, community: Community) -> bool:
    """Who works for a community is decided by the staff of its street (not another street's)."""
    return permissions.is_street_staff(actor) and permissions.manages_street(actor, community.street_id)


def community_staff_add(*, user, community: Community, actor) -> CommunityStaff:
    """Make `user` staff of `community`: admin-site access scoped to it. The staff of its street only."""
    if not _runs_street_of(actor, community):
        raise PermissionDenied(_("Only street staff may assign community staff."))
    with transaction.atomic(), history.acting(actor, "community staff added"):
        assignment, _created = CommunityStaff.objects.get_or_create(user=user, community=community)
        group = Group.objects.get_or_create(name=permissions.COMMUNITY_STAFF_GROUP)[0]
        user.groups.add(group)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        assign_perm("members.administer_community", user, community)
        permissions.forget_cached_permissions(user)
    return assignment


def community_staff_remove(*, assignment: CommunityStaff, actor) -> None:
    if not _runs_street_of(actor, assignment.community):
        raise PermissionDenied(_("Only street staff may assign community staff."))
    with transaction.atomic(), history.acting(actor, "community staff removed"):
        user = assignment.user
        remove_perm("members.administer_community", user, assignment.community)
        with_history(assignment, actor).delete()
        if not CommunityStaff.objects.filter(user=user).exists():
            user.groups.remove(*Group.objects.filter(name=permissions.COMMUNITY_STAFF_GROUP))
        permissions.forget_cached_permissions(user)


def _make_staff(user, group_name: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=group_name)[0])
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def street_staff_add(*, user, street: Street, actor) -> StreetStaff:
    """Make `user` staff of `street`: the admin site over that street. A superuser, the district's staff or
    the street's own staff may do it."""
    if street.pk not in permissions.streets_of(actor):
        raise PermissionDenied(_("Only staff of this street or its district may assign its staff."))
    return _assign(StreetStaff, permissions.STREET_STAFF_GROUP, "street staff", user=user, actor=actor, street=street)


def street_staff_remove(*, assignment: StreetStaff, actor) -> None:
    if assignment.street_id not in permissions.streets_of(actor):
        raise PermissionDenied(_("Only staff of this street or its district may assign its staff."))
    _unassign(assignment, permissions.STREET_STAFF_GROUP, "street staff", actor=actor)


def district_staff_add(*, user, district: District, actor) -> DistrictStaff:
    """Make `user` staff of `district`: they oversee every street of it. A superuser or the district's staff."""
    if district.pk not in permissions.districts_of(actor):
        raise PermissionDenied(_("Only staff of this district may assign its staff."))
    return _assign(
        DistrictStaff, permissions.DISTRICT_STAFF_GROUP, "district staff", user=user, actor=actor, district=district
    )


def district_staff_remove(*, assignment: DistrictStaff, actor) -> None:
    if assignment.district_id not in permissions.districts_of(actor):
        raise PermissionDenied(_("Only staff of this district may assign its staff."))
    _unassign(assignment, permissions.DISTRICT_STAFF_GROUP, "district staff", actor=actor)


# Street and district staff are assigned alike: the assignment row, the role's group while the user holds at
# least one assignment of the kind, and the user's cached permissions dropped.


def _assign(model: type[StreetStaff | DistrictStaff], group: str, role: str, *, user, actor, **place):
    with transaction.atomic(), history.acting(actor, f"{role} added"):
        assignment, _created = model.objects.get_or_create(user=user, **place)
        _make_staff(user, group)
        permissions.forget_cached_permissions(user)
    return assignment


def _unassign(assignment: StreetStaff | DistrictStaff, group: str, role: str, *, actor) -> None:
    model = type(assignment)
    with transaction.atomic(), history.acting(actor, f"{role} removed"):
        user = assignment.user
        with_history(assignment, actor).delete()
        if not model.objects.filter(user=user).exists():
            user.groups.remove(*Group.objects.filter(name=group))
        permissions.forget_cached_permissions(user)


def agreement_save(*, agreement: Agreement, actor) -> Agreement:
    if agreement.pk is None:
        _require_administer(actor, agreement.unit)
    elif not permissions.can_change(actor, agreement):
        permissions.require_change(actor, agreement)
    agreement.full_clean()
    with transaction.atomic():
        with_history(agreement, actor).save()
    return agreement


AGREEMENT_RENEWAL_FIELDS = ("title", "content", "file")


def agreement_renew(
    *, agreement: Agreement, actor, signed_on: date, term_end: date, data: dict[str, Any] | None = None
) -> Agreement:
    """Renew an agreement: a new version (the next number) linked to the one it renews, which is kept and
    marked superseded. Title and content carry over unless `data` gives new ones (and a new signed copy).
    Renewing twice at once gives one renewal: the old row is locked, and `renews` is one-to-one."""
    data = dict(data or {})
    refuse_other_fields(data, AGREEMENT_RENEWAL_FIELDS)
    permissions.require_change(actor, agreement)
    if term_end < signed_on:
        raise InvalidInput(_("The new term must end on or after the day it is signed."))
    with transaction.atomic():
        old = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if old.superseded_at is not None:
            raise TransitionNotAllowed(_("This agreement has been renewed already; renew its latest version."))
        if signed_on < old.signed_on:
            raise InvalidInput(_("A renewal is signed on or after the agreement it renews."))
        renewal = Agreement(
            unit_id=old.unit_id,
            title=data.get("title") or old.title,
            content=data.get("content", old.content),
            file=data.get("file") or "",
            signed_on=signed_on,
            term_end=term_end,
            renews=old,
            version=old.version + 1,
        )
        try:
            renewal.full_clean(exclude=["renews"])  # `renews` is checked by the lock above and the database
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages)) from exc
        with_history(renewal, actor, "renewal").save()
        old.superseded_at = timezone.now()
        with_history(old, actor, "renewed").save(update_fields=["superseded_at"])
    return renewal


def council_term_save(*, term: CouncilTerm, actor) -> CouncilTerm:
    """Record a council term (届). A current term makes the street's previous current term a past one, in
    the same transaction (one current term per street: a partial unique constraint backs it)."""
    if term.pk is None:
        if term.street_id not in permissions.streets_of(actor):
            raise PermissionDenied(_("Only the street's staff keep its council terms."))
    else:
        permissions.require_change(actor, term)
    try:
        term.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    with transaction.atomic():
        if term.is_current:
            previous = CouncilTerm.objects.select_for_update().filter(street_id=term.street_id, is_current=True)
            for other in previous.exclude(pk=term.pk):
                other.is_current = False
                with_history(other, actor, "a new term").save(update_fields=["is_current"])
        try:
            with transaction.atomic():
                with_history(term, actor).save()
        except IntegrityError as exc:
            raise Conflict(_("This street already has a term with this number.")) from exc
    return term


def council_seat_save(*, seat: CouncilSeat, actor) -> CouncilSeat:
    """A seat belongs to a term of its own street; its dates default to the term's."""
    if not permissions.is_street_staff(actor):
        raise PermissionDenied(_("Only the street's staff keep its council."))
    if seat.term_id is not None:
        term = CouncilTerm.objects.get(pk=seat.term_id)
        if term.street_id != seat.street_id:
            raise InvalidInput(_("A seat belongs to a term of its own street."))
        seat.term_start = seat.term_start or term.start
        seat.term_end = seat.term_end or term.end
    seat.full_clean()
    with transaction.atomic():
        with_history(seat, actor).save()
    return seat


# --- "Ends soon" alerts (60 and 30 days ahead, once each) ----------------------------------------------
# A daily scan (beat) finds what ends within 60 days and, a batch at a time, in a constant number of
# queries per batch (the subjects, their recipients, the ledger rows already written, one INSERT of
# notifications, one of ledger rows), tells each recipient once per stage. The ledger row and the
# notification are written in one transaction under a unique constraint: a scan running twice at once
# fails its INSERT and sends nothing (its notifications roll back with it).

ALERT_BATCH = 500


def _expiry_scan(
    *,
    subjects: list,
    field: str,
    group_of: Callable[[Any], int],
    recipients_of: Callable[[list[int]], list],
    message: Callable[[Any, int], dict],
    today: date,
    digest: bool,
) -> int:
    sent = 0
    for start in range(0, len(subjects), ALERT_BATCH):
        batch = subjects[start : start + ALERT_BATCH]
        stages = {obj.pk: selectors.alert_stage(obj.end if field == "term" else obj.term_end, today) for obj in batch}
        people: dict[int, list] = {}
        for row in recipients_of(list({group_of(obj) for obj in batch})):
            people.setdefault(row[0], []).append(row)
        told = selectors.alerts_sent(field=field, subject_ids=[obj.pk for obj in batch])
        due = [
            (obj, row)
            for obj in batch
            if stages[obj.pk]
            for row in people.get(group_of(obj), [])
            if (obj.pk, stages[obj.pk], row.user_id) not in told
        ]
        if not due:
            continue
        try:
            with transaction.atomic():
                rows = notify_each(
                    {
                        "recipient": _Person(row),
                        "phone": row.user__profile__phone or "",
                        "digest": digest,
                        **message(obj, stages[obj.pk]),
                    }
                    for obj, row in due
                )
                ExpiryAlert.objects.bulk_create(
                    ExpiryAlert(
                        **{f"{field}_id": obj.pk},
                        stage=stages[obj.pk],
                        recipient_id=row.user_id,
                        notification=notification,
                    )
                    for (obj, row), notification in zip(due, rows, strict=True)
                )
        except IntegrityError:
            continue  # a concurrent scan recorded them first: it sends them
        sent += len(due)
    return sent


class _Person:
    """A recipient as `notify_each` reads one, from a plain row (a batch builds no user instances)."""

    def __init__(self, row) -> None:
        self.pk, self.email, self.is_staff = row.user_id, row.user__email, row.user__is_staff


def council_terms_alert(*, today: date | None = None) -> int:
    """Tell the street's staff 60 and 30 days before its current council term ends (daily digest: it is
    for planning the next term's election)."""
    today = today or timezone.localdate()

    def message(term: CouncilTerm, stage: int) -> dict:
        return {
            "subject": _("The council's term ends in %(days)d days") % {"days": (term.end - today).days},
            "body": _("Term %(number)d of the council of %(street)s ends on %(date)s. Plan the next term.")
            % {"number": term.number, "street": term.street.name, "date": term.end.isoformat()},
            "url": reverse("admin:members_councilterm_change", args=[term.pk]),
            "kind": f"council_term_ending:{term.pk}:{stage}",
            "by_sms": False,
        }

    return _expiry_scan(
        subjects=list(selectors.terms_ending(today=today).order_by("pk")),
        field="term",
        group_of=lambda term: term.street_id,
        recipients_of=lambda ids: selectors.street_staff_rows(street_ids=ids),
        message=message,
        today=today,
        digest=True,
    )


def agreements_alert_liaisons(*, today: date | None = None) -> int:
    """Tell the unit's liaisons 60 and 30 days before its agreement ends (at once: they are not staff, and
    they have to arrange the renewal with the street)."""
    today = today or timezone.localdate()

    def message(agreement: Agreement, stage: int) -> dict:
        return {
            "subject": _("Your agreement ends in %(days)d days") % {"days": (agreement.term_end - today).days},
            "body": _(
                'The agreement "%(title)s" of %(unit)s ends on %(date)s. Please arrange its renewal with the street.'
            )
            % {"title": agreement.title, "unit": agreement.unit.name, "date": agreement.term_end.isoformat()},
            "url": reverse("portal:unit_detail", args=[agreement.unit_id]),
            "kind": f"agreement_ending:{agreement.pk}:{stage}",
        }

    return _expiry_scan(
        subjects=list(selectors.agreements_ending(today=today).order_by("pk")),
        field="agreement",
        group_of=lambda agreement: agreement.unit_id,
        recipients_of=lambda ids: selectors.unit_account_rows(unit_ids=ids),
        message=message,
        today=today,
        digest=False,
    )


def agreements_expiring_notify() -> int:
    """Tell street staff, once per agreement and term, that an agreement ends within 60 days — in the
    daily digest: an end 60 days ahead is for planning, not for now. A constant number of queries however
    many agreements end: the ones told already in one query, every message in one INSERT. Returns how many
    agreements were told about."""
    expiring = {f"agreement_expiring:{a.pk}:{a.term_end.isoformat()}": a for a in selectors.agreements_expiring()}
    if not expiring:
        return 0
    told = set(Notification.objects.filter(kind__in=list(expiring)).values_list("kind", flat=True).distinct())
    due = [(kind, agreement) for kind, agreement in expiring.items() if kind not in told]
    if not due:
        return 0
    # Each street's own staff: an agreement of another street's unit is none of theirs.
    staff_of = selectors.street_staff_by_community(community_ids={agreement.unit.community_id for _k, agreement in due})
    notify_each(
        {
            "recipient": user,
            "subject": _("An agreement ends soon"),
            "body": _("The agreement of %(unit)s ends on %(date)s.")
            % {"unit": agreement.unit.name, "date": agreement.term_end.isoformat()},
            "url": reverse("admin:members_agreement_change", args=[agreement.pk]),
            "kind": kind,
            "by_sms": False,
            "digest": True,
        }
        for kind, agreement in due
        for user in staff_of.get(agreement.unit.community_id, [])
    )
    return len(due)


# --- Accounts found or made by staff on a unit's or a community's page --------------------------------


def _phone_owner(phone: str):
    """The account that already signs in with or is texted at `phone`, if any."""
    return get_user_model().objects.filter(Q(profile__phone=phone) | Q(username=phone)).order_by("pk").first()


def _account_create(*, name: str, phone: str, email: str, username: str, actor):
    """A new account without a password (its owner sets one through the link texted to them), with the
    phone in its profile. Refuses a phone or user name another account already has."""
    name, phone, email, username = name.strip(), phone.strip(), (email or "").strip(), (username or "").strip()
    if not name:
        raise InvalidInput(_("Please give the person's name."))
    try:
        validate_mobile(phone)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from None
    if _phone_owner(phone) is not None:
        raise Conflict(_("This phone number belongs to another account."))
    username = username or phone  # the phone is the usual identity, as for approved liaisons
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise Conflict(_("This user name is already taken."))
    with history.acting(actor, "account created by staff"):
        user = user_model(username=username, email=email, first_name=name[:150])
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"phone": phone})
    return user


def _send_first_password_link(user, *, where: str) -> None:
    passwords.password_link_send(
        user=user,
        subject=_("Your account on the alliance platform"),
        body=_(
            "You have been given an account at %(where)s. Your account name is %(username)s; set your "
            "password with the link below (it works once, for 24 hours), then sign in."
        )
        % {"where": where, "username": user.get_username()},
    )


def unit_account_attach(*, unit: MemberUnit, user, actor) -> UnitMembership:
    """Staff make an existing active account a liaison of `unit`. An account that already is one is
    refused, so that nothing (not even a second message) happens."""
    _require_administer(actor, unit)
    if not user.is_active:
        raise InvalidInput(_("This account is switched off."))
    if UnitMembership.objects.filter(unit=unit, user=user).exists():
        raise Conflict(_("%(user)s already holds an account at %(unit)s.") % {"user": user, "unit": unit.name})
    return unit_membership_add(unit=unit, user=user, actor=actor)


def unit_account_create(
    *, unit: MemberUnit, name: str, phone: str, email: str = "", username: str = "", actor
) -> UnitMembership:
    """Staff make a new account for a unit's liaison: the user with the phone in its profile, the unit's
    liaison membership, and a text message with a password-set link (made when sent, never shown or stored)."""
    _require_administer(actor, unit)
    if unit.status != MemberUnit.Status.ACTIVE:
        raise TransitionNotAllowed(_("Accounts can be given only to active units."))
    with transaction.atomic():
        user = _account_create(name=name, phone=phone, email=email, username=username, actor=actor)
        membership = unit_membership_add(unit=unit, user=user, actor=actor)
        _send_first_password_link(user, where=unit.name)
    return membership


def community_staff_attach(*, community: Community, user, actor) -> CommunityStaff:
    """Street staff make an existing active account staff of `community`; one already is: refused."""
    if not _runs_street_of(actor, community):
        raise PermissionDenied(_("Only street staff may assign community staff."))
    if not user.is_active:
        raise InvalidInput(_("This account is switched off."))
    if CommunityStaff.objects.filter(community=community, user=user).exists():
        raise Conflict(_("%(user)s already works for %(community)s.") % {"user": user, "community": community.name})
    return community_staff_add(user=user, community=community, actor=actor)


def community_staff_account_create(
    *, community: Community, name: str, phone: str, email: str = "", username: str = "", actor
) -> CommunityStaff:
    """Street staff make a new account for a community's staff member, texted a password-set link."""
    if not _runs_street_of(actor, community):
        raise PermissionDenied(_("Only street staff may assign community staff."))
    with transaction.atomic():
        user = _account_create(name=name, phone=phone, email=email, username=username, actor=actor)
        assignment = community_staff_add(user=user, community=community, actor=actor)
        _send_first_password_link(user, where=community.name)
    return assignment


# --- Notices (通知公告) ------------------------------------------------------------------------------------


def notice_save(*, notice: Notice, actor) -> Notice:
    """A street's staff publish or edit one of its notices; the public pages show it inside its window.
    The notice's street must be one the actor runs (a new one as an edited one, and an edited one may not
    be moved to another street)."""
    if notice.pk is None:
        if notice.street_id not in permissions.managed_streets_of(actor):
            raise PermissionDenied(_("Only the street's own staff publish its notices."))
        notice.created_by = actor
    else:
        stored = Notice.objects.filter(pk=notice.pk).values_list("street_id", flat=True).first()
        if stored is None or not permissions.manages_street(actor, stored):
            raise PermissionDenied(_("Only the street's own staff publish its notices."))
        if notice.street_id not in permissions.managed_streets_of(actor):
            raise PermissionDenied(_("Only the street's own staff publish its notices."))
    if notice.publish_from is None:
        notice.publish_from = timezone.now()
    try:
        notice.full_clean()
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    with transaction.atomic():
        with_history(notice, actor).save()
    return notice

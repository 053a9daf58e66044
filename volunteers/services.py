"""Every write of the volunteers app: registration (双报到) and its verification, posts and their claims,
micro-wishes (through the needs workflow), service hours and their verification.

Claiming the last place of a post from many members at once gives exactly one winner: the claim locks
the post's row, counts on it and raises `places_taken` in the same transaction; the check constraint
`places_taken <= places` and the partial unique index on (post, member) are the database's backstops."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import history, permissions, public_figures
from alliance.errors import Conflict, InvalidInput, PermissionDenied
from alliance.models import Notification, Profile
from alliance.notifications import notify, notify_many
from alliance.periods import Quarter
from alliance.workflow import move, refuse_other_fields, update, with_history
from demands import services as demand_services
from members import selectors as member_selectors

from . import points, selectors
from .models import CommunityMonthHours, MemberMonthHours, PartyMember, PostClaim, ServiceLog, VolunteerPost

MEMBER_FIELDS = ("name", "phone", "work_unit", "work_unit_name", "party_branch", "residence_community", "skills")
STAFF_FIELDS = ("name", "work_unit", "work_unit_name", "party_branch", "skills")
LOG_FIELDS = ("date", "hours", "description", "post", "wish", "activity")


class PostFull(Conflict):
    """All places of the post are taken."""


class AlreadyServing(Conflict):
    """The member already holds the post."""


# --- Registration (双报到) -------------------------------------------------------------------------


def _require_work_unit(work_unit, work_unit_name: str) -> None:
    if work_unit is None and not (work_unit_name or "").strip():
        raise InvalidInput(_("Please give the work unit, or its name when it has not joined the alliance."))


def member_register(
    *, data: dict[str, Any], actor=None, password: str | None = None, on_behalf: bool | None = None
) -> PartyMember:
    """Register an in-service Party member at their residence community, waiting for verification.

    By the person in the portal (`on_behalf=False`: signed in, or with a password — an account is made
    with the phone as its name), or by staff on their behalf (the admin and imports; the default for
    staff)."""
    refuse_other_fields(data, MEMBER_FIELDS)
    member = PartyMember(**data, registered_on=timezone.localdate())
    is_staff = (
        actor is not None and getattr(actor, "is_authenticated", False) and permissions.can_add(actor, PartyMember)
    )
    staff = is_staff if on_behalf is None else (on_behalf and is_staff)
    if on_behalf and not is_staff:
        raise PermissionDenied(_("Only staff register members on their behalf."))
    if staff and not permissions.can_change(actor, member):
        raise PermissionDenied(_("You may register members only in the communities you work for."))
    _require_work_unit(member.work_unit, member.work_unit_name)
    member.full_clean(validate_constraints=False)
    with transaction.atomic():
        if PartyMember.objects.filter(
            phone=member.phone, residence_community_id=member.residence_community_id, status__in=PartyMember.ACTIVE
        ).exists():
            raise Conflict(_("This phone number is already registered in this community."))
        if not staff:
            member.user = _account(actor, member, password)
        else:
            member.user = get_user_model().objects.filter(username=member.phone).first()
        try:
            with transaction.atomic():
                with_history(member, actor if staff else member.user, "registered").save()
        except IntegrityError as exc:  # the same registration submitted twice at once
            raise Conflict(_("This phone number is already registered in this community.")) from exc
        notify_many(
            member_selectors.staff_of_community(community_id=member.residence_community_id),
            subject=_("A Party member has registered in %(community)s")
            % {"community": member.residence_community.name},
            body=_("%(name)s (%(unit)s) is waiting for verification.")
            % {"name": member.name, "unit": member.work_unit_label},
            url=reverse("admin:volunteers_partymember_change", args=[member.pk]),
            kind="member_registered",
            by_sms=False,
            # Digest: verifying has no deadline, and a registration drive brings members by the hundred.
            digest=True,
        )
    return member


def _account(actor, member: PartyMember, password: str | None):
    """The person's own account: the signed-in one, or a new one named by the phone."""
    user_model = get_user_model()
    if actor is not None and getattr(actor, "is_authenticated", False):
        # A signed-in person registers their own number, not a number that names someone else's account.
        if user_model.objects.filter(username=member.phone).exclude(pk=actor.pk).exists():
            raise Conflict(_("This phone number belongs to another account."))
        return actor
    if user_model.objects.filter(username=member.phone).exists():
        raise Conflict(_("An account with this phone number exists already; please sign in first."))
    if not password:
        raise InvalidInput(_("Please choose a password."))
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=member.phone, password=password, first_name=member.name)
    except IntegrityError as exc:
        raise Conflict(_("An account with this phone number exists already; please sign in first.")) from exc
    Profile.objects.update_or_create(user=user, defaults={"phone": member.phone})
    return user


def member_staff_update(*, member: PartyMember, actor, data: dict[str, Any]) -> PartyMember:
    """Staff of the member's community correct the details of an active registration (the admin change
    form and the Excel import write through it)."""
    refuse_other_fields(data, STAFF_FIELDS)
    permissions.require_change(actor, member)
    with transaction.atomic():
        locked = PartyMember.objects.select_for_update().get(pk=member.pk)
        if locked.status not in PartyMember.ACTIVE:
            raise Conflict(
                _("Only active registrations can be changed; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        _require_work_unit(data.get("work_unit", locked.work_unit), data.get("work_unit_name", locked.work_unit_name))
        return update(locked, data=data, actor=actor, reason="updated by staff")


# --- Imports: many registrations in a constant number of queries -----------------------------------
# The Excel import (`volunteers.imports`) checks each row with `member_build` / `member_change` — the rules
# of `member_register` (by staff) / `member_staff_update` without a query — and writes a batch with
# `members_record` / `members_save`. Whether a phone is already registered in the community the importer
# looked up for the whole batch; the partial unique constraint backs it up inside the import's transaction.

_MEMBER_RELATIONS = ("work_unit", "residence_community", "user")


def member_build(
    *, data: dict[str, Any], actor, checked: Collection[str] = (), today: date | None = None
) -> PartyMember:
    """A registration made by staff on the member's behalf, as `member_register` would make it, not saved.

    `checked`: fields the caller has already validated by the model's rules (the import's column parsers
    check lengths, blanks and the phone's form — `volunteers.imports.CHECKED_FIELDS`, held to it by a
    test), so `full_clean` does not check them again for each of 50,000 rows. `today`: the registration
    date, computed once per batch by a caller building many."""
    refuse_other_fields(data, MEMBER_FIELDS)
    member = PartyMember(**data, registered_on=today or timezone.localdate())
    if not permissions.can_change(actor, member):
        raise PermissionDenied(_("You may register members only in the communities you work for."))
    _require_work_unit(member.work_unit, member.work_unit_name)
    member.full_clean(exclude=(*_MEMBER_RELATIONS, *checked), validate_unique=False, validate_constraints=False)
    return member


def member_change(*, member: PartyMember, actor, data: dict[str, Any]) -> PartyMember:
    """`member_staff_update`'s checks, applied to `member` in memory (saved by `members_save`)."""
    refuse_other_fields(data, STAFF_FIELDS)
    permissions.require_change(actor, member)
    if member.status not in PartyMember.ACTIVE:
        raise Conflict(
            _("Only active registrations can be changed; this one is %(status)s.")
            % {"status": member.get_status_display()}
        )
    for field, value in data.items():
        setattr(member, field, value)
    _require_work_unit(member.work_unit, member.work_unit_name)
    member.full_clean(exclude=_MEMBER_RELATIONS, validate_unique=False, validate_constraints=False)
    return member


def members_record(*, actor, members: list[PartyMember]) -> list[PartyMember]:
    """Save registrations made by `member_build` ("registered"), each linked to the account its phone
    names, if there is one. The community's staff are told by `members_imported_notify`, once per import."""
    accounts = dict(
        get_user_model().objects.filter(username__in={m.phone for m in members}).values_list("username", "pk")
    )
    for member in members:
        member.user_id = accounts.get(member.phone)
    return history.bulk_create(PartyMember, members, actor=actor, reason="registered")


def members_save(*, actor, members: list[PartyMember], fields: set[str]) -> None:
    if members:
        PartyMember.objects.bulk_update(members, sorted(fields))
        history.bulk_create_records(PartyMember, members, actor=actor, reason="updated by staff")


def members_imported_notify(*, registered: dict[int, int]) -> int:
    """One message to each person who verifies the members an import registered (`registered`: count by
    community id), instead of one per member: their communities' staff, or street staff for a community
    without staff. Returns the number of messages."""
    if not registered:
        return 0
    communities = dict(member_selectors.communities_public().filter(pk__in=registered).values_list("pk", "name"))
    staffed: dict[int, set[int]] = {}
    for user_id, community_id in (
        get_user_model()
        .objects.filter(is_active=True, community_posts__community_id__in=registered)
        .values_list("pk", "community_posts__community_id")
    ):
        staffed.setdefault(user_id, set()).add(community_id)
    unstaffed = set(registered) - {c for ids in staffed.values() for c in ids}
    if unstaffed:
        # A community without staff: its own street's staff verify (never another street's).
        for community_id, users_of_street in member_selectors.street_staff_by_community(
            community_ids=unstaffed
        ).items():
            for user in users_of_street:
                staffed.setdefault(user.pk, set()).add(community_id)
    users = get_user_model().objects.in_bulk(list(staffed))
    for user_id, community_ids in staffed.items():
        count = sum(registered[c] for c in community_ids)
        names = ", ".join(communities.get(c, "") for c in sorted(community_ids))
        # At once: already one summary per person for the whole import (a job), not one per member.
        notify(
            recipient=users[user_id],
            subject=_("%(count)d Party members were registered by import") % {"count": count},
            body=_("%(count)d Party members registered in %(communities)s are waiting for verification.")
            % {"count": count, "communities": names},
            url=reverse("admin:volunteers_partymember_changelist"),
            kind="member_registered",
            by_sms=False,
        )
    return len(staffed)


def member_verify(*, member: PartyMember, actor) -> PartyMember:
    permissions.require_change(actor, member)
    with transaction.atomic():
        public_figures.changed()
        member = move(
            member,
            action="verify",
            actor=actor,
            reason="verified",
            verified_at=timezone.now(),
        )
        if member.user_id:
            notify(
                recipient=member.user,
                subject=_("Your registration is verified"),
                body=_(
                    "Welcome to the volunteers of %(community)s. You can now claim posts and micro-wishes in the portal."
                )
                % {"community": member.residence_community.name},
                url=reverse("portal:volunteer_home"),
                kind="member_verified",
            )
    return member


def member_reject(*, member: PartyMember, actor, reason: str) -> PartyMember:
    permissions.require_change(actor, member)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason."))
    with transaction.atomic():
        member = move(
            member,
            action="reject",
            actor=actor,
            reason="rejected",
            reject_reason=reason[:300],
        )
        if member.user_id:
            notify(
                recipient=member.user,
                subject=_("Your registration was not verified"),
                body=reason,
                url=reverse("portal:volunteer_home"),
                kind="member_rejected",
            )
    return member


def member_move(*, member: PartyMember, actor, community) -> PartyMember:
    """The member moves house: the old registration ends (its history and hours stay), a new one waits
    for the new community's verification."""
    permissions.require_ability(
        actor, "volunteers.act_for_member", member, _("Only the member or their community's staff may do this.")
    )
    if community.pk == member.residence_community_id:
        raise InvalidInput(_("This is the member's community already."))
    if PartyMember.objects.filter(
        phone=member.phone, residence_community=community, status__in=PartyMember.ACTIVE
    ).exists():
        raise Conflict(_("This phone number is already registered in this community."))
    with transaction.atomic():
        public_figures.changed()
        old = move(
            member,
            action="move_away",
            actor=actor,
            reason="moved away",
        )
        for claim in old.post_claims.filter(status=PostClaim.Status.ACTIVE):
            post_leave(claim=claim, actor=actor, _checked=True)
        new = PartyMember(
            user=old.user,
            **{
                f: getattr(old, f)
                for f in ("name", "phone", "work_unit_id", "work_unit_name", "party_branch", "skills")
            },
            residence_community=community,
            registered_on=timezone.localdate(),
        )
        with_history(new, actor, "moved in").save()
        notify_many(
            member_selectors.staff_of_community(community_id=community.pk),
            subject=_("A Party member has registered in %(community)s") % {"community": community.name},
            body=_("%(name)s (%(unit)s) is waiting for verification.")
            % {"name": new.name, "unit": new.work_unit_label},
            url=reverse("admin:volunteers_partymember_change", args=[new.pk]),
            kind="member_registered",
            by_sms=False,
            # Digest: verifying has no deadline (as for a new registration).
            digest=True,
        )
    return new


# --- Posts ----------------------------------------------------------------------------------------

POST_FIELDS = ("community", "title", "description", "schedule", "places", "status")


def _require_post_staff(actor, post: VolunteerPost) -> None:
    if not permissions.can_change(actor, post):
        raise PermissionDenied(_("You may manage only the posts and teams of the communities you work for."))


def post_create(*, actor, data: dict[str, Any]) -> VolunteerPost:
    """A community's staff open a post (the admin's add form, the API's POST /posts/)."""
    refuse_other_fields(data, POST_FIELDS)
    post = VolunteerPost(**data)
    if not permissions.can_add(actor, VolunteerPost):
        raise PermissionDenied(_("You may manage only the posts and teams of the communities you work for."))
    _require_post_staff(actor, post)
    post.full_clean()
    with transaction.atomic():
        with_history(post, actor, "created").save()
    return post


def post_update(*, post: VolunteerPost, actor, data: dict[str, Any]) -> VolunteerPost:
    """Staff edit a post as the admin's change form does: under the post's row lock, never below the
    places already taken (`places_taken` belongs to the claim services), never into a community they do
    not work for."""
    refuse_other_fields(data, POST_FIELDS)
    _require_post_staff(actor, post)
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        _require_post_staff(actor, locked)
        places = data.get("places", locked.places)
        if places is not None and places < locked.places_taken:
            raise InvalidInput(
                _("%(taken)d places are taken; the post cannot have fewer places.") % {"taken": locked.places_taken}
            )
        if "community" in data:
            _require_post_staff(actor, VolunteerPost(community=data["community"]))
        return update(locked, data=data, actor=actor, reason="updated by staff")


def post_close(*, post: VolunteerPost, actor) -> VolunteerPost:
    """No more claims: the members serving keep their places until they leave."""
    _require_post_staff(actor, post)
    with transaction.atomic():
        return move(
            post,
            source=VolunteerPost.Status.OPEN,
            target=VolunteerPost.Status.CLOSED,
            refusal=_("Only an open post can be closed; this one is %(status)s."),
            actor=actor,
            reason="closed",
        )


def post_claim(*, post: VolunteerPost, actor) -> PostClaim:
    """A verified member claims a post of their residence community."""
    member = selectors.active_registration(user=actor, community_id=post.community_id)
    if member is None:
        if selectors.active_registration(user=actor, community_id=post.community_id, verified=False):
            raise PermissionDenied(_("Your registration has not been verified yet."))
        raise PermissionDenied(_("Posts are claimed by verified members registered in the post's community."))
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        if locked.status != VolunteerPost.Status.OPEN:
            raise Conflict(_("This post is closed."))
        if PostClaim.objects.filter(post=locked, member=member, status=PostClaim.Status.ACTIVE).exists():
            raise AlreadyServing(_("You hold this post already."))
        if locked.places_taken >= locked.places:
            raise PostFull(_("All places of this post are taken."))
        try:
            with transaction.atomic():
                claim = PostClaim(post=locked, member=member)
                with_history(claim, actor, "claimed").save()
                VolunteerPost.objects.filter(pk=locked.pk).update(places_taken=F("places_taken") + 1)
                history.record_update(VolunteerPost, locked.pk, actor=actor, reason="place taken")
        except IntegrityError as exc:  # the backstops; only reached if the lock above were bypassed
            raise PostFull(_("All places of this post are taken.")) from exc
    return claim


def post_leave(*, claim: PostClaim, actor, _checked: bool = False) -> PostClaim:
    if not _checked:
        permissions.require_ability(
            actor, "volunteers.leave_post", claim, _("Only the member or their community's staff may do this.")
        )
    with transaction.atomic():
        VolunteerPost.objects.select_for_update().get(pk=claim.post_id)
        claim = move(
            claim,
            action="leave",
            actor=actor,
            reason="left",
            left_at=timezone.now(),
        )
        released = VolunteerPost.objects.filter(pk=claim.post_id, places_taken__gt=0)
        if released.update(places_taken=F("places_taken") - 1):
            history.record_update(VolunteerPost, claim.post_id, actor=actor, reason="place released")
    return claim


# --- Micro-wishes (through the needs workflow) ----------------------------------------------------


def wish_claim(*, need, actor):
    """A verified member takes on a micro-wish of their residence community."""
    if selectors.active_registration(user=actor, community_id=need.community_id) is None:
        raise PermissionDenied(_("Micro-wishes are taken on by verified members registered in the wish's community."))
    return demand_services.need_take_on_wish(need=need, claimant=actor)


def wish_complete(*, need, actor, result: str):
    # The points for the fulfilled wish are awarded here, in the completion's transaction: the micro-wish
    # is completed only through this service (portal and API), and demands does not import volunteers.
    with transaction.atomic():
        need = demand_services.need_complete_wish(need=need, actor=actor, result=result)
        points.points_award(source=need, actor=actor)
    return need


# --- Service hours --------------------------------------------------------------------------------


def log_hours(*, member: PartyMember, actor, data: dict[str, Any]) -> ServiceLog:
    """Hours served, logged by the member or by their community's staff; verified by the staff."""
    permissions.require_ability(
        actor,
        "volunteers.act_for_member",
        member,
        _("Only the member or their community's staff may log their hours."),
    )
    refuse_other_fields(data, LOG_FIELDS)
    if member.status != PartyMember.Status.VERIFIED:
        raise InvalidInput(_("Hours are logged for verified members."))
    log = ServiceLog(member=member, logged_by=actor, **data)
    if log.post_id and log.post.community_id != member.residence_community_id:
        raise InvalidInput(_("The post is not in the member's community."))
    if log.wish_id and (log.wish.claimed_by_id is None or log.wish.claimed_by_id != member.user_id):
        raise InvalidInput(_("The micro-wish was not taken on by this member."))
    try:
        hours = Decimal(str(log.hours)) if log.hours is not None else Decimal(0)
    except ArithmeticError:
        raise InvalidInput(_("Hours must be more than 0 and at most 24 a day.")) from None
    if not Decimal(0) < hours <= Decimal(24):
        raise InvalidInput(_("Hours must be more than 0 and at most 24 a day."))
    if log.date and log.date > timezone.localdate():
        raise InvalidInput(_("Hours cannot be logged before they are served."))
    log.full_clean()
    with transaction.atomic():
        public_figures.changed()
        with_history(log, actor, "logged").save()
    return log


def log_verify(*, log: ServiceLog, actor) -> ServiceLog:
    permissions.require_change(actor, log)
    with transaction.atomic():
        public_figures.changed()
        locked = ServiceLog.objects.select_for_update().get(pk=log.pk)
        if locked.verified:
            raise Conflict(_("These hours are verified already."))
        if locked.rejected_at is not None:
            raise Conflict(_("These hours were rejected; they cannot be verified."))
        locked.verified, locked.verified_by, locked.verified_at = True, actor, timezone.now()
        with_history(locked, actor, "verified").save(update_fields=["verified", "verified_by", "verified_at"])
        count_verified_hours([locked])
        points.points_award(source=locked, actor=actor)
    return locked


def log_reject(*, log: ServiceLog, actor, reason: str) -> ServiceLog:
    """Staff refuse hours waiting for verification: the log stays, unverified, and counts in no total."""
    permissions.require_change(actor, log)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason."))
    with transaction.atomic():
        locked = ServiceLog.objects.select_for_update().get(pk=log.pk)
        if locked.verified:
            raise Conflict(_("These hours are verified already."))
        if locked.rejected_at is not None:
            raise Conflict(_("These hours were rejected already."))
        locked.rejected_at, locked.reject_reason = timezone.now(), reason[:300]
        with_history(locked, actor, "rejected").save(update_fields=["rejected_at", "reject_reason"])
        if locked.member.user_id:
            notify(
                recipient=locked.member.user,
                subject=_("Your hours of %(date)s were not verified") % {"date": locked.date.isoformat()},
                body=reason,
                url=reverse("portal:volunteer_home"),
                kind="hours_rejected",
                by_sms=False,
            )
    return locked


LOG_EDIT_FIELDS = ("date", "hours", "description", "post")


def log_update(*, log: ServiceLog, actor, data: dict[str, Any]) -> ServiceLog:
    """The member (or their community's staff) correct hours while they wait for verification; verified
    or rejected hours are settled."""
    permissions.require_ability(
        actor,
        "volunteers.act_for_member",
        log.member,
        _("Only the member or their community's staff may log their hours."),
    )
    refuse_other_fields(data, LOG_EDIT_FIELDS)
    with transaction.atomic():
        locked = ServiceLog.objects.select_for_update().select_related("member").get(pk=log.pk)
        if locked.verified or locked.rejected_at is not None:
            raise Conflict(_("Only hours waiting for verification can be changed."))
        post = data.get("post", locked.post)
        if post is not None and post.community_id != locked.member.residence_community_id:
            raise InvalidInput(_("The post is not in the member's community."))
        if data.get("date") and data["date"] > timezone.localdate():
            raise InvalidInput(_("Hours cannot be logged before they are served."))
        return update(locked, data=data, actor=actor, reason="corrected")


# --- Verified hours summed per month (models.MemberMonthHours, CommunityMonthHours) ------------------------
# Every service that makes hours verified (or, one day, takes them back: unverifying, correcting or
# deleting a verified log) calls `count_verified_hours` in its own transaction, with the logs as they now
# count (sign=+1) or as they counted before (sign=-1). Bulk writers (imports, the demo data) call it once
# with all their logs.

_UPSERT = (
    "INSERT INTO {table} ({columns}, month, hours, services) VALUES {values} "
    "ON CONFLICT ({key}, month) DO UPDATE SET hours = {table}.hours + excluded.hours, "
    "services = {table}.services + excluded.services"
)


def count_verified_hours(logs: list[ServiceLog], *, sign: int = 1) -> None:
    """Add (`sign=1`) or take away (`sign=-1`) `logs`' hours in the monthly sums of their members and
    communities: one upsert per table, however many logs. `INSERT … ON CONFLICT DO UPDATE` adds to the row
    in the database (SQLite and PostgreSQL alike), so two transactions verifying hours of the same member
    at once both count; the keys are sorted, so two bulk writers lock rows in the same order. Must run in
    the transaction that changes the logs."""
    counted = [log for log in logs if log.verified]
    # The registrations' residence communities: from the members already loaded, the rest in one query.
    communities = _communities([log.member_id for log in counted if "member" not in log._state.fields_cache])
    by_member: dict[tuple[int, int, object], list] = {}
    for log in counted:
        member = log._state.fields_cache.get("member")
        community_id = member.residence_community_id if member is not None else communities[log.member_id]
        key = (log.member_id, community_id, log.date.replace(day=1))
        sums = by_member.setdefault(key, [Decimal(0), 0])
        sums[0] += sign * Decimal(str(log.hours))
        sums[1] += sign
    if not by_member:
        return
    by_community: dict[tuple[int, object], list] = {}
    for (_member_id, community_id, month), (hours, services) in by_member.items():
        sums = by_community.setdefault((community_id, month), [Decimal(0), 0])
        sums[0] += hours
        sums[1] += services
    _upsert(
        MemberMonthHours,
        "member_id, community_id",
        "member_id",
        [(*key, *sums) for key, sums in sorted(by_member.items(), key=lambda item: (item[0][0], item[0][2]))],
    )
    _upsert(
        CommunityMonthHours,
        "community_id",
        "community_id",
        [(*key, *sums) for key, sums in sorted(by_community.items())],
    )


def _communities(member_ids: list[int]) -> dict[int, int]:
    if not member_ids:
        return {}
    return dict(PartyMember.objects.filter(pk__in=member_ids).values_list("pk", "residence_community_id"))


# Rows per upsert statement: well under the databases' limits on parameters (SQLite's 32,766).
UPSERT_ROWS = 1000


def _upsert(model, columns: str, key: str, rows: list[tuple]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            placeholders = "(" + ", ".join(["%s"] * len(chunk[0])) + ")"
            values = ", ".join([placeholders] * len(chunk))
            sql = _UPSERT.format(table=table, columns=columns, key=key, values=values)
            cursor.execute(sql, [value for row in chunk for value in row])


def verified_hours_rebuild() -> None:
    """Fill the monthly sums again from the logs, each table in one INSERT … SELECT … GROUP BY (what
    migration 0004 does): for loaders that write logs without the services (the scale generator's COPY)."""
    MemberMonthHours.objects.all().delete()
    CommunityMonthHours.objects.all().delete()
    per_member = (
        ServiceLog.objects.filter(verified=True)
        .values("member_id", "member__residence_community_id", month=TruncMonth("date"))
        .annotate(total=Sum("hours"), count=Count("pk"))
        .order_by()
    )
    per_community = (
        MemberMonthHours.objects.values("community_id", "month")
        .annotate(total=Sum("hours"), count=Sum("services"))
        .order_by()
    )
    with connection.cursor() as cursor:
        for model, columns, query in (
            (MemberMonthHours, "member_id, community_id", per_member),
            (CommunityMonthHours, "community_id", per_community),
        ):
            select, params = query.query.sql_with_params()
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"INSERT INTO {table} ({columns}, month, hours, services) {select}", params)


def service_cards_send(*, quarter: Quarter | None = None) -> int:
    """一单一表一卡 goes out: at the quarter's close each work unit's liaisons are told its members' service
    card is ready, with the link. Once per unit and quarter (the notification's kind is the marker), so a
    beat that fires twice or a retried task sends nothing twice. Returns the number of units told."""
    quarter = quarter or Quarter.current().previous()
    prefix = f"service_card:{quarter}:"
    told = {
        int(kind.rsplit(":", 1)[1])
        for kind in Notification.objects.filter(kind__startswith=prefix).values_list("kind", flat=True).distinct()
    }
    unit_ids = set(selectors.work_units_with_card(quarter=quarter)) - told
    liaisons: dict[int, list] = {}
    for membership in member_selectors.liaisons_of_units(unit_ids=unit_ids):
        liaisons.setdefault(membership.unit_id, []).append(membership.user)
    sent = 0
    for unit_id, users in sorted(liaisons.items()):
        url = reverse("portal:unit_service_card", args=[unit_id]) + f"?year={quarter.year}&quarter={quarter.quarter}"
        with transaction.atomic():
            notify_many(
                users,
                subject=_("Your members' service card for %(year)d Q%(quarter)d")
                % {"year": quarter.year, "quarter": quarter.quarter},
                body=_(
                    "The communities where your unit's in-service Party members live have recorded what they did "
                    "this quarter (一单一表一卡). Open the card to see each member's verified hours."
                ),
                url=url,
                kind=f"{prefix}{unit_id}",
                by_sms=False,
            )
        sent += 1
    return sent

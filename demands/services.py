"""Every write of the demands app: the need's workflow, ratings, showcase, resources, and the scans.

Each transition locks the need (`alliance.workflow.move`), writes a timeline row in the same transaction
and tells whoever must act next, after commit."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connections, router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alliance import history, permissions, public_figures, ratelimit
from alliance.errors import Conflict, InvalidInput, PermissionDenied, RateLimited, TransitionNotAllowed
from alliance.models import Notification
from alliance.notifications import message, notify, notify_each, notify_many, queue_delivery
from alliance.periods import ZONE
from alliance.workflow import move, refuse_other_fields, update, with_history
from members import selectors as member_selectors
from members.models import MemberUnit

from . import selectors
from .models import Booking, Need, NeedEvent, NeedPhoto, NeedSlaFlag, Resource, Venue, VenueClosure

logger = logging.getLogger(__name__)

S = Need.Status
# Read aloud over the phone: no 0/O, 1/I/L. 31 symbols, 13 of them: 64 bits from `secrets`.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 13
SUBMIT_FIELDS = ("kind", "community", "category", "title", "description", "contact_name", "contact_phone", "address")
EDIT_FIELDS = ("kind", "category", "title", "description", "contact_name", "contact_phone", "address")
MAX_PHOTOS = 6


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def format_tracking_code(code: str) -> str:
    """ABCD-EFGH-JKMNP: easier to read aloud and to copy by hand."""
    return "-".join(code[i : i + 4] for i in range(0, 8, 4)) + "-" + code[8:]


def _event(need: Need, *, actor, source: str, target: str, note: str = "") -> NeedEvent:
    return NeedEvent.objects.create(
        need=need,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=source,
        to_status=target,
        note=note[:500],
    )


def _track_url() -> str:
    return reverse("needs:track")


def _tell_resident(need: Need, text: str) -> None:
    """Residents have no account: a text message to the phone they gave, with the tracking code and
    nothing else of theirs in it."""
    notify(
        phone=need.contact_phone,
        email="",
        subject=_("Your need %(code)s") % {"code": format_tracking_code(need.tracking_code)},
        body=text,
        url=_track_url(),
        kind=f"need_resident:{need.status}",
    )


def _tell_staff(need: Need, subject: str, body: str, kind: str, *, digest: bool = False) -> None:
    notify_many(
        member_selectors.staff_of_community(community_id=need.community_id),
        subject=subject,
        body=body,
        url=reverse("admin:demands_need_change", args=[need.pk]),
        kind=kind,
        by_sms=False,
        digest=digest,
    )


def _tell_unit(need: Need, unit: MemberUnit, subject: str, body: str, kind: str) -> None:
    notify_many(
        [m.user for m in member_selectors.memberships_of_unit(unit=unit)],
        subject=subject,
        body=body,
        url=reverse("portal:need_detail", args=[need.pk]),
        kind=kind,
    )


def _require_staff(actor, need: Need) -> None:
    permissions.require_change(actor, need)  # 404 when not visible, 403 when visible to a liaison


def _require_liaison(actor, need: Need) -> None:
    permissions.require_ability(
        actor, "demands.act_for_need", need, _("Only the liaison of the unit the need is dispatched to may do this.")
    )


# --- Submitting -----------------------------------------------------------------------------------


def need_submit(
    *, data: dict[str, Any], channel: str = Need.Channel.WEB, actor=None, filed_by_unit: MemberUnit | None = None
) -> Need:
    """A resident (public form, API) or staff on a resident's behalf (phone call, visit) records a need.

    The busiest write of the public side, kept to what it must write (tests/demands/test_public.py counts
    it): after reading who the community's staff are (one query, before the write), the need, its history
    row, its first timeline event and the notifications — on PostgreSQL in ONE statement, which outside a
    transaction is its own (no BEGIN and COMMIT round trips; `_submit_in_one_statement`), elsewhere saved
    one after another in a transaction. Delivery and the public figures' mark happen after commit. `data`
    carries the community and category as the caller looked them up (a form's or serializer's choice
    field), so their existence is not asked again here, and the model's check constraints are left to the
    database: a new submitted need cannot break them."""
    unknown = set(data) - set(SUBMIT_FIELDS)
    if unknown:
        raise InvalidInput(_("Unexpected fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    staff = actor is not None and getattr(actor, "is_authenticated", False)
    if staff and not permissions.can_add(actor, Need):
        raise PermissionDenied(_("Only staff may enter needs on a resident's behalf."))
    # `filed_by_unit` is never part of `data`: only need_file_for_unit, past its liaison check, names one.
    need = Need(**data, channel=channel, created_by=actor if staff else None, filed_by_unit=filed_by_unit)
    if staff and not permissions.has_ability(actor, "demands.staff_for_need", need):
        raise PermissionDenied(_("You may not enter needs for a community you do not work for."))
    if not staff and need.kind == Need.Kind.MICRO_WISH:
        need.kind = Need.Kind.RESIDENT  # micro-wishes are entered by community staff
    need.full_clean(exclude=["tracking_code", "community", "category"], validate_constraints=False)
    told = member_selectors.staff_to_tell(community_id=need.community_id)
    with_history(need, actor, "submitted")
    connection = connections[router.db_for_write(Need)]
    one_statement = connection.vendor == "postgresql"
    # 64 random bits: a clash is practically impossible, but the unique index has the last word. The
    # whole write is tried again on a clash (no savepoint around the INSERT on the common path).
    attempts = 5
    for attempt in range(1, attempts + 1):
        need.tracking_code = new_tracking_code()
        try:
            rows = (
                _submit_in_one_statement(need, actor=actor, staff=told, connection=connection)
                if one_statement
                else None
            )
            if rows is None:
                with transaction.atomic():
                    rows = _submit(need, actor=actor, staff=told)
            break
        except IntegrityError:
            need.pk = None
            if attempt == attempts or not Need.objects.filter(tracking_code=need.tracking_code).exists():
                raise
    # After commit (at once when the write was its own transaction; else when the caller's commits).
    queue_delivery(rows)
    public_figures.changed()
    return need


def _submit_notices(need: Need, *, staff: list, staff_url) -> list[Notification]:
    """The unsaved notifications of a submission: the community's staff (at once: the 2-day dispatch clock
    starts now, and dispatching is what staff do each day) and the resident (the tracking code)."""
    code = format_tracking_code(need.tracking_code)
    staff_text = {
        "subject": _("New need in %(community)s") % {"community": need.community.name},
        "body": _("%(title)s (%(category)s) is waiting to be dispatched.")
        % {"title": need.title, "category": need.category.name},
        "url": staff_url,
        "kind": "need_submitted",
        "by_sms": False,
    }
    return [
        *(message(recipient=user, **staff_text) for user in staff),
        message(
            phone=need.contact_phone,
            email="",
            subject=_("Your need %(code)s") % {"code": code},
            body=_("We have received your need. Tracking code: %(code)s.") % {"code": code},
            url=_track_url(),
            kind=f"need_resident:{need.status}",
        ),
    ]


def _submit(need: Need, *, actor, staff: list) -> list[Notification]:
    """The submission's rows through the ORM, in the caller's transaction (SQLite; the reference the
    one-statement path is tested against)."""
    need.save()
    _event(need, actor=actor, source="", target=S.SUBMITTED, note=need.get_channel_display())
    url = reverse("admin:demands_need_change", args=[need.pk])
    return Notification.objects.bulk_create(_submit_notices(need, staff=staff, staff_url=url))


# Stands for the new need's id in the staff's link while the row is written: the database puts in the id it
# draws for the need (the admin's URL for a need is its id between a fixed prefix and suffix).
_URL_ID = "918273645546372819"
# The one statement of a submission, per database alias: composed once per process from the models.
_submit_statements: dict[str, tuple[str, list[list]] | None] = {}


def _submit_statement(connection) -> tuple[str, list[list]] | None:
    """The submission's statement for `connection` and the fields of its four INSERTs (the need, its history
    row, its first event, the notifications), each reading its rows from one JSON parameter; None when a
    model has columns JSON cannot carry exactly (then the ORM writes them)."""
    if connection.alias in _submit_statements:
        return _submit_statements[connection.alias]
    historical = history.historical_model(Need)
    models = [Need, historical, NeedEvent, Notification]
    fields = [[f for f in model._meta.local_concrete_fields if not f.generated] for model in models]
    # The need's id is written (drawn at the top), the others' are the database's.
    fields[1:] = [[f for f in group if not f.primary_key] for group in fields[1:]]
    own = {f.attname for f in fields[1]} - {f.attname for f in historical.tracked_fields}
    new_id = "(SELECT id FROM new_need)"
    given = [
        {Need._meta.pk: new_id},
        {historical._meta.get_field(Need._meta.pk.name): new_id},
        {NeedEvent._meta.get_field("need"): new_id},
        # The staff's link: the marker replaced by the id (the resident's link has none).
        {Notification._meta.get_field("url"): f"replace((r->>{{i}})::text, '{_URL_ID}', {new_id}::text)"},
    ]
    usable = own == {"history_date", "history_change_reason", "history_type", "history_user_id"} and all(
        history.json_safe(f) for group in fields for f in group
    )
    statement = None
    if usable:
        inserts = []
        for model, group, replaced in zip(models, fields, given, strict=True):
            replaced = {f: sql.format(i=group.index(f)) for f, sql in replaced.items()}
            inserts.append(history.json_insert_sql(model, group, connection, given=replaced))
        sequence = connection.ops.quote_name(Need._meta.db_table).replace("'", "''")
        # The columns the database computes (waiting_since) come back, as `save()` reads them back.
        generated_sql = ", ".join(connection.ops.quote_name(f.column) for f in _generated(Need)) or "1"
        statement = (
            f"WITH new_need AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{sequence}', "
            f"'{Need._meta.pk.column}')) AS id), "
            f"w0 AS ({inserts[0]} RETURNING {generated_sql}), w1 AS ({inserts[1]}), w2 AS ({inserts[2]}), "
            f"told AS ({inserts[3]} RETURNING id) "
            "SELECT told.id, (SELECT id FROM new_need), w0.* FROM told, w0 ORDER BY told.id"
        )
        statement = (statement, fields)
    _submit_statements[connection.alias] = statement
    return statement


def _generated(model) -> list:
    return [f for f in model._meta.local_concrete_fields if f.generated]


def _submit_in_one_statement(need: Need, *, actor, staff: list, connection) -> list[Notification] | None:
    """The rows `_submit` writes — the need, its history row (`history.history_row`, as simple_history
    makes it), its first timeline event, the notifications — as ONE statement on PostgreSQL: four INSERTs
    joined as the parts of a `WITH`, the need's id drawn from its sequence once at the top and referenced
    by the others, each INSERT's rows in one JSON parameter (the statement's text is the same for every
    submission: psycopg converts it once). Outside a transaction the statement is its own: one round trip
    where the ORM made six (BEGIN, four INSERTs, COMMIT); inside one (a caller's atomic block) a savepoint
    keeps a clash retryable. The foreign keys are checked when it commits, as for `save()`. None when the
    statement cannot be composed for these models (the caller saves through the ORM)."""
    composed = _submit_statement(connection)
    if composed is None:
        return None
    statement, (need_fields, history_fields, event_fields, notice_fields) = composed
    need_row = [f.pre_save(need, True) for f in need_fields]  # `auto_now_add` sets the times on the need
    row = history.history_row(need)
    event = NeedEvent(
        need=need,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status="",
        to_status=S.SUBMITTED,
        note=need.get_channel_display()[:500],
    )
    staff_url = reverse("admin:demands_need_change", args=[_URL_ID])
    notices = _submit_notices(need, staff=staff, staff_url=staff_url)
    rows = [
        [need_row],
        [[getattr(row, f.attname) for f in history_fields]] if row is not None else [],
        [[f.pre_save(event, True) for f in event_fields]],
        [[f.pre_save(notice, True) for f in notice_fields] for notice in notices],
    ]
    params = []
    for group, fields in zip(rows, composed[1], strict=True):
        history.to_database(group, fields, connection)
        params.append(history.json_rows(group))
    atomic = transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext()
    with atomic, connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    need.pk = found[0][1]
    for field, value in zip(_generated(Need), found[0][2:], strict=False):
        setattr(need, field.attname, value)
    need._state.adding, need._state.db = False, connection.alias
    for notice, (notice_id, *_need) in zip(notices, found, strict=True):
        notice.pk, notice.url = notice_id, notice.url.replace(_URL_ID, str(need.pk))
        notice._state.adding, notice._state.db = False, connection.alias
    return notices


def need_update(*, need: Need, actor, data: dict[str, Any]) -> Need:
    """Staff correct what a need says (not where it stands: that is the workflow's)."""
    _require_staff(actor, need)
    refuse_other_fields(data, EDIT_FIELDS)
    if need.anonymised_at is not None:
        # Nothing to correct in a record kept for the figures, and its contact data must not come back.
        raise Conflict(
            _("The contact data of this need was removed after the retention period; it can no longer be changed.")
        )
    with transaction.atomic():
        public_figures.changed()
        return update(need, data=data, actor=actor)


# --- The workflow ---------------------------------------------------------------------------------


def need_dispatch(*, need: Need, unit: MemberUnit, actor, resource: Resource | None = None, note: str = "") -> Need:
    """社区派单: staff hand a submitted need to a unit (or to a resource's unit)."""
    _require_staff(actor, need)
    if resource is not None:
        if resource.status != Resource.Status.ACTIVE:
            raise InvalidInput(_("This resource has been withdrawn."))
        unit = resource.unit
    if unit is None or unit.status != MemberUnit.Status.ACTIVE:
        raise InvalidInput(_("Needs can be dispatched only to active member units."))
    with transaction.atomic():
        need = move(
            need,
            action="dispatch",
            actor=actor,
            reason="dispatched",
            unit=unit,
            resource=resource,
            dispatched_at=timezone.now(),
        )
        _event(need, actor=actor, source=S.SUBMITTED, target=S.DISPATCHED, note=note or unit.name)
        _tell_unit(
            need,
            unit,
            _("A need has been dispatched to %(unit)s") % {"unit": unit.name},
            _("%(title)s (%(community)s). Please accept it or decline it with a reason within 2 working days.")
            % {"title": need.title, "community": need.community.name},
            "need_dispatched",
        )
        _tell_resident(need, _("Your need has been passed to %(unit)s.") % {"unit": unit.name})
    return need


def need_accept(*, need: Need, actor) -> Need:
    """单位接单: the unit's liaison takes the need on."""
    _require_liaison(actor, need)
    with transaction.atomic():
        need = move(
            need,
            action="accept",
            actor=actor,
            reason="accepted",
            accepted_at=timezone.now(),
        )
        _event(need, actor=actor, source=S.DISPATCHED, target=S.ACCEPTED)
        _tell_resident(need, _("%(unit)s has taken on your need.") % {"unit": need.unit.name})
    return need


def need_decline(*, need: Need, actor, reason: str) -> Need:
    """The unit cannot do it: the need goes back to the community to be dispatched again."""
    _require_liaison(actor, need)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please say why the unit declines the need."))
    with transaction.atomic():
        unit = need.unit
        need = move(
            need,
            action="decline",
            actor=actor,
            reason="declined",
            unit=None,
            resource=None,
            dispatched_at=None,
        )
        _event(need, actor=actor, source=S.DISPATCHED, target=S.SUBMITTED, note=reason)
        # The next dispatch starts the acceptance clock again, and may be flagged again.
        NeedSlaFlag.objects.filter(need=need, stage=NeedSlaFlag.Stage.ACCEPT).delete()
        # At once: the need is back in the queue and its resident is still waiting.
        _tell_staff(
            need,
            _("%(unit)s declined a need") % {"unit": unit.name},
            _("%(title)s was declined: %(reason)s. Please dispatch it again.")
            % {"title": need.title, "reason": reason},
            "need_declined",
        )
    return need


def need_complete(*, need: Need, actor, result: str, photos: Iterable[UploadedFile] = ()) -> Need:
    """The unit reports what it did; the resident is asked to rate it."""
    _require_liaison(actor, need)
    result = (result or "").strip()
    if not result:
        raise InvalidInput(_("Please describe what was done."))
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("At most %(count)d photos.") % {"count": MAX_PHOTOS})
    # Every photo is checked before anything is written, so a refused one leaves no files behind.
    items = [NeedPhoto(need=need, image=photo) for photo in photos]
    for item in items:
        item.full_clean(exclude=["need"])
    completed_at, dispatched_at = timezone.now(), need.dispatched_at
    with transaction.atomic():
        public_figures.changed()
        need = move(
            need,
            action="complete",
            actor=actor,
            reason="completed",
            result=result[:2000],
            completed_at=completed_at,
            completed_in_time=selectors.completed_in_time(dispatched_at=dispatched_at, completed_at=completed_at),
        )
        if need.dispatched_at != dispatched_at:  # declined and dispatched again since the caller read it
            need.completed_in_time = selectors.completed_in_time(
                dispatched_at=need.dispatched_at, completed_at=completed_at
            )
            need.save(update_fields=["completed_in_time"])
        for item in items:
            item.need = need
            item.save()
        _event(need, actor=actor, source=S.ACCEPTED, target=S.COMPLETED, note=result[:200])
        _tell_resident(
            need,
            _("Your need has been completed by %(unit)s. Please rate the result with your tracking code.")
            % {"unit": need.unit.name},
        )
    return need


def need_take_on_wish(*, need: Need, claimant, note: str = "") -> Need:
    """A Party member takes on a micro-wish (微心愿): submitted → accepted, in the member's name. The
    volunteers app decides who may (a verified member of the wish's community) and calls this."""
    if need.kind != Need.Kind.MICRO_WISH:
        raise InvalidInput(_("Only micro-wishes are taken on by Party members."))
    with transaction.atomic():
        need = move(
            need,
            action="take_wish",
            actor=claimant,
            reason="wish taken on",
            claimed_by=claimant,
            accepted_at=timezone.now(),
        )
        _event(need, actor=claimant, source=S.SUBMITTED, target=S.ACCEPTED, note=note)
        _tell_staff(
            need,
            _("A micro-wish has been taken on"),
            _("%(title)s has been taken on by an in-service Party member.") % {"title": need.title},
            "wish_taken",
            # Digest: news, nothing for staff to do (the member and the resident are in touch).
            digest=True,
        )
        _tell_resident(need, _("A Party member of your community has taken on your wish."))
    return need


def need_complete_wish(*, need: Need, actor, result: str) -> Need:
    """The member who took on a micro-wish reports it fulfilled."""
    permissions.require_ability(
        actor, "demands.claimant_of_need", need, _("Only the member who took on the wish may complete it.")
    )
    result = (result or "").strip()
    if not result:
        raise InvalidInput(_("Please describe what was done."))
    with transaction.atomic():
        public_figures.changed()
        need = move(
            need,
            action="complete_wish",
            actor=actor,
            reason="wish completed",
            result=result[:2000],
            completed_at=timezone.now(),
        )
        _event(need, actor=actor, source=S.ACCEPTED, target=S.COMPLETED, note=result[:200])
        _tell_resident(need, _("Your wish has been fulfilled. Please rate it with your tracking code."))
    return need


def need_rate(*, need: Need, rating: int, comment: str = "") -> Need:
    """The resident rates the result; that closes the need."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_("Please rate from 1 to 5 stars."))
    with transaction.atomic():
        public_figures.changed()
        need = move(
            need,
            action="rate",
            reason="rated",
            rating=rating,
            rating_comment=(comment or "").strip()[:300],
            closed_at=timezone.now(),
        )
        _event(need, actor=None, source=S.COMPLETED, target=S.CLOSED, note=_("rated %(rating)d") % {"rating": rating})
        if need.unit is not None:
            _tell_unit(
                need,
                need.unit,
                _("A resident rated your work"),
                _("%(title)s: %(rating)d of 5.") % {"title": need.title, "rating": rating},
                "need_rated",
            )
    return need


def need_reject(*, need: Need, actor, reason: str) -> Need:
    """Staff turn a need down (outside the alliance's remit, a duplicate, …). Final."""
    _require_staff(actor, need)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for rejecting the need."))
    with transaction.atomic():
        public_figures.changed()
        need = move(
            need,
            action="reject",
            actor=actor,
            reason="rejected",
            reject_reason=reason[:300],
            rejected_at=timezone.now(),
        )
        _event(need, actor=actor, source=need._status_before, target=S.REJECTED, note=reason)
        _tell_resident(need, _("Your need could not be taken on: %(reason)s") % {"reason": reason})
    return need


def need_showcase(*, need: Need, actor) -> Need:
    """晒单: staff show a completed need on the public showcase."""
    _require_staff(actor, need)
    with transaction.atomic():
        public_figures.changed()
        need = Need.objects.select_for_update().get(pk=need.pk)
        if need.status not in selectors.DONE:
            raise TransitionNotAllowed(
                _("Only completed needs can be showcased; this need is %(status)s.")
                % {"status": need.get_status_display()}
            )
        if need.showcased_at is None:
            need.showcased_at = timezone.now()
            with_history(need, actor, "showcased").save(update_fields=["showcased_at", "updated_at"])
    return need


def need_unshowcase(*, need: Need, actor) -> Need:
    _require_staff(actor, need)
    with transaction.atomic():
        public_figures.changed()
        need = Need.objects.select_for_update().get(pk=need.pk)
        need.showcased_at = None
        with_history(need, actor, "unshowcased").save(update_fields=["showcased_at", "updated_at"])
    return need


# --- The scans (beat) -----------------------------------------------------------------------------


def needs_close_expired() -> int:
    """Completed needs nobody rated close themselves after 7 days."""
    closed = 0
    for pk in selectors.due_for_auto_close().values_list("pk", flat=True):
        try:
            with transaction.atomic():
                need = move(
                    Need(pk=pk),
                    action="close",
                    reason="closed automatically",
                    closed_at=timezone.now(),
                )
                _event(
                    need, actor=None, source=S.COMPLETED, target=S.CLOSED, note=_("closed automatically after 7 days")
                )
            closed += 1
        except TransitionNotAllowed:
            continue  # rated in the meantime
    return closed


def needs_anonymise_expired(*, batch_size: int = 500) -> int:
    """PIPL art. 19, kept no longer than needed: RESIDENT_DATA_RETENTION_DAYS after a need ended (closed or
    rejected), its contact name, phone and address are emptied — in the need, in every history row of it,
    and in the text messages that were sent to that phone. The need, its category, community, status,
    timeline and rating stay for the figures; following it by tracking code stops working (no phone
    digits to match), which is the point.

    In chunks read from the front of an index (selectors.due_for_anonymisation), each in its own
    transaction with the rows locked, so that it runs through a million needs without holding them all,
    and two runs at once anonymise each need once (measured on PostgreSQL 15 with 1 M needs: 300,000 due
    needs in about 4 minutes; a day's share, or nothing due, in milliseconds). Returns how many needs it
    anonymised; a second run finds nothing to do."""
    cutoff = timezone.now() - timedelta(days=settings.RESIDENT_DATA_RETENTION_DAYS)
    done = 0
    for due in selectors.due_for_anonymisation(cutoff=cutoff):
        done += _anonymise_chunks(due, cutoff=cutoff, batch_size=batch_size)
    return done


def _anonymise_chunks(due, *, cutoff, batch_size: int) -> int:
    done = 0
    while True:
        pks = list(due.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return done
        with transaction.atomic():
            # Re-read under the lock: a concurrent run may have done these already.
            needs = list(Need.objects.select_for_update().filter(pk__in=pks, anonymised_at__isnull=True).order_by("pk"))
            if not needs:
                continue
            ids = [need.pk for need in needs]
            phones = {need.contact_phone for need in needs if need.contact_phone}
            now = timezone.now()
            blank = {"contact_name": "", "contact_phone": "", "address": ""}
            Need.objects.filter(pk__in=ids).update(**blank, anonymised_at=now)
            Need.history.filter(id__in=ids).update(**blank)
            # One more history row per need, itself without contact data, saying when and why it went.
            for need in needs:
                for field, value in blank.items():
                    setattr(need, field, value)
                need.anonymised_at = now
            history.bulk_create_records(Need, needs, reason="contact data removed after the retention period")
            # Residents' messages (no account: addressed by phone alone) sent before the cutoff. Messages to
            # an account keep its phone, which its owner keeps in their profile.
            if phones:
                resident_messages = Notification.objects.filter(
                    recipient__isnull=True, phone__in=phones, created_at__lt=cutoff
                )
                resident_messages.filter(status=Notification.Status.PENDING).update(
                    status=Notification.Status.CANCELLED
                )
                resident_messages.update(phone="", email="")
            done += len(needs)


def needs_flag_overdue() -> int:
    """The service-level clock: flag needs that waited too long and tell each community's staff about its
    newly flagged needs ONCE per scan and stage — how many, with a link to the community's overdue list —
    not once per need (a backlog of 300 needs is one message, not 300). At once, not in the digest: these
    needs missed their service level and want action today. The unique flag row decides which needs are
    new, so a repeated or concurrent scan flags and tells nobody twice. Returns how many needs it flagged."""
    flagged = 0
    for stage in NeedSlaFlag.Stage:
        by_community: dict[int, list[int]] = {}
        for pk, community_id in selectors.due_for_sla_flag(stage).values_list("pk", "community_id"):
            by_community.setdefault(community_id, []).append(pk)
        names = dict(member_selectors.communities_public().filter(pk__in=by_community).values_list("pk", "name"))
        for community_id, pks in sorted(by_community.items()):
            with transaction.atomic():
                count = _raise_flags(pks, stage)
                if count:
                    _tell_staff_overdue(community_id, names.get(community_id, ""), stage, count)
            flagged += count
    return flagged


def _raise_flags(pks: list[int], stage: str) -> int:
    """Flag these needs for `stage` (one INSERT); when a concurrent scan flagged some of them first, only
    those it did not. Returns how many flags this call raised."""
    try:
        with transaction.atomic():
            NeedSlaFlag.objects.bulk_create(NeedSlaFlag(need_id=pk, stage=stage) for pk in pks)
        return len(pks)
    except IntegrityError:
        pass
    raised = 0
    for pk in pks:
        try:
            with transaction.atomic():
                NeedSlaFlag.objects.create(need_id=pk, stage=stage)
            raised += 1
        except IntegrityError:
            continue  # another scan flagged it first, and tells about it
    return raised


def _tell_staff_overdue(community_id: int, community: str, stage: str, count: int) -> None:
    if stage == NeedSlaFlag.Stage.DISPATCH:
        body = ngettext(
            "%(count)d need in %(community)s has waited more than 2 working days to be dispatched.",
            "%(count)d needs in %(community)s have waited more than 2 working days to be dispatched.",
            count,
        )
    else:
        body = ngettext(
            "%(count)d need in %(community)s was dispatched more than 2 working days ago and is not accepted yet.",
            "%(count)d needs in %(community)s were dispatched more than 2 working days ago and are not accepted yet.",
            count,
        )
    # The community's needs still overdue at this stage: the list staff work through.
    query = urlencode({"flag": stage, "overdue": "yes", "community__id__exact": community_id})
    url = f"{reverse('admin:demands_need_changelist')}?{query}"
    subject = ngettext("%(count)d overdue need", "%(count)d overdue needs", count) % {"count": count}
    text = body % {"count": count, "community": community}
    notify_each(
        {
            "recipient": user,
            "subject": subject,
            "body": text,
            "url": url,
            "kind": f"need_overdue:{stage}",
            "by_sms": False,
        }
        for user in member_selectors.staff_of_community(community_id=community_id)
    )


# --- Resources ------------------------------------------------------------------------------------

RESOURCE_FIELDS = ("unit", "category", "kind", "title", "description", "capacity", "availability", "is_free")


def resource_create(*, actor, data: dict[str, Any]) -> Resource:
    resource = Resource(**data)
    if resource.unit_id is None:
        raise InvalidInput(_("Choose the unit that offers the resource."))
    if not permissions.can_add(actor, Resource) or not permissions.can_change(actor, resource):
        raise PermissionDenied(_("You may publish resources only for your own unit."))
    resource.full_clean()
    with transaction.atomic():
        public_figures.changed()
        with_history(resource, actor, "published").save()
        _venue_of(resource, actor)
    return resource


def resource_update(*, resource: Resource, actor, data: dict[str, Any]) -> Resource:
    permissions.require_change(actor, resource)
    refuse_other_fields(data, set(RESOURCE_FIELDS) - {"unit"})
    with transaction.atomic():
        public_figures.changed()
        resource = update(resource, data=data, actor=actor)
        _venue_of(resource, actor)
        return resource


def _venue_of(resource: Resource, actor) -> None:
    """A resource of kind venue is bookable from the moment its unit publishes it: its opening hours start
    as the model's defaults (08:30–17:30, Monday to Friday, shown to residents), which its liaisons change —
    and add closed days to — in the portal (venue_hours_update, venue_closure_add), staff in the admin.
    Without this row the venue would be in no list and take no request."""
    if resource.kind == Resource.Kind.VENUE and not Venue.objects.filter(pk=resource.pk).exists():
        with_history(Venue(resource=resource), actor, "venue opened for booking").save()


def resource_withdraw(*, resource: Resource, actor) -> Resource:
    permissions.require_change(actor, resource)
    with transaction.atomic():
        public_figures.changed()
        return move(
            resource,
            action="withdraw",
            actor=actor,
            reason="withdrawn",
        )


def resource_restore(*, resource: Resource, actor) -> Resource:
    permissions.require_change(actor, resource)
    with transaction.atomic():
        public_figures.changed()
        return move(
            resource,
            action="restore",
            actor=actor,
            reason="restored",
        )


# --- A unit's own needs ----------------------------------------------------------------------------

# The rate (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) of the needs one unit files through its liaisons.
UNIT_NEED_SCOPE = "unit_need_file"
UNIT_NEED_FIELDS = ("category", "title", "description", "contact_name", "contact_phone", "address")
# Who files a unit's own need: its liaisons. Pages ask `may_file_for_unit` before offering the form.
UNIT_NEED_ABILITY = "members.act_for_unit"


def may_file_for_unit(user, unit) -> bool:
    """Whether `need_file_for_unit` lets `user` file for `unit` (a MemberUnit or its id), as far as who
    they are goes: whether the unit is active, or its allowance used up, is told when they file."""
    return permissions.has_ability(user, UNIT_NEED_ABILITY, unit)


def may_file_unit_needs(user) -> bool:
    """Whether to offer "file my unit's need" (links): `may_file_for_unit` for one of the units the user
    holds an account at (their ids are kept on the user object: no query once the request has read them)."""
    return any(may_file_for_unit(user, unit_id) for unit_id in permissions.units_of(user))


def need_file_for_unit(*, unit: MemberUnit, actor, data: dict[str, Any], channel: str = Need.Channel.API) -> Need:
    """单位需求: a unit's liaison files a need of the unit itself (kind "unit") in the unit's community.

    Through the API (the default `channel`) or the portal's form (`Need.Channel.WEB`), the same way as the
    public need form (`need_submit`: the tracking code, the first timeline row, the community staff's
    message, the public figures), written in the liaison's name. The contact is the unit's liaison on
    record unless another one is given. The need records the unit (`filed_by_unit`): all its liaisons
    follow it (NeedRules.visible).

    At most UNIT_NEED_SCOPE's rate per unit (30 an hour unless UNIT_NEED_FILE_RATE says otherwise): the
    public form's limits count per client address, which a liaison's script would not run into. Counted
    after the liaison check (nobody else can use up a unit's allowance) and given back when the need is not
    stored."""
    permissions.require_ability(actor, UNIT_NEED_ABILITY, unit, _("You may file needs only for your own unit."))
    refuse_other_fields(data, UNIT_NEED_FIELDS)
    if unit.status != MemberUnit.Status.ACTIVE:
        raise InvalidInput(_("Only active member units may file needs."))
    subject = f"unit:{unit.pk}"
    if not ratelimit.allow_subject(UNIT_NEED_SCOPE, subject):
        count, window = ratelimit.rate_for(UNIT_NEED_SCOPE)
        text = ngettext(
            "%(unit)s has filed %(count)d need within %(minutes)d minutes, as many as a unit may. "
            "Please try again later.",
            "%(unit)s has filed %(count)d needs within %(minutes)d minutes, as many as a unit may. "
            "Please try again later.",
            count,
        )
        minutes = max(1, -(-window // 60))
        raise RateLimited(text % {"unit": unit.name, "count": count, "minutes": minutes}, retry_after=window)
    given = {name: value for name, value in data.items() if value not in ("", None)}
    data = {
        "address": "",
        "contact_name": unit.liaison_name,
        "contact_phone": unit.liaison_phone,
        **given,
        "kind": Need.Kind.UNIT,
        "community": unit.community,
    }
    try:
        with history.acting(actor, "filed by the unit"):
            return need_submit(data=data, channel=channel, filed_by_unit=unit)
    except Exception:  # not stored, whatever the reason: the unit's allowance is given back
        ratelimit.refund_subject(UNIT_NEED_SCOPE, subject)
        raise


# --- Shared venues (免费开放场所) ------------------------------------------------------------------

# How far ahead a venue may be booked, and the step bookings keep to (what the week view draws).
BOOK_AHEAD = timedelta(days=60)
BOOKING_STEP_MINUTES = 30


VENUE_FIELDS = ("opens_at", "closes_at", "weekdays", "is_public")


def venue_save(*, venue: Venue, actor) -> Venue:
    """Set a venue resource's opening hours, days and public listing (its unit's liaison or staff): the
    admin's path, with the changed instance. Refused, like the portal's, when it would leave a booking
    outside the hours."""
    if venue.resource.kind != Resource.Kind.VENUE:
        raise InvalidInput(_("Only a resource of kind venue can be booked."))
    permissions.require_change(actor, venue)  # VenueRules: whoever may change the resource
    venue.full_clean()
    with transaction.atomic():
        # The row lock orders this against booking_approve (which takes the same lock).
        Venue.objects.select_for_update().filter(pk=venue.pk).first()
        _refuse_stranded(venue)
        with_history(venue, actor, "venue hours set").save()
    return venue


def venue_hours_update(*, venue: Venue, actor, data: dict[str, Any]) -> Venue:
    """The owning unit's liaison (or staff over it) sets the opening hours, days and public listing.
    Refused whole, nothing saved, when a pending or approved booking to come would fall outside them."""
    permissions.require_change(actor, venue)
    refuse_other_fields(data, VENUE_FIELDS)
    with transaction.atomic():
        # A fresh, locked copy: on refusal the caller's instance is as it was.
        locked = Venue.objects.select_for_update().select_related("resource").get(pk=venue.pk)
        for name, value in data.items():
            setattr(locked, name, value)
        locked.full_clean()
        _refuse_stranded(locked)
        with_history(locked, actor, "venue hours set").save()
    return locked


def venue_closure_add(*, venue: Venue, actor, date, note: str = "") -> VenueClosure:
    """A closed day (a holiday, repairs) from today on; refused when a booking holds that day."""
    permissions.require_change(actor, venue)
    if date is None:
        raise InvalidInput(_("Choose the day the venue is closed."))
    if date < timezone.localdate(timezone=ZONE):
        raise InvalidInput(_("A closed day cannot be in the past."))
    with transaction.atomic():
        Venue.objects.select_for_update().filter(pk=venue.pk).first()
        if venue.closures.filter(date=date).exists():
            raise InvalidInput(_("%(date)s is already a closed day.") % {"date": date.isoformat()})
        _refuse_stranded(venue, closed={date})
        return VenueClosure.objects.create(venue=venue, date=date, note=(note or "").strip()[:100])


def venue_closure_remove(*, venue: Venue, actor, date) -> None:
    """The venue opens again on a day it was to be closed (its usual hours apply)."""
    permissions.require_change(actor, venue)
    deleted, _rows = VenueClosure.objects.filter(venue=venue, date=date).delete()
    if not deleted:
        raise InvalidInput(_("%(date)s is not a closed day of this venue.") % {"date": date})


def _refuse_stranded(venue: Venue, *, closed: set | frozenset = frozenset()) -> None:
    """Refuse (naming them) the change that would leave the venue's pending or approved bookings still to
    come outside its hours, off its days or on a closed day — `venue` as it would be, plus `closed` days.
    The owner declines or cancels them first, and the requesters are told then: a silent change would
    leave a group at a locked door. Pending ones count too: approving one does not check the hours again."""
    now = timezone.now()
    upcoming = selectors.bookings_of_venue(venue=venue, start=now, end=now + BOOK_AHEAD + timedelta(days=1))
    closed_days = set(closed) | selectors.venue_closed_days(
        venue=venue, first=timezone.localdate(now, ZONE), last=(now + BOOK_AHEAD + timedelta(days=1)).date()
    )
    stranded = []
    for booking in upcoming:
        start, end = timezone.localtime(booking.start, ZONE), timezone.localtime(booking.end, ZONE)
        if (
            not venue.opens_on(start.date())
            or start.date() in closed_days
            or start.time() < venue.opens_at
            or end.time() > venue.closes_at
        ):
            stranded.append(booking)
    if stranded:
        names = "; ".join(f"{_when_text(b)} {b.purpose} ({b.get_status_display()})" for b in stranded)
        raise Conflict(
            _(
                "The change would leave these bookings outside the venue's hours or on a closed day: "
                "%(bookings)s. Decline or cancel them first; their requesters are told."
            )
            % {"bookings": names}
        )


def _booking_checks(*, venue: Venue, start, end, people: int) -> None:
    """The shape of a request against the venue's rules; the overlap is checked under the venue's lock."""
    if start is None or end is None or end <= start:
        raise InvalidInput(_("The end must come after the start."))
    local_start, local_end = timezone.localtime(start, ZONE), timezone.localtime(end, ZONE)
    if local_start.date() != local_end.date():
        raise InvalidInput(_("A booking starts and ends on the same day."))
    if (local_start.minute % BOOKING_STEP_MINUTES, local_end.minute % BOOKING_STEP_MINUTES) != (0, 0) or (
        local_start.second or local_end.second or local_start.microsecond or local_end.microsecond
    ):
        raise InvalidInput(_("Bookings start and end on the hour or the half hour."))
    now = timezone.now()
    if start <= now:
        raise InvalidInput(_("A booking must start in the future."))
    if start > now + BOOK_AHEAD:
        raise InvalidInput(_("Venues are booked at most %(days)d days ahead.") % {"days": BOOK_AHEAD.days})
    day = local_start.date()
    if not venue.opens_on(day) or venue.closures.filter(date=day).exists():
        raise InvalidInput(_("The venue is closed on %(date)s.") % {"date": day.isoformat()})
    if local_start.time() < venue.opens_at or local_end.time() > venue.closes_at:
        raise InvalidInput(
            _("The venue is open from %(opens)s to %(closes)s.")
            % {"opens": venue.opens_at.strftime("%H:%M"), "closes": venue.closes_at.strftime("%H:%M")}
        )
    capacity = venue.resource.capacity
    if people < 1:
        raise InvalidInput(_("At least one person is expected."))
    if capacity and people > capacity:
        raise InvalidInput(_("The venue holds at most %(capacity)d people.") % {"capacity": capacity})


def _slot_taken() -> Conflict:
    return Conflict(_("This time is already booked. Choose another slot."))


def booking_request(
    *,
    venue: Venue,
    actor,
    start,
    end,
    purpose: str,
    people: int,
    unit: MemberUnit | None = None,
    community=None,
) -> Booking:
    """A community, a unit or a registered Party member asks for a slot. Refused at once when an approved
    booking already holds the time; otherwise it waits for the owner's answer."""
    if venue.resource.status != Resource.Status.ACTIVE:
        raise TransitionNotAllowed(_("This venue has been withdrawn and cannot be booked."))
    if not selectors.is_bookable(venue):  # its unit made the resource something other than a venue
        raise TransitionNotAllowed(_("This resource is no longer a venue and cannot be booked."))
    if not permissions.can_view(actor, venue):
        raise PermissionDenied(_("You may not book this venue."))
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(_("Say what the venue is for."))
    booking = Booking(
        venue=venue,
        requester=actor,
        unit=unit,
        community=community,
        start=start,
        end=end,
        purpose=purpose[:200],
        people=people,
    )
    if not permissions.has_ability(actor, "demands.request_booking", booking):
        raise PermissionDenied(
            _(
                "Venues are booked by communities, member units and registered in-service Party members: "
                "you may book for yourself, your own unit or the communities you work for."
            )
        )
    _booking_checks(venue=venue, start=start, end=end, people=people)
    with transaction.atomic():
        if selectors.overlapping_approved(venue=venue, start=start, end=end).exists():
            raise _slot_taken()
        with_history(booking, actor, "requested").save()
        _tell_deciders(booking)
    return booking


def _when_text(booking: Booking) -> str:
    start, end = timezone.localtime(booking.start, ZONE), timezone.localtime(booking.end, ZONE)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _tell_deciders(booking: Booking) -> None:
    venue = booking.venue
    owners = [m.user for m in member_selectors.memberships_of_unit(unit=venue.resource.unit) if m.user.is_active]
    # A venue with no liaison (the street's own) is decided by its street's staff: they are told, not every
    # street's staff of the district.
    street_id = venue.resource.unit.community.street_id
    notify_many(
        owners or list(member_selectors.street_staff_users(street_id=street_id)),
        subject=_("Venue booking requested: %(venue)s") % {"venue": venue.resource.title},
        body=_("%(venue)s, %(when)s, %(people)d people: %(purpose)s")
        % {
            "venue": venue.resource.title,
            "when": _when_text(booking),
            "people": booking.people,
            "purpose": booking.purpose,
        },
        url=reverse("portal:venue_week", args=[venue.pk]),
        kind="booking:pending",
    )


def _tell_requester(booking: Booking, subject: str, body: str) -> None:
    notify(
        recipient=booking.requester,
        subject=subject,
        body=body,
        url=reverse("portal:bookings"),
        kind=f"booking:{booking.status}",
    )


def booking_approve(*, booking: Booking, actor) -> Booking:
    """The owner approves. The venue's row is locked while the overlap is checked, so two approvals of
    one slot run one after the other and the second is refused; the database's exclusion constraint
    refuses what slipped past (PostgreSQL)."""
    permissions.require_ability(actor, "demands.decide_booking", booking)
    try:
        with transaction.atomic():
            Venue.objects.select_for_update().filter(pk=booking.venue_id).first()
            if selectors.overlapping_approved(
                venue=booking.venue, start=booking.start, end=booking.end, exclude_pk=booking.pk
            ).exists():
                raise _slot_taken()
            booking = move(
                booking, action="approve", actor=actor, reason="approved", decided_by=actor, decided_at=timezone.now()
            )
            _tell_requester(
                booking,
                _("Venue booked: %(venue)s") % {"venue": booking.venue.resource.title},
                _("Your booking of %(venue)s, %(when)s, is approved.")
                % {"venue": booking.venue.resource.title, "when": _when_text(booking)},
            )
    except IntegrityError as error:
        if "booking_no_overlap" in str(error):
            raise _slot_taken() from error
        raise
    return booking


def booking_decline(*, booking: Booking, actor, reason: str) -> Booking:
    permissions.require_ability(actor, "demands.decide_booking", booking)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for declining."))
    with transaction.atomic():
        booking = move(
            booking,
            action="decline",
            actor=actor,
            reason="declined",
            decided_by=actor,
            decided_at=timezone.now(),
            decline_reason=reason[:300],
        )
        _tell_requester(
            booking,
            _("Venue booking declined: %(venue)s") % {"venue": booking.venue.resource.title},
            _("Your booking of %(venue)s, %(when)s, was declined: %(reason)s")
            % {"venue": booking.venue.resource.title, "when": _when_text(booking), "reason": reason},
        )
    return booking


def booking_cancel(*, booking: Booking, actor) -> Booking:
    """The requester (or the owner) cancels: the slot is free again at once."""
    permissions.require_ability(actor, "demands.cancel_booking", booking)
    with transaction.atomic():
        booking = move(booking, action="cancel", actor=actor, reason="cancelled")
        if actor.pk != booking.requester_id:
            _tell_requester(
                booking,
                _("Venue booking cancelled: %(venue)s") % {"venue": booking.venue.resource.title},
                _("Your booking of %(venue)s, %(when)s, was cancelled by the venue.")
                % {"venue": booking.venue.resource.title, "when": _when_text(booking)},
            )
    return booking

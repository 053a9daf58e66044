"""Every write of the projects app: projects, the claim table, activities and commitment reviews.

Claiming the last place from many units at once gives exactly one winner: the claim locks the
project's row, counts on it, and raises `places_taken` in the same transaction; the check constraint
`places_taken <= places` is the database's backstop, the partial unique index on (project, unit) the
backstop against a unit claiming twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import history, permissions, public_figures
from alliance.errors import Conflict, InvalidInput, PermissionDenied
from alliance.notifications import notify_many
from alliance.periods import Quarter
from alliance.uploads import thumbnail_of
from alliance.workflow import move, refuse_other_fields, update, with_history
from members import selectors as member_selectors
from members.models import MemberUnit

from .models import ActivityPhoto, CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

P = ServiceProject.Status
C = ProjectClaim.Status
PROJECT_FIELDS = (
    "title",
    "category",
    "description",
    "street",
    "community",
    "starts_on",
    "ends_on",
    "places",
    "is_demonstration",
    "plaque_awarded_on",
)
ACTIVITY_FIELDS = ("date", "title", "place", "participants", "services", "beneficiaries", "hours")
MAX_PHOTOS = 9


class ProjectFull(Conflict):
    """All places of the project are taken (已满)."""


class AlreadyClaimed(Conflict):
    """The unit already holds a claim on the project."""


def _liaisons(unit: MemberUnit):
    return [m.user for m in member_selectors.memberships_of_unit(unit=unit)]


def _project_staff(project: ServiceProject):
    if project.community_id:
        return member_selectors.staff_of_community(community_id=project.community_id)
    return member_selectors.street_staff_users(street_id=project.street_id)


def _tell_unit(claim: ProjectClaim, subject: str, body: str, kind: str) -> None:
    notify_many(_liaisons(claim.unit), subject=subject, body=body, url=reverse("portal:claim_list"), kind=kind)


# --- Projects -------------------------------------------------------------------------------------


def _check_community_in_street(project: ServiceProject) -> None:
    if project.community_id and project.street_id and project.community.street_id != project.street_id:
        raise InvalidInput(_("The community is not in the project's street."))


def project_create(*, actor, data: dict[str, Any]) -> ServiceProject:
    refuse_other_fields(data, PROJECT_FIELDS)
    project = ServiceProject(**data)
    if not permissions.can_add(actor, ServiceProject) or not permissions.can_change(actor, project):
        raise PermissionDenied(_("You may create projects only for the communities you work for."))
    _check_community_in_street(project)
    project.full_clean()
    with transaction.atomic():
        with_history(project, actor, "created").save()
    return project


def project_update(*, project: ServiceProject, actor, data: dict[str, Any]) -> ServiceProject:
    """Change a project. Units that claimed it are told when its period changes."""
    refuse_other_fields(data, PROJECT_FIELDS)
    with transaction.atomic():
        # Decided on the stored row: an instance a form has changed may already carry a new community.
        before = ServiceProject.objects.select_for_update().get(pk=project.pk)
        permissions.require_change(actor, before)
        moved = ServiceProject(**{**{f: getattr(before, f) for f in ("street_id", "community_id")}, **data})
        if not permissions.can_change(actor, moved):
            raise PermissionDenied(_("You may not move a project to a community you do not work for."))
        _check_community_in_street(moved)
        # Checked under the lock: a claim may have taken a place since the caller read the project.
        if "places" in data and data["places"] < before.places_taken:
            raise InvalidInput(
                _("%(count)d places are already taken; the project cannot have fewer places.")
                % {"count": before.places_taken}
            )
        project = update(before, data=data, actor=actor)
        if (before.starts_on, before.ends_on) != (project.starts_on, project.ends_on):
            for claim in project.claims.filter(status__in=ProjectClaim.HOLDING).select_related("unit"):
                _tell_unit(
                    claim,
                    _("The period of %(project)s has changed") % {"project": project.title},
                    _("%(project)s now runs from %(start)s to %(end)s.")
                    % {"project": project.title, "start": project.starts_on, "end": project.ends_on},
                    "project_period_changed",
                )
    return project


def _project_move(project: ServiceProject, *, actor, action: str, reason: str) -> ServiceProject:
    permissions.require_change(actor, project)
    return move(project, action=action, actor=actor, reason=reason)


def project_open(*, project: ServiceProject, actor) -> ServiceProject:
    """Publish a draft on the claim table."""
    with transaction.atomic():
        public_figures.changed()
        return _project_move(project, actor=actor, action="open", reason="opened")


def project_start(*, project: ServiceProject, actor) -> ServiceProject:
    """Claims close; the work begins."""
    with transaction.atomic():
        return _project_move(project, actor=actor, action="start", reason="started")


def project_finish(*, project: ServiceProject, actor) -> ServiceProject:
    """The project ends: approved claims are completed, pending ones lapse, and the units are told."""
    with transaction.atomic():
        public_figures.changed()
        project = _project_move(project, actor=actor, action="finish", reason="finished")
        now = timezone.now()
        # Locked as they are read, so the action is chosen from the status `move` will find: an approval at
        # the same moment either lands first (the claim is completed) or waits and is refused (it lapsed).
        holding = project.claims.filter(status__in=ProjectClaim.HOLDING).select_related("unit")
        for claim in holding.select_for_update(of=("self",)):
            action = "complete" if claim.status == C.APPROVED else "lapse"
            move(claim, action=action, actor=actor, reason="project finished", decided_at=now)
            _tell_unit(
                claim,
                _("%(project)s has finished") % {"project": project.title},
                _("Thank you for your part in %(project)s.") % {"project": project.title},
                "project_finished",
            )
        ServiceProject.objects.filter(pk=project.pk).update(places_taken=0)
        history.record_update(ServiceProject, project.pk, actor=actor, reason="places released")
        project.places_taken = 0
    return project


# --- Claims ---------------------------------------------------------------------------------------


def claim_create(*, project: ServiceProject, unit: MemberUnit, commitment: str, actor) -> ProjectClaim:
    """认领: a unit's liaison claims a place on an open project with a written commitment."""
    if not permissions.has_ability(actor, "members.act_for_unit", unit):
        raise PermissionDenied(_("You may claim projects only for your own unit."))
    if not permissions.can_view(actor, project):
        raise Http404
    commitment = (commitment or "").strip()
    if not commitment:
        raise InvalidInput(_("Please write what the unit commits to do."))
    if unit.status != MemberUnit.Status.ACTIVE:
        raise InvalidInput(_("Only active member units may claim projects."))
    with transaction.atomic():
        # The lock serialises claimants of this project: each one counts what the last one left.
        locked = ServiceProject.objects.select_for_update().get(pk=project.pk)
        if locked.status != P.OPEN:
            raise Conflict(_("This project is not open for claims."))
        if ProjectClaim.objects.filter(
            project=locked, unit=unit, status__in=[*ProjectClaim.HOLDING, C.COMPLETED]
        ).exists():
            raise AlreadyClaimed(_("Your unit has already claimed this project."))
        if locked.places_taken >= locked.places:
            raise ProjectFull(_("All places of this project are taken."))
        try:
            with transaction.atomic():
                claim = ProjectClaim(project=locked, unit=unit, commitment=commitment[:2000], claimed_by=actor)
                with_history(claim, actor, "claimed").save()
                ServiceProject.objects.filter(pk=locked.pk).update(places_taken=F("places_taken") + 1)
                history.record_update(ServiceProject, locked.pk, actor=actor, reason="place taken")
        except IntegrityError as exc:  # the constraints: only reached if the lock above were bypassed
            if ProjectClaim.objects.filter(project=locked, unit=unit, status__in=ProjectClaim.HOLDING).exists():
                raise AlreadyClaimed(_("Your unit has already claimed this project.")) from exc
            raise ProjectFull(_("All places of this project are taken.")) from exc
        notify_many(
            _project_staff(locked),
            subject=_("New claim on %(project)s") % {"project": locked.title},
            body=_("%(unit)s claimed %(project)s: %(commitment)s")
            % {"unit": unit.name, "project": locked.title, "commitment": claim.commitment[:200]},
            url=reverse("admin:projects_projectclaim_change", args=[claim.pk]),
            kind="claim_created",
            by_sms=False,
            # Digest: approving has no deadline, and a popular project draws claims by the dozen.
            digest=True,
        )
    return claim


def _release_place(claim: ProjectClaim, *, actor) -> None:
    released = ServiceProject.objects.filter(pk=claim.project_id, places_taken__gt=0)
    if released.update(places_taken=F("places_taken") - 1):
        history.record_update(ServiceProject, claim.project_id, actor=actor, reason="place released")


def claim_withdraw(*, claim: ProjectClaim, actor) -> ProjectClaim:
    """The unit withdraws its claim before it is approved; the place is free again."""
    permissions.require_ability(
        actor, "projects.act_for_claim", claim, _("Only the unit's own liaison may withdraw its claim.")
    )
    with transaction.atomic():
        ServiceProject.objects.select_for_update().get(pk=claim.project_id)
        claim = move(
            claim,
            action="withdraw",
            actor=actor,
            reason="withdrawn",
        )
        _release_place(claim, actor=actor)
    return claim


def claim_approve(*, claim: ProjectClaim, actor) -> ProjectClaim:
    permissions.require_change(actor, claim)
    with transaction.atomic():
        public_figures.changed()
        claim = move(
            claim,
            action="approve",
            actor=actor,
            reason="approved",
            decided_at=timezone.now(),
        )
        _tell_unit(
            claim,
            _("Your claim on %(project)s is approved") % {"project": claim.project.title},
            _("Please record each activity you hold under it in the portal."),
            "claim_approved",
        )
    return claim


def claim_reject(*, claim: ProjectClaim, actor, reason: str) -> ProjectClaim:
    permissions.require_change(actor, claim)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Please give the reason for rejecting the claim."))
    with transaction.atomic():
        ServiceProject.objects.select_for_update().get(pk=claim.project_id)
        claim = move(
            claim,
            action="reject",
            actor=actor,
            reason="rejected",
            decided_at=timezone.now(),
            decision_note=reason[:300],
        )
        _release_place(claim, actor=actor)
        _tell_unit(
            claim,
            _("Your claim on %(project)s was not approved") % {"project": claim.project.title},
            reason,
            "claim_rejected",
        )
    return claim


# --- Activities and reviews -----------------------------------------------------------------------


def activity_record(
    *, claim: ProjectClaim, actor, data: dict[str, Any], photos: Iterable[UploadedFile] = ()
) -> ServiceActivity:
    """A unit reports what it did under an approved claim (staff may record it on its behalf)."""
    if not permissions.can_view(actor, claim):
        raise Http404
    refuse_other_fields(data, ACTIVITY_FIELDS)
    activity = ServiceActivity(claim=claim, recorded_by=actor, **data)
    if not permissions.can_change(actor, activity):
        raise PermissionDenied(_("Only the unit's own liaison or staff may record its activities."))
    if claim.status not in (C.APPROVED, C.COMPLETED):
        raise Conflict(
            _("Activities can be recorded only under approved claims; this claim is %(status)s.")
            % {"status": claim.get_status_display()}
        )
    if activity.date and activity.date > timezone.localdate():
        raise InvalidInput(_("An activity cannot be recorded before it happens."))
    project = claim.project
    if activity.date and not project.starts_on <= activity.date <= project.ends_on:
        raise InvalidInput(
            _("The activity's date must fall within the project's period, %(start)s to %(end)s.")
            % {"start": project.starts_on, "end": project.ends_on}
        )
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("At most %(count)d photos.") % {"count": MAX_PHOTOS})
    activity.full_clean()
    # Every photo is checked before anything is written, so a refused one leaves no files behind.
    items = [ActivityPhoto(activity=activity, image=photo) for photo in photos]
    for item in items:
        item.full_clean(exclude=["activity"])
        item.thumbnail = thumbnail_of(item.image.file)
    with transaction.atomic():
        public_figures.changed()
        with_history(activity, actor, "recorded").save()
        for item in items:
            item.activity = activity
            item.save()
    return activity


def review_save(
    *, claim: ProjectClaim, actor, year: int, quarter: int, score: int, comment: str = ""
) -> CommitmentReview:
    """承诺评议: staff score a claim's commitment for a quarter (saving again replaces the score)."""
    review = CommitmentReview(claim=claim, year=year, quarter=quarter, score=score, comment=comment, reviewer=actor)
    if not permissions.can_change(actor, review):
        if not permissions.can_view(actor, claim):
            raise Http404
        raise PermissionDenied(_("Only staff review commitments."))
    if claim.status not in (C.APPROVED, C.COMPLETED):
        raise Conflict(_("Only approved claims are reviewed."))
    review.full_clean(validate_unique=False, validate_constraints=False)
    # After full_clean: a year or quarter out of range is reported as such, and Quarter accepts the rest.
    if Quarter(review.year, review.quarter) > Quarter.current():
        raise InvalidInput(_("A quarter that has not begun cannot be reviewed."))
    changes = {"score": score, "comment": comment, "reviewer": actor}
    previous_score = None
    with transaction.atomic():
        existing = CommitmentReview.objects.select_for_update().filter(claim=claim, year=year, quarter=quarter).first()
        if existing is not None:
            previous_score = existing.score
            review = update(existing, data=changes, actor=actor)
        else:
            try:
                with transaction.atomic():
                    with_history(review, actor, "reviewed").save()
            except IntegrityError:
                # Another reviewer saved the quarter's first score at the same moment: this one replaces it.
                existing = CommitmentReview.objects.select_for_update().get(claim=claim, year=year, quarter=quarter)
                previous_score = existing.score
                review = update(existing, data=changes, actor=actor)
        # The unit's points follow the score (issue 15): awarded at the street's score or better, taken back
        # when re-scored below it, awarded again when re-scored back. The review's row is locked until the
        # commit, so two saves of one review settle its points one after the other. A local import:
        # volunteers imports demands and members at start-up, projects stays out of its way.
        from volunteers import points

        points.points_review_scored(review=review, previous_score=previous_score, actor=actor)
    return review

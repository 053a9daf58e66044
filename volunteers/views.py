"""Portal pages of in-service Party members (在职党员): registration at the residence community (双报到),
my registrations, posts and micro-wishes to claim where I live, my hours, moving house, and the
quarterly service card (一单一表一卡) — mine, and my unit's for its liaisons.

Thin: reads through `selectors`, writes through `services`; a refusal of the domain (not verified,
another community, full/已满) becomes a form error or a message, and what the user may not see is a 404."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from alliance import permissions, ratelimit
from alliance.errors import InvalidInput
from alliance.exports import xlsx_response
from alliance.forms import call_for_form, call_with_message
from alliance.pagination import page_of
from alliance.periods import Quarter
from alliance.validators import MOBILE_RE
from demands.models import Need
from members import selectors as member_selectors

from . import points, selectors, services
from .forms import (
    HoursForm,
    MoveForm,
    QuarterForm,
    RegistrationForm,
    WishCompleteForm,
)
from .models import PartyMember, PostClaim

M = PartyMember.Status
PAGE_SIZE = 20
CARD_PAGE_SIZE = 50
LATEST_LOGS = 20
LATEST_DONE_WISHES = 10
# New accounts from one client address (phone as user name), unless settings name a rate for the scope.
REGISTER_SCOPE = "member_register"
REGISTER_RATE = (10, 3600)
# The backend that signs a new member in; guardian's backend beside it authenticates nobody.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _home_url(community_id: int | None = None, anchor: str = "") -> str:
    url = reverse("portal:volunteer_home")
    if community_id is not None:
        url += f"?community={community_id}"
    return url + (f"#{anchor}" if anchor else "")


# --- Registration (双报到) -------------------------------------------------------------------------


def _initial(user) -> dict:
    """A signed-in person registers with their own account: their name, and their phone when it is the
    account's name (as for accounts made here)."""
    if not user.is_authenticated:
        return {}
    initial = {"name": user.get_full_name()}
    if MOBILE_RE.match(user.get_username()):
        initial["phone"] = user.get_username()
    return initial


def _over_registration_limit(request: HttpRequest) -> bool:
    limit, window = ratelimit.rate_for(REGISTER_SCOPE) or REGISTER_RATE
    return not ratelimit.hit(request, REGISTER_SCOPE, limit=limit, window=window)


@require_http_methods(["GET", "POST"])
def member_register(request: HttpRequest) -> HttpResponse:
    anonymous = not request.user.is_authenticated
    form = RegistrationForm(request.POST or None, with_password=anonymous, initial=_initial(request.user))
    status = 200
    if request.method == "POST" and form.is_valid():
        if anonymous and _over_registration_limit(request):
            # Counted once the form is valid: typos do not use up the allowance; bots making accounts do.
            form.add_error(None, _("Too many registrations from this network. Please try again in an hour."))
            status = 429
        else:
            member = call_for_form(
                form,
                services.member_register,
                on_behalf=False,
                data=form.member_data(),
                actor=request.user,
                password=form.cleaned_data["password1"] if anonymous else None,
            )
            if member is not None:
                if anonymous:
                    login(request, member.user, backend=MODEL_BACKEND)
                messages.success(
                    request,
                    _("Thank you for registering. The staff of %(community)s will verify your registration.")
                    % {"community": member.residence_community.name},
                )
                return redirect("portal:volunteer_home")
    registrations = [] if anonymous else list(selectors.registrations_of(user=request.user))
    context = {"form": form, "anonymous": anonymous, "registrations": registrations}
    return render(request, "volunteers/portal/register.html", context, status=status)


# --- My registrations, posts, wishes and hours ----------------------------------------------------


def _current(verified: list[PartyMember], wanted: str | None) -> PartyMember | None:
    """The verified registration the page is about: `?community=<id>` among mine, else the newest."""
    for member in verified:
        if wanted and str(member.residence_community_id) == wanted:
            return member
    return verified[0] if verified else None


def _move_form(user, active: list[PartyMember], data=None) -> MoveForm:
    queryset = selectors.registrations_of(user=user).filter(status__in=PartyMember.ACTIVE)
    return MoveForm(data, registrations=active, queryset=queryset)


def _home_page(request: HttpRequest, *, move_form: MoveForm | None = None) -> HttpResponse:
    user = request.user
    registrations = list(selectors.registrations_of(user=user))
    verified = [r for r in registrations if r.status == M.VERIFIED]
    active = [r for r in registrations if r.status in PartyMember.ACTIVE]
    current = _current(verified, request.GET.get("community"))
    context: dict = {"registrations": registrations, "verified": verified, "current": current}

    if current is not None:
        posts = page_of(selectors.posts_to_claim(member=current), request.GET, per_page=PAGE_SIZE, param="posts_page")
        my_claims = list(selectors.claims_of(member=current).filter(status=PostClaim.Status.ACTIVE))
        held = {claim.post_id: claim for claim in my_claims}
        for post in posts.object_list:
            post.my_claim = held.get(post.pk)
        wishes = page_of(
            selectors.wishes_to_claim(member=current), request.GET, per_page=PAGE_SIZE, param="wishes_page"
        )
        context.update(posts=posts, my_claims=my_claims, wishes=wishes)

    # Wishes I took on, in any community where I served: the ones in hand in full, the latest done ones.
    taken = selectors.wishes_taken_by(user=user)
    in_hand = list(taken.filter(status=Need.Status.ACCEPTED).order_by("accepted_at", "id"))
    done = list(taken.exclude(status=Need.Status.ACCEPTED).order_by("-accepted_at", "-id")[:LATEST_DONE_WISHES])
    for need in (*in_hand, *done):
        # The rule, not an assumption: the resident's contact goes to the member who took the wish on.
        need.contact_visible = permissions.has_ability(user, "demands.see_contact", need)

    my_logs = selectors.logs_visible_to(user=user).filter(member__user=user)
    current = Quarter.current()
    totals = selectors.hours_totals(
        by="quarter", logs=my_logs.filter(date__range=(current.first_day, current.last_day))
    )
    context.update(
        wishes_in_hand=in_hand,
        wishes_done=done,
        logs=list(my_logs[:LATEST_LOGS]),
        latest_logs=LATEST_LOGS,
        card_url=reverse("portal:service_card"),
        year=current.year,
        quarter=current.quarter,
        quarter_hours=totals[0]["hours"] if totals else Decimal(0),
        quarter_services=totals[0]["services"] if totals else 0,
        move_form=move_form or (_move_form(user, active) if active else None),
    )
    return render(request, "volunteers/portal/home.html", context)


@login_required
def volunteer_home(request: HttpRequest) -> HttpResponse:
    return _home_page(request)


@login_required
@require_POST
def member_move(request: HttpRequest) -> HttpResponse:
    active = list(selectors.registrations_of(user=request.user).filter(status__in=PartyMember.ACTIVE))
    if not active:
        raise Http404
    form = _move_form(request.user, active, data=request.POST)
    if form.is_valid():
        old = form.cleaned_data["registration"]
        new = call_for_form(
            form, services.member_move, member=old, actor=request.user, community=form.cleaned_data["community"]
        )
        if new is not None:
            messages.success(
                request,
                _("Your registration in %(old)s has ended; the staff of %(new)s will verify your registration there.")
                % {"old": old.residence_community.name, "new": new.residence_community.name},
            )
            return redirect("portal:volunteer_home")
    return _home_page(request, move_form=form)


# --- Posts ----------------------------------------------------------------------------------------


@login_required
@require_POST
def post_claim(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(selectors.posts_visible_to(user=request.user), pk=pk)
    call_with_message(
        request,
        services.post_claim,
        post=post,
        actor=request.user,
        success=_("You hold the post %(post)s now. Thank you for serving.") % {"post": post.title},
    )
    return redirect(_home_url(post.community_id, "my-posts"))


@login_required
@require_POST
def post_leave(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(selectors.claims_visible_to(user=request.user), pk=pk)
    call_with_message(
        request,
        services.post_leave,
        claim=claim,
        actor=request.user,
        success=_("You have left the post %(post)s; its place is free again.") % {"post": claim.post.title},
    )
    return redirect(_home_url(claim.post.community_id, "posts"))


# --- Micro-wishes ---------------------------------------------------------------------------------


def _wish_where_i_live(user, pk: int) -> Need:
    """A micro-wish of a community where I am registered (verified or not: the service explains what a
    pending member may not do). Other communities' wishes are not mine to see: 404."""
    communities = (
        selectors.registrations_of(user=user)
        .filter(status__in=PartyMember.ACTIVE)
        .order_by()
        .values("residence_community_id")
    )
    wishes = Need.objects.filter(kind=Need.Kind.MICRO_WISH, community_id__in=communities).defer(
        "contact_name", "contact_phone", "address"
    )
    return get_object_or_404(wishes, pk=pk)


@login_required
@require_POST
def wish_claim(request: HttpRequest, pk: int) -> HttpResponse:
    need = _wish_where_i_live(request.user, pk)
    call_with_message(
        request,
        services.wish_claim,
        need=need,
        actor=request.user,
        success=_("You have taken on the micro-wish %(title)s. The resident's contact is shown under your wishes.")
        % {"title": need.title},
    )
    return redirect(_home_url(need.community_id, "my-wishes"))


@login_required
@require_POST
def wish_complete(request: HttpRequest, pk: int) -> HttpResponse:
    need = get_object_or_404(selectors.wishes_taken_by(user=request.user), pk=pk)
    form = WishCompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("result", [])) or _("Please describe what was done."))
    else:
        call_with_message(
            request,
            services.wish_complete,
            need=need,
            actor=request.user,
            result=form.cleaned_data["result"],
            success=_("Thank you: the micro-wish %(title)s is fulfilled. The resident will be asked to rate it.")
            % {"title": need.title},
        )
    return redirect(_home_url(need.community_id, "my-wishes"))


# --- Hours ----------------------------------------------------------------------------------------


@login_required
def hours_log(request: HttpRequest) -> HttpResponse:
    registrations = selectors.registrations_of(user=request.user).filter(status=M.VERIFIED)
    # The posts I hold under a verified registration.
    posts = selectors.posts_visible_to(user=request.user).filter(
        claims__member__user=request.user, claims__member__status=M.VERIFIED, claims__status=PostClaim.Status.ACTIVE
    )
    form = HoursForm(request.POST or None, registrations=registrations, posts=posts)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(
            form,
            services.log_hours,
            member=form.cleaned_data["registration"],
            actor=request.user,
            data=form.log_data(),
        )
    ):
        messages.success(request, _("Your hours have been logged. Your community's staff will verify them."))
        return redirect(_home_url(anchor="hours"))
    can_log = bool(form.fields["registration"].queryset.exists())
    return render(request, "volunteers/portal/hours_form.html", {"form": form, "can_log": can_log})


# --- The service card (一单一表一卡) ---------------------------------------------------------------


def _quarter_context(request: HttpRequest) -> dict:
    chosen = QuarterForm(request.GET).chosen()
    previous, following = chosen.previous(), chosen.next()
    return {
        "year": chosen.year,
        "quarter": chosen.quarter,
        "start": chosen.first_day,
        "end": chosen.last_day,
        "previous": previous if previous.year >= QuarterForm.base_fields["year"].min_value else None,
        "following": following if following <= Quarter.current() else None,
        "chooser": QuarterForm(initial={"year": chosen.year, "quarter": chosen.quarter}),
    }


@login_required
def service_card(request: HttpRequest) -> HttpResponse:
    """My card for the quarter: verified hours and services per community, the posts I held."""
    user = request.user
    context = _quarter_context(request)
    start, end = context["start"], context["end"]
    logs = selectors.logs_visible_to(user=user).filter(member__user=user, date__range=(start, end))
    per_community = selectors.hours_totals(by="community", logs=logs)
    held = (
        selectors.claims_visible_to(user=user)
        .filter(member__user=user, claimed_at__date__lte=end)
        .filter(Q(left_at__isnull=True) | Q(left_at__date__gte=start))
        .select_related("post__community")
        .order_by("claimed_at", "id")
    )
    registrations = list(selectors.registrations_of(user=user)[:1])
    context.update(
        me=registrations[0] if registrations else None,
        per_community=per_community,
        total_hours=sum((row["hours"] for row in per_community), Decimal(0)),
        total_services=sum(row["services"] for row in per_community),
        services=list(logs.filter(verified=True).order_by("date", "id")),
        unverified=logs.filter(verified=False, rejected_at=None).count(),
        posts_held=list(held),
    )
    return render(request, "volunteers/portal/service_card.html", context)


CARD_HEADER = (
    gettext_lazy("Name"),
    gettext_lazy("Party branch"),
    gettext_lazy("Residence community"),
    gettext_lazy("Verified hours"),
    gettext_lazy("Services"),
)


@login_required
def unit_service_card(request: HttpRequest, unit_id: int, fmt: str = "") -> HttpResponse:
    """The card the communities send back to a work unit: its members' service where they live. For the
    unit's liaisons only; no phone numbers."""
    unit = member_selectors.units_of_liaison(user=request.user).filter(pk=unit_id).first()
    if unit is None:
        raise Http404
    context = _quarter_context(request)
    year, quarter = context["year"], context["quarter"]
    rows = selectors.service_card(work_unit_id=unit.pk, year=year, quarter=quarter)
    if fmt == "xlsx" or request.GET.get("format") == "xlsx":
        body = (
            (m.name, m.party_branch, m.residence_community.name, float(m.quarter_hours), m.quarter_services)
            for m in rows.iterator(chunk_size=500)
        )
        title = _("Service card %(year)d Q%(quarter)d") % {"year": year, "quarter": quarter}
        return xlsx_response(f"{unit.name} {title}.xlsx", [(title, [str(label) for label in CARD_HEADER], body)])
    page = page_of(rows, request.GET, per_page=CARD_PAGE_SIZE)
    totals = rows.aggregate(
        members=Count("pk"),
        hours=Sum("quarter_hours"),
        services=Sum("quarter_services"),
        serving=Count("pk", filter=Q(quarter_services__gt=0)),
    )
    context.update(unit=unit, page=page, rows=page.object_list, totals=totals)
    return render(request, "volunteers/portal/unit_service_card.html", context)


# --- My points (我的积分, issue 15) ----------------------------------------------------------------------

POINTS_PAGE_SIZE = 20


def _points_year(request: HttpRequest) -> int:
    value = request.GET.get("year")
    if value in (None, ""):
        return Quarter.current().year
    try:
        return points.check_year(value)
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return Quarter.current().year


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    """我的积分: the year's points of the member (every registration of theirs) and, for a liaison, of each
    of their units, with the entries that earned them (`?unit=<id>` shows a unit's). A constant number of
    queries: the registrations, the units with their sums, the balance and one page of entries."""
    user = request.user
    year = _points_year(request)
    registrations = list(selectors.registrations_of(user=user))
    units = list(
        member_selectors.units_of_liaison(user=user)
        .annotate(year_points=Sum("points__points", filter=Q(points__year=year)))
        .order_by("name", "pk")
    )
    unit = None
    unit_id = request.GET.get("unit")
    if unit_id not in (None, ""):
        unit = next((u for u in units if str(u.pk) == unit_id), None)
        if unit is None:
            raise Http404
        entries = selectors.points_of(year=year, unit_id=unit.pk)
        balance = unit.year_points or 0
    else:
        entries = selectors.points_visible_to(user=user, year=year).filter(member__user=user).select_related("corrects")
        balance = entries.aggregate(total=Sum("points"))["total"] or 0
    page = page_of(entries, request.GET, per_page=POINTS_PAGE_SIZE)
    return render(
        request,
        "volunteers/portal/points.html",
        {
            "year": year,
            "years": [year - 1, year + 1] if year < Quarter.current().year else [year - 1],
            "registrations": registrations,
            "units": units,
            "unit": unit,
            "balance": balance,
            "entries": page,
        },
    )

"""The joint meeting's pages beyond Django's list and form: invite units, cancel with a reason, reschedule,
attendance rates per unit and quarter, and the attendance export."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions, workflow
from alliance.exports import xlsx_response
from alliance.forms import call_for_form
from members import selectors as member_selectors

from .. import exports, selectors, services
from ..models import JointMeeting
from .common import M, invitable_units, local_time
from .forms import InviteForm, RescheduleForm


class JointMeetingPagesMixin:
    """The extra pages of `JointMeetingAdmin` and the actions that open them."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("attendance-rates/", view(self.attendance_rates_view), name="{}_{}_attendance_rates".format(*info)),
            path("<int:pk>/invite/", view(self.invite_view), name="{}_{}_invite".format(*info)),
            path("<int:pk>/reschedule/", view(self.reschedule_view), name="{}_{}_reschedule".format(*info)),
            path("<int:pk>/cancel/", view(self.cancel_view), name="{}_{}_cancel".format(*info)),
            *super().get_urls(),
        ]

    def _meeting_to_change(self, request, pk: int) -> JointMeeting:
        meeting = selectors.meeting_detail(user=request.user, pk=pk)  # 404 when the user may not see it
        if not self.has_change_permission(request, meeting):
            raise PermissionDenied
        return meeting

    def _page(self, request, template: str, title: str, meeting: JointMeeting | None, **context) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": meeting,
            "meeting": meeting,
            "change_url": reverse("admin:meetings_jointmeeting_change", args=[meeting.pk]) if meeting else "",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            **context,
        }
        return TemplateResponse(request, f"admin/meetings/jointmeeting/{template}", context)

    def invite_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = self._meeting_to_change(request, pk)
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if meeting.status == M.CANCELLED:
            messages.warning(request, gettext("This meeting is cancelled; nobody can be invited to it."))
            return HttpResponseRedirect(change_url)
        invited = {i.unit_id for i in meeting.invitations.all() if i.unit_id}
        units = invitable_units(request.user).exclude(pk__in=invited)
        form = InviteForm(request.POST or None, units=units)
        if request.method == "POST" and form.is_valid():
            created = call_for_form(
                form, services.invite, meeting=meeting, actor=request.user, units=list(form.cleaned_data["units"])
            )
            if created is not None:
                messages.success(
                    request,
                    ngettext("%(count)d unit invited.", "%(count)d units invited.", len(created))
                    % {"count": len(created)},
                )
                return HttpResponseRedirect(change_url)
        return self._page(
            request,
            "invite.html",
            gettext("Invite units to %(title)s") % {"title": meeting.title},
            meeting,
            form=form,
            media=self.media + form.media,
            invitations=meeting.invitations.all(),
        )

    # --- Cancel ---

    def _ask_cancel_reason(self, request, meetings, *, title: str, page_of=None, back_url: str = ""):
        return self.ask_reason(
            request,
            meetings,
            service=services.meeting_cancel,
            object_kwarg="meeting",
            success=lambda meeting: (
                gettext("%(title)s is cancelled; the invitees are told.") % {"title": meeting.title}
            ),
            none_done=gettext("None of the selected meetings was cancelled."),
            title=title,
            intro=gettext(
                "These meetings will be cancelled. Every invitee is told, with the reason; reminders that have "
                "not gone out are withdrawn."
            ),
            empty=gettext("None of the selected meetings is planned."),
            describe=lambda meeting: (
                f"{meeting.title} · {date_format(timezone.localtime(meeting.start), 'Y-m-d H:i')} · {meeting.place}"
            ),
            submit_label=gettext("Cancel the meeting"),
            help_text=gettext("The invitees are told it with the notice of cancellation."),
            page_of=page_of,
            back_url=back_url,
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = self._meeting_to_change(request, pk)
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if "cancel" not in permissions.actions_allowed(request.user, meeting):
            messages.warning(
                request,
                workflow.refusal_for(meeting, "cancel"),
            )
            return HttpResponseRedirect(change_url)
        return self._ask_cancel_reason(
            request,
            [meeting],
            title=gettext("Cancel %(title)s") % {"title": meeting.title},
            page_of=meeting,
            back_url=change_url,
        )

    @admin.action(description=_("Cancel the selected meetings"))
    def cancel(self, request, queryset):
        return self._ask_cancel_reason(request, queryset.filter(status=M.PLANNED), title=gettext("Cancel meetings"))

    # --- Reschedule ---

    def _reschedule(self, request, meeting: JointMeeting, *, action: str = "") -> HttpResponse:
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if "reschedule" not in permissions.actions_allowed(request.user, meeting):
            messages.warning(
                request,
                workflow.refusal_for(meeting, "reschedule"),
            )
            return HttpResponseRedirect(change_url)
        submitted = request.method == "POST" and (not action or "apply" in request.POST)
        initial = {
            "start": timezone.localtime(meeting.start),
            "end": timezone.localtime(meeting.end),
            "place": meeting.place,
        }
        form = RescheduleForm(request.POST if submitted else None, initial=initial)
        if submitted and form.is_valid():
            moved = self.run_service(
                request,
                services.meeting_reschedule,
                meeting=meeting,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                place=form.cleaned_data["place"] or None,
                success=gettext("%(title)s is moved; the invitees are told the new time and place.")
                % {"title": meeting.title},
            )
            if moved:
                return HttpResponseRedirect(change_url)
        return self._page(
            request,
            "reschedule.html",
            gettext("Reschedule %(title)s") % {"title": meeting.title},
            meeting,
            form=form,
            current={"start": local_time(meeting.start), "end": local_time(meeting.end), "place": meeting.place},
            action=action,
        )

    def reschedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._reschedule(request, self._meeting_to_change(request, pk))

    @admin.action(description=_("Reschedule the selected meeting"))
    def reschedule(self, request, queryset):
        meetings = list(queryset[:2])
        if len(meetings) != 1:
            messages.warning(request, gettext("Choose exactly one meeting to reschedule."))
            return None
        return self._reschedule(request, meetings[0], action="reschedule")

    # --- Export and attendance rates ---

    @admin.action(description=_("Export the attendance of the selected meetings to Excel"))
    def export_attendance(self, request, queryset):
        filename = "{}-{}.xlsx".format(gettext("attendance"), timezone.localdate().isoformat())
        return xlsx_response(filename, [exports.attendance_sheet(queryset)])

    def attendance_rates_view(self, request: HttpRequest) -> HttpResponse:
        """Per unit and quarter, over held meetings: the rate the quarterly assessment uses."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        unit_ids = None
        if permissions.seen_communities(request.user) is not None:  # not every street: their units
            unit_ids = member_selectors.units_visible_to(user=request.user).values_list("pk", flat=True)
        quarters: dict[tuple[int, int], list[dict]] = {}
        for row in selectors.attendance_rates(unit_ids=unit_ids):
            row["percent"] = round(row["rate"] * 100, 1)
            quarters.setdefault((row["year"], row["quarter"]), []).append(row)
        groups = [
            {
                "label": gettext("%(year)d Q%(quarter)d") % {"year": year, "quarter": quarter},
                "key": f"{year}-Q{quarter}",
                "rows": rows,
            }
            for (year, quarter), rows in sorted(quarters.items(), reverse=True)
        ]
        return self._page(
            request,
            "attendance_rates.html",
            gettext("Attendance rates per unit and quarter"),
            None,
            groups=groups,
            changelist_url=reverse("admin:meetings_jointmeeting_changelist"),
        )

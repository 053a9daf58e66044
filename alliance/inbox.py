"""通知 in the admin: a staff member's own notifications, the unread count in the header, marking read.

Everyone sees only the rows addressed to them (recipient = the signed-in user), whatever else they may see
in the admin; the daily digest's own message is not listed (the rows it summarises are)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import notifications
from .models import Notification
from .pagination import page_of

PER_PAGE = 25


# --- Selectors -------------------------------------------------------------------------------------


def my_notifications(user) -> QuerySet[Notification]:
    """`user`'s own notifications, newest first (one query per page, on `notification_inbox_idx`)."""
    return (
        Notification.objects.filter(recipient=user)
        .exclude(kind=notifications.DIGEST_KIND)
        .order_by("-created_at", "-id")
        .only("pk", "subject", "body", "url", "created_at", "read_at")
    )


def my_unread_count(user) -> int:
    """How many of `user`'s notifications are unread: one COUNT, bounded by one person's rows."""
    return (
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .exclude(kind=notifications.DIGEST_KIND)
        .count()
    )


# --- The page --------------------------------------------------------------------------------------


def _mark(request: HttpRequest) -> HttpResponse:
    if "all" in request.POST:
        notifications.mark_read(user=request.user)
    else:
        try:
            pk = int(request.POST.get("notification", ""))
        except ValueError:
            raise Http404 from None
        # Another person's notification does not exist for this one.
        if not Notification.objects.filter(pk=pk, recipient=request.user).exists():
            raise Http404
        notifications.mark_read(user=request.user, notification_ids=[pk])
    url = reverse("admin_inbox")
    page = request.POST.get("page", "")
    return redirect(f"{url}?{urlencode({'page': page})}" if page.isdigit() and page != "1" else url)


@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _mark(request)
    page = page_of(my_notifications(request.user), request.GET, per_page=PER_PAGE)
    context = {
        **admin.site.each_context(request),
        "title": _("My notifications"),
        "page": page,
    }
    return TemplateResponse(request, "admin/inbox.html", context)


# The admin's own gate: staff only, the rest to the admin's sign-in page; CSRF-protected, never cached.
inbox_view = admin.site.admin_view(inbox)

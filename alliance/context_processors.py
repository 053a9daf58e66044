from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from .models import Notification
from .permissions import is_staff_member


def platform(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    context: dict = {"is_platform_staff": False, "unread_notifications": 0}
    if user is not None and user.is_authenticated:
        context["is_platform_staff"] = is_staff_member(user)
        # Only portal pages show the badge; public pages never pay for the query.
        if request.path.startswith("/portal/"):
            context["unread_notifications"] = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        elif request.path.startswith("/admin/") and user.is_active and user.is_staff:
            from .inbox import my_unread_count  # the inbox imports the admin site

            # Counted only when the header is drawn (not on a redirect, a download, a popup), once.
            context["unread_notifications"] = cache(lambda: my_unread_count(user))
    return context

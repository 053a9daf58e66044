from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = _("Alliance")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.models import AccessAttempt
        from rest_framework.authtoken.models import TokenProxy

        from . import history, permissions  # noqa: F401 (history: connects its signal receivers)
        from .jobs import JobRules
        from .models import Category, Job, Notification, WorkdayOverride

        permissions.register(Category, permissions.SharedRules())
        permissions.register(Notification, permissions.OwnNotificationsRules())
        # Failed sign-ins and API tokens: street staff only (their admin screens unlock and revoke).
        permissions.register(AccessAttempt, permissions.StaffOnlyRules())
        permissions.register(TokenProxy, permissions.StaffOnlyRules())
        # Background jobs (reports of the street, imports, exports): street staff and whoever asked follow them.
        permissions.register(Job, JobRules())
        # The working-day calendar's local days (alliance.workdays): street staff keep them.
        permissions.register(WorkdayOverride, permissions.EveryStreetRules())

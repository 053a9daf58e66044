from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Joint meetings")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import extensions

        extensions.register()

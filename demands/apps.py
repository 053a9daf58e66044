from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "demands"
    verbose_name = _("Needs and resources")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import extensions

        extensions.register()

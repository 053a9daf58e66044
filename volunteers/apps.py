from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("In-service Party members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import extensions

        extensions.register()

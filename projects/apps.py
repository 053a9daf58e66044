from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Service projects")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import extensions

        extensions.register()

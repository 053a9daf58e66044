"""django-axes under a Chinese name in the admin (its own app name is the untranslated "Axes")."""

from __future__ import annotations

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    verbose_name = _("Sign-in protection")

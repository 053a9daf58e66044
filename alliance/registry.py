"""Extension points through which apps add to shared pages without `alliance` importing them.

Each app registers its providers in `AppConfig.ready()`; the home page, the public figures and the
portal home call them in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int | float


@dataclass(frozen=True)
class PortalPanel:
    """A block on the portal home: a template and the context to render it with."""

    template: str
    context: dict = field(default_factory=dict)


PublicFigures = Callable[[], list[Figure]]
PortalPanels = Callable[[HttpRequest], PortalPanel | None]

_public_figures: list[PublicFigures] = []
_portal_panels: list[PortalPanels] = []
_home_panels: list[PortalPanels] = []


def register_public_figures(provider: PublicFigures) -> PublicFigures:
    if provider not in _public_figures:
        _public_figures.append(provider)
    return provider


def register_portal_panel(provider: PortalPanels) -> PortalPanels:
    if provider not in _portal_panels:
        _portal_panels.append(provider)
    return provider


def register_home_panel(provider: PortalPanels) -> PortalPanels:
    """A block on the public home page (below the figures). It must show no personal data."""
    if provider not in _home_panels:
        _home_panels.append(provider)
    return provider


def home_panels(request: HttpRequest) -> list[PortalPanel]:
    return [panel for provider in _home_panels if (panel := provider(request)) is not None]


def public_figures() -> list[Figure]:
    return [figure for provider in _public_figures for figure in provider()]


def portal_panels(request: HttpRequest) -> list[PortalPanel]:
    return [panel for provider in _portal_panels if (panel := provider(request)) is not None]

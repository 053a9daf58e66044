"""Steps of `manage.py seed_demo`. Each app registers one at start-up; they run in registration order
(apps order in INSTALLED_APPS) and share a `context` dict, so a later app can use what an earlier made."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models

Step = Callable[..., None]
_steps: list[tuple[str, Step]] = []
_data_models: list[type[models.Model]] = []


def register(name: str, step: Step, *, data_models: tuple[type[models.Model], ...] = ()) -> None:
    """`data_models`: models whose rows, when present before seeding, mean the database holds real data."""
    if all(existing != name for existing, _ in _steps):
        _steps.append((name, step))
    _data_models.extend(m for m in data_models if m not in _data_models)


def data_models() -> list[type[models.Model]]:
    return list(_data_models)


def steps() -> list[tuple[str, Step]]:
    return list(_steps)


def holds_real_data(*, except_users: Iterable[str] = ()) -> bool:
    """Whether the database holds data a generator must not mix with: any account but `except_users`, or
    any row of the registered data models. `seed_demo` and `generate_scale` refuse such a database."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.exclude(username__in=list(except_users)).exists() or any(
        model.objects.exists() for model in _data_models
    )

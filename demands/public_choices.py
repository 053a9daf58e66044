"""The communities and categories a resident may choose, kept in each process for a minute.

Every public submission checked both with a query each (the choice fields), and the service asked again
(`full_clean`): four statements for two numbers that change a few times a year. Here they are read once a
minute per process (two queries), with one early reload when an id is not known (a community added a
moment ago) — at most one every few seconds, so that made-up ids cannot turn into queries."""

from __future__ import annotations

import threading
import time

from django.db import models

from alliance.models import Category
from members import selectors as member_selectors

KEEP_SECONDS = 60.0
RELOAD_AT_MOST_EVERY = 5.0


class PublicChoices:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._by_model: dict[type[models.Model], dict[int, models.Model]] = {}

    def get(self, model: type[models.Model], pk: int) -> models.Model | None:
        """The community or active category `pk`, or None when there is none."""
        age = time.monotonic() - self._loaded_at
        if age >= KEEP_SECONDS:
            self._load()
        found = self._by_model.get(model, {}).get(pk)
        if found is None and RELOAD_AT_MOST_EVERY <= age < KEEP_SECONDS:
            self._load()
            found = self._by_model.get(model, {}).get(pk)
        return found

    def forget(self) -> None:
        """Read them again on the next call (tests, whose rows come and go)."""
        self._loaded_at = float("-inf")

    def _load(self) -> None:
        with self._lock:
            self._by_model = {
                Category: {c.pk: c for c in Category.objects.filter(is_active=True)},
                member_selectors.communities_public().model: {c.pk: c for c in member_selectors.communities_public()},
            }
            self._loaded_at = time.monotonic()


choices = PublicChoices()


def lookup(model: type[models.Model], value) -> models.Model | None:
    """`value` as a form or a JSON body gives it ("12", 12, anything else) to the chosen row, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            return None
    elif not isinstance(value, int):
        return None
    return choices.get(model, int(value))

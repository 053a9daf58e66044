"""What a notification's `kind` means, in words staff read (issue 11: `need_resident:dispatched` in the
admin's list was a code, not a label).

A kind is a code its service chooses: a plain name (`unit_approved`) or a prefix and a detail
(`need_resident:dispatched`, `reminder:meeting_24h`, `agreement_expiring:<pk>:<date>`). Each app registers
the labels of its kinds from its extensions.py:

    register_kind_label("unit_approved", _("Unit approved"))
    register_kind_label("need_resident:", _("Resident told"), detail=dict(Need.Status.choices))

A name ending in ":" is a prefix; `detail` (a mapping, or a callable) turns what follows the prefix into
words, shown after the label (`告知居民：已派单`). `kind_label(kind)` answers with the exact name's label,
else the longest matching prefix's, else the code itself (a kind nobody registered stays findable)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext

Detail = Mapping[str, str] | Callable[[str], str] | None


@dataclass(frozen=True)
class KindLabel:
    name: str  # `unit_approved`, or a prefix ending in ":" (`need_resident:`)
    label: str  # lazy: translated when shown
    detail: Detail = None

    @property
    def is_prefix(self) -> bool:
        return self.name.endswith(":")

    def matches(self) -> Q:
        """The notifications of this kind (for the admin's filter)."""
        return Q(kind__startswith=self.name) if self.is_prefix else Q(kind=self.name)


_labels: dict[str, KindLabel] = {}


def register_kind_label(name: str, label: str, *, detail: Detail = None) -> None:
    _labels[name] = KindLabel(name, label, detail)


def registered() -> Iterable[KindLabel]:
    return sorted(_labels.values(), key=lambda k: k.name)


def _detail(entry: KindLabel, rest: str) -> str:
    if entry.detail is None or not rest:
        return ""
    if callable(entry.detail):
        return str(entry.detail(rest) or "")
    return str(entry.detail.get(rest, ""))


def kind_label(kind: str) -> str:
    if not kind:
        return "—"
    exact = _labels.get(kind)
    if exact is not None and not exact.is_prefix:
        return str(exact.label)
    prefixes = [e for e in _labels.values() if e.is_prefix and kind.startswith(e.name)]
    if not prefixes:
        return kind
    entry = max(prefixes, key=lambda e: len(e.name))
    detail = _detail(entry, kind[len(entry.name) :])
    # The full-width colon of Chinese text; the label alone when the detail has no words.
    return gettext("%(label)s: %(detail)s") % {"label": entry.label, "detail": detail} if detail else str(entry.label)

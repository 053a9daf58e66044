"""Masking of personal data for everyone who does not need to see it in full."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****1234 — enough to recognise one's own number, not enough to call it."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_name(name: str | None) -> str:
    """张** — the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)

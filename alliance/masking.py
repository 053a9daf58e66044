"""Masking of personal data for everyone who does not need to see it in full."""

from __future__ import annotations

import logging
import re


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


# Secrets that must never reach a log line, a stored error or a screen that is not the owner's: the
# password-set link (it takes the account over), and what apps register — a need's tracking code, which
# with the phone's last four digits (in the same log line as the masked number) opens the resident's need.
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(/password/set/)[^\s/]+/[^\s/]+/?"), r"\1***/"),
    # The secret of the address SMS providers push receipts to (alliance/sms_views.py).
    (re.compile(r"(/sms/receipts/[^\s/]+/)[^\s/]+/?"), r"\1***/"),
]


def register_secret(pattern: str, replacement: str) -> None:
    """An app names a secret its texts carry (a regular expression and what replaces it)."""
    _SECRETS.append((re.compile(pattern), replacement))


def redact(text: str | None) -> str:
    """`text` with every registered secret replaced: for logs, stored errors and staff screens."""
    text = text or ""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """On the console handler: every log line (the development server's request lines included) goes
    out with the registered secrets redacted, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True

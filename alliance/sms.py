"""Text messages through a pluggable backend (settings.SMS_BACKEND), in the manner of Django's e-mail."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from .masking import mask_phone, redact

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class BaseSmsBackend:
    """A gateway adapter implements `send`; it raises on failure so the notification is retried."""

    def send(self, message: SmsMessage) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """The default: writes the message to the log. The number is masked, as everywhere in logs, and so
    are the secrets a text may carry (a password-set link, a tracking code): the log is read by more
    people than the message's recipient."""

    def send(self, message: SmsMessage) -> None:
        logger.info("SMS to %s: %s", mask_phone(message.phone), redact(message.text))


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in `outbox`, for tests (like django.core.mail's locmem backend)."""

    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        type(self).outbox.append(message)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(phone: str, text: str) -> None:
    get_backend().send(SmsMessage(phone=phone, text=text))

"""The console e-mail backend the platform uses by default: Django's, with secrets redacted."""

from __future__ import annotations

import copy

from django.core.mail.backends import console

from .masking import redact


class ConsoleEmailBackend(console.EmailBackend):
    """Writes each message to the console (the container's log) with password-set links and tracking
    codes redacted (`alliance.masking.redact`): whoever reads the log must not take an account over."""

    def write_message(self, message):
        message = copy.copy(message)
        message.subject = redact(message.subject)
        message.body = redact(message.body)
        message.alternatives = [(redact(content), mimetype) for content, mimetype in message.alternatives]
        super().write_message(message)

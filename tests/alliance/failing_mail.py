"""An e-mail backend that always fails, standing in for an SMTP server that is down (an outside service)."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")

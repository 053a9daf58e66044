"""Password-set links: the one way a person without a password (a newly approved liaison) or with a
forgotten one gets in. Whoever holds such a link takes the account over, so:

- it is never stored. A notification that carries one keeps `PASSWORD_LINK` in its `url` and
  `alliance.notifications.deliver` puts a fresh link in at the moment it sends the message; the rows
  street staff read in the admin, and any database backup, hold no secret. (Storing the link and
  redacting it on display would still leave it in the database and its backups.)
- it works once: Django's token covers the password hash, which setting the password changes;
- it works for PASSWORD_RESET_TIMEOUT (24 hours);
- a newer link replaces older ones: the token also covers the id of the latest notification that
  carries a link for the user, so issuing a new one (forgotten password, staff re-sending) voids the old;
- the text-message and e-mail backends and the log redact it (`alliance.masking.redact`).
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Notification

# Stored in Notification.url in place of the link; readable, and not a path anyone can open.
PASSWORD_LINK = "[password-set link, added when sent]"
KIND = "password_link"


def _latest_link_id(user) -> int:
    return (
        Notification.objects.filter(recipient=user, url=PASSWORD_LINK).order_by("-pk").values_list("pk", flat=True)
    ).first() or 0


class PasswordLinkTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "alliance.passwords.PasswordLinkTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}|{_latest_link_id(user)}"


password_link_tokens = PasswordLinkTokenGenerator()


def password_set_path(user) -> str:
    """A working link, for `deliver` only: nothing else should ever hold one."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("portal:password_set", args=[uid, password_link_tokens.make_token(user)])


def password_link_send(*, user, subject: str | None = None, body: str | None = None, kind: str = KIND):
    """Queue a message with a new password-set link to `user` (text message and e-mail). Call inside the
    transaction of the change that causes it; every earlier link of the user stops working."""
    from .notifications import notify  # notifications imports this module to resolve the link

    if body is None:
        body = _(
            "Your account name is %(username)s. Set a new password with the link below; it works once, for 24 hours."
        ) % {"username": user.get_username()}
    return notify(recipient=user, subject=subject or _("Set your password"), body=body, url=PASSWORD_LINK, kind=kind)

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

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .locks import xact_lock
from .masking import mask_phone
from .models import Notification, SmsCode

logger = logging.getLogger(__name__)

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


# --- Recovery by a text-message code ----------------------------------------------------------------
# Members and liaisons sign in with their mobile number; one who forgot the password asks for a code with
# that number, gets six digits by text message and sets a new password with them. The code:
# - is made when the message is sent, like the password link: the notification row keeps only the marker
#   SMS_CODE, and the SmsCode row only an HMAC of the code (keyed with SECRET_KEY, salted with the row):
#   six digits hashed without a key would be read back by trying all million of them;
# - works for SMS_CODE_MINUTES from its sending, once, and for SMS_CODE_MAX_ATTEMPTS tries; a newer code
#   for the number replaces older ones;
# - is asked for at most SMS_CODE_PER_PHONE_HOURLY times an hour per number and "password_code" per client
#   address; a number no account has gets the same answer and the same row (nothing is sent), so the page
#   tells nobody which numbers have accounts.

SMS_CODE = "[SMS code, added when sent]"
SMS_CODE_KIND = "password_code"
SMS_CODE_MINUTES = 10
SMS_CODE_LENGTH = 6
CODE_LOCK = 0x534D_5343  # "SMSC": the advisory lock namespace of code requests per number


class CodeRefused(Exception):
    """The code is wrong, expired, used, or tried too often: one message for all, in the user's language."""


def _code_digest(code_row: SmsCode, code: str) -> str:
    return hmac.new(
        force_bytes(settings.SECRET_KEY), f"alliance.sms_code|{code_row.pk}|{code}".encode(), hashlib.sha256
    ).hexdigest()


def account_for_phone(phone: str):
    """The one member or liaison account this mobile number signs in to: the account named by it, else the
    one whose profile has it. None when no account, or several accounts, have it (a code must reset one
    known account), and for staff, whose passwords street staff reset."""
    users = get_user_model().objects.filter(is_active=True, is_staff=False, is_superuser=False)
    named = list(users.filter(username=phone)[:1])
    if named:
        return named[0]
    by_profile = list(users.filter(profile__phone=phone)[:2])
    return by_profile[0] if len(by_profile) == 1 else None


def sms_code_request(*, phone: str) -> bool:
    """Ask for a recovery code for `phone` (an 11-digit mobile number, already validated). Returns False
    when the number has asked too often this hour; True otherwise, whether or not an account has it (the
    caller says the same either way)."""
    from .notifications import notify  # notifications imports this module to resolve the code

    with transaction.atomic():
        # Requests for one number take turns: counting the hour's codes and adding one is then a single step,
        # so a burst of simultaneous requests cannot each see room under the limit.
        xact_lock(CODE_LOCK, phone)
        since = timezone.now() - timedelta(hours=1)
        if SmsCode.objects.filter(phone=phone, created_at__gte=since).count() >= settings.SMS_CODE_PER_PHONE_HOURLY:
            return False
        user = account_for_phone(phone)
        code_row = SmsCode.objects.create(user=user, phone=phone)
        if user is None:
            logger.info("Password code asked for %s: no single member or liaison account", mask_phone(phone))
            return True
        # Earlier codes for the number stop working: only the newest is in anyone's hands.
        SmsCode.objects.filter(phone=phone, used_at__isnull=True).exclude(pk=code_row.pk).update(used_at=timezone.now())
        code_row.notification = notify(
            recipient=user,
            phone=phone,
            email="",
            subject=_("Password recovery code"),
            body=_("A code to set a new password was sent to %(phone)s by text message.")
            % {"phone": mask_phone(phone)},
            url=SMS_CODE,
            kind=SMS_CODE_KIND,
        )
        code_row.save(update_fields=["notification"])
    return True


def sms_code_for_sending(*, notification_id: int) -> str | None:
    """For the delivery only: a fresh code for the request behind this notification, its digest stored;
    None when the request is too old to send a code for, or no longer wanted (a newer one, or used)."""
    code_row = SmsCode.objects.filter(notification_id=notification_id).first()
    now = timezone.now()
    if (
        code_row is None
        or code_row.used_at is not None
        or code_row.created_at < now - timedelta(minutes=SMS_CODE_MINUTES)
    ):
        return None
    code = f"{secrets.randbelow(10**SMS_CODE_LENGTH):0{SMS_CODE_LENGTH}d}"
    # Stored before it is sent: a quick reader must not type a code the database does not know yet. A retry
    # of the message makes a new code; the one an earlier, failed attempt made stops working.
    SmsCode.objects.filter(pk=code_row.pk).update(digest=_code_digest(code_row, code), sent_at=now, attempts=0)
    return code


def sms_code_text(code: str) -> str:
    # The platform stores no language per person: the message speaks the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Your code to set a new password is %(code)s. It works for %(minutes)d minutes. "
            "If you did not ask for it, ignore this message."
        ) % {"code": code, "minutes": SMS_CODE_MINUTES}


def sms_code_check(*, phone: str, code: str):
    """Spend one try of the newest code for `phone`; the account when `code` is right (the code is not
    used up yet: `sms_code_reset` does that with the new password). Raises CodeRefused otherwise."""
    refused = CodeRefused(_("The code is wrong or no longer valid. Check it, or ask for a new one."))
    now = timezone.now()
    code_row = (
        SmsCode.objects.filter(
            phone=phone,
            user__isnull=False,
            used_at__isnull=True,
            sent_at__gte=now - timedelta(minutes=SMS_CODE_MINUTES),
        )
        .exclude(digest="")
        .select_related("user")
        .order_by("-created_at", "-pk")
        .first()
    )
    if code_row is None:
        raise refused
    # The try is counted before the comparison, by a conditional UPDATE: guesses sent side by side cannot
    # get more than SMS_CODE_MAX_ATTEMPTS between them.
    counted = SmsCode.objects.filter(pk=code_row.pk, attempts__lt=settings.SMS_CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        raise CodeRefused(_("This code was tried too many times. Ask for a new one."))
    if not hmac.compare_digest(code_row.digest, _code_digest(code_row, code)):
        raise refused
    return code_row


def sms_code_give_back(*, code_row: SmsCode) -> None:
    """The code was right but the new password was refused (too short, too common): that try is not lost."""
    SmsCode.objects.filter(pk=code_row.pk, attempts__gt=0).update(attempts=F("attempts") - 1)


def sms_code_reset(*, code_row: SmsCode, password: str):
    """Set the new password with a checked code, using the code up; CodeRefused if another request used
    it first (the conditional UPDATE lets exactly one of two win)."""
    with transaction.atomic():
        used = SmsCode.objects.filter(pk=code_row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not used:
            raise CodeRefused(_("The code is wrong or no longer valid. Check it, or ask for a new one."))
        user = code_row.user
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def forget_old_codes(days: int = 1) -> int:
    """Codes and requests older than a day are of no use (and hold phone numbers): deleted by the sweep."""
    return SmsCode.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()[0]

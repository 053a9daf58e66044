"""API tokens that expire and can be revoked.

DRF's authtoken keeps one token per user with its creation time; a token is good for API_TOKEN_TTL_HOURS
from then. An expired token is deleted when it is next presented, and the next `POST /api/v1/auth/token/`
with the password issues a new one. `DELETE /api/v1/auth/token/` and the admin revoke one at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class TokenRejected(exceptions.APIException):
    """401 with `WWW-Authenticate: Token`, whichever authentication class comes first in the settings.

    DRF turns AuthenticationFailed into 403 when the first class (session) has no challenge to offer; a
    client holding a token needs the 401 to know that it should fetch a new one, not that it lacks a right."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid token.")
    default_code = "authentication_failed"
    auth_header = "Token"


def token_ttl() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def expires_at(token: Token) -> datetime:
    return token.created + token_ttl()


def is_expired(token: Token) -> bool:
    return expires_at(token) <= timezone.now()


def token_for(user) -> Token:
    """The user's current token, a new one when there is none or it has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and is_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def token_revoke(*, user) -> int:
    return Token.objects.filter(user=user).delete()[0]


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user").get(key=key)
        except Token.DoesNotExist:
            raise TokenRejected(_("Invalid token.")) from None
        if not token.user.is_active:
            raise TokenRejected(_("User inactive or deleted."))
        if is_expired(token):
            token.delete()
            raise TokenRejected(_("The token has expired. Ask for a new one with your user name and password."))
        return (token.user, token)

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as exc:  # a malformed header: same answer as a bad token
            raise TokenRejected(exc.detail) from None

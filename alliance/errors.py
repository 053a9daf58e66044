"""Domain errors raised by services. Views, the API and admin actions each map them in one place."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied


class DomainError(Exception):
    """A rule of the domain refused the change; `message` is already in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(DomainError):
    """Input that is well-formed but not acceptable (answered with 400)."""


class Conflict(DomainError):
    """The object's current state does not allow the change (answered with 409)."""


class RateLimited(DomainError):
    """Too many of these changes in a while (a unit filing needs): answered with 429, and `retry_after`
    seconds as the Retry-After header."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransitionNotAllowed(Conflict):
    """A status change that the workflow does not allow from the current status."""


# Services raise Django's own PermissionDenied so that the admin and plain views handle it natively.
PermissionDenied = DjangoPermissionDenied

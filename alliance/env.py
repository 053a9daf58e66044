"""Reading configuration from the environment: small, strict helpers with no third-party parser."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json(name: str, default: dict | None = None) -> dict:
    """A JSON object (SMS_TEMPLATES); an unset or empty variable is `default`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return dict(default or {})
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {type(value).__name__}")
    return value


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """`postgres://user:pass@host:port/name?sslmode=require` or `sqlite:///path` to a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query))
    if scheme == "sqlite":
        # sqlite:///relative.db is relative to the project; sqlite:////abs/path.db is absolute.
        path = Path(unquote(parts.path)[1:])
        name = path if path.is_absolute() else base_dir / path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(name), "OPTIONS": options}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            # Django's PostgreSQL backend with timestamps parsed by psycopg's C loader (alliance/db/postgresql).
            "ENGINE": "alliance.db.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported (use postgres:// or sqlite://)")

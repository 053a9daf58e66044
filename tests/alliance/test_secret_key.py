"""With DEBUG off the settings refuse to start on a secret key anyone can know: the compose file's former
default, the dev key, Django's "django-insecure-" keys, and keys too short or too uniform to resist
guessing. Each case imports the settings in a fresh interpreter, as gunicorn would, with the environment
an operator would give it (and without pytest's marker, which allows a missing key)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOWTO = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
# docker-compose.yml's default until it was removed: a copy of it in somebody's .env must not start.
FORMER_COMPOSE_DEFAULT = "change-me-compose-default-secret-key-set-SECRET_KEY-in-dot-env-7f3a9c2e"


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "SECRET_KEY", "DEBUG"}}
    environ.update({"ALLOWED_HOSTS": "alliance.example.org", "VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "import alliance.settings"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    [
        FORMER_COMPOSE_DEFAULT,
        "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef",
        "django-insecure-" + secrets.token_urlsafe(50),
        secrets.token_urlsafe(30),  # 40 characters
        "ab" * 40,  # long, but two different characters
    ],
    ids=["compose-default", "dev-key", "django-insecure", "short", "few-characters"],
)
def test_production_settings_refuse_a_known_or_weak_secret_key(tmp_path, key):
    result = start(tmp_path, DEBUG="0", SECRET_KEY=key)
    assert result.returncode == 1
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is a published placeholder or too weak" in (
        result.stderr
    )
    assert HOWTO in result.stderr


def test_production_settings_refuse_a_missing_secret_key_and_say_how_to_set_one(tmp_path):
    result = start(tmp_path, DEBUG="0")
    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr
    assert HOWTO in result.stderr


def test_production_settings_start_with_a_random_secret_key(tmp_path):
    result = start(tmp_path, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50))
    assert (result.returncode, result.stderr) == (0, "")


def test_debug_mode_starts_with_any_secret_key(tmp_path):
    result = start(tmp_path, DEBUG="1", SECRET_KEY="short")
    assert (result.returncode, result.stderr) == (0, "")


def test_the_compose_file_has_no_default_secret_key():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert FORMER_COMPOSE_DEFAULT not in compose
    assert "SECRET_KEY: '${SECRET_KEY:?set SECRET_KEY in .env" in compose

"""gunicorn's access log (Dockerfile, docker-compose.yml: `--logger-class`) carries no secret of a path:
password-set links, calendar feed addresses and tracking codes are redacted as in every other log line."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from alliance.gunicorn_logging import RedactingLogger
from demands.services import TRACKING_ALPHABET

CODE = (TRACKING_ALPHABET * 2)[:4] + "-" + (TRACKING_ALPHABET * 2)[4:8] + "-" + (TRACKING_ALPHABET * 2)[8:13]
TOKEN = "q3Zk9" * 8


def _atoms(path: str, query: str = "") -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}" if query else path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_REFERER": f"https://alliance.example.org{path}",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=12)
    request = SimpleNamespace(headers=[])
    return RedactingLogger(Config()).atoms(response, request, environ, datetime.timedelta(milliseconds=5))


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/portal/password/set/MTI/{TOKEN}/", "/portal/password/set/***/"),
        (f"/calendar/{TOKEN}.ics", "/calendar/***.ics"),
        (f"/api/v1/public/needs/{CODE}/", "/api/v1/public/needs/****-****-*****/"),
    ],
)
def test_the_access_log_redacts_secrets_in_paths(path, shown):
    atoms = _atoms(path, "phone_last4=1234")
    assert atoms["U"] == shown
    assert atoms["r"] == f"GET {shown}?phone_last4=1234 HTTP/1.1"
    assert atoms["f"] == f"https://alliance.example.org{shown}"
    assert atoms["h"] == "192.0.2.7"


def test_an_ordinary_path_is_logged_as_it_is():
    assert _atoms("/portal/needs/12/")["U"] == "/portal/needs/12/"

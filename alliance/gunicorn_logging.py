"""gunicorn's access log through the platform's redaction (`alliance.masking.redact`).

A request line names secrets in its path: a password-set link (`/portal/password/set/<uid>/<token>/`), a
calendar feed's address (`/calendar/<token>.ics`) and a need's tracking code (`/api/v1/public/needs/<code>/`).
gunicorn writes its access log itself, past Django's logging and its redacting filter, so the Dockerfile and
docker-compose.yml start it with `--logger-class alliance.gunicorn_logging.RedactingLogger`."""

from __future__ import annotations

from gunicorn.glogging import Logger

from .masking import redact

# The atoms that carry a path or an address: the request line, the path, the query string, the referer.
_PATH_ATOMS = ("r", "U", "q", "f")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _PATH_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms

"""The project's database backend (`alliance.db.postgresql`) and what the web processes set up on it."""

from __future__ import annotations


def prepare_web_statements() -> None:
    """Called by alliance/wsgi.py and asgi.py before the application is made: the web processes' connections
    prepare a statement run DATABASE_PREPARE_THRESHOLD times (settings.DATABASE_WEB_PREPARE_THRESHOLD); no
    other process does (alliance/settings.py says why). The connections read their options when they open,
    so this must run before the first one does."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        if database["ENGINE"] == "alliance.db.postgresql":
            database["OPTIONS"]["prepare_threshold"] = settings.DATABASE_WEB_PREPARE_THRESHOLD

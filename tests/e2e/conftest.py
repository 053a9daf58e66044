"""Real-browser tests: Playwright (sync API, via pytest-playwright) driving Debian's chromium against
pytest-django's live server. RECIPES.md, "Real-browser tests without downloading a browser"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# Debian's chromium, not Playwright's download (downloads fail on these machines).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_db_beside_playwrights_loop():
    """pytest-playwright's sync API keeps an asyncio event loop running in the main thread from the first
    browser test on, and Django then refuses every synchronous database call from that thread (fixtures,
    the final DB checks, the flush of transactional_db) with SynchronousOnlyOperation. Nothing here shares
    a connection between coroutines, so the guard has nothing to protect; the browser tests run last
    (see below), so every other test keeps the guard."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Hooks in a sub-folder's conftest see the whole session's items: mark only this folder's, and move
    # them to the end, after which Playwright's event loop may run in the main thread.
    browser_items = [item for item in items if item.path.is_relative_to(HERE)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    items[:] = [item for item in items if not item.path.is_relative_to(HERE)] + browser_items

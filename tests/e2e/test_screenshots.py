"""scripts/screenshots.py takes its five screenshots, at the sizes it names, against a live platform."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from .test_portal import PASSWORD

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_the_script_writes_each_screen_at_its_size(browser, transactional_db, live_server, street_staff, tmp_path):
    screenshots = _script()
    written = screenshots.capture(
        lambda viewport: browser.new_page(viewport=viewport),
        live_server.url,
        tmp_path,
        street_staff.username,
        PASSWORD,
    )
    assert [path.name for path in written] == [name for name, *_rest in screenshots.SHOTS]
    for (_name, _path, viewport, _staff), path in zip(screenshots.SHOTS, written, strict=True):
        assert _png_size(path) == (viewport["width"], viewport["height"])

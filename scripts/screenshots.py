"""Screenshots of the screens people use all day, at the sizes they use them, for anyone to look at after a
change: the public home on a phone and a laptop, the staff workbench on a laptop and a tablet, and the
needs list on a laptop.

    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:8000] [--out var/screenshots]
        [--username staff] [--password demo-pass-2026]

Run it against the demo (`bash scripts/run-demo.sh` in another terminal; `staff` is its street staff
member). It drives Debian's chromium (`CHROMIUM`, default /usr/bin/chromium) through Playwright and never
downloads a browser. The files land in --out (git-ignored under var/) and their paths are printed."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}

# (file name, address, viewport, signed in as staff?)
SHOTS = [
    ("home-phone.png", "/", PHONE, False),
    ("home-laptop.png", "/", LAPTOP, False),
    ("workbench-laptop.png", "/admin/", LAPTOP, True),
    ("workbench-tablet.png", "/admin/", TABLET, True),
    ("needs-list-laptop.png", "/admin/demands/need/", LAPTOP, True),
]

ROOT = Path(__file__).resolve().parent.parent


def capture(new_page: Callable[[dict], object], base_url: str, out: Path, username: str, password: str) -> list[Path]:
    """Take every screenshot of SHOTS; `new_page(viewport)` opens a Playwright page of that size."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path, viewport, staff in SHOTS:
        page = new_page(viewport)
        try:
            if staff:
                page.goto(f"{base_url}/admin/login/?next={path}")
                page.locator("input[name=username]").fill(username)
                page.locator("input[name=password]").fill(password)
                page.locator("#login-form [type=submit]").first.click()
                page.wait_for_url(f"{base_url}{path}")
            else:
                page.goto(f"{base_url}{path}")
            page.wait_for_load_state("networkidle")
            target = out / name
            page.screenshot(path=str(target), full_page=False)
            written.append(target)
        finally:
            page.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots")
    parser.add_argument("--username", default="staff")
    parser.add_argument("--password", default="demo-pass-2026")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            paths = capture(
                lambda viewport: browser.new_page(viewport=viewport, locale="zh-CN"),
                args.base_url.rstrip("/"),
                args.out,
                args.username,
                args.password,
            )
        finally:
            browser.close()
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()

"""Every message the source asks to translate reads in Chinese (the default) and in English.

Django's own `makemessages` extracts the messages from a copy of the source (the checkout's catalogues are
never rewritten); each is then translated as a page would translate it, through every catalogue the site
loads — the project's and those of Django, the admin theme and the other packages, which translate the
messages of the templates the project overrides. A message that comes back unchanged in Chinese is one
nobody translated: the page shows it in English to a Chinese reader."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
SOURCE_IGNORED = (".git", ".venv", "var", "media", "staticfiles", "tests", "bench", "__pycache__", "*.mo", "*.sqlite3")

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("catalogues") / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SOURCE_IGNORED), symlinks=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_VERSION")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--no-obsolete"],
        cwd=copy,
        env={**env, "DEBUG": "1"},
        check=True,
        capture_output=True,
    )
    return copy / "locale"


LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _messages(extracted: Path) -> list[polib.POEntry]:
    messages = [e for e in polib.pofile(str(extracted / "zh_Hans" / "LC_MESSAGES" / "django.po")) if not e.obsolete]
    assert len(messages) > 2000  # the extraction found the source's messages
    return messages


def _as_shown(entry: polib.POEntry) -> str:
    if entry.msgid_plural:
        return (
            translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
            if entry.msgctxt
            else (translation.ngettext(entry.msgid, entry.msgid_plural, 1))
        )
    return translation.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else translation.gettext(entry.msgid)


def _words(text: str) -> str:
    # Placeholders are not words a reader sees.
    return re.sub(r"%\(\w+\)[sd]|\{\w*\}", "", text)


# Shown as they are in Chinese too: a language's name is written in that language (the language switch).
SAME_IN_CHINESE = {"English"}


def test_every_message_reads_in_chinese(extracted):
    with translation.override("zh-hans"):
        untranslated = sorted(
            entry.msgid
            for entry in _messages(extracted)
            if LATIN_WORD.search(_words(entry.msgid))
            and entry.msgid not in SAME_IN_CHINESE
            and _as_shown(entry) == entry.msgid
        )
    assert untranslated == []


def _written_in_chinese(text: str) -> bool:
    # English messages may quote a Chinese term of art (一单一表一卡); a Chinese one is mostly Chinese.
    return len(CHINESE.findall(text)) > len(re.findall(r"[A-Za-z]", _words(text)))


def test_every_message_reads_in_english(extracted):
    """A message written in Chinese in the source has its English translation."""
    with translation.override("en"):
        chinese = sorted(
            entry.msgid
            for entry in _messages(extracted)
            if _written_in_chinese(entry.msgid) and _as_shown(entry) == entry.msgid
        )
    assert chinese == []

"""The district helper's messages (locale/*/LC_MESSAGES/wip_district.po) reach the compiled catalogues:
each is Chinese in zh-hans and itself in English, and the services' refusals are among them. Run after
`manage.py compile_catalogues`, which folds the wip_*.po files in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _msgids(language: str) -> list[str]:
    text = (ROOT / "locale" / language / "LC_MESSAGES" / "wip_district.po").read_text(encoding="utf-8")
    ids = [bytes(m, "utf-8").decode("unicode_escape") for m in re.findall(r'^msgid "(.+)"$', text, re.M)]
    return [i.encode("latin-1").decode("utf-8") for i in ids]


@pytest.mark.parametrize("msgid", _msgids("zh_Hans"))
def test_each_message_is_chinese_in_chinese_and_itself_in_english(msgid):
    with translation.override("zh-hans"):
        assert CHINESE.search(translation.gettext(msgid)), msgid
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid


def test_both_languages_hold_the_same_messages():
    assert _msgids("zh_Hans") == _msgids("en")
    assert "Only the staff of a district plan its district meetings." in _msgids("zh_Hans")

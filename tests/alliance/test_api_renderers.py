"""The API's JSON renderer (alliance/api/renderers.py): orjson writes a response only where it gives DRF's
very bytes, and DRF's renderer writes everything else."""

from __future__ import annotations

import pytest
from rest_framework import renderers
from rest_framework.response import Response

from alliance.api.renderers import JSONRenderer

# What an escape could get wrong: control characters (short and \u00XX forms), quotes and backslashes,
# DEL, the two separators DRF escapes for <script>, text beyond the BMP, and an empty string.
TRICKY = ['\x00\x01\x1f\x7f"\\\n\r\t\b\f', "\u2028 \u2029", "中文 é 😀", "", "</script>"]


def _both(data, *, plain: bool, media_type: str = "application/json") -> tuple[bytes, bytes]:
    response = Response(data)
    response.plain_json = plain
    context = {"response": response}
    return JSONRenderer().render(data, media_type, context), renderers.JSONRenderer().render(data, media_type, context)


@pytest.mark.parametrize("text", TRICKY)
def test_a_plain_page_is_written_byte_for_byte_as_drf_writes_it(text):
    data = {
        "count": 2,
        "next": None,
        "previous": "http://testserver/api/v1/needs/?cursor=abc",
        "count_is_estimate": True,
        "results": [{"id": 1, "title": text, "done": False, "unit": None}, {"id": 2**62, "title": text * 3}],
    }
    ours, drf = _both(data, plain=True)
    assert ours == drf


def test_values_the_fast_encoder_writes_differently_go_to_drf():
    """A small float (orjson writes 0.00001, Python 1e-05) or an int beyond 64 bits in a response that
    did not vouch for its values, or one that did by mistake: DRF's bytes either way."""
    data = {"hours": 1e-05, "big": 2**70}
    assert _both(data, plain=False) == (b'{"hours":1e-05,"big":1180591620717411303424}',) * 2
    ours, drf = _both({"big": 2**70}, plain=True)
    assert ours == drf == b'{"big":1180591620717411303424}'


def test_an_indented_answer_is_drfs():
    ours, drf = _both({"a": [1]}, plain=True, media_type="application/json; indent=2")
    assert ours == drf == b'{\n  "a": [\n    1\n  ]\n}'

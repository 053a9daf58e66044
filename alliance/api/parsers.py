"""The API's JSON parser: bad JSON is a 400 with a message in the user's language, never a 500."""

from __future__ import annotations

import codecs
import json

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant

# No request this API takes nests deeper than a few levels; a body nested deeper is refused before any
# serializer (or anything else that recurses) walks it.
MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """DRF's parser answers a RecursionError (a body of 100,000 `[`) with a 500 and other bad JSON with an
    English message: both become a ParseError (400) with a message translated here."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        parse_constant = strict_constant if api_settings.STRICT_JSON else None
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(_("The JSON in the request is nested too deeply.")) from None
        except json.JSONDecodeError as exc:
            raise ParseError(
                _("The request is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        except ValueError:  # bytes that are not text in the declared encoding, NaN in strict mode
            raise ParseError(_("The request is not valid JSON.")) from None
        if nested_deeper_than(data, MAX_DEPTH):
            raise ParseError(_("The JSON in the request is nested too deeply."))
        return data


def nested_deeper_than(data: object, limit: int) -> bool:
    """Whether lists and objects in `data` nest more than `limit` levels; without recursion, so that the
    check itself cannot run out of stack."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False

"""`{{ text|mask_phones }}`: free text a unit wrote (a resource's description, its hours) as the public pages
show it — every mobile number in it masked (138****1234), so that a liaison's own number typed into an
offer never reaches the public side (SPEC: personal data never in the public pages)."""

from __future__ import annotations

import re

from django import template

from alliance.masking import mask_phone

register = template.Library()

# A mainland mobile number standing alone: 11 digits from 13… to 19…, optionally written 139-1234-5678 or
# 139 1234 5678, and not part of a longer run of digits (an order number, a date). [0-9], not \d: \d also
# matches other scripts' digits.
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])")


@register.filter
def mask_phones(text: str | None) -> str:
    """`text` with each mobile number masked; the text is escaped by the template as usual."""
    if not text:
        return ""
    return MOBILE_IN_TEXT.sub(lambda found: mask_phone("".join(found.groups())), str(text))

"""The history pages in words staff read (issue 11): simple-history shows a change's values as stored —
a status as its code (`dispatched → accepted`), an empty value as `None`, a time as UTC text. This filter
turns each value of a record's changes into what the change form would show: a choice's label, 是/否,
"—" for nothing, a time in the current time zone (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime
from html import unescape
from typing import Any

from django import template
from django.db import models
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.text import capfirst
from django.utils.translation import gettext

register = template.Library()

EMPTY = "—"


def _fields_by_title(model: type[models.Model]) -> dict[str, models.Field]:
    # simple-history names a changed field by its capitalised verbose name; that is the way back to it.
    return {str(capfirst(f.verbose_name)): f for f in model._meta.concrete_fields}


def _display(field: models.Field | None, shown: Any) -> str:
    text = unescape(str(shown))  # simple-history escaped it; it is escaped again below
    if text in ("None", ""):
        return EMPTY
    if field is None:
        return text
    if field.is_relation and text.endswith("(pk=None)"):
        return EMPTY  # simple-history names an empty link as a deleted object with no key
    if field.choices:
        return str({str(k): v for k, v in field.flatchoices}.get(text, text))
    if isinstance(field, models.BooleanField):
        return {"True": gettext("Yes"), "False": gettext("No")}.get(text, text)
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, "DATETIME_FORMAT")
    return text


@register.filter
def labelled_changes(record) -> list[dict[str, str]]:
    """`record.history_delta_changes` (set by SimpleHistoryAdmin) with each value as staff read it."""
    changes = getattr(record, "history_delta_changes", None) or []
    fields = _fields_by_title(record.instance_type)
    return [
        {
            "field": change["field"],
            "old": conditional_escape(_display(fields.get(str(change["field"])), change["old"])),
            "new": conditional_escape(_display(fields.get(str(change["field"])), change["new"])),
        }
        for change in changes
    ]

"""A light serialization path for API list pages, compiled from the serializer classes themselves.

DRF serialises a row by asking every field for its attribute (`Field.get_attribute`, with its exception
handling) and then for its representation, in generic code: at 50–200 rows × 10–30 fields a page that
generic walk was most of an API list's time (issue 12, bench/RESULTS.md). `FastListSerializer`, named as
`Meta.list_serializer_class` of a list's serializer, compiles the child serializer's *own* bound fields,
once per page, into a plan of (key, read, convert) steps:

- read: the field's `source` walked with plain `getattr`; a foreign key read as a primary key
  (`PrimaryKeyRelatedField`) is its `<name>_id` column, as DRF's pk-only optimisation reads it;
- convert: the exact shortcut of the field class's `to_representation` for the types lists are made of
  (text, integers, booleans, choices, ISO dates and datetimes in the current time zone); any other field —
  decimals, method fields, nested serializers, a subclass of a known type — is asked its own
  `to_representation`.

There is no second field list that could drift from the serializer: the keys, their order, their sources
and their types come from `child.fields`. Whatever the shortcut cannot reproduce exactly goes to DRF's own
code for that field and row: a `None` on the way along a source (DRF's default / null / skip rules), a
naive datetime, a value of an unexpected type. A serializer that changes a row after DRF's
`to_representation` (masking) does it in `finish_representation(instance, data)` through
`RowFinishing`, which the plain DRF path and this one both call; a serializer overriding
`to_representation` any other way is serialised by DRF, row by row, unchanged.

tests/alliance/test_api_fast.py proves, for every list endpoint, that both paths give the same JSON.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import ISO_8601, api_settings


class RowFinishing:
    """Mixin for serializers that change a row once DRF has made it (masking personal data). Both paths
    call `finish_representation`, so the fast one cannot forget a mask."""

    def to_representation(self, instance: Any) -> dict:
        data = super().to_representation(instance)
        self.finish_representation(instance, data)
        return data

    def finish_representation(self, instance: Any, data: dict) -> None:  # pragma: no cover - overridden
        pass


_PLAIN = (serializers.Serializer.to_representation, RowFinishing.to_representation)


class _Slow(Exception):
    """Raised by a fast read that met something only DRF's own code answers exactly."""


def _reader(field: drf_fields.Field, model: type[models.Model] | None) -> Callable[[Any], Any] | None:
    """A plain-`getattr` reader for the field's source, or None when only DRF's get_attribute will do."""
    attrs = list(field.source_attrs)
    if not attrs or field.source == "*":
        return None
    if isinstance(field, relations.PrimaryKeyRelatedField) and len(attrs) == 1 and model is not None:
        # The `<name>_id` column is what DRF answers only when the field represents a key as its pk.
        plain = type(field).to_representation is relations.PrimaryKeyRelatedField.to_representation
        if not plain or not field.use_pk_only_optimization() or field.pk_field is not None:
            return None
        try:
            model_field = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            return None
        if not (model_field.many_to_one or model_field.one_to_one) or not model_field.concrete:
            return None
        attname = model_field.attname
        return lambda instance: getattr(instance, attname)
    if isinstance(field, relations.RelatedField | serializers.ManyRelatedField):
        return None
    # Each step must be a column, a relation, a property or an annotation — never a method, which DRF calls.
    current = model
    for attr in attrs:
        if current is None:
            return None
        try:
            model_field = current._meta.get_field(attr)
        except FieldDoesNotExist:
            if callable(getattr(current, attr, None)):
                return None
            current = None  # a property or an annotation: read it, and nothing may follow
            continue
        if model_field.many_to_many or model_field.one_to_many:
            return None
        current = model_field.related_model if model_field.is_relation else None
    if len(attrs) == 1:
        name = attrs[0]

        def read_one(instance: Any) -> Any:
            return getattr(instance, name)

        return read_one

    *path, last = attrs

    def read_path(instance: Any) -> Any:
        for attr in path:
            instance = getattr(instance, attr)
            if instance is None:
                raise _Slow  # DRF's rules for a missing relation: default, null or the key left out
        return getattr(instance, last)

    return read_path


def _converter(field: drf_fields.Field) -> Callable[[Any], Any]:
    """The field class's to_representation, short-cut for the values lists are made of; anything else goes
    to the field itself. Exact classes only: a subclass may represent differently."""
    kind = type(field)
    own = field.to_representation
    if kind is drf_fields.CharField:
        return lambda value: value if type(value) is str else own(value)
    if isinstance(field, relations.PrimaryKeyRelatedField):
        # Read from its `_id` column (see `_reader`): already the primary key DRF would answer.
        return lambda value: value
    if kind is drf_fields.IntegerField:
        return lambda value: value if type(value) is int else own(value)
    if kind is drf_fields.BooleanField:
        return lambda value: value if type(value) is bool else own(value)
    if kind is drf_fields.ChoiceField:
        mapping = field.choice_strings_to_values
        if all(type(key) is str and type(value) is str for key, value in mapping.items()):
            return lambda value: mapping.get(value, value) if type(value) is str else own(value)
        return own
    if kind is drf_fields.DateTimeField:
        output = getattr(field, "format", api_settings.DATETIME_FORMAT)
        if output is None or output.lower() != ISO_8601:
            return own
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
        if zone is None:
            return own

        def datetime_iso(value: Any) -> Any:
            if type(value) is not datetime.datetime or value.tzinfo is None:
                return own(value)
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return datetime_iso
    if kind is drf_fields.DateField:
        output = getattr(field, "format", api_settings.DATE_FORMAT)
        if output is None or output.lower() != ISO_8601:
            return own
        return lambda value: value.isoformat() if type(value) is datetime.date else own(value)
    return own


def _step(field: drf_fields.Field, model: type[models.Model] | None) -> Callable[[Any], Any]:
    """One field of one row: its value as DRF's Serializer.to_representation would put it, or SkipField."""
    convert = _converter(field)
    read = _reader(field, model)

    def slow(instance: Any) -> Any:
        # DRF's own loop body for this field (serializers.Serializer.to_representation).
        attribute = field.get_attribute(instance)
        check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    if read is None:
        return slow

    def fast(instance: Any) -> Any:
        try:
            value = read(instance)
        except _Slow:
            return slow(instance)
        except (AttributeError, KeyError, models.ObjectDoesNotExist):
            return slow(instance)
        return None if value is None else convert(value)

    return fast


def compile_rows(child: serializers.Serializer) -> Callable[[Any], dict] | None:
    """A function making one row's dict as `child.to_representation` does, or None where only DRF can."""
    kind = type(child)
    if kind.to_representation not in _PLAIN:
        return None
    model = getattr(getattr(kind, "Meta", None), "model", None)
    steps: list[tuple[str, Callable[[Any], Any]]] = [
        (field.field_name, _step(field, model)) for field in child._readable_fields
    ]
    finish = child.finish_representation if isinstance(child, RowFinishing) else None

    def row(instance: Any) -> dict:
        data = {}
        for name, step in steps:
            try:
                data[name] = step(instance)
            except SkipField:
                continue
        if finish is not None:
            finish(instance, data)
        return data

    return row


class FastListSerializer(serializers.ListSerializer):
    """`many=True` of a list's serializer: the page's rows through the compiled plan (see the module)."""

    def to_representation(self, data: Iterable[Any]) -> list[dict]:
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        row = compile_rows(self.child)
        if row is None:
            return super().to_representation(iterable)
        return [row(item) for item in iterable]


def drf_rows(serializer_class: type[serializers.Serializer], rows: Iterable[Any], context: dict) -> list[dict]:
    """The same rows through DRF's generic path alone: what the fast one must equal (used by the tests)."""
    child = serializer_class(context=context)
    return [child.to_representation(item) for item in rows]

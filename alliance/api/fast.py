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
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField, empty
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


def _path(field: drf_fields.Field, model: type[models.Model] | None) -> list[str] | None:
    """The attribute names a plain `getattr` walk reads for the field, or None when only DRF's get_attribute
    will do. A foreign key shown as its primary key (`PrimaryKeyRelatedField`) is its `<name>_id` column,
    which is what DRF's pk-only optimisation reads."""
    attrs = list(field.source_attrs)
    if not attrs or field.source == "*" or not all(attr.isidentifier() for attr in attrs):
        return None
    if isinstance(field, relations.PrimaryKeyRelatedField):
        plain = type(field).to_representation is relations.PrimaryKeyRelatedField.to_representation
        if len(attrs) != 1 or model is None or not plain or not field.use_pk_only_optimization():
            return None
        if field.pk_field is not None:
            return None
        try:
            model_field = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            return None
        if not (model_field.many_to_one or model_field.one_to_one) or not model_field.concrete:
            return None
        return [model_field.attname]
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
    return attrs


def _shortcut(field: drf_fields.Field) -> tuple[str, Callable[[], Any]]:
    """How the field class's to_representation is short-cut for a value that is not None: an expression
    template over `v` and a helper `h`, and a function making that helper for the current request (a
    datetime's zone is the request's). Used only for the exact classes below — a subclass may represent
    differently; every other field is asked its own to_representation."""
    kind = type(field)
    own = field.to_representation
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return "v", lambda: None  # the `_id` column read by `_path` is the primary key DRF answers
    if kind is drf_fields.CharField:
        return "v if type(v) is str else h(v)", lambda: own
    if kind is drf_fields.IntegerField or (
        kind is getattr(drf_fields, "BigIntegerField", None)
        and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    ):
        return "v if type(v) is int else h(v)", lambda: own
    if kind is drf_fields.BooleanField:
        return "v if type(v) is bool else h(v)", lambda: own
    if kind is drf_fields.ChoiceField:
        mapping = field.choice_strings_to_values
        if all(type(key) is str and type(value) is str for key, value in mapping.items()):

            def choice(value: Any) -> Any:
                return mapping.get(value, value) if type(value) is str else own(value)

            return "h(v)", lambda: choice
    if kind is drf_fields.DateTimeField:
        output = getattr(field, "format", api_settings.DATETIME_FORMAT)
        if output is not None and output.lower() == ISO_8601:

            def datetime_iso() -> Callable[[Any], Any]:
                zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
                if zone is None:
                    return own

                def iso(value: Any) -> Any:
                    if type(value) is not datetime.datetime or value.tzinfo is None:
                        return own(value)  # naive, or not a datetime: DRF's own rules
                    text = value.astimezone(zone).isoformat()
                    return text[:-6] + "Z" if text.endswith("+00:00") else text

                return iso

            return "h(v)", datetime_iso
    if kind is drf_fields.DateField:
        output = getattr(field, "format", api_settings.DATE_FORMAT)
        if output is not None and output.lower() == ISO_8601:
            return "v.isoformat() if type(v) is date else h(v)", lambda: own
    return "h(v)", lambda: own


def _careful(field: drf_fields.Field) -> Callable[[Any], Any]:
    """DRF's own loop body for one field (serializers.Serializer.to_representation); may raise SkipField."""

    def value(instance: Any) -> Any:
        attribute = field.get_attribute(instance)
        check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return value


@dataclass
class _Shape:
    """A serializer's rows as generated source, and what its names are bound to for one request."""

    code: Any
    helpers: dict[str, Callable[[], Any]]  # name in the source → the helper for the current request
    slow: dict[str, int]  # name in the source → index of the field asked through DRF's own code
    reusable: bool  # no field needs the request's own bound field: the shape serves every request


_COMPILED: dict[str, Any] = {}
# Field classes whose to_representation reads nothing of the request (context, parent): a shape made of
# them can be made once from an instance without context.
_CONTEXT_FREE = (
    drf_fields.CharField,
    drf_fields.EmailField,
    drf_fields.URLField,
    drf_fields.SlugField,
    drf_fields.IntegerField,
    *([drf_fields.BigIntegerField] if hasattr(drf_fields, "BigIntegerField") else []),
    drf_fields.FloatField,
    drf_fields.DecimalField,
    drf_fields.BooleanField,
    drf_fields.ChoiceField,
    drf_fields.DateTimeField,
    drf_fields.DateField,
    relations.PrimaryKeyRelatedField,
)
# Per serializer class, the shape made from an instance without context, when it is reusable: a page then
# builds no field objects at all (ModelSerializer builds them anew for every request, ~25 per list).
_SHAPES: dict[type, _Shape | None] = {}


def _shape(child: serializers.Serializer) -> _Shape:
    kind = type(child)
    model = getattr(getattr(kind, "Meta", None), "model", None)
    fields = list(child._readable_fields)
    helpers: dict[str, Callable[[], Any]] = {}
    slow_fields: dict[str, int] = {}
    context_free = all(type(field) in _CONTEXT_FREE for field in fields)
    lines = ["def row(o):", "    d = {}"]

    def slow(i: int, key: str, indent: str) -> None:
        slow_fields[f"s{i}"] = i
        lines.extend(
            [f"{indent}try:", f"{indent}    d[{key}] = s{i}(o)", f"{indent}except SkipField:", f"{indent}    pass"]
        )

    for i, field in enumerate(fields):
        key = repr(field.field_name)
        path = _path(field, model)
        if path is None:
            slow(i, key, "    ")
            continue
        template, helper = _shortcut(field)
        helpers[f"h{i}"] = helper
        expression = template.replace("h(", f"h{i}(")
        *through, last = path
        indent = "    "
        if through:
            lines.append(f"    r = o.{through[0]}")
            for attr in through[1:]:
                lines.append(f"    r = r.{attr} if r is not None else None")
            lines.append("    if r is None:")
            # DRF's Field.get_attribute on the AttributeError of reading through None: its default, else
            # null where allowed, else the key left out where not required.
            if field.default is empty and field.allow_null:
                lines.append(f"        d[{key}] = None")
            elif field.default is empty and not field.required:
                lines.append("        pass")
            else:
                slow(i, key, "        ")
            lines.append("    else:")
            indent, owner = "        ", "r"
        else:
            owner = "o"
        lines.append(f"{indent}v = {owner}.{last}")
        lines.append(f"{indent}d[{key}] = None if v is None else ({expression})")
    if isinstance(child, RowFinishing):
        lines.append("    finish(o, d)")
    lines.append("    return d")
    source = "\n".join(lines)
    code = _COMPILED.get(source)
    if code is None:  # compiling costs milliseconds: once per process and shape, not per page
        code = _COMPILED[source] = compile(source, f"<fast rows of {kind.__qualname__}>", "exec")
    # Fields built the ModelSerializer way (no __init__ or get_fields of the serializer's own, which could
    # depend on the request) and none asked through DRF: the shape does not depend on the request.
    plain_build = kind.__init__ is serializers.BaseSerializer.__init__ and kind.get_fields in (
        serializers.ModelSerializer.get_fields,
        serializers.Serializer.get_fields,
    )
    return _Shape(code, helpers, slow_fields, reusable=plain_build and context_free and not slow_fields)


def compile_rows(child: serializers.Serializer) -> Callable[[Any], dict] | None:
    """A function making one row's dict as `child.to_representation` does, or None where only DRF can.

    The function is generated Python source, one statement per field in the serializer's order (a loop
    over field objects cost more than the reads themselves). What the shortcut cannot answer goes to DRF's
    code: a field without a plain path always, a path that meets None on the way for that row (DRF's
    default / null / skip rules), and the whole row again, field by field, when a read raises."""
    kind = type(child)
    if kind.to_representation not in _PLAIN:
        return None
    if kind not in _SHAPES:
        # Made from an instance of its own (no request in it); kept only when no request can change it.
        prototype = _shape(kind())
        _SHAPES[kind] = prototype if prototype.reusable else None
    shape = _SHAPES[kind] or _shape(child)
    finish = child.finish_representation if isinstance(child, RowFinishing) else None
    names: dict[str, Any] = {"date": datetime.date, "SkipField": SkipField, "finish": finish}
    names.update((name, make()) for name, make in shape.helpers.items())
    if shape.slow:
        readable = list(child._readable_fields)
        names.update((name, _careful(readable[i])) for name, i in shape.slow.items())
    exec(shape.code, names)
    fast_row = names["row"]

    def careful_row(instance: Any) -> dict:
        data = {}
        for field in child._readable_fields:  # the request's own fields, built now if not yet
            try:
                data[field.field_name] = _careful(field)(instance)
            except SkipField:
                continue
        if finish is not None:
            finish(instance, data)
        return data

    def row(instance: Any) -> dict:
        try:
            return fast_row(instance)
        except (AttributeError, KeyError, models.ObjectDoesNotExist):
            # An annotation the queryset lacks, a relation that does not exist…: DRF's rules, field by field.
            return careful_row(instance)

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

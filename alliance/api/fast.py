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

Further down, `values_rows` goes one step further for the API lists (`alliance.api.views.FastListMixin`): the
page is read as tuples of the shown columns, and the same kind of generated code makes each row's dict from
its tuple — no model instances at all.

tests/alliance/test_api_fast.py proves, for every list endpoint and every kind of user, that the tuple path,
the instance path and DRF's own give the same JSON bytes with the same number of statements.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.utils.functional import LazyObject, cached_property
from django.utils.functional import empty as lazy_empty
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

    @cached_property
    def viewer(self) -> Any:
        """The request's user, or None without a request: what the masking rules ask about, once per page.
        `request.user` is Django's lazy object, and every attribute read through it costs a call — for every
        rule read of every row."""
        request = self.context.get("request")
        if request is None:
            return None
        user = request.user
        if isinstance(user, LazyObject):
            if user._wrapped is lazy_empty:
                user._setup()
            return user._wrapped
        return user


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


# --- List pages read as tuples --------------------------------------------------------------------------
#
# Half of a list page was building model instances: the list's model and every `select_related` one, each
# with all its columns, each through Model.__init__. `values_rows` reads the page with `values_list` instead
# — only the columns the serializer shows, a related object's name as a column of the join — and makes each
# row's dict straight from the tuple, with the same shortcuts as above. The plan comes from the same bound
# fields (keys, order, sources, types), so the JSON cannot differ from DRF's; what it cannot read from a
# column it does not guess: the list is then served by the instance path above, unchanged.
#
# - A method field (SerializerMethodField) is read from columns only when the serializer says how, in
#   `column_fields` (`FromColumns`: the lookups and the function of their values, the one its method calls).
# - A source through a relation that may be null (`unit.name`) also reads the relation's key: DRF answers
#   null, a default or nothing for a missing relation, and the name column alone cannot tell that apart.
# - A serializer that masks (`RowFinishing`) also reads the columns its masking reads — `finish_columns`
#   (attnames), or every column of its model without it — and is handed an instance made of them (no
#   Model.__init__, no related objects) to decide as it always does.


@dataclass(frozen=True)
class FromColumns:
    """How the tuple path computes a field that has no plain source (a method field): from these lookups'
    values, by `compute` — the function the serializer's own method calls, so the two cannot drift."""

    lookups: tuple[str, ...]
    compute: Callable[..., Any]
    # Its answers are str, int, bool or None: a page made only of such values is written by the fast JSON
    # encoder (alliance/api/renderers.py), which writes them exactly as Python's json does.
    json_native: bool = True


# Attributes of a model whose instance value is the column's value as values_list reads it (a file
# field's descriptor, for one, wraps it): only columns behind these are read as tuples.
_PLAIN_DESCRIPTORS = (
    models.query_utils.DeferredAttribute,
    models.fields.related_descriptors.ForeignKeyDeferredAttribute,
)


def _descriptor(model: type[models.Model], attname: str) -> Any:
    return next((klass.__dict__[attname] for klass in model.__mro__ if attname in klass.__dict__), None)


def _lookup(model: type[models.Model], path: list[str], annotations: Any) -> tuple[str, list[str]] | None:
    """The values_list lookup of a field's source path (`["unit", "name"]` → `"unit__name"`) and the lookups
    of the relations on the way that may be null (`["unit"]`); None when the path is not a plain column of
    a to-one relation chain or an annotation of the list's query."""
    parts: list[str] = []
    hops: list[str] = []
    current = model
    for n, attr in enumerate(path):
        last = n == len(path) - 1
        if attr == "pk":
            attr = current._meta.pk.name
        try:
            field = current._meta.get_field(attr)
        except FieldDoesNotExist:
            if n == 0 and last and attr in annotations:
                return attr, []
            return None
        if not field.concrete or type(_descriptor(current, field.attname)) not in _PLAIN_DESCRIPTORS:
            return None
        if field.is_relation and attr == field.attname != field.name:
            if not last:
                return None
            return "__".join([*parts, field.name]), hops  # `unit_id`: the key column itself
        if field.is_relation:
            if last or not (field.many_to_one or field.one_to_one):
                return None  # a related object itself is what DRF would represent: not a column
            parts.append(field.name)
            if field.null:
                hops.append("__".join(parts))
            current = field.related_model
            continue
        if not last:
            return None
        return "__".join([*parts, field.name]), hops
    return None


def _json_native(field: drf_fields.Field) -> bool:
    """Whether the field's representation of a column's value is always str, int, bool or None (never a
    float, a Decimal or a date object, which another JSON encoder may write differently from DRF's)."""
    kind = type(field)
    if kind in (
        drf_fields.CharField,
        drf_fields.EmailField,
        drf_fields.URLField,
        drf_fields.SlugField,
        drf_fields.IntegerField,
        drf_fields.BooleanField,
        *([drf_fields.BigIntegerField] if hasattr(drf_fields, "BigIntegerField") else []),
    ):
        return True  # str(value), int(value) (or its string), True / False
    if kind is drf_fields.DateTimeField:
        return getattr(field, "format", api_settings.DATETIME_FORMAT) is not None  # ISO or strftime: text
    if kind is drf_fields.DateField:
        return getattr(field, "format", api_settings.DATE_FORMAT) is not None
    if kind is drf_fields.ChoiceField:
        return all(type(key) is str and type(value) is str for key, value in field.choice_strings_to_values.items())
    if kind is drf_fields.DecimalField:
        return bool(getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING))
    if isinstance(field, relations.PrimaryKeyRelatedField):
        target = field.parent.Meta.model._meta.get_field(field.source).target_field
        return target.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField", "IntegerField")
    return False


@dataclass
class _Columns:
    """A serializer's rows as tuples: the lookups to read, the generated source, what its names stand for."""

    lookups: list[str]
    code: Any
    helpers: dict[str, Callable[[], Any]]
    reusable: bool
    # When the serializer masks: (attname, index in the tuple) of the columns its instance is made of.
    finish_columns: list[tuple[str, int]] | None
    json_native: bool  # every value of a row is str, int, bool or None (see _json_native)


# Per (serializer, model, annotations): the plan, None (instances only) or False (planned per request).
_COLUMN_PLANS: dict[tuple, _Columns | bool | None] = {}


def _columns(child: serializers.Serializer, model: type[models.Model], annotations: Any) -> _Columns | None:
    kind = type(child)
    declared: dict[str, FromColumns] = getattr(kind, "column_fields", {})
    lookups: list[str] = []
    where: dict[str, int] = {}

    def column(lookup: str) -> int:
        if lookup not in where:
            where[lookup] = len(lookups)
            lookups.append(lookup)
        return where[lookup]

    finishing = isinstance(child, RowFinishing)
    finish_columns: list[tuple[str, int]] | None = None
    if finishing:
        # The columns its masking reads (`finish_columns`, attnames), or else every column of the model.
        wanted = getattr(kind, "finish_columns", None) or [field.attname for field in model._meta.concrete_fields]
        finish_columns = [(attname, column(_own_lookup(model, attname))) for attname in wanted]
    fields = list(child._readable_fields)
    helpers: dict[str, Callable[[], Any]] = {}
    lines = ["def row(t):", "    d = {}"]
    native = True
    for i, field in enumerate(fields):
        key = repr(field.field_name)
        if field.field_name in declared:
            spec = declared[field.field_name]
            native = native and spec.json_native
            helpers[f"c{i}"] = lambda compute=spec.compute: compute
            arguments = ", ".join(f"t[{column(lookup)}]" for lookup in spec.lookups)
            lines.append(f"    d[{key}] = c{i}({arguments})")
            continue
        path = _path(field, model)
        found = _lookup(model, path, annotations) if path is not None else None
        if found is None:
            return None
        lookup, hops = found
        native = native and _json_native(field)
        template, helper = _shortcut(field)
        helpers[f"h{i}"] = helper
        expression = template.replace("h(", f"h{i}(")
        indent = "    "
        if hops:
            lines.append("    if " + " or ".join(f"t[{column(hop)}] is None" for hop in hops) + ":")
            # DRF's Field.get_attribute reading through a missing relation: its default, else null where
            # allowed, else the key left out where not required (a required one would be a server error).
            if field.default is not empty:
                if callable(field.default):
                    return None
                default = field.default
                native = native and (default is None or type(default) in (str, int, bool))
                helpers[f"k{i}"] = lambda field=field, default=default: (
                    None if default is None else field.to_representation(default)
                )
                lines.append(f"        d[{key}] = k{i}")
            elif field.allow_null:
                lines.append(f"        d[{key}] = None")
            elif not field.required:
                lines.append("        pass")
            else:
                return None
            lines.append("    else:")
            indent = "        "
        lines.append(f"{indent}v = t[{column(lookup)}]")
        lines.append(f"{indent}d[{key}] = None if v is None else ({expression})")
    if finishing:
        lines.append("    finish(make(t), d)")
    lines.append("    return d")
    source = "\n".join(lines)
    code = _COMPILED.get(source)
    if code is None:
        code = _COMPILED[source] = compile(source, f"<fast tuples of {kind.__qualname__}>", "exec")
    plain_build = kind.__init__ is serializers.BaseSerializer.__init__ and kind.get_fields in (
        serializers.ModelSerializer.get_fields,
        serializers.Serializer.get_fields,
    )
    # A key shown as itself ("v") and a declared computation never ask the field: only the others must be
    # of a class that reads nothing of the request.
    context_free = all(
        type(field) in _CONTEXT_FREE
        or field.field_name in declared
        or isinstance(field, relations.PrimaryKeyRelatedField)
        for field in fields
    )
    return _Columns(lookups, code, helpers, plain_build and context_free, finish_columns, native)


def _own_lookup(model: type[models.Model], attname: str) -> str:
    """The values_list lookup of one of the model's own columns, by attname (`unit_id` → `unit`)."""
    field = next((field for field in model._meta.concrete_fields if field.attname == attname), None)
    if field is None:
        raise ImproperlyConfigured(f"{model._meta.label} has no column {attname!r} (finish_columns)")
    return field.name


def _maker(model: type[models.Model], columns: list[tuple[str, int]], db: str) -> Callable[[tuple], models.Model]:
    """An instance of `model` made of these columns of a tuple, as unpickling makes one: for a serializer's
    masking rule to read, never saved. A column left out is deferred (read from the database if asked:
    tests/alliance/test_api_fast.py counts the statements, so that a rule reading one shows)."""
    new = model.__new__
    state = models.base.ModelState
    attnames = [attname for attname, _ in columns]
    pick = operator.itemgetter(*(index for _, index in columns))
    if len(columns) == 1:
        single = pick
        pick = lambda row: (single(row),)  # noqa: E731 - itemgetter of one index answers the item itself

    def make(row: tuple) -> models.Model:
        instance = new(model)
        instance.__dict__.update(zip(attnames, pick(row), strict=True))
        instance._state = state()
        instance._state.adding = False
        instance._state.db = db
        return instance

    return make


@dataclass
class ValuesRows:
    """One list page's reading: `lookups` for values_list, and `represent` for the tuples read."""

    lookups: list[str]
    represent: Callable[[Iterable[tuple]], list[dict]]
    json_native: bool  # the rows hold only str, int, bool and None (alliance/api/renderers.py)


def values_rows(serializer_class: type[serializers.Serializer], queryset: models.QuerySet, context: dict):
    """How to read this list page as tuples and answer what `serializer_class(page, many=True).data` would,
    or None when only model instances will do (see the comment above)."""
    list_class = getattr(getattr(serializer_class, "Meta", None), "list_serializer_class", None)
    if list_class is not FastListSerializer or serializer_class.to_representation not in _PLAIN:
        return None
    model = queryset.model
    if getattr(serializer_class.Meta, "model", None) is not model:
        return None
    annotations = queryset.query.annotations
    key = (serializer_class, model, tuple(sorted(annotations)))
    if key not in _COLUMN_PLANS:
        prototype = _columns(serializer_class(), model, annotations)
        _COLUMN_PLANS[key] = prototype if prototype is None or prototype.reusable else False
    plan = _COLUMN_PLANS[key]
    child = serializer_class(context=context)
    if plan is False:  # made of fields that depend on the request: planned with the request's own
        plan = _columns(child, model, annotations)
    if plan is None:
        return None
    names: dict[str, Any] = {"date": datetime.date}
    names.update((name, make()) for name, make in plan.helpers.items())
    if plan.finish_columns is not None:
        names["finish"] = child.finish_representation
        names["make"] = _maker(model, plan.finish_columns, queryset.db)
    exec(plan.code, names)
    row = names["row"]
    return ValuesRows(plan.lookups, lambda rows: [row(item) for item in rows], plan.json_native)

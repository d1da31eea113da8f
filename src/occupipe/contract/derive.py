"""Derive msgspec structs from the contract's pydantic models, so the two cannot drift apart.

Each model becomes a struct with the same fields, JSON names, defaults and constraints. A
struct accepts at most what its model accepts: no unknown field (but the tolerated ones it
is given), dates only as ISO text, JSON-typed values only, as a strict model. Whatever of a
model msgspec cannot mirror (a custom validator, a type or constraint it has no equivalent
for, a config that changes validation) raises `Underivable` at import, naming the field: a
change to the contract never silently widens the fast path.
"""

from __future__ import annotations

import datetime as dt
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import msgspec
from msgspec import UNSET, Meta, Raw, UnsetType
from pydantic import BaseModel, Field, RootModel
from pydantic.fields import FieldInfo
from pydantic.types import AllowInfNan, Strict

from occupipe.contract.checks import OneOf
from occupipe.contract.pattern import python_pattern

# the types msgspec decodes from JSON as a strict model does (a date: only as ISO text)
SCALARS: tuple[type, ...] = (str, int, float, bool, dt.date)


# msgspec's name for each annotated_types bound or length
CONSTRAINTS: dict[type, str] = {
    at.Ge: "ge",
    at.Gt: "gt",
    at.Le: "le",
    at.Lt: "lt",
    at.MinLen: "min_length",
    at.MaxLen: "max_length",
    at.MultipleOf: "multiple_of",
}


# what `Field(pattern=...)` leaves in a field's metadata (pydantic keeps the class private)
GENERAL_METADATA = type(Field(pattern="x").metadata[0])


# model config keys that change nothing the structs accept (names and aliases are read)
HARMLESS_CONFIG = frozenset(
    {
        "extra",  # unknown fields: the structs refuse them all but the tolerated ones
        "strict",  # the structs are strict: a lax model only accepts more
        "frozen",
        "title",
        "json_schema_extra",
        "regex_engine",
        "populate_by_name",
        "validate_by_name",
        "validate_by_alias",
        "alias_generator",
        "use_attribute_docstrings",
        "protected_namespaces",
    }
)


class Underivable(TypeError):
    """A model feature the fast decoder cannot mirror; the message names the field."""


@dataclass(frozen=True)
class Site:
    """A model's field, where a type is derived: named in every refusal."""

    model: type[BaseModel]
    name: str

    def refuse(self, what: str) -> Underivable:
        """The error for a feature of this field the structs cannot mirror."""
        return Underivable(
            f"Field {self.model.__name__}.{self.name} {what}, which the fast decoder "
            "(contract/derive.py) cannot mirror: it could accept what the contract refuses."
        )


def derive_structs(
    root: type[BaseModel], tolerated: Sequence[str] = ()
) -> dict[type[BaseModel], type[msgspec.Struct]]:
    """A struct for `root` and each model it holds, keyed by model.

    `tolerated` lists dotted paths of unknown fields (such as `git.timeline`) that the
    structs keep as raw JSON (UNSET when absent) instead of refusing the document; each
    must end in a model that keeps unknown fields and is used nowhere else.
    """
    deriver = Deriver(dict(locate_tolerated(root, path) for path in tolerated))
    deriver.uses[root] += 1
    deriver.derive_struct(root)
    for model, names in deriver.tolerated.items():
        if deriver.uses[model] > 1:
            raise Underivable(
                f"{model.__name__} tolerates the unknown field(s) {', '.join(names)} but is "
                "used at more than one place: the drift would go uncounted at the others."
            )
    return deriver.structs


def locate_tolerated(root: type[BaseModel], path: str) -> tuple[type[BaseModel], tuple[str]]:
    """The model a tolerated field's path ends in, and the field's name."""
    *parents, name = path.split(".")
    model = root
    for step in parents:
        info = model.model_fields.get(step)
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise Underivable(f"The tolerated field {path}: {step} does not hold one model.")
        model = annotation
    if model.model_config.get("extra") != "allow" or name in model.model_fields:
        raise Underivable(
            f"The tolerated field {path}: {model.__name__} does not keep unknown fields, "
            "or declares it."
        )
    return model, (name,)


@dataclass
class Deriver:
    """The structs derived so far, and how often each model is used."""

    tolerated: dict[type[BaseModel], tuple[str, ...]]
    structs: dict[type[BaseModel], type[msgspec.Struct]] = field(default_factory=dict)
    uses: Counter[type[BaseModel]] = field(default_factory=Counter)
    pending: set[type[BaseModel]] = field(default_factory=set)

    def derive_struct(self, model: type[BaseModel]) -> type[msgspec.Struct]:
        """The struct of one model (derived once, then reused)."""
        if model in self.structs:
            return self.structs[model]
        if model in self.pending:
            raise Underivable(f"{model.__name__} holds itself: msgspec needs it defined first.")
        self.pending.add(model)
        refuse_model_hooks(model)
        fields: list[tuple[str, Any, Any]] = [
            self.derive_field(Site(model, name), info) for name, info in model.model_fields.items()
        ]
        fields += [(name, Raw | UnsetType, UNSET) for name in self.tolerated.get(model, ())]
        struct = msgspec.defstruct(
            model.__name__, fields, forbid_unknown_fields=True, kw_only=True, gc=False
        )
        self.structs[model] = struct
        self.pending.discard(model)
        return struct

    def derive_field(self, site: Site, info: FieldInfo) -> tuple[str, Any, Any]:
        """One struct field: name, type, and default (none: required) under the JSON name."""
        if info.discriminator is not None or info.validate_default:
            raise site.refuse("has a discriminator or validates its default")
        kind = self.derive_type(info.annotation, info.metadata, site)
        name = json_name(site, info)
        if info.is_required():
            return site.name, kind, msgspec.field(name=name)
        if info.default_factory is None:
            if info.default is not None and type(info.default) not in SCALARS:
                raise site.refuse(f"has the default {info.default!r}")
            return site.name, kind, msgspec.field(default=info.default, name=name)
        factory: Any = info.default_factory
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            factory = self.derive_struct(factory)
        elif factory is not list:
            raise site.refuse(f"has the default factory {factory!r}")
        return site.name, kind, msgspec.field(default_factory=factory, name=name)

    def derive_type(self, annotation: Any, metadata: Iterable[Any], site: Site) -> Any:
        """The msgspec type of an annotation with its constraints (`metadata`)."""
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            # the inner constraints first: a later one of the same kind replaces it
            return self.derive_type(args[0], [*annotation.__metadata__, *metadata], site)
        if origin in (Union, types.UnionType):
            if len(args) != 2 or type(None) not in args:
                raise site.refuse(f"is the union {annotation}, not one type or null")
            (arm,) = (arg for arg in args if arg is not type(None))
            return self.derive_type(arm, metadata, site) | None
        if origin is list:
            kind: Any = list[self.derive_type(args[0], (), site)]  # type: ignore[misc]
        elif origin is Literal and all(type(arg) is str for arg in args):
            kind = annotation
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.uses[annotation] += 1
            kind = self.derive_struct(annotation)
        elif annotation in SCALARS:
            kind = annotation
        else:
            raise site.refuse(f"has the type {annotation!r}")
        return constrain(kind, metadata, site)


def refuse_model_hooks(model: type[BaseModel]) -> None:
    """Underivable for a model that validates in code, or configures validation."""
    if issubclass(model, RootModel) or model.__pydantic_post_init__ is not None:
        raise Underivable(f"{model.__name__} is a root model or runs model_post_init.")
    decorators = model.__pydantic_decorators__
    for kind in ("validators", "field_validators", "root_validators", "model_validators"):
        for name, decorator in getattr(decorators, kind).items():
            fields = getattr(decorator.info, "fields", ())
            targets = ", ".join(f"{model.__name__}.{f}" for f in fields) or model.__name__
            raise Underivable(
                f"{targets}: the validator {name} is code the fast decoder cannot mirror; "
                "express the check as a constraint (or a OneOf) it can derive."
            )
    for key in model.model_config:
        if key not in HARMLESS_CONFIG:
            raise Underivable(f"{model.__name__}'s config sets {key}, which the structs ignore.")


def json_name(site: Site, info: FieldInfo) -> str:
    """The key a field has in JSON: its (validation) alias, unless the model takes names."""
    alias = info.validation_alias if info.validation_alias is not None else info.alias
    if alias is None or site.model.model_config.get("validate_by_alias") is False:
        return site.name
    if not isinstance(alias, str):
        raise site.refuse(f"has the alias {alias!r}, a path or choices")
    return alias


def constrain(kind: Any, metadata: Iterable[Any], site: Site) -> Any:
    """`kind` with the constraints its metadata states: a `Literal` for a OneOf, else
    `Annotated[kind, Meta(...)]`."""
    bounds: dict[str, Any] = {}
    for item in expand_metadata(metadata):
        if isinstance(item, Strict | AllowInfNan):
            continue  # the structs are strict and JSON carries no inf or nan they accept
        if isinstance(item, OneOf) and kind is str:
            kind = Literal[item.allowed()]
        elif type(item) in CONSTRAINTS:
            key = CONSTRAINTS[type(item)]
            bounds[key] = getattr(item, key)  # given twice, the later holds, as in pydantic
        elif type(item) is GENERAL_METADATA and set(vars(item)) == {"pattern"}:
            bounds["pattern"] = derive_pattern(vars(item)["pattern"], site)
        else:
            raise site.refuse(f"has the constraint {item!r} on {kind!r}")
    if "multiple_of" in bounds and kind is not int:
        raise site.refuse("has multiple_of on a non-integer (msgspec rounds differently)")
    if not bounds:
        return kind
    try:
        constrained = Annotated[kind, Meta(**bounds)]
        msgspec.json.Decoder(constrained)
    except (TypeError, ValueError) as exc:
        raise site.refuse(f"has constraints msgspec refuses ({exc})") from None
    return constrained


def expand_metadata(metadata: Iterable[Any]) -> Iterator[Any]:
    """Each constraint in a field's metadata, groups (`Field` in `Annotated`, Interval) opened."""
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from expand_metadata(item.metadata)
        elif isinstance(item, at.GroupedMetadata):
            yield from expand_metadata(item)
        else:
            yield item


def derive_pattern(pattern: Any, site: Site) -> str:
    """A field's pattern as msgspec's Python regex must read it to match as pydantic does."""
    rust = site.model.model_config.get("regex_engine", "rust-regex") == "rust-regex"
    try:
        return python_pattern(pattern, rust=rust)
    except ValueError as exc:
        raise site.refuse(f"has the pattern {pattern!r} ({exc})") from None

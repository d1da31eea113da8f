"""The structs derived from the contract's models: the same schema field by field, every
constraint of a changed model enforced, and what msgspec cannot mirror refused at import."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import annotated_types as at
import msgspec
import pytest
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from occupipe.contract import fastdecode
from occupipe.contract import record as contract
from occupipe.contract.checks import OneOf
from occupipe.contract.derive import Underivable, derive_structs
from occupipe.contract.pattern import python_pattern
from tests.helpers import SEED

Schemas = dict[str, dict[str, Any]]


def model_schemas(model: type[BaseModel]) -> Schemas:
    """Each model's JSON schema, by name, as pydantic states it: titles dropped, patterns as
    Python reads them, and an enum's values sorted, without their type, as msgspec states them."""
    schema = model.model_json_schema()
    defs = {**schema.pop("$defs", {}), model.__name__: schema}
    for part in defs.values():
        part.pop("title")
        part.setdefault("required", [])
        for prop in part["properties"].values():
            prop.pop("title", None)
            for arm in [prop, *prop.get("anyOf", [])]:
                if "pattern" in arm:
                    arm["pattern"] = python_pattern(arm["pattern"], rust=True)
                if "enum" in arm:
                    arm.pop("type")
                    arm["enum"].sort()
    return defs


def struct_schemas(struct: type[msgspec.Struct]) -> Schemas:
    """Each struct's JSON schema, by name, as msgspec states it."""
    defs: Schemas = msgspec.json.schema(struct)["$defs"]
    return defs


def schema_differences(model: type[BaseModel], struct: type[msgspec.Struct]) -> list[str]:
    """Where a model and a struct of the same name differ: a part, a field, its type,
    constraints, default, or whether it is required. Unknown fields: the structs refuse
    them (but tolerated ones, left out here); a model keeps or refuses them, which pydantic
    then decides."""
    models, structs = model_schemas(model), struct_schemas(struct)
    found = [f"part {name}" for name in set(models) ^ set(structs)]
    for name in set(models) & set(structs):
        mine, theirs = models[name], structs[name]
        assert theirs.pop("additionalProperties") is False
        mine.pop("additionalProperties", None)
        if name == "Git":
            assert theirs["properties"].pop("timeline") == {}
        for field in set(mine["properties"]) | set(theirs["properties"]):
            a, b = mine["properties"].get(field), theirs["properties"].get(field)
            if a is not None and b is not None and "default" not in a:
                b.pop("default", None)  # a default factory: pydantic states none
            if a != b:
                found.append(f"{name}.{field}: {a} != {b}")
        if sorted(mine["required"]) != sorted(theirs["required"]):
            found.append(f"{name}: required {mine['required']} != {theirs['required']}")
    return found


def test_the_structs_and_the_models_agree_on_every_field() -> None:
    assert schema_differences(contract.Record, fastdecode.STRUCTS[contract.Record]) == []


# the contract with one more constraint (names kept: the schema walk pairs parts by name)
TightSection = create_model(
    "Section", __base__=contract.Section, heading=(str, Field(max_length=12))
)
TightRecord = create_model("Record", __base__=contract.Record, sections=(list[TightSection], ...))


def test_the_schema_walk_notices_a_constraint_added_to_the_model_only() -> None:
    assert schema_differences(TightRecord, fastdecode.STRUCTS[contract.Record]) == [
        "Section.heading: {'maxLength': 12, 'type': 'string'} != {'type': 'string'}"
    ]
    tight = derive_structs(TightRecord, tolerated=(fastdecode.TOLERATED_UNKNOWN_FIELD,))
    assert schema_differences(TightRecord, tight[TightRecord]) == []


def test_a_constraint_added_to_a_nested_model_is_enforced_on_real_records() -> None:
    tight = derive_structs(TightRecord, tolerated=(fastdecode.TOLERATED_UNKNOWN_FIELD,))
    decoder = msgspec.json.Decoder(tight[TightRecord])
    raw = SEED.read_bytes()
    assert max(len(s["heading"]) for s in json.loads(raw)["sections"]) > 12
    with pytest.raises(ValidationError):
        TightRecord.model_validate_json(raw)
    with pytest.raises(msgspec.ValidationError, match=r"sections\[\d+\]\.heading"):
        decoder.decode(raw)
    assert fastdecode.decode_record(raw) is not None


def variant(annotation: Any, info: Any = ...) -> type[BaseModel]:
    """A part of the contract with one field, `value`."""
    model: type[BaseModel] = create_model(
        "Variant", __base__=contract.Part, value=(annotation, info)
    )
    return model


def decodes(model: type[BaseModel], value: Any) -> tuple[bool, bool]:
    """Whether pydantic and the struct derived from `model` accept {"value": value}."""
    raw = json.dumps({"value": value}).encode()
    decoder = msgspec.json.Decoder(derive_structs(model)[model])
    try:
        model.model_validate_json(raw)
        by_model = True
    except ValidationError:
        by_model = False
    try:
        decoder.decode(raw)
        by_struct = True
    except msgspec.ValidationError:
        by_struct = False
    return by_model, by_struct


@pytest.mark.parametrize(
    ("annotation", "info", "good", "bad"),
    [
        (str, Field(min_length=2), "ab", "a"),
        (str, Field(max_length=3), "abc", "abcd"),
        (str, Field(pattern=r"^a+$"), "aa", "aa\n"),
        (list[str], Field(min_length=1), ["a"], []),
        (list[contract.Count], Field(max_length=1), [1], [1, 2]),
        (Annotated[contract.Count, Field(le=10)], ..., 10, 11),
        (contract.Count | None, Field(None, ge=5), 5, 4),  # pushed into the non-null arm
        (Annotated[int, at.Interval(gt=1, lt=3)], ..., 2, 3),
        (int, Field(multiple_of=3), 6, 7),
        (float, Field(gt=0), 0.5, 0),
        (Literal["a", "b"], ..., "b", "c"),
        (Annotated[str, OneOf(lambda: ("x", "y"))], ..., "y", "z"),
        (contract.Day, ..., "2024-02-29", "2023-02-29"),
        (list[contract.Relationship], ..., [{"slug": "a", "type": "b"}], [{"slug": "a"}]),
    ],
)
def test_a_constraint_added_to_a_model_is_enforced_by_its_struct(
    annotation: Any, info: Any, good: Any, bad: Any
) -> None:
    model = variant(annotation, info)
    assert decodes(model, good) == (True, True)
    assert decodes(model, bad) == (False, False)


@pytest.mark.parametrize(
    ("annotation", "info"),
    [
        (contract.Count, Field(le=10)),  # Count's own `le` comes later: it holds
        (Annotated[contract.Count, Field(le=10)], ...),
        (Annotated[int, Field(le=10)] | None, Field(None, le=100)),  # the field's holds
        (Annotated[int, Field(le=100)] | None, Field(None, le=10)),
        (Annotated[int, at.Le(10), at.Le(100), at.Ge(20), at.Ge(0)], ...),
        (Annotated[str, Field(pattern="^a")], Field(pattern="b$")),
    ],
)
def test_a_constraint_given_twice_holds_as_in_pydantic(annotation: Any, info: Any) -> None:
    model = variant(annotation, info)
    for value in [-1, 0, 5, 10, 11, 50, 100, 101, "ab", "ba", "aa", "bb"]:
        by_model, by_struct = decodes(model, value)
        assert by_model == by_struct, value


def test_an_alias_is_the_key_the_struct_reads() -> None:
    model = variant(str, Field(alias="the-value"))
    decoder = msgspec.json.Decoder(derive_structs(model)[model])
    assert decoder.decode(b'{"the-value": "a"}').value == "a"  # type: ignore[attr-defined]
    with pytest.raises(msgspec.ValidationError):
        decoder.decode(b'{"value": "a"}')


class Validated(contract.Part):
    value: str

    @field_validator("value")
    @classmethod
    def value_is_lower(cls, value: str) -> str:
        return value.lower()


class Stripping(contract.Part):
    model_config = ConfigDict(str_strip_whitespace=True)
    value: str


class Tree(contract.Part):
    children: list[Tree] = Field(default_factory=list)


class Closed(contract.Part):
    model_config = ConfigDict(extra="forbid")


class Twice(contract.Part):
    first: Closed
    second: contract.Git


class Pair(contract.Part):
    first: contract.Git
    second: contract.Git


@pytest.mark.parametrize(
    ("model", "named"),
    [
        (Validated, "Validated.value: the validator value_is_lower"),
        (variant(Annotated[str, BeforeValidator(str.lower)]), "Variant.value has the const"),
        (variant(int | str), "Variant.value is the union"),
        (variant(dict[str, str]), "Variant.value has the type"),
        (variant(dt.datetime), "Variant.value has the type"),
        (variant(list[str], Field(default_factory=lambda: ["a"])), "Variant.value has the def"),
        (variant(str, Field(pattern=r"^\w+$")), r"Variant.value has the pattern"),
        (variant(str, Field(pattern=r"(?i)^a$")), r"Variant.value has the pattern"),
        (variant(float, Field(multiple_of=0.1)), "Variant.value has multiple_of"),
        (variant(str, Field(min_length=1, pattern="a")), None),  # both: one Meta
        (Stripping, "Stripping's config sets str_strip_whitespace"),
        (Tree, "Tree holds itself"),
    ],
)
def test_what_msgspec_cannot_mirror_is_refused_naming_the_field(
    model: type[BaseModel], named: str | None
) -> None:
    if named is None:
        derive_structs(model)
        return
    with pytest.raises(Underivable, match=named.replace(".", r"\.")):
        derive_structs(model)


@pytest.mark.parametrize(
    ("model", "path", "named"),
    [
        (Twice, "first.timeline", "Closed does not keep unknown fields"),
        (Twice, "first.extra.timeline", "extra does not hold one model"),
        (Twice, "second.authors", "Git does not keep unknown fields, or declares it"),
        (Pair, "first.timeline", "Git tolerates the unknown field(s) timeline but is used"),
    ],
)
def test_a_tolerated_field_must_be_unknown_to_a_model_that_keeps_such_fields(
    model: type[BaseModel], path: str, named: str
) -> None:
    with pytest.raises(Underivable, match=named.replace("(", r"\(").replace(")", r"\)")):
        derive_structs(model, tolerated=(path,))


def test_the_slug_pattern_ends_where_rusts_dollar_does() -> None:
    translated = python_pattern(contract.SLUG_PATTERN, rust=True)
    decoder = msgspec.json.Decoder(Annotated[str, msgspec.Meta(pattern=translated)])
    assert decoder.decode(b'"a-b"') == "a-b"
    with pytest.raises(msgspec.ValidationError):
        decoder.decode(b'"a-b\\n"')

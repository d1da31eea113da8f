"""Checks the contract adds to pydantic's types, in a form the fast decoder derives from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


class OneOf:
    """Annotates a text field whose value must be one of a set.

    pydantic checks it after the type (the error lists the values); the fast decoder derives
    a `Literal` of the values. `allowed` is read at each check, not once: a patched constant
    widens the contract at once (the replay test does so).
    """

    def __init__(self, allowed: Callable[[], tuple[str, ...]]) -> None:
        self.allowed = allowed

    def check(self, value: str) -> str:
        """The value, if allowed; else a ValueError naming the allowed values."""
        allowed = self.allowed()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["enum"] = list(self.allowed())
        return json_schema

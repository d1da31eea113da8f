"""A fast path for records the contract accepts: msgspec structs derived from its models.

pydantic's models in `record.py` are the contract; `derive.py` turns each into a struct at
import, with the same fields, defaults and constraints, so the two cannot drift apart. The
structs accept a subset of what the models accept (stricter dates and numbers, no unknown
fields but `git.timeline`), decode to the same values, and take about half the CPU of
pydantic to build and free. A document they refuse goes to pydantic, which accepts it or
words why not, so a record loads or is quarantined exactly as without this module.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, TypeAlias

import msgspec
from msgspec import UNSET

from occupipe.contract import record as contract
from occupipe.contract.derive import derive_structs

# the one field of upstream drift that every real record carries: kept as raw JSON, so that
# records holding it stay on the fast path, and counted as an unknown field as pydantic does
TOLERATED_UNKNOWN_FIELD = "git.timeline"


# every part of the contract's record, as a struct
STRUCTS = derive_structs(contract.Record, tolerated=(TOLERATED_UNKNOWN_FIELD,))


if TYPE_CHECKING:
    # to a type checker, the derived struct reads as the model: the same fields, each with
    # the model's value type (what derive.py guarantees)
    Record: TypeAlias = contract.Record
else:
    Record = STRUCTS[contract.Record]


_DECODER = msgspec.json.Decoder(Record)


_tolerated_value = attrgetter(TOLERATED_UNKNOWN_FIELD)


def decode_record(raw: bytes) -> tuple[Record, tuple[str, ...]] | None:
    """A record and its unknown fields' paths, or None if this path does not accept the
    document (pydantic then decides: it may still accept it)."""
    try:
        record = _DECODER.decode(raw)
    except (msgspec.DecodeError, ValueError):  # ValueError: bytes that are not UTF-8
        return None
    drift = () if _tolerated_value(record) is UNSET else (TOLERATED_UNKNOWN_FIELD,)
    return record, drift

"""The one (de)serialiser between plain Python values and DynamoDB's wire shape (``{"S": "..."}``).

- ``string``, ``number``, ``boolean``, ``string_list``, ``string_set``: one attribute value, built by hand
  (the submit path builds its items with these: no serialiser object, nothing to import);
- ``to_item`` / ``from_item``: a whole item, through boto3's ``TypeSerializer`` / ``TypeDeserializer``
  (created once, on first use);
- ``to_plain`` / ``plain``: a wire item as JSON-friendly values (Decimal -> int/float, sets -> sorted lists);
- ``read_string``, ``read_bool``, ``read_string_set``: one attribute of a wire item, with a default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

WireValue = dict[str, Any]
WireItem = dict[str, WireValue]


def string(value: str) -> dict[str, str]:
    return {"S": value}


def number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def boolean(value: bool) -> dict[str, bool]:
    return {"BOOL": value}


def string_list(values: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [string(v) for v in values]}


def string_set(values: Sequence[str]) -> dict[str, list[str]]:
    return {"SS": list(values)}


def read_string(item: Mapping[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    return str(value.get("S", default)) if isinstance(value, Mapping) else default


def read_bool(item: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value.get("BOOL", default)) if isinstance(value, Mapping) else default


def read_string_set(item: Mapping[str, Any], name: str) -> set[str]:
    value = item.get(name)
    return set(value.get("SS", [])) if isinstance(value, Mapping) else set()


@cache
def _serializer() -> TypeSerializer:
    from boto3.dynamodb.types import TypeSerializer  # noqa: PLC0415 - loaded on first use

    return TypeSerializer()


@cache
def _deserializer() -> TypeDeserializer:
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415 - loaded on first use

    return TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> WireItem:
    """Plain values (str, int, bool, Decimal, lists, maps, sets) -> a wire item."""
    serializer = _serializer()
    return {str(name): dict(serializer.serialize(value)) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A wire item -> Python values as boto3 reads them (numbers are ``Decimal``, sets are ``set``).

    Raises ``TypeError`` / ``ValueError`` / ``KeyError`` for a value that is not in the wire shape.
    """
    deserializer = _deserializer()
    return {str(name): deserializer.deserialize(value) for name, value in item.items()}


def plain(value: Any) -> Any:
    """A deserialised value -> JSON-friendly Python (Decimal -> int/float, sets -> sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


def to_plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """A wire item as plain JSON-friendly values."""
    return {name: plain(value) for name, value in from_item(item).items()}

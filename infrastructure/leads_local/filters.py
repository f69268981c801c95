"""The subset of Lambda event filtering (``FilterCriteria``) the local event source mapping needs.

A pattern is a JSON object whose leaves are lists of accepted values; nested objects match nested keys. A
record matches when any pattern matches. Supported inside the lists: exact values (strings, numbers, booleans,
null) and the ``prefix``, ``exists`` and ``anything-but`` operators. Any other operator is refused when the
pattern is loaded, so a template change cannot silently filter differently here than in AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_MISSING = object()
_OPERATORS = frozenset({"prefix", "exists", "anything-but"})


class UnsupportedFilter(ValueError):
    """The pattern uses filter syntax this emulation does not implement."""


def check_pattern(pattern: Mapping[str, Any], path: str = "") -> None:
    """Raise ``UnsupportedFilter`` unless every leaf of ``pattern`` uses the supported syntax."""
    for key, rule in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(rule, Mapping):
            check_pattern(rule, where)
        elif isinstance(rule, list):
            for entry in rule:
                if isinstance(entry, Mapping):
                    unknown = set(entry) - _OPERATORS
                    if unknown or len(entry) != 1:
                        raise UnsupportedFilter(
                            f"filter operator {sorted(entry)} at {where} is not supported"
                        )
                elif isinstance(entry, list):
                    raise UnsupportedFilter(f"nested list at {where} is not supported")
        else:
            raise UnsupportedFilter(f"filter value at {where} must be a list or an object")


def _value_matches(entry: Any, value: Any) -> bool:
    if isinstance(entry, Mapping):
        (operator, operand), *_ = entry.items()
        if operator == "exists":
            return (value is not _MISSING) == bool(operand)
        if value is _MISSING:
            return False
        if operator == "prefix":
            return isinstance(value, str) and value.startswith(str(operand))
        excluded = operand if isinstance(operand, list) else [operand]
        return value not in excluded
    return value is not _MISSING and value == entry and type(value) is type(entry)


def _leaf_matches(rule: list[Any], value: Any) -> bool:
    candidates = value if isinstance(value, list) else [value]
    if not candidates:
        candidates = [_MISSING]
    return any(_value_matches(entry, candidate) for entry in rule for candidate in candidates)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when ``event`` (a stream record as Lambda delivers it) matches ``pattern``."""
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if not isinstance(value, Mapping) or not matches(rule, value):
                return False
        elif not _leaf_matches(rule, value):
            return False
    return True


def matches_any(patterns: Iterable[Mapping[str, Any]], event: Any) -> bool:
    """Lambda's rule: no patterns let everything through; otherwise any one pattern must match."""
    patterns = list(patterns)
    return not patterns or any(matches(p, event) for p in patterns)

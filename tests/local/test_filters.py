"""The Lambda event-filtering subset, against the template's own filter pattern."""

from __future__ import annotations

from typing import Any

import pytest
from leads_local.filters import UnsupportedFilter, check_pattern, matches, matches_any
from leads_local.template import stream_event_source


def _record(event_name: str = "INSERT", **image: Any) -> dict[str, Any]:
    new_image = {"pk": {"S": "LEAD#A"}, "sk": {"S": "LEAD"}, "entity": {"S": "lead"}, "status": {"S": "new"}}
    new_image.update(image)
    return {"eventName": event_name, "dynamodb": {"NewImage": new_image, "SequenceNumber": "1"}}


def test_template_pattern_passes_new_lead_inserts_only() -> None:
    patterns = stream_event_source().filter_patterns
    assert patterns, "the template declares a filter"
    assert matches_any(patterns, _record())
    assert not matches_any(patterns, _record("MODIFY"))
    assert not matches_any(patterns, _record(status={"S": "spam"}))
    assert not matches_any(patterns, _record(entity={"S": "idempotency"}))
    idem = {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "IDEM#x"}}}}
    assert not matches_any(patterns, idem)
    assert not matches_any(patterns, {"eventName": "REMOVE", "dynamodb": {"Keys": {}}})


def test_no_patterns_pass_everything() -> None:
    assert matches_any([], {"anything": 1})


def test_operators() -> None:
    assert matches({"a": [{"prefix": "LEAD#"}]}, {"a": "LEAD#1"})
    assert not matches({"a": [{"prefix": "LEAD#"}]}, {"a": "IDEM#1"})
    assert matches({"a": [{"exists": False}]}, {"b": 1})
    assert not matches({"a": [{"exists": True}]}, {"b": 1})
    assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"})
    assert not matches({"a": [{"anything-but": ["x"]}]}, {"a": "x"})
    assert matches({"a": ["x"]}, {"a": ["y", "x"]})  # a list value matches when any element does
    assert not matches({"a": [True]}, {"a": 1})


@pytest.mark.parametrize("pattern", [{"a": [{"numeric": [">", 1]}]}, {"a": "x"}, {"a": [["x"]]}])
def test_unsupported_syntax_is_refused(pattern: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFilter):
        check_pattern(pattern)


def test_template_pattern_is_supported() -> None:
    for pattern in stream_event_source().filter_patterns:
        check_pattern(pattern)

"""Schemathesis against the running local stack, driven by docs/openapi.yaml.

Generated requests, valid by the schema (positive) and violating it (negative), go over real HTTP to
``python -m leads_local``. Every answer must: not be a 5xx; conform to the documented status codes, content
types, headers and bodies; never echo a submitted value; and a rejected request must store nothing. At the
end, no submitted value may appear in anything the stack printed. ``RELIABILITY_SCHEMATHESIS_EXAMPLES``
(default 25) sets examples per operation and mode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leads_core.crisis import SUPPORT
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from benchmarks.local_stack import LocalStackProcess
from tests.reliability.conftest import echoed, json_strings

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(900)]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(SCHEMA_PATH)
EXAMPLES = int(os.environ.get("RELIABILITY_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Words the API may legitimately say back: field names and enum values, never visitor data.
# (value, number of stack output lines before it was sent)
_SUBMITTED: list[tuple[str, int]] = []


_SCHEMA_TEXT = json.dumps(SCHEMA.raw_schema)
# The fixed part of every accepted answer (the crisis resources): Hypothesis also draws strings from our own
# source (e.g. "availabl", a prefix of a key of that object), which the answer then says for its own reasons.
_FIXED_ANSWER_TEXT = json.dumps(SUPPORT)


def _is_vocabulary(value: str) -> bool:
    return f'"{value}"' in _SCHEMA_TEXT or value in _FIXED_ANSWER_TEXT


@pytest.fixture(scope="module")
def api() -> Iterator[LocalStackProcess]:
    with LocalStackProcess(extra_env={"RATE_LIMIT_PER_HOUR": "10000"}) as stack:
        yield stack
    # Powertools writes JSON with ASCII escapes: look for each value as typed and as JSON-escaped. Hypothesis
    # also draws strings from our own source (e.g. "LeadsTable"): a value the stack had printed before it was
    # sent is the stack's vocabulary, not a leak.
    leaked = []
    for value, first_line in _SUBMITTED:
        before, after = "".join(stack.output[:first_line]), "".join(stack.output[first_line:])
        for form in {value, json.dumps(value)[1:-1]}:
            if form not in before and echoed([form], [after]):
                leaked.append(form)
    assert leaked == [], "submitted values reached the stack's logs"


# Partition-key prefixes of the items a submission writes (lead, idempotency/dedupe records, rate counter).
# The alert path, running at the same time, creates items of its own (storm windows): they are not counted.
SUBMIT_ITEM_PREFIXES = ("LEAD#", "IDEM", "RATE#")


def _stored(stack: LocalStackProcess) -> int:
    """Items of the kinds a submission writes (a consistent count scan over every page)."""
    client = stack.aws_client("dynamodb")
    names = {f":p{i}": {"S": prefix} for i, prefix in enumerate(SUBMIT_ITEM_PREFIXES)}
    request: dict[str, Any] = {
        "TableName": stack.table_name(),
        "Select": "COUNT",
        "ConsistentRead": True,
        "FilterExpression": " OR ".join(f"begins_with(pk, {name})" for name in names),
        "ExpressionAttributeValues": names,
    }
    count = 0
    while True:
        page = client.scan(**request)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _submitted_values(case: Any) -> list[str]:
    values = [value for value in json_strings(case.body) if len(value.strip()) >= 8]
    values += [str(value) for value in (case.headers or {}).values() if len(str(value).strip()) >= 8]
    return [value for value in values if not _is_vocabulary(value)]


def _exercise(stack: LocalStackProcess, case: Any) -> None:
    before = _stored(stack)
    sent_at_line = len(stack.output)
    response = case.call(base_url=stack.base_url, timeout=60)
    case.validate_response(response, checks=CHECKS)
    submitted = _submitted_values(case)
    _SUBMITTED.extend((value, sent_at_line) for value in submitted)
    texts = [response.text, *json_strings(_json_or_none(response.text)), *map(str, response.headers.items())]
    assert echoed(submitted, texts) == [], f"{case.method} {response.status_code} echoed a submitted value"
    if response.status_code >= 400:
        assert _stored(stack) == before, f"a rejected request ({response.status_code}) stored something"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


POST = SCHEMA["/consultations"]["POST"]
OPTIONS = SCHEMA["/consultations"]["OPTIONS"]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@SETTINGS
@given(data=st.data())
def test_post_positive(api: LocalStackProcess, data: st.DataObject) -> None:
    _exercise(api, data.draw(POST.as_strategy(generation_mode=GenerationMode.POSITIVE)))


@SETTINGS
@given(data=st.data())
def test_post_negative(api: LocalStackProcess, data: st.DataObject) -> None:
    _exercise(api, data.draw(POST.as_strategy(generation_mode=GenerationMode.NEGATIVE)))


@settings(max_examples=max(5, EXAMPLES // 3), deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_preflight(api: LocalStackProcess, data: st.DataObject) -> None:
    _exercise(api, data.draw(OPTIONS.as_strategy(generation_mode=GenerationMode.POSITIVE)))

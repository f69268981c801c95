"""Through the local stack (``make run``): a slow DynamoDB ends in a 503 with Retry-After and CORS headers.

The stack runs the real submit handler with a ``LambdaContext`` counting down from the template's Timeout and
answers 502 without the function's headers when the handler overran it, as Lambda and API Gateway do. Here the
functions' DynamoDB endpoint is switched (new workers, as after a configuration update) to a server that
accepts connections and never answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from leads_local.stack import LocalStack

from tests.local.test_stack import call, needs_handlers
from tests.submit.test_time_budget import SilentServer

pytestmark = pytest.mark.stack


@pytest.fixture
def local() -> Iterator[LocalStack]:
    stack = LocalStack(port=0, aws_port=0, settings={"RATE_LIMIT_PER_HOUR": "1000"}, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def submit(local: LocalStack, lead: dict[str, Any]) -> Any:
    return call(
        f"{local.base_url}/consultations",
        "POST",
        json.dumps(lead).encode(),
        {"Origin": local.base_url, "Content-Type": "application/json", "Accept": "application/json"},
    )


@needs_handlers
def test_slow_dynamodb_answers_503_with_cors_and_the_retry_succeeds(
    local: LocalStack,
) -> None:
    lead = {
        "first_name": "Jordan",
        "last_name": "Sample",
        "email": "jordan.sample@example.com",
        "service": "anxiety",
        "consent_privacy": True,
        "submission_id": f"slow-{uuid.uuid4().hex[:16]}",
    }
    silent = SilentServer()
    try:
        # New workers of the functions, whose DynamoDB endpoint is the silent server.
        local.update_function_environment({"AWS_ENDPOINT_URL_DYNAMODB": silent.url})
        slow = submit(local, lead)
    finally:
        local.update_function_environment({"AWS_ENDPOINT_URL_DYNAMODB": None})
        silent.close()

    assert slow.status == 503, slow.body
    assert slow.headers["Retry-After"] == "2"
    assert slow.headers["Access-Control-Allow-Origin"] == local.base_url
    assert silent.connections >= 1

    first = submit(local, lead)
    again = submit(local, lead)
    assert first.status == 201
    assert again.json()["id"] == first.json()["id"]

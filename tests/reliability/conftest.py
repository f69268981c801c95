"""Fixtures of the reliability suite: the submit handler in-process on moto, log capture, echo checks.

The end-to-end runs against the local stack start ``python -m leads_local`` as a separate process (see
``benchmarks.local_stack``), exactly as ``make run`` does, so the HTTP side and the logs are the real ones.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from benchmarks.events import rest_proxy_event
from benchmarks.inprocess import FakeLambdaContext, lambda_response_body, moto_backend


@dataclass
class InProcessSubmit:
    """The real submit handler on moto (template resources); ``call`` returns the proxy response."""

    resources: Any
    handler: Any
    log: io.StringIO
    _client: Any = None

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(self.handler.lambda_handler(event, FakeLambdaContext()))

    def stored_items(self) -> int:
        """Items in the table (moto's ``ItemCount`` is live): a rejected request must not change it."""
        if self._client is None:
            self._client = boto3.client("dynamodb", region_name="us-east-1")
        return int(self._client.describe_table(TableName=self.resources.table_name)["Table"]["ItemCount"])


@pytest.fixture(scope="module")
def inprocess_submit() -> Iterator[InProcessSubmit]:
    """One moto backend for a whole module (fast replay of many requests); Powertools logs captured."""
    with moto_backend() as resources:
        # Imported inside the moto context: the handler reads its settings at import (Lambda INIT).
        from leads_core.observability import logger
        from submit_consultation import app as submit_app

        buffer = io.StringIO()
        with swapped_log_stream(logger, buffer):
            yield InProcessSubmit(resources=resources, handler=submit_app, log=buffer)


class swapped_log_stream:
    """Point the Powertools logger's handler at ``stream`` (what it writes, formatted as on Lambda)."""

    def __init__(self, powertools_logger: Any, stream: io.StringIO) -> None:
        self.handler = powertools_logger.registered_handler
        self.stream = stream
        self.previous: Any = None

    def __enter__(self) -> None:
        self.previous = self.handler.setStream(self.stream)

    def __exit__(self, *exc: object) -> None:
        self.handler.setStream(self.previous)


def corpus_event(entry: Mapping[str, Any], source_ip: str) -> dict[str, Any]:
    """The API Gateway proxy event of a corpus entry."""
    body: str | None
    if "body_b64" in entry:
        raw = base64.b64decode(entry["body_b64"])
        body = base64.b64encode(raw).decode("ascii") if entry["is_base64_encoded"] else raw.decode("latin-1")
    elif entry.get("is_base64_encoded") and entry.get("body") is not None:
        body = entry["body"]  # deliberately not base64 (a broken API Gateway event)
    else:
        body = entry.get("body")
    event = rest_proxy_event(
        body, method=entry.get("method", "POST"), headers=dict(entry["headers"]), source_ip=source_ip
    )
    event["isBase64Encoded"] = bool(entry.get("is_base64_encoded"))
    return event


def response_texts(response: Mapping[str, Any]) -> list[str]:
    """Every way a value could show in a proxy response: raw body, unescaped HTML, JSON strings, headers."""
    body = lambda_response_body(response)
    texts = [body, html.unescape(body)]
    with contextlib.suppress(ValueError):
        texts.extend(json_strings(json.loads(body)))
    # Header values only: the names are fixed by our code (a drawn "Referrer" is not echoed by
    # "Referrer-Policy").
    texts.extend(str(value) for value in (response.get("headers") or {}).values())
    for values in (response.get("multiValueHeaders") or {}).values():
        texts.extend(str(value) for value in values)
    return texts


def json_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def echoed(values: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The ``values`` (5+ characters) that appear in any of ``texts``."""
    haystack = "\n".join(texts)
    return [value for value in values if len(value.strip()) >= 5 and value in haystack]

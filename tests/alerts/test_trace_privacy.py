"""The functions' own trace segments carry no visitor data: no handler response, no exception text.

Lambda's active tracing stays on; Powertools' handler subsegment would otherwise copy the handler's answer and
any exception (whose message can quote a stored value) into X-Ray, outside the stack's key, for 30 days. A
recording provider stands in for X-Ray and keeps everything the handlers put on their segments.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from leads_core import observability
from leads_core.errors import ConfigurationError
from leads_core.settings import load_settings

from tests.alerts.conftest import AlertWorld, lambda_event
from tests.conftest import load_event


class RecordingSegment:
    def __init__(self, name: str | None) -> None:
        self.name = name
        self.metadata: list[tuple[str, Any]] = []
        self.annotations: dict[str, Any] = {}
        self.exceptions: list[BaseException] = []

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.exceptions.append(exception)


class RecordingProvider(observability.UntracedProvider):
    def __init__(self) -> None:
        self.segments: list[RecordingSegment] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[RecordingSegment]:  # type: ignore[override]
        segment = RecordingSegment(name)
        self.segments.append(segment)
        yield segment

    def recorded(self) -> list[Any]:
        return [entry for s in self.segments for entry in (*s.metadata, *s.exceptions)]


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    provider = RecordingProvider()
    monkeypatch.setattr(observability.tracer, "provider", provider)
    return provider


def test_alert_handler_segment_holds_no_response(
    alert_world: AlertWorld, handler: Any, lambda_context: Any, traces: RecordingProvider
) -> None:
    alert_world.put_lead()

    response = handler(lambda_event(alert_world.new_stream_records()), lambda_context)

    assert response == {"batchItemFailures": []}
    assert [s.name for s in traces.segments] == ["## lambda_handler"]
    assert traces.recorded() == []
    assert set(traces.segments[0].annotations) <= {"ColdStart", "Service"}


def test_alert_handler_segment_holds_no_exception(
    alert_world: AlertWorld,
    handler: Any,
    lambda_context: Any,
    traces: RecordingProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alert_world.put_lead()
    monkeypatch.setenv("TOPIC_ARN", "not-a-topic")  # the handler raises (the stream retries the batch)
    load_settings.cache_clear()

    with pytest.raises(ConfigurationError):
        handler(lambda_event(alert_world.new_stream_records()), lambda_context)

    assert [s.name for s in traces.segments] == ["## lambda_handler"]
    assert traces.recorded() == []
    load_settings.cache_clear()


def test_submit_handler_segment_holds_no_response(
    stack: Any, lambda_context: Any, traces: RecordingProvider
) -> None:
    from submit_consultation import app

    response = app.lambda_handler(copy.deepcopy(load_event("submit_valid_json")), lambda_context)

    assert response["statusCode"] == 201
    assert [s.name for s in traces.segments] == ["## lambda_handler"]
    assert traces.recorded() == []

"""The one observability module: Powertools Logger, Tracer and Metrics.

Service name and metric namespace come from ``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE``
(set in the template's Globals). Rule for every log call in this code base: log ids, codes, counts and
field *names*, never a visitor's values (names, email, phone, message, attribution).

Tracing: Powertools' ``Tracer`` loads the X-Ray SDK (``aws_xray_sdk.core``, which pulls in botocore and
patches it) when it is created, even when tracing is disabled. Where tracing is off
(``POWERTOOLS_TRACE_DISABLED``, outside Lambda, the local stack, tests) we give it a no-op provider instead,
so the SDK is never imported. The submit function runs with ``POWERTOOLS_TRACE_DISABLED=true`` on purpose
(template.yaml): its one AWS call does not need an SDK subsegment, and Lambda's active tracing still records
every invocation, while the SDK would add about a third of a second to every cold start a visitor waits
for. The alert function keeps the SDK.
"""

from __future__ import annotations

import numbers
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _UntracedSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: list[Any], remote: bool = False) -> None:
        return None


class UntracedProvider(BaseProvider):
    """A tracing provider that records nothing and imports nothing (used when tracing is off)."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _UntracedSegment()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def _build_tracer() -> Tracer:
    # Powertools' own rule for "tracing is off" (env var, outside Lambda, SAM local), so the two never differ.
    if Tracer._is_tracer_disabled():
        return Tracer(provider=UntracedProvider(), auto_patch=False)
    return Tracer()


logger = Logger()
tracer = _build_tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "UntracedProvider", "logger", "metrics", "tracer"]

"""The AWS SDK side of ``leads_core.deadline``: no attempt is sent that could outlast the invocation's budget.

``install(client, attempt_seconds)`` registers a botocore ``before-send`` handler on one client (called by
``leads_core.aws.client`` for every client it creates). botocore emits ``before-send`` right before each HTTP
attempt, retries included and after the retry pause; an exception raised there is returned by the endpoint as
that attempt's error, and ``DeadlineExceeded`` is neither a connection error nor an AWS error code, so the
standard retry mode does not retry it: the call fails at once with it.

Imported only when a client is created (botocore is loaded by then).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError

from leads_core import deadline

HANDLER_ID = "leads-core-deadline"


class DeadlineExceeded(BotoCoreError):
    """Too little of the invocation's time budget is left for another attempt of an AWS call."""

    fmt = "Not enough time left for {operation}: {left:.2f} s left, one attempt may take {needed:.2f} s"


def refuse_late_attempt(attempt_seconds: float, event_name: str = "", **_: Any) -> None:
    left = deadline.remaining_seconds()
    if left < attempt_seconds:
        operation = event_name.rsplit(".", 1)[-1] or "an AWS call"
        raise DeadlineExceeded(operation=operation, left=max(left, 0.0), needed=attempt_seconds)


def install(client: Any, attempt_seconds: float) -> None:
    """Check the budget before every attempt of ``client`` (idempotent)."""
    client.meta.events.register(
        "before-send", partial(refuse_late_attempt, attempt_seconds), unique_id=HANDLER_ID
    )

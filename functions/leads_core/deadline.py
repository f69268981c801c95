"""The time budget of one Lambda invocation, so a slow dependency ends in an answer, never in a timeout.

A handler opens the budget from its context (``with deadline.budget(context): ...``): the time the Lambda
runtime gives the invocation (``get_remaining_time_in_millis()``) minus ``RESERVE_SECONDS`` kept to build and
return the answer. Inside it:

- every AWS SDK attempt made through ``leads_core.aws`` is checked before it is sent (retries included): when
  less time is left than one attempt's worst case (connect + read timeout), the call fails at once with
  ``leads_core.deadline_hook.DeadlineExceeded`` (a ``BotoCoreError``, so the usual error mapping applies:
  ``StorageUnavailable`` -> 503, ``NotificationFailed``, ...);
- other slow calls size their own timeout with ``time_for(...)`` (the captcha provider) or look at
  ``remaining_seconds()`` before starting more work (the alert function between ``PublishBatch`` chunks).

Outside a budget (the CLI, the local stack's setup, tests that open none) nothing is limited:
``remaining_seconds()`` is ``math.inf``. The budget lives in a ``ContextVar``, so it belongs to the
invocation that opened it. Standard library only (cold start).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

# Kept back from the Lambda timeout to turn an error into an answer and return it (and to absorb an SDK retry
# pause that started just before the budget ran out).
RESERVE_SECONDS = 1.0

_ends_at: ContextVar[float | None] = ContextVar("leads_deadline", default=None)


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@contextmanager
def budget(context: HasRemainingTime | None, reserve: float = RESERVE_SECONDS) -> Iterator[None]:
    """Limit the work inside the block to the invocation's remaining time minus ``reserve`` seconds.

    A context without ``get_remaining_time_in_millis`` (or ``None``) opens no budget.
    """
    remaining_ms = _remaining_ms(context)
    if remaining_ms is None:
        yield
        return
    token = _ends_at.set(time.monotonic() + remaining_ms / 1000 - reserve)
    try:
        yield
    finally:
        _ends_at.reset(token)


def remaining_seconds() -> float:
    """Seconds left in the current budget (can be negative once spent); ``math.inf`` outside a budget."""
    ends_at = _ends_at.get()
    if ends_at is None:
        return math.inf
    return ends_at - time.monotonic()


def time_for(wanted: float, *, keep: float = 0.0, minimum: float = 0.5) -> float | None:
    """A timeout for one outside call: ``wanted`` seconds, or less when the budget is shorter.

    ``keep`` seconds stay for the work after the call (e.g. one storage attempt). ``None`` when fewer than
    ``minimum`` seconds would be left for the call: better not to start it.
    """
    available = remaining_seconds() - keep
    if available < minimum:
        return None
    return min(wanted, available)


def _remaining_ms(context: HasRemainingTime | None) -> int | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return None
    try:
        return int(getter())
    except (TypeError, ValueError):
        return None

"""The one translation of AWS errors into domain errors, used by every store function.

``translated()`` wraps the AWS call(s) of a store function::

    with translated():
        dynamodb.update_item(...)

and turns a botocore failure into:

- ``ConditionFailed`` (``ConditionalCheckFailedException``) with the old item when the call asked for it;
- ``TransactionCancelled`` (``TransactionCanceledException``) with the cancellation reasons;
- ``StorageThrottled`` (throttling codes, after the client's own retries);
- ``StorageUnavailable`` for every other AWS error or a botocore failure (timeouts, endpoint, credentials).

The AWS exception stays the ``__cause__`` (the CLI reads it to tell "access denied" from "no credentials");
``code`` carries the AWS error code for logs. Any other exception (a bug) passes through unchanged. botocore
is imported only when an exception is being translated, so the happy path costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from leads_core.errors import (
    ConditionFailed,
    LeadsError,
    StorageThrottled,
    StorageUnavailable,
    TransactionCancelled,
)

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "TooManyRequestsException",
    }
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def code_of(exc: BaseException) -> str:
    """What a log may say about a failure: the AWS or domain code, else the exception's class name."""
    return getattr(exc, "code", "") or error_code(exc) or type(exc).__name__


def translate(exc: BaseException) -> LeadsError | None:
    """The domain error of an AWS failure; ``None`` when ``exc`` is not an AWS failure."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - only on a failure

    if isinstance(exc, ClientError):
        code = error_code(exc)
        response: dict[str, Any] = dict(exc.response)
        if code == CONDITION_FAILED:
            return ConditionFailed(dict(response.get("Item") or {}))
        if code == TRANSACTION_CANCELLED:
            return TransactionCancelled([dict(r) for r in response.get("CancellationReasons") or []])
        if code in THROTTLING_CODES:
            return StorageThrottled(code=code)
        return StorageUnavailable(code=code)
    if isinstance(exc, BotoCoreError):
        return StorageUnavailable(code=type(exc).__name__)
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Run the AWS calls of the ``with`` block, raising domain errors for AWS failures (see module doc)."""
    try:
        yield
    except LeadsError:
        raise
    except Exception as exc:
        domain = translate(exc)
        if domain is None:
            raise
        raise domain from exc

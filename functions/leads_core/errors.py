"""Domain errors. Handlers map them to HTTP in one place (``@app.exception_handler``)."""

from __future__ import annotations

from typing import Any


class LeadsError(Exception):
    """Base class of every error the domain raises on purpose."""


class ConfigurationError(LeadsError):
    """A function setting is missing or invalid; the message names the variable, never its value."""


class ValidationFailed(LeadsError):
    """The submission is invalid. ``errors`` maps a field name to one human sentence for the visitor."""

    def __init__(self, errors: dict[str, str], summary: str | None = None) -> None:
        self.errors = errors
        self.summary = summary or (
            "Please check the highlighted field."
            if len(errors) == 1
            else "Please check the highlighted fields."
        )
        super().__init__(self.summary)


class DuplicateConflict(LeadsError):
    """The idempotency key was already used for a different submission (HTTP 409)."""


class RateLimited(LeadsError):
    """Too many submissions from one source address (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("rate limited")


class StorageUnavailable(LeadsError):
    """DynamoDB is unavailable, throttling or refused the call; nothing was written (HTTP 503).

    ``code``: the AWS error code (or the botocore exception's name), for logs; never visitor data. The
    original AWS exception is the ``__cause__`` (``leads_core.store.failures.translated``).
    """

    def __init__(self, retry_after: int = 2, *, code: str = "") -> None:
        self.retry_after = retry_after
        self.code = code
        super().__init__("storage unavailable")


class StorageThrottled(StorageUnavailable):
    """DynamoDB throttled the call (after the client's own retries)."""


class ConditionFailed(LeadsError):
    """A write's condition was false. ``item``: the item as the condition saw it, when the call asked for it
    (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), else ``{}``; wire shape, never put in a message."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        self.item: dict[str, Any] = item or {}
        super().__init__("condition failed")


class TransactionCancelled(LeadsError):
    """A ``TransactWriteItems`` was cancelled. ``reasons``: one per item, in order (``Code``, ``Item``)."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        self.reasons = reasons
        super().__init__("transaction cancelled")


class CaptchaUnavailable(LeadsError):
    """The captcha provider could not be reached; the submission is treated per captcha policy."""


class NotificationFailed(LeadsError):
    """SNS refused or throttled a publish; the alert will be retried by the stream."""


class LeadNotFound(LeadsError):
    """No lead with that id."""

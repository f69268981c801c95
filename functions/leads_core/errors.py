"""Domain errors. Handlers map them to HTTP in one place (``@app.exception_handler``)."""

from __future__ import annotations


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
    """DynamoDB is unavailable or throttling; nothing was written (HTTP 503)."""

    def __init__(self, retry_after: int = 2) -> None:
        self.retry_after = retry_after
        super().__init__("storage unavailable")


class CaptchaUnavailable(LeadsError):
    """The captcha provider could not be reached; the submission is treated per captcha policy."""


class NotificationFailed(LeadsError):
    """SNS refused or throttled a publish; the alert will be retried by the stream."""


class LeadNotFound(LeadsError):
    """No lead with that id."""

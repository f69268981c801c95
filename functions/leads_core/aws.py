"""The one place AWS clients are created: lazily, cached, never as an import side effect.

boto3 honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which is how the local stack and
moto server are reached. Tests and the local stack may install their own ``boto3.Session`` with
``use_session`` (e.g. to register fault-injection hooks on its event system) and call ``reset`` between runs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

_lock = threading.Lock()
_session: boto3.Session | None = None
_clients: dict[str, Any] = {}

# Tight timeouts: API Gateway gives the whole request 29 s, and a visitor is waiting. The standard retry mode
# retries throttling with backoff and jitter; after that the domain answers 503 and the visitor's retry (same
# idempotency key) succeeds exactly once.
_CONNECT_TIMEOUT = 2
_READ_TIMEOUT = 5
_MAX_ATTEMPTS = 3


def session() -> boto3.Session:
    global _session  # noqa: PLW0603 - module-level cache is the point of this module
    with _lock:
        if _session is None:
            import boto3  # noqa: PLC0415 - deferred to keep cold-start import light

            _session = boto3.Session()
        return _session


def use_session(new_session: boto3.Session | None) -> None:
    """Install a session (or ``None`` for the default) and forget every cached client."""
    global _session  # noqa: PLW0603
    with _lock:
        _session = new_session
        _clients.clear()


def reset() -> None:
    """Forget the session and every cached client (tests call this between moto contexts)."""
    use_session(None)


def client(service: str) -> Any:
    """Return the cached low-level client for ``service`` ("dynamodb", "sns", "sqs", ...)."""
    cached = _clients.get(service)
    if cached is not None:
        return cached
    sess = session()
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=_CONNECT_TIMEOUT,
        read_timeout=_READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
        # moto does not route DynamoDB account-based endpoints; real DynamoDB works either way.
        account_id_endpoint_mode="disabled",
    )
    created = sess.client(service, config=config)  # type: ignore[call-overload]
    with _lock:
        return _clients.setdefault(service, created)

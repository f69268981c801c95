"""The one place AWS clients are created: lazily, cached, never as an import side effect.

boto3 honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which is how the local stack and
moto server are reached. Tests and the local stack may install their own ``boto3.Session`` with
``use_session`` (e.g. to register fault-injection hooks on its event system) and call ``reset`` between runs.
Every client refuses to start an attempt that could outlast the invocation's time budget
(``leads_core.deadline``, ``leads_core.deadline_hook``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

_lock = threading.Lock()
_session: boto3.Session | None = None
_clients: dict[str, Any] = {}

# Tight timeouts: a visitor is waiting and the functions time out after 10 s (template Globals). The
# standard retry mode retries throttling and timeouts with backoff and jitter; after that the domain answers
# 503 and the visitor's retry (same idempotency key) succeeds exactly once. Inside an invocation's time
# budget (``leads_core.deadline``) an attempt is only sent while its worst case, ATTEMPT_SECONDS, still fits.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
ATTEMPT_SECONDS = CONNECT_TIMEOUT + READ_TIMEOUT
_MAX_ATTEMPTS = 3  # botocore counts retries here: up to 4 attempts in all, each checked against the budget


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
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
        # moto does not route DynamoDB account-based endpoints; real DynamoDB works either way.
        account_id_endpoint_mode="disabled",
    )
    created = sess.client(service, config=config)  # type: ignore[call-overload]
    from leads_core import deadline_hook  # noqa: PLC0415 - imports botocore.exceptions, loaded by now

    deadline_hook.install(created, ATTEMPT_SECONDS)
    with _lock:
        return _clients.setdefault(service, created)

"""A slow (not failing) dependency ends in a 503 with Retry-After and CORS headers before the Lambda timeout.

Drives the real submit handler with a Lambda context whose remaining time runs on the real clock (the local
stack's ``LambdaContext``) and AWS endpoints or a captcha provider that accept connections and never answer
(``SilentServer`` on 127.0.0.1; moto lets such URLs through to the network). "In time" is a functional check:
the context still has time left when the handler returns, where a Lambda would otherwise have been killed.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from leads_core import aws, captcha, deadline, hashing, intake
from leads_core.settings import load_settings
from leads_local.apigw import LambdaContext
from leads_local.template import load_template

from tests.conftest import load_event, read_table_items
from tests.submit.conftest import leads_in, response_header, response_json, with_body

ORIGIN = "https://www.example-clinic.com"
FUNCTION_TIMEOUT = float(load_template()["Globals"]["Function"]["Timeout"])


class SilentServer:
    """Accepts TCP connections on 127.0.0.1, reads what comes and never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def slow_service(
    stack: Any, silent: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], None]]:
    """``slow_service("DYNAMODB")`` points that service of ``leads_core.aws`` at the silent server.

    The argument is the botocore service id as its ``AWS_ENDPOINT_URL_<ID>`` variable spells it.
    """

    def point(service_env_id: str) -> None:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service_env_id}", silent.url)
        aws.use_session(aws.session())  # forget the cached clients: the next ones use the endpoint
        warm_clients()

    yield point
    aws.use_session(aws.session())


def warm_clients() -> None:
    """Create the submit path's clients up front, as in a warm container (no model loading in the budget)."""
    for service in ("ssm", "secretsmanager", "dynamodb"):
        aws.client(service)


def invoke_in(seconds: float, event: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The real handler with ``seconds`` of Lambda time; returns the answer and the milliseconds left."""
    from submit_consultation import app

    context = LambdaContext(function_name="clinic-leads-test-submit", timeout_seconds=seconds)
    response = app.lambda_handler(event, context)
    return response, context.get_remaining_time_in_millis()


def stored_leads(stack: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The leads in moto's table (read with the slow endpoint removed)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    return leads_in(read_table_items(boto3.client("dynamodb", region_name="us-east-1"), stack.table_name))


def submission(message: str) -> dict[str, Any]:
    event = load_event("submit_valid_json")
    fields = {**json.loads(event["body"]), "message": message}
    return with_body(event, fields)


def assert_retry_later_in_time(response: dict[str, Any], remaining_ms: int) -> None:
    assert response["statusCode"] == 503
    assert response_header(response, "Retry-After") == "2"
    assert response_header(response, "Access-Control-Allow-Origin") == ORIGIN
    assert "Origin" in (response_header(response, "Vary") or "")
    assert response_json(response)["errors"] == {}
    assert remaining_ms > 0, "the Lambda would have timed out (API Gateway 502 without CORS headers)"


def test_slow_storage_answers_503_in_time(
    stack: Any, slow_service: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_service("DYNAMODB")

    response, remaining_ms = invoke_in(FUNCTION_TIMEOUT, submission("slow storage"))

    assert_retry_later_in_time(response, remaining_ms)
    assert deadline.remaining_seconds() == math.inf, "the budget ends with the invocation"
    assert stored_leads(stack, monkeypatch) == []


def test_cold_start_with_a_slow_hash_key_answers_503_in_time(
    stack: Any, slow_service: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    hashing.forget_key()  # a new container: the key comes from Secrets Manager first
    slow_service("SECRETS_MANAGER")

    response, remaining_ms = invoke_in(FUNCTION_TIMEOUT, submission("slow secret"))

    assert_retry_later_in_time(response, remaining_ms)
    assert stored_leads(stack, monkeypatch) == []


def test_no_attempt_starts_that_could_outlast_the_budget(
    stack: Any, silent: SilentServer, slow_service: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5.5 s of Lambda time, 1 s reserve: the first attempt fits (connect + read = 3 s); once it has timed out
    # (2 s read timeout), at most 2.5 s are left and the retry is refused before it is sent, instead of
    # running past the Lambda timeout.
    slow_service("DYNAMODB")

    response, remaining_ms = invoke_in(5.5, submission("short budget"))

    assert_retry_later_in_time(response, remaining_ms)
    assert silent.connections == 1
    assert aws.ATTEMPT_SECONDS + deadline.RESERVE_SECONDS < 5.5 < aws.ATTEMPT_SECONDS + 2 + 1 + 1
    assert stored_leads(stack, monkeypatch) == []


@pytest.fixture
def slow_provider(stack: Any, silent: SilentServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Captcha on, its provider silent; yields the timeouts the handler gave the provider calls."""
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/clinic-leads/captcha-secret", Value="captcha-secret-value", Type="SecureString", Overwrite=True
    )
    monkeypatch.setenv("CAPTCHA_PROVIDER", "turnstile")
    monkeypatch.setenv("CAPTCHA_SECRET_PARAM", "/clinic-leads/captcha-secret")
    monkeypatch.setenv("CAPTCHA_VERIFY_URL", f"{silent.url}/siteverify")
    load_settings.cache_clear()
    captcha.forget_captcha_secret()
    timeouts: list[float] = []
    real_post_form = captcha._post_form

    def recording_post_form(url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
        timeouts.append(timeout)
        return real_post_form(url, form, timeout)

    monkeypatch.setattr(captcha, "_post_form", recording_post_form)
    warm_clients()
    yield timeouts
    captcha.forget_captcha_secret()
    load_settings.cache_clear()


def captcha_submission(message: str) -> dict[str, Any]:
    event = load_event("submit_valid_json")
    fields = {**json.loads(event["body"]), "message": message, "captcha_token": "token-never-checked"}
    return with_body(event, fields)


@pytest.mark.parametrize("seconds", [FUNCTION_TIMEOUT, 6.5])
def test_slow_captcha_provider_leaves_time_to_store_the_lead(
    stack: Any,
    silent: SilentServer,
    slow_provider: list[float],
    monkeypatch: pytest.MonkeyPatch,
    seconds: float,
) -> None:
    response, remaining_ms = invoke_in(seconds, captcha_submission("slow captcha"))

    assert response["statusCode"] == 201
    assert remaining_ms > 0
    assert silent.connections == 1
    # Up to 3 s, and never more than the budget minus what is kept for storage.
    [timeout] = slow_provider
    assert 0 < timeout <= min(3.0, seconds - deadline.RESERVE_SECONDS - intake.STORAGE_TIME_SECONDS)
    [lead] = stored_leads(stack, monkeypatch)
    assert lead["id"] == response_json(response)["id"]
    assert lead["status"] == "new"
    assert lead["review_flags"] == ["captcha_unverified"]


def test_no_time_for_the_captcha_provider_accepts_the_lead_unverified(
    stack: Any, silent: SilentServer, slow_provider: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5 s of Lambda time: after the reserve and what is kept for storage, nothing is left for the provider.
    response, remaining_ms = invoke_in(5.0, captcha_submission("no time for captcha"))

    assert response["statusCode"] == 201
    assert remaining_ms > 0
    assert slow_provider == []
    assert silent.connections == 0
    [lead] = stored_leads(stack, monkeypatch)
    assert lead["status"] == "new"
    assert lead["review_flags"] == ["captcha_unverified"]

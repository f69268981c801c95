"""Drive the local stack (``python -m leads_local``, contract section 4) as a separate process over real HTTP.

The stack is started exactly as ``make run`` starts it, on free ports, with extra environment (for example a
raised ``RATE_LIMIT_PER_HOUR`` or ``LOCAL_FAULTS``). Everything it prints (stdout and stderr, Powertools logs
included) is kept in ``output`` so a privacy scan can read the whole run.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_MARKER = "ready: http://127.0.0.1:"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time() when the response was read
    elapsed: float  # seconds from sending to having read the whole response

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> HttpResult:
    """One request on a fresh connection (what a browser's form post costs, connect included)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        return HttpResult(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=payload,
            received_at=time.time(),
            elapsed=elapsed,
        )
    finally:
        connection.close()


def parse_published_at(value: Any) -> float:
    """``published_at`` as epoch seconds: accepts epoch numbers (s or ms) and ISO 8601 strings."""
    if isinstance(value, int | float):
        return float(value) / (1000.0 if value > 1e11 else 1.0)
    text = str(value)
    with contextlib.suppress(ValueError):
        number = float(text)
        return number / (1000.0 if number > 1e11 else 1.0)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class LocalStackProcess:
    """``python -m leads_local`` on free ports. Use as a context manager; ``stop()`` is idempotent."""

    extra_env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout: float = 90.0
    port: int = field(default_factory=free_port)
    aws_port: int = field(default_factory=free_port)
    output: list[str] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _aws_clients: dict[str, Any] = field(default_factory=dict)
    _table_name: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "LOCAL_FAULTS"}
        env.update(FAKE_AWS_ENV)
        env.update(
            {
                "PORT": str(self.port),
                "AWS_PORT": str(self.aws_port),
                "PYTHONUNBUFFERED": "1",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LocalStackProcess:
        # The real ``python -m leads_local`` (it patches moto's O(table) transaction snapshot itself, see
        # leads_local/moto_patches.py; LOCAL_STOCK_MOTO=1 runs stock moto).
        module = "leads_local"
        self._process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._ready.wait(0.1):
            if self._process.poll() is not None:
                self._reader.join(timeout=2)
                tail = "".join(self.output[-30:])
                raise RuntimeError(f"local stack exited with {self._process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"local stack not ready after {self.startup_timeout:.0f}s")
        return self

    def _read_output(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)

    def __enter__(self) -> LocalStackProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def log_text(self) -> str:
        return "".join(self.output)

    # --- HTTP side ------------------------------------------------------------------------------------------
    def post_json(
        self,
        payload: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        origin: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if origin:
            headers["Origin"] = origin
        headers.update(extra_headers or {})
        return http_request(self.port, "POST", "/consultations", json.dumps(payload).encode(), headers)

    def post_form(self, fields: Mapping[str, str], *, accept_json: bool = False) -> HttpResult:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if accept_json:
            headers["Accept"] = "application/json"
        return http_request(self.port, "POST", "/consultations", urlencode(fields).encode(), headers)

    def alerts(self) -> list[dict[str, Any]]:
        result = http_request(self.port, "GET", "/_local/alerts")
        if result.status != 200:
            raise RuntimeError(f"/_local/alerts answered {result.status}")
        return list(result.json()["alerts"])

    def wait_for_alerts(
        self, lead_ids: set[str], timeout: float = 60.0, settle: float = 2.5, poll: float = 0.1
    ) -> list[dict[str, Any]]:
        """Poll until every lead in ``lead_ids`` has an alert, then wait ``settle`` s more for duplicates."""
        deadline = time.monotonic() + timeout
        alerts = self.alerts()
        while not lead_ids <= {a.get("lead_id") for a in alerts} and time.monotonic() < deadline:
            time.sleep(poll)
            alerts = self.alerts()
        if settle > 0:
            time.sleep(settle)
            alerts = self.alerts()
        return alerts

    # --- AWS side -------------------------------------------------------------------------------------------
    def aws_client(self, service: str) -> Any:
        """A client of the stack's AWS endpoint (cached per service)."""
        cached = self._aws_clients.get(service)
        if cached is not None:
            return cached
        import boto3
        from botocore.config import Config

        self._aws_clients[service] = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client(  # type: ignore[call-overload]
            service, endpoint_url=self.aws_endpoint, config=Config(account_id_endpoint_mode="disabled")
        )
        return self._aws_clients[service]

    def table_name(self) -> str:
        if self._table_name is None:
            names = self.aws_client("dynamodb").list_tables()["TableNames"]
            matches = [name for name in names if name.endswith("LeadsTable")]
            if len(matches) != 1:
                raise RuntimeError(f"expected one leads table, found {names}")
            self._table_name = str(matches[0])
        return self._table_name

    def scan_items(self) -> list[dict[str, Any]]:
        """Every item of the leads table, deserialised to plain Python values."""
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        client = self.aws_client("dynamodb")
        table = self.table_name()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            page = client.scan(**kwargs)
            items.extend({k: deserializer.deserialize(v) for k, v in raw.items()} for raw in page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def lead_items(self) -> list[dict[str, Any]]:
        return [item for item in self.scan_items() if str(item.get("pk", "")).startswith("LEAD#")]


@contextlib.contextmanager
def running_stack(extra_env: Mapping[str, str] | None = None) -> Iterator[LocalStackProcess]:
    stack = LocalStackProcess(extra_env=dict(extra_env or {}))
    with stack:
        yield stack

"""Shared browser fixtures: Debian's Chromium driven by Playwright, against the real local stack.

The local stack (``python -m leads_local``) runs as a subprocess on free ports for the whole session: its own
process keeps its AWS endpoint and function settings out of this test process's environment. It is started
before Chromium is launched, so both boot at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "Chromium not found: install it with `apt-get install -y chromium` (or set SKIP_BROWSER=1 to skip)"
)
LEAD_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{10}$"
STACK_READY_SECONDS = 120.0  # generous: a busy 2-core machine imports moto and boto3 slowly
ALERT_WAIT_SECONDS = 20.0
# Every browser test submits from 127.0.0.1; the per-address limit is lifted so test order cannot matter.
STACK_SETTINGS = {"RATE_LIMIT_PER_HOUR": "1000"}


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    candidates = [configured] if configured else [*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StackProcess:
    """``python -m leads_local`` on free ports; ``wait_ready()`` returns its base URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.aws_port = free_port()
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.base_url = ""
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
        env.update(STACK_SETTINGS, PORT=str(self.port), AWS_PORT=str(self.aws_port), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leads_local"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.reader = threading.Thread(target=self._read_stdout, name="leads-local-stdout", daemon=True)
        self.reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # drained until exit so the pipe never fills
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready: "):
                self.base_url = line.removeprefix("ready: ").strip()
                self.ready.set()

    def table_name(self) -> str:
        for line in self.lines:
            if line.strip().startswith("table "):
                return line.split()[1].rstrip(",")
        raise AssertionError("the local stack did not print its table name")

    def diagnostics(self) -> str:
        self.stderr.seek(0)
        errors = self.stderr.read().decode(errors="replace")[-3000:]
        return "stdout:\n" + "\n".join(self.lines[-30:]) + "\nstderr (end):\n" + errors

    def wait_ready(self) -> str:
        deadline = time.monotonic() + STACK_READY_SECONDS
        while not self.ready.wait(0.2):
            if self.process.poll() is not None:
                pytest.fail(f"the local stack exited with {self.process.returncode}\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                seconds = f"{STACK_READY_SECONDS:.0f} s"
                pytest.fail(f"no `ready:` line from the local stack in {seconds}\n{self.diagnostics()}")
        return self.base_url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # memory only: nothing to lose if it must be killed
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.reader.join(5)
        self.stderr.close()


@dataclass
class Site:
    """The running local stack as the tests see it: pages, the API, the alerts and the table."""

    base_url: str
    aws_endpoint: str
    table_name: str
    _dynamodb: Any = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url("/_local/alerts"), timeout=10) as response:
            return list(json.load(response)["alerts"])

    def wait_for_alert(self, lead_id: str) -> dict[str, Any]:
        """The one alert published for ``lead_id`` (the table's stream delivers it asynchronously)."""
        deadline = time.monotonic() + ALERT_WAIT_SECONDS
        while True:
            matching = [alert for alert in self.alerts() if alert.get("lead_id") == lead_id]
            if matching:
                assert len(matching) == 1, f"lead {lead_id} was alerted {len(matching)} times"
                return matching[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no alert for lead {lead_id} within {ALERT_WAIT_SECONDS:.0f} s")
            time.sleep(0.1)

    def stored_lead(self, lead_id: str) -> dict[str, Any]:
        """The lead item as stored in the local DynamoDB table (plain Python values)."""
        import boto3  # noqa: PLC0415 - only the tests that read the table pay for it
        from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415

        if self._dynamodb is None:
            self._dynamodb = boto3.client(
                "dynamodb",
                endpoint_url=self.aws_endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        item = self._dynamodb.get_item(
            TableName=self.table_name, Key={"pk": {"S": f"LEAD#{lead_id}"}, "sk": {"S": "LEAD"}}
        ).get("Item")
        assert item is not None, f"lead {lead_id} is not in the table"
        deserializer = TypeDeserializer()
        return {name: deserializer.deserialize(value) for name, value in item.items()}


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("SKIP_BROWSER") == "1":
            pytest.skip("SKIP_BROWSER=1 and no Chromium installed")
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="session")
def stack_process(chromium_executable: str) -> Iterator[StackProcess]:
    process = StackProcess()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable: str, stack_process: StackProcess) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - not needed by the markup tests

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(stack_process: StackProcess) -> Site:
    base_url = stack_process.wait_ready()
    return Site(
        base_url=base_url,
        aws_endpoint=f"http://127.0.0.1:{stack_process.aws_port}",
        table_name=stack_process.table_name(),
    )


def _watch_for_page_errors(page: Any, problems: list[str]) -> None:
    """Uncaught exceptions and CSP refusals (HTTP error statuses that Chrome logs are expected in tests)."""
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))

    def on_console(message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            problems.append(f"csp: {text}")

    page.on("console", on_console)


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh page with JavaScript on; the test fails on any uncaught error or CSP refusal."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    problems: list[str] = []
    _watch_for_page_errors(new_page, problems)
    yield new_page
    context.close()
    assert not problems, problems


@pytest.fixture
def nojs_page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh page with JavaScript disabled: the plain HTML form."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    context.close()

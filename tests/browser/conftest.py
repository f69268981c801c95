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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = REPO_ROOT / "web"
FORM_START = "<!-- consultation-form:start -->"
FORM_END = "<!-- consultation-form:end -->"
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
# The emulated Cognito checks authenticator codes (TOTP) as Cognito does, for the console's MFA sign-in test.
STACK_SETTINGS = {"RATE_LIMIT_PER_HOUR": "1000", "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true"}


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

    def __init__(self, extra_origins: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.aws_port = free_port()
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.base_url = ""
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
        env.update(STACK_SETTINGS, PORT=str(self.port), AWS_PORT=str(self.aws_port), PYTHONUNBUFFERED="1")
        # The stack's default origins (its own address) plus the embedding test site's.
        own = (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")
        env["ALLOWED_ORIGINS"] = ",".join((*own, *extra_origins))
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
        from leads_local.template import local_outputs

        return local_outputs(self.port, self.aws_port)["LeadsTableName"]

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
                self.process.wait(2)
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
        import boto3
        from boto3.dynamodb.types import TypeDeserializer

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


class EmbeddingSite:
    """A clinic's own website on another origin, embedding the form the way docs/embedding.md says.

    It hosts copies of form.js and form.css, pastes the snippet of web/form.html with the form's ``action``
    and ``data-endpoint`` set to the API URL, and sends the CSP that document recommends.
    """

    def __init__(self) -> None:
        self.api_url = ""  # set once the local stack is ready
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                assets = {"/assets/form.js": "form.js", "/assets/form.css": "form.css"}
                if self.path == "/":
                    body, content_type = site.page().encode(), "text/html; charset=utf-8"
                elif self.path in assets:
                    name = assets[self.path]
                    body = (WEB_DIR / name).read_bytes()
                    content_type = "text/css" if name.endswith(".css") else "text/javascript"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="embedding-site", daemon=True)
        self.thread.start()

    def page(self) -> str:
        snippet = (WEB_DIR / "form.html").read_text(encoding="utf-8")
        block = snippet[snippet.index(FORM_START) : snippet.index(FORM_END) + len(FORM_END)]
        for attribute in ("action", "data-endpoint"):
            demo_value = f'{attribute}="/consultations"'
            assert block.count(demo_value) == 1, f"the snippet should have one {demo_value}"
            block = block.replace(demo_value, f'{attribute}="{self.api_url}"')
        api_origin = self.api_url.rsplit("/consultations", 1)[0]
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' {api_origin}; form-action 'self' {api_origin}; "
            "base-uri 'none'; object-src 'none'"
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<title>Another clinic site</title><link rel="stylesheet" href="/assets/form.css"></head>'
            f"<body><main><h1>Contact us</h1>{block}</main>"
            '<script src="/assets/form.js" defer></script></body></html>'
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def embedding_site(chromium_executable: str) -> Iterator[EmbeddingSite]:
    embedding = EmbeddingSite()
    yield embedding
    embedding.stop()


@pytest.fixture(scope="session")
def stack_process(chromium_executable: str, embedding_site: EmbeddingSite) -> Iterator[StackProcess]:
    process = StackProcess(extra_origins=(embedding_site.origin,))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable: str, stack_process: StackProcess) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(stack_process: StackProcess, embedding_site: EmbeddingSite) -> Site:
    base_url = stack_process.wait_ready()
    embedding_site.api_url = base_url + "/consultations"
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

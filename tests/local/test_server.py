"""The local HTTP server's routing and body handling, with a stand-in stack (no AWS emulation started)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import leads_local.__main__ as entry
import pytest
from leads_local.apigw import HttpRequest, HttpResponse
from leads_local.server import LocalHTTPServer, web_file
from leads_local.stack import LocalStackError


class StandInStack:
    topic_display_name = "Clinic leads"

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def invoke_submit(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(201, [("Content-Type", "application/json")], b'{"ok": true}')

    def alerts(self) -> list[Any]:
        return []

    def health(self) -> dict[str, Any]:
        return {"status": "ok"}

    def serves_api(self, path: str) -> bool:
        return path.startswith("/staff")

    def invoke_api(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, [("Content-Type", "application/json")], b'{"api": true}')


@pytest.fixture
def server() -> Iterator[tuple[LocalHTTPServer, StandInStack]]:
    stack = StandInStack()
    httpd = LocalHTTPServer(("127.0.0.1", 0), stack)  # type: ignore[arg-type]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd, stack
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _connection(httpd: LocalHTTPServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", httpd.server_address[1], timeout=10)


def test_chunked_body_reaches_the_function(server: tuple[LocalHTTPServer, StandInStack]) -> None:
    httpd, stack = server
    connection = _connection(httpd)
    connection.request(
        "POST",
        "/consultations?x=1",
        body=iter([b'{"first_name":', b' "A"}']),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 201
    assert json.loads(response.read()) == {"ok": True}
    assert stack.requests[0].body == b'{"first_name": "A"}'
    assert stack.requests[0].query == "x=1"
    assert stack.requests[0].source_ip == "127.0.0.1"


def test_body_over_api_gateway_limit_is_413(server: tuple[LocalHTTPServer, StandInStack]) -> None:
    httpd, stack = server
    connection = _connection(httpd)
    connection.putrequest("POST", "/consultations")
    connection.putheader("Content-Length", str(11 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert stack.requests == []


def test_head_and_missing_pages(server: tuple[LocalHTTPServer, StandInStack]) -> None:
    httpd, _ = server
    connection = _connection(httpd)
    connection.request("HEAD", "/_local/health")
    response = connection.getresponse()
    assert response.status == 200
    assert response.read() == b""
    connection.request("GET", "/static/does-not-exist.js")
    response = connection.getresponse()
    assert response.status == 404
    response.read()
    connection.request("DELETE", "/")
    assert connection.getresponse().status == 404


def test_web_file_stays_inside_the_web_directory(tmp_path: Path) -> None:
    (tmp_path / "form.js").write_text("x")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.svg").write_text("<svg/>")
    (tmp_path / ".env").write_text("secret")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("outside")
    os.symlink(outside, tmp_path / "link.txt")
    assert web_file("form.js", tmp_path) == (tmp_path / "form.js").resolve()
    assert web_file("img/logo.svg", tmp_path) is not None
    for name in ("../x", "..", ".env", "img/../form.js", "img\\logo.svg", "", "link.txt", "img"):
        assert web_file(name, tmp_path) is None, name


# -- the entry point's own logic (the process itself is tested in test_main.py) ------------------------------


class FakeStack:
    instances: ClassVar[list[FakeStack]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.stopped = False
        FakeStack.instances.append(self)

    def start(self) -> None:
        if self.kwargs["faults"] == "bad":
            raise LocalStackError("LOCAL_FAULTS: bad")
        os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C arrived right after the start

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeStack]]:
    FakeStack.instances = []
    monkeypatch.setattr(entry, "LocalStack", FakeStack)
    monkeypatch.setattr(entry, "banner", lambda stack: ["ready: http://127.0.0.1:1"])
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield FakeStack
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def test_main_stops_cleanly_on_sigint(
    fake_stack: type[FakeStack], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "3100")
    monkeypatch.setenv("AWS_PORT", "4600")
    monkeypatch.setenv("LOCAL_FAULTS", "sns:*=0.5")
    monkeypatch.setenv("LOCAL_FAULTS_SEED", "7")
    monkeypatch.setenv("LOCAL_SUBMIT_WORKERS", "2")
    assert entry.main() == 0
    [stack] = fake_stack.instances
    assert stack.stopped
    assert stack.kwargs["port"] == 3100
    assert stack.kwargs["aws_port"] == 4600
    assert stack.kwargs["faults_seed"] == 7
    assert stack.kwargs["submit_workers"] == 2
    assert "ready: http://127.0.0.1:1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "http"),
        ("AWS_PORT", "70000"),
        ("LOCAL_FAULTS_SEED", "x"),
        ("LOCAL_FAULTS", "bad"),
        ("LOCAL_SUBMIT_WORKERS", "0"),
    ],
)
def test_main_refuses_bad_environment(
    fake_stack: type[FakeStack],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert entry.main() == 2
    assert variable in capsys.readouterr().err

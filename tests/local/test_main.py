"""`make run`'s entry point as a process: ready line, pages, exit 0 on SIGINT; bad LOCAL_FAULTS refused."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = (
    120  # generous: a cold interpreter on a busy CI machine imports boto3, moto and the handlers
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    env.update(extra)
    return env


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_python_m_leads_local_serves_and_stops_on_sigint() -> None:
    port, aws_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "leads_local"],
        cwd=REPO_ROOT,
        env=_environment(PORT=str(port), AWS_PORT=str(aws_port), LOCAL_FAULTS=""),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = _lines(process)
        seen: list[str] = []
        while not any(f"ready: http://127.0.0.1:{port}" in line for line in seen):
            try:
                seen.append(lines.get(timeout=STARTUP_TIMEOUT))
            except queue.Empty:
                pytest.fail(f"no ready line; output so far: {seen}")
        assert any(f"--endpoint-url http://127.0.0.1:{aws_port}" in line for line in seen)
        assert any("leads --local" in line for line in seen)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/health", timeout=30) as response:
            assert json.loads(response.read())["aws_endpoint"] == f"http://127.0.0.1:{aws_port}"
        if (REPO_ROOT / "web" / "index.html").is_file():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                assert response.status == 200

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_invalid_local_faults_stops_the_start_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "leads_local"],
        cwd=REPO_ROOT,
        env=_environment(
            PORT=str(_free_port()), AWS_PORT=str(_free_port()), LOCAL_FAULTS="dynamodb:PutItem=2"
        ),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "LOCAL_FAULTS" in result.stderr
    assert "ready:" not in result.stdout

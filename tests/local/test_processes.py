"""The local stack runs like Lambda: the AWS emulation and every function in their own processes; concurrent
submissions run in concurrent workers; the alert path never waits for the submit path; no process outlives
the stack, whether it stops cleanly, gets Ctrl-C, or is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leads_local.apigw import HttpRequest, LambdaContext, build_event
from leads_local.faults import FaultInjector
from leads_local.poller import HandlerUnavailable
from leads_local.stack import SUBMIT_FUNCTION, LocalStack
from leads_local.workers import FunctionError, FunctionPool, FunctionSpec, FunctionTimeout

from tests.local.test_main import REPO_ROOT, STARTUP_TIMEOUT, _environment, _free_port, _lines
from tests.local.test_stack import _lead, call, needs_handlers
from tests.submit.test_time_budget import SilentServer

pytestmark = pytest.mark.stack


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


@pytest.fixture
def local() -> Iterator[LocalStack]:
    stack = LocalStack(
        port=0,
        aws_port=0,
        settings={"RATE_LIMIT_PER_HOUR": "1000"},
        schedule_seconds=0,
        log=lambda line: None,
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _post(local: LocalStack, lead: dict[str, Any]) -> tuple[int, float]:
    started = time.monotonic()
    reply = call(
        f"{local.base_url}/consultations",
        "POST",
        json.dumps(lead).encode(),
        {"Origin": local.base_url, "Content-Type": "application/json", "Accept": "application/json"},
    )
    return reply.status, time.monotonic() - started


def _store_lead_in_this_process(local: LocalStack) -> str:
    """The real submit handler, run in the test's own process against the emulation (not a worker)."""
    from submit_consultation.app import lambda_handler

    body = json.dumps(_lead(first_name="Riley")).encode()
    request = HttpRequest(
        method="POST",
        path="/consultations",
        query="",
        headers=[
            ("Origin", local.base_url),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        body=body,
        source_ip="127.0.0.1",
    )
    result = lambda_handler(build_event(request), LambdaContext(function_name="in-test"))
    assert result["statusCode"] == 201, result
    return str(json.loads(result["body"])["id"])


@needs_handlers
def test_functions_run_in_their_own_processes_and_stop_with_the_stack(local: LocalStack) -> None:
    assert _post(local, _lead())[0] == 201
    local.run_scheduled_functions()
    pids = local.process_ids()
    assert len(pids["aws"]) == 1
    assert all(len(pids[f]) == 1 for f in pids if f != "aws")  # one warm worker each so far
    every = [pid for group in pids.values() for pid in group]
    assert len(set(every)) == len(every)
    assert os.getpid() not in every
    assert all(_alive(pid) for pid in every)
    health = call(f"{local.base_url}/_local/health").json()
    assert health["processes"] == pids
    assert health["functions"][SUBMIT_FUNCTION]["max_workers"] == 4

    local.stop()
    assert _wait_gone(every, timeout=5) == []


@needs_handlers
def test_concurrent_submissions_run_in_concurrent_workers_and_alerts_do_not_wait_for_them(
    local: LocalStack,
) -> None:
    silent = SilentServer()  # the submit function's DynamoDB: accepts connections, never answers
    try:
        local.update_function_environment({"AWS_ENDPOINT_URL_DYNAMODB": silent.url}, [SUBMIT_FUNCTION])
        results: list[tuple[int, float]] = []
        threads = [threading.Thread(target=lambda: results.append(_post(local, _lead()))) for _ in range(3)]
        for thread in threads:
            thread.start()
        pool = local.pools[SUBMIT_FUNCTION]
        deadline = time.monotonic() + 90
        while pool.health()["busy"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.health()["busy"] == 3  # three submissions in three workers at once
        # While the three submissions wait for DynamoDB, a lead stored by another path is alerted.
        lead_id = _store_lead_in_this_process(local)
        deadline = time.monotonic() + 30
        while not [a for a in local.alerts() if a.lead_id == lead_id] and time.monotonic() < deadline:
            time.sleep(0.05)
        busy_when_alerted = pool.health()["busy"]
        for thread in threads:
            thread.join(60)
    finally:
        local.update_function_environment({"AWS_ENDPOINT_URL_DYNAMODB": None}, [SUBMIT_FUNCTION])
        silent.close()

    assert [a.lead_id for a in local.alerts()] == [lead_id]
    # The alert function ran while a submission was still running: the two never wait for each other.
    assert busy_when_alerted >= 1
    assert [status for status, _ in results] == [503, 503, 503]
    assert silent.connections >= 3
    assert _post(local, _lead())[0] == 201  # back on the emulation


def _start_stack_process(**popen: Any) -> tuple[subprocess.Popen[str], int]:
    port, aws_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "leads_local"],
        cwd=REPO_ROOT,
        env=_environment(PORT=str(port), AWS_PORT=str(aws_port), LOCAL_FAULTS="", LOCAL_SCHEDULE_SECONDS="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        **popen,
    )
    lines = _lines(process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if f"ready: http://127.0.0.1:{port}" in line:
            return process, port


def _children(port: int) -> list[int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/health", timeout=30) as response:
        processes = json.loads(response.read())["processes"]
    return [pid for group in processes.values() for pid in group]


def test_ctrl_c_in_the_terminal_stops_every_process() -> None:
    process, port = _start_stack_process(start_new_session=True)
    try:
        children = _children(port)
        assert len(children) >= 3  # the emulation, a submit worker, an alert worker
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground process group
        assert process.wait(timeout=30) == 0
        assert _wait_gone(children) == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_killing_the_stack_leaves_no_process_behind() -> None:
    process, port = _start_stack_process()
    try:
        children = _children(port)
        assert len(children) >= 3
        process.kill()  # no clean-up runs in the stack: its children must notice by themselves
        process.wait(timeout=10)
        assert _wait_gone(children) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _pool(
    module: str = "tests.local.sleepy_function",
    max_workers: int = 3,
    timeout: float = 1.0,
    grace: float = 30.0,
) -> FunctionPool:
    spec = FunctionSpec(
        "Sleepy",
        module,
        "local-Sleepy",
        timeout_seconds=timeout,
        memory_limit_in_mb=128,
        max_workers=max_workers,
    )
    return FunctionPool(
        spec,
        environment=lambda: {**os.environ, "MARK": "from the stack"},
        faults=FaultInjector(()),
        hung_grace_seconds=grace,
    )


def test_a_pool_runs_concurrent_invocations_in_concurrent_warm_workers(tmp_path: Path) -> None:
    pool = _pool(timeout=90.0)
    try:
        first = pool.invoke({}, LambdaContext("local-Sleepy"))
        assert first["mark"] == "from the stack"  # the function's environment
        assert first["pid"] != os.getpid()
        assert (
            0 < first["remaining_ms"] <= 90_000
        )  # the clock started in the worker, with the function's timeout
        results: list[Any] = []
        event = {"barrier": str(tmp_path), "parties": 3}  # each returns once all three run at the same time
        threads = [
            threading.Thread(target=lambda: results.append(pool.invoke(event, LambdaContext("x"))))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert len({r["pid"] for r in results}) == 3  # three workers at once: up to max_workers
        assert first["pid"] in {r["pid"] for r in results}  # the warm one is reused
        assert pool.invoke({}, LambdaContext("x"))["pid"] in {r["pid"] for r in results}
        assert pool.health()["workers"] == 3
    finally:
        pids = pool.pids()
        pool.stop()
    assert _wait_gone(pids, timeout=5) == []


def test_an_overrun_fails_where_asked_and_a_hung_worker_is_replaced() -> None:
    pool = _pool(max_workers=1, grace=1.5)
    try:
        warm = pool.invoke({}, LambdaContext("x"))["pid"]
        with pytest.raises(FunctionTimeout):  # returned after its 1 s timeout: API Gateway's 502
            pool.invoke({"sleep": 1.3}, LambdaContext("x"), overrun_fails=True)
        assert pool.invoke({"sleep": 1.3}, LambdaContext("x"))["remaining_ms"] == 0  # the stream's view
        assert pool.invoke({}, LambdaContext("x"))["pid"] == warm
        with pytest.raises(FunctionTimeout):  # no answer within timeout + grace: hung
            pool.invoke({"sleep": 10}, LambdaContext("x"))
        assert _wait_gone([warm], timeout=5) == []
        assert pool.invoke({}, LambdaContext("x"))["pid"] != warm  # a new worker
        assert pool.health()["timeouts"] == 3
    finally:
        pool.stop()


def test_handler_errors_name_their_type_only_and_keep_the_worker() -> None:
    pool = _pool(max_workers=1)
    try:
        warm = pool.invoke({}, LambdaContext("x"))["pid"]
        with pytest.raises(FunctionError) as raised:
            pool.invoke({"raise": True}, LambdaContext("x"))
        assert type(raised.value).__name__ == "ValueError"
        assert "visitor" not in str(raised.value)
        assert "lambda_handler" in raised.value.frames
        with pytest.raises(FunctionError) as marshal:
            pool.invoke({"not_json": True}, LambdaContext("x"))
        assert type(marshal.value).__name__ == "MarshalError"  # Lambda cannot return a set either
        assert pool.invoke({}, LambdaContext("x"))["pid"] == warm
    finally:
        pool.stop()


def test_an_init_error_is_reported_and_the_next_invocation_tries_again() -> None:
    pool = _pool("tests.local.broken_function")
    try:
        for _ in range(2):
            with pytest.raises(HandlerUnavailable, match="configuration missing"):
                pool.invoke({}, LambdaContext("x"))
        assert pool.health()["init_errors"] == 2
        assert pool.pids() == []
        with pytest.raises(HandlerUnavailable, match="does not exist yet"):
            _pool("tests.local.no_such_function").load()
    finally:
        pool.stop()

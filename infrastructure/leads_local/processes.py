"""The local stack's child processes (the AWS emulation, the functions' workers): started with a control
connection, stopped with the stack, never left behind.

Parent side, ``ChildProcess``: runs ``python -m <module> <args>`` from the repository root with one end of a
socket pair as its control connection (JSON messages, one per ``send``), and keeps it in a registry that an
``atexit`` hook empties, so an interpreter that exits without stopping its stack kills its children anyway.

Child side, ``connect_to_parent()``: takes the control connection and makes sure the child never outlives
the parent, whatever happens to the parent: a watchdog thread ends the child as soon as its parent process
is gone (also after ``kill -9`` of the parent, which runs no clean-up of its own), and SIGINT is ignored,
because Ctrl-C in a terminal reaches the whole process group and the stack stops its children itself, in
order.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess  # nosec B404: starts this interpreter on our own modules only
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from leads_local.template import REPO_ROOT

CONTROL_FD = "LEADS_LOCAL_CONTROL_FD"
PARENT_PID = "LEADS_LOCAL_PARENT_PID"
WATCHDOG_SECONDS = 0.2

_live: set[ChildProcess] = set()
_live_lock = threading.Lock()


class ChildExited(RuntimeError):
    """The child closed its control connection or died (its exit status is in the message)."""


class ChildProcess:
    """One child process and its control connection (parent side)."""

    def __init__(self, module: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        parent_end, child_end = Pipe(duplex=True)
        child_env = {**env, CONTROL_FD: str(child_end.fileno()), PARENT_PID: str(os.getpid())}
        self.module = module
        try:
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603: this interpreter, one of our own modules, no shell
                [sys.executable, "-m", module, *args],
                cwd=REPO_ROOT,
                env=child_env,
                stdin=subprocess.DEVNULL,
                pass_fds=(child_end.fileno(),),
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        self.connection = parent_end
        self._send_lock = threading.Lock()
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, message: Mapping[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        try:
            with self._send_lock:
                self.connection.send_bytes(data)
        except OSError as exc:
            raise ChildExited(self._exit_text()) from exc

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message; ``None`` when none came within ``timeout`` s; ``ChildExited`` when it is gone."""
        try:
            if not self.connection.poll(timeout):
                return None
            data = self.connection.recv_bytes()
        except (EOFError, OSError) as exc:
            raise ChildExited(self._exit_text()) from exc
        message = json.loads(data)
        return message if isinstance(message, dict) else {}

    def _exit_text(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(0.5)
        code = self.process.returncode
        return f"{self.module} ended" + ("" if code is None else f" (exit status {code})")

    def stop(self, grace_seconds: float = 3.0) -> None:
        """Close the control connection (the child then exits by itself), kill it after ``grace_seconds``."""
        with contextlib.suppress(OSError):
            self.connection.close()
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            self.kill()
        self._forget()

    def kill(self) -> None:
        """End the child now (SIGKILL) and reap it."""
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        with contextlib.suppress(OSError):
            self.connection.close()
        self._forget()

    def _forget(self) -> None:
        with _live_lock:
            _live.discard(self)


def live_children() -> list[int]:
    """Pids of the children this process started and has not stopped yet."""
    with _live_lock:
        return sorted(child.pid for child in _live if child.alive)


@atexit.register
def _kill_left_behind() -> None:
    with _live_lock:
        left = list(_live)
    for child in left:
        child.kill()


# -- child side ---------------------------------------------------------------------------------------------
def _watch_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)  # the parent is gone: nobody can use this process any more
        time.sleep(WATCHDOG_SECONDS)


def connect_to_parent() -> Connection:
    """In a child started by ``ChildProcess``: its control connection, with the parent-death watchdog on."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int(os.environ.pop(CONTROL_FD))
    parent_pid = int(os.environ.pop(PARENT_PID))
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()
    return Connection(fd)


def send(connection: Connection, message: Mapping[str, Any]) -> None:
    connection.send_bytes(json.dumps(message, separators=(",", ":")).encode())


def receive(connection: Connection) -> dict[str, Any] | None:
    """The parent's next message; ``None`` once the parent closed the connection (time to exit)."""
    try:
        data = connection.recv_bytes()
    except (EOFError, OSError):
        return None
    message = json.loads(data)
    return message if isinstance(message, dict) else {}

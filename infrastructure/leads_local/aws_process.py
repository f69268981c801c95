"""The AWS emulation in its own process: moto's server on ``AWS_PORT`` (contract section 4).

``python -m leads_local.aws_process PORT`` is started by ``AwsEmulator`` (the local stack), never by hand. It
installs ``leads_local.moto_patches``, serves moto's WSGI application with werkzeug's threaded server on
``127.0.0.1:PORT`` (0: any free port), tells the parent the port it bound (or why it could not) over its
control connection, and serves until the parent closes that connection or is gone
(``leads_local.processes``). Everything it holds is in its memory: it is gone when the stack stops.

DynamoDB and DynamoDB Streams requests are served one at a time: the functions' workers call concurrently,
moto's DynamoDB is not thread-safe, and a conditional write must see every write before it, as DynamoDB
guarantees (two workers storing the same submission at once must store it once). The other services' requests
run side by side.

Two internal routes, for the stack's own readers only, beside moto's routes:

* ``GET /_local/published?topic=ARN&message=ID``: the whole document the topic accepted for that message
  (what ``leads_local.inbox`` reads the ``email`` and ``sms`` parts from); 404 when the topic has none.
* ``POST /_local/forget-iterator`` (body: a shard iterator): moto keeps every shard iterator forever; the
  stream poller drops each one it has used.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from leads_local import processes
from leads_local.template import LOCAL_ACCOUNT_ID, LOCAL_REGION

HOST = "127.0.0.1"
LOCAL_ROUTES = "/_local/"
SERIALISED_TARGETS = ("DynamoDB_", "DynamoDBStreams_")  # X-Amz-Target prefixes of DynamoDB's JSON APIs
START_TIMEOUT_SECONDS = 90.0

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EmulatorError(RuntimeError):
    """The AWS emulation could not start; the message says why."""


# -- inside the emulation's process -------------------------------------------------------------------------
def published_message(topic_arn: str, message_id: str) -> str | None:
    """The document moto's topic accepted for ``message_id`` (this process's moto backend)."""
    from leads_local.inbox import moto_published_message  # noqa: PLC0415

    return moto_published_message(topic_arn, message_id)


def forget_iterator(iterator: str) -> None:
    """Drop a used shard iterator from moto's DynamoDB Streams backend (this process's)."""
    try:
        from moto.dynamodbstreams.models import dynamodbstreams_backends  # noqa: PLC0415

        backend = dynamodbstreams_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION]
        backend.shard_iterators.pop(iterator, None)
    except (ImportError, KeyError, AttributeError):
        return


def _local_route(environ: Mapping[str, Any]) -> tuple[str, bytes]:
    path = str(environ.get("PATH_INFO", ""))
    method = str(environ.get("REQUEST_METHOD", "GET"))
    if path == "/_local/published" and method == "GET":
        query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
        document = published_message(query.get("topic", [""])[0], query.get("message", [""])[0])
        return ("200 OK", document.encode()) if document is not None else ("404 Not Found", b"")
    if path == "/_local/forget-iterator" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        forget_iterator(environ["wsgi.input"].read(length).decode() if length else "")
        return "204 No Content", b""
    return "404 Not Found", b""


def with_local_routes(app: WsgiApp) -> WsgiApp:
    """moto's application with the ``/_local/`` routes in front of it, DynamoDB requests one at a time."""
    dynamodb = threading.Lock()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(SERIALISED_TARGETS):
            with dynamodb:
                return list(app(environ, start_response))
        if not str(environ.get("PATH_INFO", "")).startswith(LOCAL_ROUTES):
            return app(environ, start_response)
        status, body = _local_route(environ)
        start_response(
            status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return application


def serve(port: int) -> int:
    """The emulation's main: bind, report the port, serve until the parent goes; returns the exit status."""
    connection = processes.connect_to_parent()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server  # noqa: PLC0415

        from leads_local import moto_patches  # noqa: PLC0415

        moto_patches.install()
        app = with_local_routes(DomainDispatcherApplication(create_backend_app))
        server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    except Exception as exc:
        processes.send(connection, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    processes.send(connection, {"port": int(server.server_address[1])})

    def wait_for_parent() -> None:
        while processes.receive(connection) is not None:
            pass  # the parent sends nothing more: the connection closing is the signal to stop
        server.shutdown()

    threading.Thread(target=wait_for_parent, name="control", daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    return 0


# -- in the stack's process ---------------------------------------------------------------------------------
class AwsEmulator:
    """Starts and stops the emulation's process; reads its internal routes."""

    def __init__(self, port: int, env: Mapping[str, str]) -> None:
        self.requested_port = port
        self.port = port
        self._env = dict(env)
        self._child: processes.ChildProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        self._child = processes.ChildProcess("leads_local.aws_process", [str(self.requested_port)], self._env)
        try:
            message = self._child.receive(timeout)
        except processes.ChildExited as exc:
            raise EmulatorError(str(exc)) from None
        if message is None:
            raise EmulatorError(f"no answer within {timeout:g} s")
        if "error" in message:
            raise EmulatorError(str(message["error"]))
        self.port = int(message["port"])

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()  # memory only: nothing to save, and an interpreter's own shutdown takes a while

    def published_message(self, topic_arn: str, message_id: str) -> str | None:
        """What the topic accepted for ``message_id`` (``leads_local.inbox.PublishedLookup``)."""
        query = urllib.parse.urlencode({"topic": topic_arn, "message": message_id})
        try:
            url = f"{self.endpoint}/_local/published?{query}"  # our emulation process, http on 127.0.0.1
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # nosec B310: fixed http URL of our emulation
                return str(response.read().decode())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def forget_iterator(self, iterator: str) -> None:
        """Let the emulation drop a shard iterator the poller has used (memory only: a failure is ignored)."""
        request = urllib.request.Request(  # noqa: S310 - our own local server
            f"{self.endpoint}/_local/forget-iterator", data=iterator.encode(), method="POST"
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310: fixed http URL of our emulation
            response.read()


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))

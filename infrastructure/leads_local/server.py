"""The local HTTP server: the demo pages from ``web/``, ``/consultations`` and the rest of the template's
REST API (``/staff/...``) through the API Gateway emulation, the console's Cognito endpoint
(``/_local/cognito/``) and the ``/_local/*`` pages. Standard library only (``http.server``).
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from leads_local.apigw import HttpRequest, HttpResponse, gateway_error
from leads_local.cognito import COGNITO_PROXY_PATH
from leads_local.inbox import render_inbox

if TYPE_CHECKING:
    from leads_local.stack import LocalStack

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit; the function enforces its own, smaller one
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
PAGES = {"/": "index.html", "/index.html": "index.html", "/thank-you": "thank-you.html"}


def web_file(relative: str, web_dir: Path = WEB_DIR) -> Path | None:
    """The file under ``web_dir`` named by ``relative`` (``a.css``, ``img/logo.svg``), or ``None``.

    Every segment must be a plain name (no ``..``, no hidden files, no backslashes or encoded separators), and
    the resolved path must stay inside ``web_dir`` (a symlink out of it is refused too).
    """
    segments = relative.split("/")
    if not relative or not all(_SAFE_SEGMENT.match(s) for s in segments):
        return None
    root = web_dir.resolve()
    candidate = root.joinpath(*segments).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _json(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, indent=2).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def _text(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> HttpResponse:
    return HttpResponse(status, [("Content-Type", content_type)], text.encode())


def _web_response(name: str) -> HttpResponse:
    """The file ``web/<name>`` with its content type, or a 404 naming the missing file."""
    file = web_file(name)
    if file is None:
        return _text(404, f"Not found: web/{name} does not exist.\n")
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    return HttpResponse(200, [("Content-Type", content_type)], file.read_bytes())


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stack: LocalStack) -> None:
        self.stack = stack
        super().__init__(address, LocalRequestHandler)


class LocalRequestHandler(BaseHTTPRequestHandler):
    server: LocalHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def version_string(self) -> str:
        return "leads-local"

    def log_message(self, format: str, *args: Any) -> None:
        """No request log: the console carries ids and alert lines only."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -------------------------------------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The request body; ``None`` when it is larger than API Gateway accepts."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(_json(400, {"message": "Bad request"}))
            return
        if body is None:
            self._send(gateway_error(413, "Request Too Long", "-"))
        elif url.path == "/consultations":
            self._send(self._consultations(url.query, body))
        elif url.path == COGNITO_PROXY_PATH:
            self._send(self._cognito(body))
        elif self.server.stack.serves_api(url.path):
            self._send(self.server.stack.invoke_api(self._request(url.path, url.query, body)))
        elif self.command in {"GET", "HEAD"}:
            self._send(self._page(url.path))
        else:
            self._send(_json(404, {"message": "Not Found"}))

    def _consultations(self, query: str, body: bytes) -> HttpResponse:
        """``/consultations`` through the API Gateway emulation and the submit function."""
        if self.command not in {"POST", "OPTIONS"}:
            # What API Gateway answers for a method the API does not define.
            return gateway_error(403, "Missing Authentication Token", "-")
        return self.server.stack.invoke_submit(self._request("/consultations", query, body))

    def _request(self, path: str, query: str, body: bytes) -> HttpRequest:
        return HttpRequest(
            method=self.command,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=self.server.server_address[1],
        )

    def _cognito(self, body: bytes) -> HttpResponse:
        """The console's Cognito calls, passed on to the emulation (POST only, as Cognito takes them)."""
        if self.command != "POST":
            return _json(405, {"message": "Method Not Allowed"})
        return self.server.stack.cognito_call(list(self.headers.items()), body)

    def _page(self, path: str) -> HttpResponse:
        """A GET: a demo page or static file from ``web/``, or one of the ``/_local/*`` pages."""
        stack = self.server.stack
        if path in PAGES or path.startswith("/static/"):
            return _web_response(PAGES.get(path) or path.removeprefix("/static/"))
        if path == "/_local/alerts":
            return _json(200, {"alerts": [a.public() for a in stack.alerts()]})
        if path == "/_local/inbox":
            inbox = render_inbox(stack.alerts(), sender=stack.topic_display_name)
            return _text(200, inbox, "text/html; charset=utf-8")
        if path == "/_local/health":
            return _json(200, stack.health())
        return _json(404, {"message": "Not Found"})

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        names = set()
        for name, value in response.headers:
            if name.lower() in {"content-length", "transfer-encoding", "connection"}:
                continue
            names.add(name.lower())
            self.send_header(name, value)
        if "cache-control" not in names:
            self.send_header("Cache-Control", "no-store")
        if "x-content-type-options" not in names:
            self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

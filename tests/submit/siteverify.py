"""A local stand-in for the captcha providers' siteverify endpoint, over real HTTP on 127.0.0.1.

It behaves like Turnstile / hCaptcha: tokens it issued verify once (``success: true``), a second use gets
the provider's duplicate code, a made-up token ``invalid-input-response``, a wrong secret
``invalid-input-secret``; Turnstile's ``idempotency_key`` returns the first answer again. ``forced`` makes it
answer any error code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

DUPLICATE_CODES = {
    "turnstile": "timeout-or-duplicate",
    "recaptcha": "timeout-or-duplicate",
    "hcaptcha": "invalid-or-already-seen-response",
}


@dataclass
class Siteverify:
    """The provider's side: tokens it issued, each verifiable once; ``forced`` answers every request."""

    secret: str
    provider: str = "turnstile"
    issued: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    by_idempotency_key: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    forced: dict[str, Any] | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, token: str) -> str:
        self.issued.add(token)
        return token

    def answer(self, form: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.requests.append(form)
            if self.forced is not None:
                return self.forced
            if form.get("secret") != self.secret:
                return {"success": False, "error-codes": ["invalid-input-secret"]}
            token = form.get("response", "")
            if not token:
                return {"success": False, "error-codes": ["missing-input-response"]}
            key = form.get("idempotency_key") if self.provider == "turnstile" else None
            if key and (key, token) in self.by_idempotency_key:
                return self.by_idempotency_key[(key, token)]
            if token in self.used:
                result: dict[str, Any] = {"success": False, "error-codes": [DUPLICATE_CODES[self.provider]]}
            elif token in self.issued:
                self.used.add(token)
                result = {"success": True, "hostname": "www.example-clinic.com"}
            else:
                result = {"success": False, "error-codes": ["invalid-input-response"]}
            if key:
                self.by_idempotency_key[(key, token)] = result
            return result


class SiteverifyServer:
    """Serves whichever ``Siteverify`` is ``current`` (tests swap in a fresh one)."""

    def __init__(self, current: Siteverify) -> None:
        self.current = current
        self.url = ""


@contextmanager
def serve(initial: Siteverify) -> Iterator[SiteverifyServer]:
    holder = SiteverifyServer(initial)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            body = json.dumps(holder.current.answer(form)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    holder.url = f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    try:
        yield holder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

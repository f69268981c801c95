"""The staff function's settings (environment) and the console's files.

``CONSOLE_URL`` may be empty on AWS (the API cannot be named in its own function's environment); the
function then answers with addresses relative to the request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from leads_core.errors import ConfigurationError

# Idle minutes may be fractional (a short idle time for tests); at most the 12 hours of a refresh token.
MIN_IDLE_MINUTES = 0.05
MAX_IDLE_MINUTES = 720

CONSOLE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


@dataclass(frozen=True)
class StaffSettings:
    table_name: str
    region: str
    user_pool_id: str
    client_id: str
    console_url: str
    auth_endpoint: str
    idle_minutes: float

    @property
    def auth_origin(self) -> str:
        parts = urlsplit(self.auth_endpoint)
        return f"{parts.scheme}://{parts.netloc}"


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is required")
    return value


@lru_cache(maxsize=1)
def staff_settings() -> StaffSettings:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = (
        os.environ.get("COGNITO_ENDPOINT", "").strip() or f"https://cognito-idp.{region}.amazonaws.com/"
    )
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError("COGNITO_ENDPOINT must be an absolute http(s) URL")
    console_url = os.environ.get("CONSOLE_URL", "").strip()
    if console_url and not console_url.endswith("/staff/") and not console_url.endswith("/"):
        raise ConfigurationError("CONSOLE_URL must end with /")
    try:
        idle = float(os.environ.get("STAFF_IDLE_MINUTES", "30"))
    except ValueError:
        raise ConfigurationError("STAFF_IDLE_MINUTES must be a number of minutes") from None
    if not MIN_IDLE_MINUTES <= idle <= MAX_IDLE_MINUTES:  # NaN fails too
        raise ConfigurationError(f"STAFF_IDLE_MINUTES must be from {MIN_IDLE_MINUTES} to {MAX_IDLE_MINUTES}")
    return StaffSettings(
        table_name=_required("TABLE_NAME"),
        region=region,
        user_pool_id=os.environ.get("USER_POOL_ID", "").strip(),
        client_id=os.environ.get("USER_POOL_CLIENT_ID", "").strip(),
        console_url=console_url,
        auth_endpoint=endpoint,
        idle_minutes=idle,
    )


def console_dir() -> Path:
    """``web/staff`` beside the packaged handler (Lambda) or at the repository root (tests, local stack)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "web" / "staff", here.parents[1] / "web" / "staff"):
        if (candidate / "index.html").is_file():
            return candidate
    raise ConfigurationError("the console's files (web/staff) are missing from the package")


@lru_cache(maxsize=len(CONSOLE_FILES))
def console_file(name: str) -> str:
    if name not in CONSOLE_FILES:
        raise KeyError(name)
    return (console_dir() / name).read_text(encoding="utf-8")

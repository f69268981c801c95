"""No visitor value in any log line of the staff function, and the console's files with their headers."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from leads_core.observability import logger

from tests.cli.conftest import Submitter
from tests.conftest import load_event
from tests.staff.conftest import ADMIN_USER, StaffCaller, invoke_raw

MARKED: dict[str, Any] = {
    "first_name": "Zyxmarkfirst",
    "last_name": "Zyxmarklast",
    "email": "zyxmarkemail@zyxmarkdomain.com",
    "phone": "(630) 555-0163",
    "message": "zyxmarkmessage: I would like to talk to someone.",
    "heard_about": "zyxmarkheard",
    "utm_source": "zyxmarkutmsource",
    "referrer": "https://zyxmarkreferrer.example/",
}
MARKERS = ("zyxmark", "555-0163", "5550163")


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def recorded_logs(caplog: pytest.LogCaptureFixture) -> Iterator[RecordingHandler]:
    handler = RecordingHandler()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield handler
    logger.setLevel(previous)
    logging.getLogger(logger.name).removeHandler(handler)


def test_no_visitor_value_in_any_log_line_of_the_staff_function(
    staff: StaffCaller,
    submit: Submitter,
    recorded_logs: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lead_id = submit(**MARKED)
    other = submit(**{**MARKED, "first_name": "Zyxmarkother"}, submission_id="privacy-other-01")
    capsys.readouterr()
    recorded_logs.lines.clear()
    caplog.clear()

    outcomes = {
        "list": staff("list", query={}).status,
        "list filtered": staff("list", query={"status": "new", "location": "naperville"}).status,
        "show": staff("show", lead_id=lead_id).status,
        "status": staff("status", lead_id=lead_id, body={"status": "contacted", "note": "zyxmark"}).status,
        "bad status": staff("status", lead_id=lead_id, body={"status": "zyxmarkstatus"}).status,
        "bad body": staff("status", lead_id=lead_id, body="{zyxmark").status,
        "assign": staff("assign", lead_id=lead_id).status,
        "staff export": staff("export", query={}).status,
        "export": staff("export", user=ADMIN_USER, groups="admin", query={}).status,
        "erase": staff("erase", lead_id=other, user=ADMIN_USER, groups="admin").status,
        "bad cursor": staff("list", query={"cursor": "zyxmark"}).status,
        "no claims": staff("show", lead_id=lead_id, claims=False).status,
    }

    assert outcomes == {
        "list": 200,
        "list filtered": 200,
        "show": 200,
        "status": 200,
        "bad status": 422,
        "bad body": 400,
        "assign": 200,
        "staff export": 403,
        "export": 200,
        "erase": 204,
        "bad cursor": 400,
        "no claims": 401,
    }
    # The marked values were there to leak: the show and export answers carry them.
    assert "zyxmarkfirst" in staff("show", lead_id=lead_id).body.lower()
    captured = capsys.readouterr()
    everything = {
        "powertools logger": "\n".join(recorded_logs.lines),
        "standard logging": caplog.text,
        "stdout": captured.out,
        "stderr": captured.err,
    }
    assert any('"lead_id"' in line for line in recorded_logs.lines)
    for where, text in everything.items():
        assert [m for m in MARKERS if m in text.lower()] == [], where


# --- console files ------------------------------------------------------------------------------------------


def static_event(path: str) -> dict[str, Any]:
    event = load_event("staff_console_page")
    event["path"] = path
    event["resource"] = path.rstrip("/") or "/"
    event["requestContext"]["path"] = "/v1" + path
    return event


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/staff/", "text/html", "<html"),
        ("/staff/console.js", "text/javascript", "config.json"),
        ("/staff/console.css", "text/css", "{"),
    ],
)
def test_console_files_are_served_with_a_strict_policy(
    staff_env: Any, path: str, content_type: str, marker: str
) -> None:
    reply = invoke_raw(static_event(path))

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith(content_type)
    assert marker in reply.body
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com;" in policy
    assert "frame-ancestors 'none'" in policy
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_without_its_trailing_slash_redirects_to_it(staff_env: Any) -> None:
    reply = invoke_raw(static_event("/staff"))

    assert reply.status == 301
    assert reply.headers["Location"] == "staff/"


def test_config_names_the_pool_client_and_auth_endpoint_and_is_never_cached(staff_env: Any) -> None:
    reply = invoke_raw(load_event("staff_config"))

    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    assert json.loads(reply.body) == {
        "region": "us-east-1",
        "userPoolId": "us-east-1_Example12",
        "clientId": "3n4b5c6d7e8f9g0h1i2j3k4l5m",
        "authEndpoint": "https://cognito-idp.us-east-1.amazonaws.com/",
        "idleMinutes": 30,
        "apiBase": "",
        "locations": ["naperville", "oak-brook"],
    }


def test_config_lists_the_locations_the_list_filter_accepts(
    staff: StaffCaller, staff_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console offers the clinic's locations (LOCATIONS) in its filter; each one is a filter the list
    route accepts, and a location outside them is refused."""
    monkeypatch.setenv("LOCATIONS", "naperville, oak-brook ,wheaton")

    locations = json.loads(invoke_raw(load_event("staff_config")).body)["locations"]

    assert locations == ["naperville", "oak-brook", "wheaton"]
    for location in locations:
        assert staff("list", query={"location": location}).status == 200
    assert staff("list", query={"location": "aurora"}).status == 400


def test_a_bad_idle_setting_stops_the_function_naming_it(
    staff_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leads_core.errors import ConfigurationError
    from staff_api import config

    for bad in ("soon", "0", "721", "nan"):
        monkeypatch.setenv("STAFF_IDLE_MINUTES", bad)
        config.staff_settings.cache_clear()
        with pytest.raises(ConfigurationError, match="STAFF_IDLE_MINUTES"):
            config.staff_settings()


def test_a_short_idle_time_may_be_a_fraction_of_a_minute(
    staff_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from staff_api import config

    monkeypatch.setenv("STAFF_IDLE_MINUTES", "0.2")
    config.staff_settings.cache_clear()

    reply = invoke_raw(load_event("staff_config"))

    assert json.loads(reply.body)["idleMinutes"] == 0.2

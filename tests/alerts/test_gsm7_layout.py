"""``leads_core.gsm7`` holds the text rules and depends on nothing of the project; ``leads_core.alerts``
renders with them and still offers the names its importers have always used (the same objects)."""

from __future__ import annotations

import ast
import inspect

from leads_core import alerts, gsm7

TEXT_RULES = (
    "DEFAULT_TOPIC_DISPLAY_NAME",
    "GSM7_BASIC",
    "GSM7_BASIC_TABLE",
    "MESSAGE_MAX_CHARS",
    "PRINTABLE_ASCII",
    "SMS_MAX_CHARS",
    "SMS_SAFE",
    "clean_block",
    "clean_line",
    "is_single_gsm7_segment",
    "sms_as_delivered",
    "sms_budget",
    "sms_prefix",
    "to_ascii_line",
    "to_sms_text",
)


def test_gsm7_imports_nothing_of_the_project() -> None:
    tree = ast.parse(inspect.getsource(gsm7))
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"__future__", "re", "unicodedata"}


def test_alerts_offers_the_text_rules_of_gsm7() -> None:
    for name in TEXT_RULES:
        assert getattr(alerts, name) is getattr(gsm7, name), name
        assert name in alerts.__all__, name
    assert all(hasattr(alerts, name) for name in alerts.__all__)


def test_rendering_lives_in_alerts_only() -> None:
    rendering = ("render_alert", "render_sms", "render_email", "render_subject", "is_valid_subject", "Alert")
    assert not any(hasattr(gsm7, name) for name in rendering)

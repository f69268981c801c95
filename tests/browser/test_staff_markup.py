"""Static checks of the staff console (web/staff/): nothing breaks its strict CSP, visitor text never becomes
markup, tokens stay out of browser storage, every control has a label.

No browser needed; these run in every `make test`. tests/browser/test_staff_console.py drives the console
itself in Chromium against the local stack.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

STAFF = Path(__file__).resolve().parents[2] / "web" / "staff"
INDEX = STAFF / "index.html"
SCRIPT = STAFF / "console.js"
STYLE = STAFF / "console.css"
STAFF_STATUSES = ("new", "contacted", "scheduled", "not_a_fit", "closed")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def page() -> _Page:
    parser = _Page()
    parser.feed(INDEX.read_text(encoding="utf-8"))
    return parser


def code_without_comments(source: str) -> str:
    """console.js without its comments (block and line), so the checks look at code only."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?m)^\s*//.*$|\s//\s.*$", "", source)


def test_no_inline_script_style_or_event_handler() -> None:
    parsed = page()
    assert not parsed.script_text, "inline script would be refused by script-src 'self'"
    scripts = [attrs for tag, attrs in parsed.elements if tag == "script"]
    assert scripts == [{"type": "module", "src": "console.js"}]
    assert not [tag for tag, _ in parsed.elements if tag == "style"]
    for tag, attrs in parsed.elements:
        assert "style" not in attrs, f"<{tag}> has an inline style attribute"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> has inline handlers {handlers}"
    links = [attrs for tag, attrs in parsed.elements if tag == "link"]
    stylesheets = [attrs["href"] for attrs in links if attrs["rel"] == "stylesheet"]
    assert stylesheets == ["console.css"]


def test_script_never_builds_markup_from_strings_nor_evaluates_code() -> None:
    code = code_without_comments(SCRIPT.read_text(encoding="utf-8"))
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment")
    for sink in sinks:
        assert sink not in code, f"console.js uses {sink}"
    for evaluator in (r"\beval\(", r"new Function\(", r"setTimeout\(\s*[\"'`]", r"setInterval\(\s*[\"'`]"):
        assert not re.search(evaluator, code), f"console.js evaluates code ({evaluator})"
    assert "textContent" in code


def test_tokens_are_kept_in_memory_only() -> None:
    code = code_without_comments(SCRIPT.read_text(encoding="utf-8"))
    for storage in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches."):
        assert storage not in code, f"console.js touches {storage}"


def test_nothing_is_loaded_from_another_site() -> None:
    for path in (INDEX, SCRIPT, STYLE):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, flags=re.IGNORECASE), (
            f"{path.name} refers to another site"
        )
    css = STYLE.read_text(encoding="utf-8")
    assert "@import" not in css
    assert "url(" not in css


def test_every_control_has_a_label() -> None:
    parsed = page()
    label_targets = {attrs["for"] for tag, attrs in parsed.elements if tag == "label"}
    controls = [
        attrs
        for tag, attrs in parsed.elements
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "submit", "button"}
    ]
    assert len(controls) >= 12
    for attrs in controls:
        name = attrs.get("id") or attrs.get("name")
        assert attrs.get("id") in label_targets, f"control {name} has no <label for>"


def test_every_id_the_script_looks_up_exists_once() -> None:
    html = INDEX.read_text(encoding="utf-8")
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids in index.html"
    code = SCRIPT.read_text(encoding="utf-8")
    looked_up = set(re.findall(r"byId\(\"([a-z0-9-]+)\"\)", code))
    prefixes = "view|lead|sign|new|mfa|find|status|user|inbox|erase|known"
    listed = set(re.findall(rf"\"((?:{prefixes})-[a-z0-9-]+)\"", code))
    class_names = set(re.findall(r"\.([a-z][a-z0-9-]*)", STYLE.read_text(encoding="utf-8")))
    missing = sorted((looked_up | (listed - class_names)) - set(ids))
    assert not missing, f"console.js refers to ids that index.html lacks: {missing}"


def test_status_choices_are_the_contract_statuses() -> None:
    parsed = page()
    html = INDEX.read_text(encoding="utf-8")
    for select_id in ("filter-status", "status-select"):
        start = html.index(f'id="{select_id}"')
        block = html[start : html.index("</select>", start)]
        values = tuple(value for value in re.findall(r'<option value="([^"]*)"', block) if value)
        assert values == STAFF_STATUSES, select_id
    assert parsed.elements


def test_dialog_and_live_region_are_marked_up_for_assistive_technology() -> None:
    parsed = page()
    by_id = {attrs.get("id"): (tag, attrs) for tag, attrs in parsed.elements if attrs.get("id")}
    notice_tag, notice = by_id["notice"]
    assert notice.get("role") == "status"
    assert notice.get("aria-live") == "polite"
    dialog_tag, dialog = by_id["erase-dialog"]
    assert dialog_tag == "dialog"
    assert dialog.get("aria-labelledby") == "erase-dialog-title"
    html_tag = next(attrs for tag, attrs in parsed.elements if tag == "html")
    assert html_tag.get("lang") == "en"
    assert notice_tag == "p"

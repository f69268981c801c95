"""Static checks of web/: the demo page carries the embeddable form verbatim, and nothing breaks a strict CSP.

No browser needed; these run in every `make test`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
START = "<!-- consultation-form:start -->"
END = "<!-- consultation-form:end -->"
PAGES = ("form.html", "index.html", "thank-you.html")

CONTRACT_FIELDS = {
    "first_name", "last_name", "email", "phone", "preferred_contact", "best_time", "service", "location",
    "referral_type", "provider_name", "provider_practice", "provider_email", "provider_phone", "message",
    "heard_about", "consent_privacy", "consent_sms", "in_crisis", "utm_source", "utm_medium", "utm_campaign",
    "utm_term", "utm_content", "gclid", "fbclid", "landing_page", "referrer", "website",
}  # fmt: skip


def form_block(name: str) -> str:
    text = (WEB / name).read_text(encoding="utf-8")
    assert text.count(START) == 1, f"{name}: one {START} marker expected"
    assert text.count(END) == 1, f"{name}: one {END} marker expected"
    return text[text.index(START) : text.index(END) + len(END)]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def test_demo_page_carries_the_embeddable_form_byte_for_byte() -> None:
    assert form_block("index.html") == form_block("form.html")


def test_form_posts_urlencoded_to_the_api_and_names_only_contract_fields() -> None:
    found = elements(form_block("form.html"))
    forms = [attrs for tag, attrs in found if tag == "form"]
    assert len(forms) == 1
    form = forms[0]
    assert form["method"] == "post"
    assert form["action"] == "/consultations"
    assert form["data-endpoint"] == "/consultations"
    assert form["enctype"] == "application/x-www-form-urlencoded"
    controls = [attrs for tag, attrs in found if tag in {"input", "select", "textarea"}]
    names = {attrs["name"] for attrs in controls if attrs.get("name")}
    assert names == CONTRACT_FIELDS
    assert "submission_id" not in names


def test_every_visible_control_has_a_label_for_it() -> None:
    found = elements(form_block("form.html"))
    label_targets = {attrs["for"] for tag, attrs in found if tag == "label"}
    controls = [
        attrs
        for tag, attrs in found
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "submit", "button"}
    ]
    assert controls
    for attrs in controls:
        assert attrs.get("id") in label_targets, f"control {attrs.get('name')} has no <label for>"


def test_personal_fields_have_autocomplete_and_input_types() -> None:
    by_name = {attrs["name"]: attrs for tag, attrs in elements(form_block("form.html")) if attrs.get("name")}
    assert by_name["first_name"]["autocomplete"] == "given-name"
    assert by_name["last_name"]["autocomplete"] == "family-name"
    assert (by_name["email"]["type"], by_name["email"]["autocomplete"]) == ("email", "email")
    assert (by_name["phone"]["type"], by_name["phone"]["autocomplete"], by_name["phone"]["inputmode"]) == (
        "tel",
        "tel",
        "tel",
    )
    assert by_name["message"]["maxlength"] == "2000"
    honeypot = by_name["website"]
    assert (honeypot["tabindex"], honeypot["autocomplete"]) == ("-1", "off")


@pytest.mark.parametrize("page_name", PAGES)
def test_pages_work_under_a_strict_csp(page_name: str) -> None:
    html = (WEB / page_name).read_text(encoding="utf-8")
    for tag, attrs in elements(html):
        inline_handlers = [name for name in attrs if name.startswith("on")]
        assert not inline_handlers, f"{page_name}: inline handler {inline_handlers} on <{tag}>"
        assert "style" not in attrs, f"{page_name}: inline style on <{tag}>"
        if tag == "script":
            src = attrs.get("src") or ""
            assert src.startswith("/static/"), f"{page_name}: inline or third-party script"
        if tag == "link":
            assert (attrs.get("href") or "").startswith("/static/"), f"{page_name}: third-party stylesheet"
    assert not re.search(r"javascript:", html, re.IGNORECASE)


def test_stylesheets_load_no_external_fonts_or_images() -> None:
    for sheet in ("form.css", "site.css"):
        css = (WEB / sheet).read_text(encoding="utf-8")
        assert "@import" not in css
        assert "@font-face" not in css
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css), f"{sheet} loads something remote"


def test_scripts_talk_only_to_the_configured_endpoint() -> None:
    script = (WEB / "form.js").read_text(encoding="utf-8")
    assert not re.search(r"https?://", script.split("*/", 1)[1]), "form.js must not hard-code any host"
    assert "innerHTML" not in script
    assert "innerHTML" not in (WEB / "thank-you.js").read_text(encoding="utf-8")


def test_crisis_line_comes_before_the_form_on_the_demo_page() -> None:
    html = (WEB / "index.html").read_text(encoding="utf-8")
    before_form = html[: html.index(START)]
    assert 'href="tel:988"' in before_form
    assert 'href="tel:911"' in before_form


def test_thank_you_page_shows_988_without_javascript() -> None:
    html = (WEB / "thank-you.html").read_text(encoding="utf-8")
    without_scripts = re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)
    assert 'href="tel:988"' in without_scripts
    assert "Thank you" in without_scripts

"""The form pasted into another site (another origin), pointed at the API as docs/embedding.md says."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LEAD_ID_PATTERN, EmbeddingSite, Site

pytestmark = pytest.mark.browser


def test_embedded_form_posts_json_across_origins(
    page: Page, site: Site, embedding_site: EmbeddingSite
) -> None:
    page.goto(embedding_site.origin + "/")
    expect(page.locator("form[data-cf-ready]")).to_have_count(1)
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Ellis")
    page.get_by_label("Email", exact=True).fill("morgan.ellis@example.com")

    # A 422 must be readable across origins too (CORS headers on errors), not just the 201.
    page.get_by_role("button", name="Request consultation").click()
    consent = page.get_by_label("I agree that the clinic may keep")
    expect(consent).to_be_focused()
    expect(page.locator("#cf-error-consent_privacy")).to_be_visible()

    consent.check()
    with page.expect_request(lambda r: r.method == "POST" and r.url == embedding_site.api_url) as sent:
        page.get_by_role("button", name="Request consultation").click()
    assert sent.value.all_headers()["origin"] == embedding_site.origin
    reference = page.locator("[data-cf-success] [data-cf-ref]")
    expect(reference).to_have_text(re.compile(LEAD_ID_PATTERN))
    lead = site.stored_lead(reference.inner_text())
    assert (lead["channel"], lead["email"]) == ("json", "morgan.ellis@example.com")
    assert lead["attribution"]["landing_page"] == embedding_site.origin + "/"


def test_embedded_form_without_javascript_lands_on_the_thank_you_url(
    nojs_page: Page, site: Site, embedding_site: EmbeddingSite
) -> None:
    page = nojs_page
    page.goto(embedding_site.origin + "/")
    page.get_by_label("First name").fill("Riley")
    page.get_by_label("Last name").fill("Chen")
    page.get_by_label("Phone", exact=True).fill("630-420-5678")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()

    page.wait_for_url(re.compile(r"/thank-you\?"))
    assert page.url.startswith(site.url("/thank-you?")), "THANK_YOU_URL of the stack"
    reference = parse_qs(urlsplit(page.url).query)["ref"][0]
    assert site.stored_lead(reference)["phone"] == "+16304205678"
    expect(page.get_by_role("link", name="988")).to_be_visible()

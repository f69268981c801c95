"""The consultation form in a real Chromium as visitors use it: by labels, by keyboard, without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LEAD_ID_PATTERN, Site

pytestmark = pytest.mark.browser

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def open_demo(page: Page, site: Site, query: str = "") -> None:
    page.goto(site.url("/" + query))
    expect(page.locator("form[data-cf-ready]")).to_have_count(1)


def fill_person(page: Page, *, first: str, last: str, email: str = "", phone: str = "") -> None:
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    if email:
        page.get_by_label("Email", exact=True).fill(email)
    if phone:
        page.get_by_label("Phone", exact=True).fill(phone)


def success_reference(page: Page) -> str:
    panel = page.locator("[data-cf-success]")
    expect(panel).to_be_visible()
    expect(panel).to_be_focused()
    reference = panel.locator("[data-cf-ref]").inner_text()
    assert re.match(LEAD_ID_PATTERN, reference), reference
    return reference


def test_visitor_fills_the_form_by_its_labels_and_gets_a_reference(page: Page, site: Site) -> None:
    open_demo(page, site, "?utm_source=newsletter&utm_campaign=fall-2026")
    fill_person(page, first="Dana", last="Rivera", email="Dana.Rivera@Example.COM", phone="(630) 555-0142")
    page.get_by_label("Text me", exact=True).check()
    page.get_by_label("Best time to reach you").select_option(label="Evening")
    page.get_by_label("What would you like help with?").select_option(label="Anxiety")
    page.get_by_label("Anything you'd like us to know?").fill("Two medications have not helped so far.")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_label("I agree to receive text messages").check()

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/consultations")) as sent:
        page.get_by_role("button", name="Request consultation").click()
    request = sent.value
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert IDEMPOTENCY_KEY.match(headers["idempotency-key"])
    body = request.post_data_json
    assert body is not None, "the form must post a JSON body"
    assert body["utm_source"] == "newsletter"
    assert body["utm_campaign"] == "fall-2026"
    assert body["landing_page"] == site.url("/")
    assert "utm_term" not in body, "empty attribution must not be sent"
    assert "website" not in body, "the empty honeypot must not be sent"
    assert not any(name.startswith("provider_") for name in body)

    reference = success_reference(page)
    expect(page.locator("[data-cf-urgent]")).to_be_hidden()
    expect(page.locator("form[data-consultation-form]")).to_be_hidden()
    lead = site.stored_lead(reference)
    assert (lead["first_name"], lead["last_name"]) == ("Dana", "Rivera")
    assert (lead["email"], lead["phone"]) == ("Dana.Rivera@example.com", "+16305550142")
    assert (lead["preferred_contact"], lead["best_time"], lead["service"]) == ("text", "evening", "anxiety")
    assert (lead["consent_privacy"], lead["consent_sms"], lead["urgent"]) == (True, True, False)
    assert lead["submission_id"] == headers["idempotency-key"]
    assert lead["attribution"] == {
        "utm_source": "newsletter",
        "utm_campaign": "fall-2026",
        "landing_page": site.url("/"),
    }

    # The thank-you page (where browsers without JavaScript land) spells the same reference out.
    page.goto(site.url(f"/thank-you?ref={reference}"))
    expect(page.get_by_text(f"Your reference is {reference}")).to_be_visible()
    expect(page.get_by_text("the code after ref=")).to_be_hidden()


def test_errors_are_shown_beside_their_fields_and_focus_moves_to_the_first(page: Page, site: Site) -> None:
    open_demo(page, site)
    fill_person(page, first="Sam", last="Okafor", email="sam-at-example.com")
    page.get_by_role("button", name="Request consultation").click()

    email = page.get_by_label("Email", exact=True)
    consent = page.get_by_label("I agree that the clinic may keep")
    expect(email).to_be_focused()
    for control, field in ((email, "email"), (consent, "consent_privacy")):
        expect(control).to_have_attribute("aria-invalid", "true")
        message = page.locator(f"[data-field='{field}'] .cf-error")
        expect(message).to_be_visible()
        described_by = (control.get_attribute("aria-describedby") or "").split()
        assert message.get_attribute("id") in described_by
    expect(page.locator("#cf-error-email")).to_have_text("Enter a valid email address.")
    # The original hint stays announced alongside the error.
    assert "cf-contact-hint" in (email.get_attribute("aria-describedby") or "").split()

    summary = page.get_by_role("status")
    expect(summary).to_contain_text("Please correct 2 answers")
    expect(summary.get_by_role("link")).to_have_count(2)

    email.fill("sam.okafor@example.com")
    consent.check()
    page.get_by_role("button", name="Request consultation").click()
    success_reference(page)
    expect(page.locator(".cf-error")).to_have_count(0)


def test_without_javascript_the_form_lands_on_the_thank_you_page(nojs_page: Page, site: Site) -> None:
    page = nojs_page
    page.goto(site.url("/"))
    # Without JavaScript the provider fields are simply there, in their own fieldset.
    expect(page.get_by_role("group", name="For referring providers")).to_be_visible()
    fill_person(page, first="Jordan", last="Lee", email="jordan.lee@example.com")
    page.get_by_label("What would you like help with?").select_option(label="PTSD")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()

    page.wait_for_url(re.compile(r"/thank-you\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert list(query) == ["ref"], "no submitted value may travel in the URL"
    reference = query["ref"][0]
    assert re.match(LEAD_ID_PATTERN, reference)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    expect(page.get_by_text("Your reference is the code after ref=")).to_be_visible()
    expect(page.get_by_role("link", name="988")).to_be_visible()
    lead = site.stored_lead(reference)
    assert (lead["channel"], lead["service"], lead["first_name"]) == ("form", "ptsd", "Jordan")
    assert "attribution" not in lead, "without JavaScript no attribution is sent, not even empty values"


def test_without_javascript_invalid_answers_get_the_error_page(nojs_page: Page, site: Site) -> None:
    page = nojs_page
    page.goto(site.url("/"))
    fill_person(page, first="Quinn", last="Harper", phone="630-420-9876")
    page.get_by_label("Text me", exact=True).check()  # without agreeing to texts: only the API can tell
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()

    expect(page.get_by_text("Please agree to receive text messages")).to_be_visible()
    assert urlsplit(page.url).query == "", "no submitted value may travel in the URL"
    back = page.get_by_role("link", name="Go back to the form")
    back.click()
    page.wait_for_url(site.url("/"))


def tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the control named ``name`` (form field name or button text) has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? (e.name || e.textContent || '').trim() : ''; }"
        )
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_keyboard_only_submission(page: Page, site: Site) -> None:
    open_demo(page, site)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the consultation form")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "first_name")
    page.keyboard.type("Alex")
    tab_to(page, "last_name")
    page.keyboard.type("Morgan")
    tab_to(page, "phone")
    page.keyboard.type("630-420-1234")
    tab_to(page, "preferred_contact")  # the group's first radio, "Call me"
    page.keyboard.press("Space")
    tab_to(page, "consent_privacy")
    page.keyboard.press("Space")
    tab_to(page, "Request consultation")
    page.keyboard.press("Enter")

    reference = success_reference(page)
    lead = site.stored_lead(reference)
    assert (lead["first_name"], lead["phone"], lead["preferred_contact"]) == ("Alex", "+16304201234", "phone")


def test_provider_switch_shows_the_provider_fields(page: Page, site: Site) -> None:
    open_demo(page, site)
    provider_name = page.get_by_label("Provider name")
    expect(provider_name).to_be_hidden()
    expect(page.get_by_role("group", name="About you", exact=True)).to_be_visible()

    page.get_by_label("I am a provider referring a patient").check()
    expect(provider_name).to_be_visible()
    expect(page.get_by_label("Provider email")).to_be_visible()
    expect(page.get_by_role("group", name="About the patient")).to_be_visible()

    provider_name.fill("Dr. Priya Shah")
    page.get_by_label("Practice or organization").fill("DuPage Family Medicine")
    page.get_by_label("Provider email").fill("referrals@example.org")
    fill_person(page, first="Chris", last="Novak")
    page.get_by_label("What would you like help with?").select_option(label="Depression")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()

    reference = success_reference(page)
    lead = site.stored_lead(reference)
    assert (lead["referral_type"], lead["provider_name"]) == ("provider", "Dr. Priya Shah")
    assert lead["provider_practice"] == "DuPage Family Medicine"
    assert lead["provider_email"] == "referrals@example.org"
    assert "email" not in lead
    assert "phone" not in lead

    page.reload()
    page.get_by_label("I am a provider referring a patient").check()
    page.get_by_label("I am requesting care for myself").check()
    expect(page.get_by_label("Provider name")).to_be_hidden()


def test_ticking_in_crisis_shows_988_at_once_and_the_lead_is_urgent(page: Page, site: Site) -> None:
    open_demo(page, site)
    crisis_help = page.locator("#cf-crisis-help")
    expect(crisis_help).to_be_hidden()
    page.get_by_label("I may be thinking about harming myself").check()
    expect(crisis_help).to_be_visible()
    expect(crisis_help.get_by_role("link", name="Call 988")).to_be_visible()
    expect(crisis_help.get_by_role("link", name="Text 988")).to_be_visible()
    expect(crisis_help.get_by_role("link", name="Call 911")).to_be_visible()
    assert crisis_help.bounding_box() is not None

    fill_person(page, first="Robin", last="Patel", phone="630-355-2020")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()

    reference = success_reference(page)
    urgent = page.locator("[data-cf-success] [data-cf-urgent]")
    expect(urgent).to_be_visible()
    expect(urgent).to_contain_text("988")
    first_child_is_urgent = page.evaluate(
        "() => document.querySelector('[data-cf-success]').firstElementChild.matches('[data-cf-urgent]')"
    )
    assert first_child_is_urgent, "the crisis resources come before anything else in the success panel"
    assert site.wait_for_alert(reference)["attributes"]["priority"] == "urgent"


def test_honeypot_is_neither_focusable_nor_in_the_accessibility_tree(page: Page, site: Site) -> None:
    open_demo(page, site)
    honeypot = page.locator("input[name='website']")
    assert honeypot.evaluate("e => getComputedStyle(e.closest('.cf-hp')).display") != "none"
    box = honeypot.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 0, "off-screen, not merely display:none"

    assert "Leave this field empty" not in page.locator("form[data-consultation-form]").aria_snapshot()
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)

    # In document order the honeypot sits between the SMS consent box and the submit button.
    sms_consent = page.get_by_label("I agree to receive text messages")
    submit = page.get_by_role("button", name="Request consultation")
    assert sms_consent.evaluate(
        "(box, trap) => !!(box.compareDocumentPosition(trap) & Node.DOCUMENT_POSITION_FOLLOWING)",
        honeypot.element_handle(),
    )
    sms_consent.focus()
    page.keyboard.press("Tab")
    expect(submit).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(sms_consent).to_be_focused()


def test_failures_keep_the_answers_and_retries_reuse_the_idempotency_key(page: Page, site: Site) -> None:
    open_demo(page, site)
    fill_person(page, first="Taylor", last="Brooks", email="taylor.brooks@example.com")
    page.get_by_label("I agree that the clinic may keep").check()

    keys: list[str] = []
    held: list[Route] = []

    def intercept(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.abort("internetdisconnected")
        elif len(keys) == 2:
            held.append(route)  # answered below, once the busy state has been seen
        elif len(keys) == 3:
            route.fulfill(status=429, headers={"Retry-After": "1800"}, json={"message": "Too many requests"})
        else:
            route.continue_()

    page.route("**/consultations", intercept)
    page.get_by_role("button", name="Request consultation").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("couldn't reach the clinic")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_focused()
    expect(page.get_by_label("Email", exact=True)).to_have_value("taylor.brooks@example.com")

    retry.click()
    busy = page.locator("[data-cf-submit]")
    expect(busy).to_have_text("Sending…")
    expect(busy).to_be_disabled()
    page.wait_for_function("() => true")  # let the route handler see the held request
    assert held, "the second attempt reached the network"
    held[0].fulfill(status=503, headers={"Retry-After": "20"}, json={"message": "Please try again."})
    expect(status).to_contain_text("couldn't save your request")
    expect(status).to_contain_text("in about 20 seconds")
    expect(busy).to_have_text("Request consultation")
    expect(busy).to_be_enabled()

    retry.click()
    expect(status).to_contain_text("several requests from your connection")
    expect(status).to_contain_text("in about 30 minutes or call us at (630) 555-0142")
    expect(page.get_by_label("First name")).to_have_value("Taylor")

    retry.click()
    reference = success_reference(page)
    assert len(keys) == 4
    assert len(set(keys)) == 1, "every retry of the same answers carries the same Idempotency-Key"
    assert site.stored_lead(reference)["submission_id"] == keys[0]

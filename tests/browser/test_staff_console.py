"""The staff console (contract 7) in a real Chromium against the real local stack: Cognito sign-in in the
emulation, the authorizer, the staff function and the table. Nothing between the browser and the stack is
mocked; Playwright's clock only moves the page's time forward for the idle logout.

One stack for the whole browser session (tests/browser/conftest.py); accounts and signed-in pages are made
once per module and shared, so each test only does what it checks.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
import secrets
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from tests.browser.conftest import LEAD_ID_PATTERN, Site, StackProcess, _watch_for_page_errors
from tests.conftest import local_cli_json

pytestmark = [pytest.mark.browser, pytest.mark.stack]

AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = "axe-core is missing: run `make unit` once, or `npm ci --prefix tests/browser`"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1200, "height": 900}}
NEW_PASSWORD = "Front-desk-2026!"  # meets the pool's policy (12+, upper, lower, digit, symbol)
COGNITO_TARGET = "x-amz-target"


@dataclass
class Account:
    email: str
    password: str


@dataclass
class Staff:
    """The stack as the staff tests use it: the site, the CLI and the accounts."""

    site: Site
    stack: StackProcess
    admin: Account

    def leads_cli(self, *args: str) -> Any:
        """``leads --local ... --json`` in this process (click's runner): the CLI as ops run it, without a new
        interpreter per call."""
        return local_cli_json(self.stack.aws_port, *args)

    def add_staff(self, email: str) -> Account:
        """``leads --local staff add``: a new `staff` account with a temporary password (new-password step
        at the first sign-in)."""
        document = self.leads_cli("staff", "add", email)
        assert document["group"] == "staff"
        return Account(email, str(document["temporary_password"]))

    def audit(self) -> list[dict[str, Any]]:
        return list(self.leads_cli("audit", "--limit", "0")["entries"])


def submit_lead(site: Site, **fields: Any) -> str:
    """A visitor's submission through the API (JSON), as the form's script sends it; returns the lead id."""
    body = {
        "first_name": "Robin",
        "last_name": "Quinn",
        "email": f"robin.{secrets.token_hex(4)}@example.com",
        "consent_privacy": True,
        **fields,
    }
    request = urllib.request.Request(
        site.url("/consultations"),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        lead_id = str(json.load(response)["id"])
    assert re.match(LEAD_ID_PATTERN, lead_id)
    return lead_id


def totp(secret: str, at: float | None = None) -> str:
    """The authenticator app's 6-digit code for a base32 secret (RFC 6238: SHA-1, 30-second steps)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_totp(secret: str) -> str:
    """A code with 5 s or more of its 30-second step left (the emulation accepts the current step only)."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return totp(secret)


def api_status(site: Site, method: str, path: str, token: str) -> int:
    request = urllib.request.Request(site.url(path), method=method, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


# --------------------------------------------------------------------------------------------- the browser


class ConsolePage:
    """One browser context on the console, with what the tests read back from it."""

    def __init__(self, browser: Browser, site: Site, *, clock: bool = False, **options: Any) -> None:
        self.site = site
        self.context = browser.new_context(**{**DESKTOP, **options})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.tokens: list[str] = []
        self.cognito_calls: list[dict[str, Any]] = []
        _watch_for_page_errors(self.page, self.problems)
        self.page.on("request", self._on_request)
        if clock:
            self.page.clock.install()

    def _on_request(self, request: Request) -> None:
        headers = request.headers
        if "/staff/" in request.url and headers.get("authorization"):
            self.tokens.append(headers["authorization"])
        if COGNITO_TARGET in headers:
            body = request.post_data_json or {}
            self.cognito_calls.append({"target": headers[COGNITO_TARGET].rsplit(".", 1)[-1], **body})

    def open(self, fragment: str = "") -> Page:
        self.page.goto(self.site.url("/staff/" + fragment))
        expect(self.page.locator("html[data-ready=true]")).to_have_count(1)
        return self.page

    def sign_in(self, account: Account) -> None:
        page = self.page
        page.get_by_label("Email", exact=True).fill(account.email)
        page.get_by_label("Password", exact=True).fill(account.password)
        page.get_by_role("button", name="Sign in").click()

    def choose_password(self, password: str) -> None:
        page = self.page
        expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
        page.get_by_label("New password", exact=True).fill(password)
        page.get_by_label("New password again").fill(password)
        page.get_by_role("button", name="Save password and continue").click()

    def notice(self) -> Any:
        return self.page.locator("#notice")

    def inbox_link(self, lead_id: str) -> Any:
        return self.page.locator(f'#lead-list a[data-lead="{lead_id}"]')

    def open_lead(self, lead_id: str) -> None:
        """Through "Find by reference", as a person with the reference from a call would."""
        page = self.page
        if page.locator("#view-inbox").is_hidden():
            page.get_by_role("link", name="Back to the leads").click()
        page.get_by_label("Find by reference").fill(lead_id.lower())
        page.get_by_role("button", name="Open").click()
        expect(page.locator("#lead-title")).to_contain_text(lead_id)

    @property
    def username(self) -> str:
        assert self.tokens, "no staff API request carried a token yet"
        # The staff API names people by the email they sign in with (history, assignment, audit).
        return str(claims_of(self.tokens[-1])["email"]).lower()

    def close(self) -> None:
        self.context.close()
        assert not self.problems, self.problems


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations of the page as it is now."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(AXE_HINT, pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays as it is.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def tab_until(page: Page, selector: str, limit: int = 60, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element matching ``selector`` has the focus."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("(node) => node === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


def focus_is_visible(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
        )
    )


# --------------------------------------------------------------------------------------------- fixtures


def _demo_admin(stack: StackProcess) -> Account:
    for line in stack.lines:
        match = re.match(r"staff console: \S+\s+user: (\S+)\s+password: (\S+)", line)
        if match:
            return Account(match.group(1), match.group(2))
    raise AssertionError("make run printed no `staff console:` line\n" + "\n".join(stack.lines[-20:]))


@pytest.fixture(scope="module")
def staff(site: Site, stack_process: StackProcess) -> Staff:
    return Staff(site=site, stack=stack_process, admin=_demo_admin(stack_process))


@pytest.fixture(scope="module")
def staff_account(staff: Staff, browser: Browser) -> Account:
    """A `staff` member who has already chosen a password (their first sign-in is in the journey test)."""
    account = staff.add_staff(f"desk.{secrets.token_hex(3)}@clinic.example")
    console = ConsolePage(browser, staff.site)
    try:
        console.open()
        console.sign_in(account)
        console.choose_password(NEW_PASSWORD)
        expect(console.page.locator("#view-inbox")).to_be_visible()
    finally:
        console.close()
    return Account(account.email, NEW_PASSWORD)


@pytest.fixture(scope="module")
def admin_console(staff: Staff, browser: Browser) -> Iterator[ConsolePage]:
    """The demo admin, signed in once for the module (desktop)."""
    console = ConsolePage(browser, staff.site)
    console.open()
    console.sign_in(staff.admin)
    expect(console.page.locator("#view-inbox")).to_be_visible()
    yield console
    console.close()


@pytest.fixture(scope="module")
def staff_console(staff: Staff, staff_account: Account, browser: Browser) -> Iterator[ConsolePage]:
    """The `staff` member on a phone, signed in once for the module."""
    console = ConsolePage(browser, staff.site, **PHONE)
    console.open()
    console.sign_in(staff_account)
    expect(console.page.locator("#view-inbox")).to_be_visible()
    yield console
    console.close()


# --------------------------------------------------------------------------------------------- tests


def test_visitor_to_callback_journey(staff: Staff, page: Page, browser: Browser) -> None:
    """A visitor asks on the demo page; the alert links to the console; a new staff member signs in for the
    first time from that link, opens the lead, marks it contacted with a note; history and audit show it."""
    site = staff.site
    page.goto(site.url("/"))
    expect(page.locator("form[data-cf-ready]")).to_have_count(1)
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Ellis")
    page.get_by_label("Phone", exact=True).fill("(630) 555-0188")
    page.get_by_label("I agree that the clinic may keep").check()
    page.get_by_role("button", name="Request consultation").click()
    panel = page.locator("[data-cf-success]")
    expect(panel).to_be_visible()
    lead_id = panel.locator("[data-cf-ref]").inner_text()

    alert = site.wait_for_alert(lead_id)
    link = f"{site.url('/staff/')}#{lead_id}"
    assert link in alert["email"], "the alert email carries the lead's console link"
    assert link in (alert["sms"] or ""), "so does the SMS"
    page.goto(site.url("/_local/inbox"))
    expect(page.get_by_text(link).first).to_be_visible()

    account = staff.add_staff(f"new.{secrets.token_hex(3)}@clinic.example")
    console = ConsolePage(browser, staff.site)
    try:
        console.page.goto(link)  # the link, followed before anyone signed in
        expect(console.notice()).to_contain_text(f"Sign in to open lead {lead_id}")
        console.sign_in(account)
        console.choose_password("short")
        expect(console.page.locator("#new-password-error")).to_contain_text("not allowed")
        console.choose_password(NEW_PASSWORD)
        cpage = console.page
        expect(cpage.locator("#lead-title")).to_contain_text(f"Jordan Ellis · Ref {lead_id}")
        expect(cpage.locator("#lead-person")).to_contain_text("+16305550188")
        expect(cpage.locator("#lead-consent")).to_contain_text("Privacy notice accepted at")
        expect(cpage.locator("#lead-flags")).to_contain_text("New")
        assert axe_violations(cpage) == []

        cpage.get_by_label("New status").select_option("contacted")
        cpage.get_by_label("Note (optional)").fill("Called back; booked a consult call for Tuesday.")
        cpage.get_by_role("button", name="Save status").click()
        expect(console.notice()).to_have_text("Status saved: Contacted.")
        history = cpage.locator("#lead-history li").first
        expect(history).to_contain_text("Status set to Contacted")
        expect(history).to_contain_text("Called back; booked a consult call for Tuesday.")
        expect(history).to_contain_text(f"you ({account.email})")
        username = console.username
    finally:
        console.close()

    stored = site.stored_lead(lead_id)
    assert stored["status"] == "contacted"
    assert stored["first_answered_by"] == username
    entries = [e for e in staff.audit() if e.get("actor") == username]
    actions = {e.get("action") for e in entries}
    assert {"sign_in", "view", "status"} <= actions, entries
    assert all("Tuesday" not in json.dumps(e) and "Jordan" not in json.dumps(e) for e in entries)


def test_inbox_newest_first_filters_find_and_paging(staff: Staff, admin_console: ConsolePage) -> None:
    site = staff.site
    calm = submit_lead(site, first_name="Avery", message="Looking for help with anxiety.", service="anxiety")
    urgent = submit_lead(site, first_name="Casey", in_crisis=True)
    page = admin_console.page
    page.get_by_role("button", name="Show", exact=True).click()
    urgent_link, calm_link = admin_console.inbox_link(urgent), admin_console.inbox_link(calm)
    expect(urgent_link).to_be_visible()
    # Newest first; urgent and new leads say so in words, not only in colour.
    ids = page.locator("#lead-list a").evaluate_all("(links) => links.map((a) => a.dataset.lead)")
    assert ids.index(urgent) < ids.index(calm)
    expect(urgent_link.locator(".badge-urgent")).to_have_text("Urgent")
    expect(urgent_link).to_contain_text("· Naperville ·")  # the location's name, as the alerts write it
    expect(urgent_link.locator(".badge-new")).to_have_text("New")
    expect(calm_link.locator(".badge-urgent")).to_have_count(0)

    page.get_by_label("Urgent only").check()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(calm_link).to_have_count(0)
    expect(urgent_link).to_be_visible()
    assert page.locator("#lead-list .badge-urgent").count() == page.locator("#lead-list li").count()
    page.get_by_label("Urgent only").uncheck()
    page.get_by_label("Status", exact=True).select_option("contacted")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(urgent_link).to_have_count(0)
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Location").fill("naperville")  # the local stack's one location
    page.get_by_role("button", name="Show", exact=True).click()
    expect(urgent_link).to_be_visible()
    page.get_by_label("Location").fill("atlantis")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(admin_console.notice()).to_have_text("Unknown location.")
    expect(page.locator("#lead-list li")).to_have_count(0)  # no list that does not match the filters
    page.get_by_label("Location").fill("")

    # Paging: the real API with a page size of 2 (the console asks for 25), its `next` cursor followed.
    for name in ("Drew", "Emery", "Finley"):
        submit_lead(site, first_name=name)

    def page_of_two(route: Route) -> None:
        route.continue_(url=route.request.url.replace("limit=25", "limit=2"))

    page.route("**/staff/leads?*", page_of_two)
    try:
        page.get_by_role("button", name="Show", exact=True).click()
        expect(page.locator("#lead-list li")).to_have_count(2)
        older = page.get_by_role("button", name="Show older leads")
        older.click()
        expect(page.locator("#lead-list li")).to_have_count(4)
        expect(page.locator("#lead-list li").nth(2).locator("a")).to_be_focused()
        ids = page.locator("#lead-list a").evaluate_all("(links) => links.map((a) => a.dataset.lead)")
        assert len(set(ids)) == 4
    finally:
        page.unroute("**/staff/leads?*")

    page.get_by_label("Find by reference").fill("not-a-ref")
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#find-error")).to_contain_text("10 letters and digits")
    admin_console.open_lead(calm)
    expect(page.locator("#lead-request")).to_contain_text("Looking for help with anxiety.")
    expect(page.locator("#lead-request")).to_contain_text("Anxiety")
    expect(page.locator("#lead-request")).to_contain_text("Naperville")
    expect(page.locator("#lead-request")).not_to_contain_text("naperville")
    assert page.url.endswith(f"/staff/#{calm}")

    # An urgent lead says why, in the alert's words: what the person ticked, or what their message reads as.
    admin_console.open_lead(urgent)
    expect(page.locator("#lead-flags")).to_contain_text(
        "Flagged because they ticked “I may be thinking about harming myself”."
    )
    expect(page.locator("#lead-request")).to_contain_text("Ticked “I may be thinking about harming myself”")
    worded = submit_lead(site, first_name="Jules", message="I have been thinking about ending my life.")
    admin_console.open_lead(worded)
    expect(page.locator("#lead-flags")).to_contain_text("Flagged because their message reads as a crisis.")
    expect(page.locator("#lead-flags")).not_to_contain_text("ticked")


def test_staff_member_on_a_phone(staff: Staff, staff_console: ConsolePage) -> None:
    lead_id = submit_lead(staff.site, first_name="Morgan", phone="630-555-0123", preferred_contact="phone")
    page = staff_console.page
    page.get_by_role("button", name="Show", exact=True).click()
    expect(staff_console.inbox_link(lead_id)).to_be_visible()
    width = page.evaluate("() => window.innerWidth")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width, "inbox scrolls sideways"
    assert axe_violations(page) == []

    staff_console.inbox_link(lead_id).tap()
    expect(page.locator("#lead-title")).to_contain_text(lead_id)
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width, "lead scrolls sideways"
    call = page.get_by_role("link", name="+16305550123")
    expect(call).to_have_attribute("href", "tel:+16305550123")
    for name in ("Assign to me", "Save status"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None
        assert box["height"] >= 44, f"{name} is too small to tap"
    assert axe_violations(page) == []

    page.get_by_role("button", name="Assign to me").tap()
    expect(staff_console.notice()).to_have_text(f"Lead {lead_id} is assigned to you.")
    expect(page.get_by_role("button", name="Assign to me")).to_be_hidden()
    expect(page.locator("#lead-handling")).to_contain_text(f"you ({staff_console_email(staff_console)})")
    assert staff.site.stored_lead(lead_id)["assigned_to"] == staff_console.username


def staff_console_email(console: ConsolePage) -> str:
    return str(claims_of(console.tokens[-1])["email"])


def test_staff_has_no_admin_controls_and_the_api_refuses_them(
    staff: Staff, staff_console: ConsolePage
) -> None:
    lead_id = submit_lead(staff.site, first_name="Riley")
    page = staff_console.page
    staff_console.open_lead(lead_id)
    expect(page.get_by_role("button", name="Erase this lead…")).to_be_hidden()
    page.get_by_role("link", name="Back to the leads").click()
    expect(page.locator("#view-inbox")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_hidden()
    expect(page.locator("#user-role")).to_have_text("Staff")

    token = staff_console.tokens[-1]
    assert "staff" in claims_of(token)["cognito:groups"]
    assert api_status(staff.site, "DELETE", f"/staff/leads/{lead_id}", token) == 403
    assert api_status(staff.site, "GET", "/staff/export", token) == 403
    assert staff.site.stored_lead(lead_id)["status"] == "new"  # refused: nothing changed
    assert api_status(staff.site, "GET", f"/staff/leads/{lead_id}", token) == 200


def test_admin_erases_with_confirmation_and_exports_csv(staff: Staff, admin_console: ConsolePage) -> None:
    keep = submit_lead(staff.site, first_name="Jamie", utm_source="newsletter")
    gone = submit_lead(staff.site, first_name="Taylor")
    page = admin_console.page

    if page.locator("#view-lead").is_visible():
        page.get_by_role("link", name="Back to the leads").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert re.match(r"leads-\d{4}-\d{2}-\d{2}\.csv$", download.suggested_filename)
    path = download.path()
    assert path is not None
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    by_id = {row["id"]: row for row in rows}
    assert by_id[keep]["first_name"] == "Jamie"
    assert by_id[keep]["utm_source"] == "newsletter"
    expect(admin_console.notice()).to_contain_text("Export downloaded")

    admin_console.open_lead(gone)
    erase = page.get_by_role("button", name="Erase this lead…")
    erase.click()
    dialog = page.get_by_role("dialog", name="Erase this lead?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(gone)
    page.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert staff.site.stored_lead(gone)["first_name"] == "Taylor"

    erase.click()
    page.get_by_role("button", name="Erase permanently").click()
    expect(admin_console.notice()).to_have_text(f"Lead {gone} was erased.")
    expect(page.locator("#view-inbox")).to_be_visible()
    expect(admin_console.inbox_link(gone)).to_have_count(0)
    with pytest.raises(AssertionError, match="not in the table"):
        staff.site.stored_lead(gone)
    assert api_status(staff.site, "GET", f"/staff/leads/{gone}", admin_console.tokens[-1]) == 404
    actions = {(e.get("action"), e.get("actor")) for e in staff.audit()}
    assert ("erase", admin_console.username) in actions
    assert ("export", admin_console.username) in actions


def test_keyboard_alone(staff: Staff, browser: Browser) -> None:
    """Sign-in, inbox, one lead, status and the erase dialog with the keyboard only; focus always visible."""
    lead_id = submit_lead(staff.site, first_name="Kai")
    console = ConsolePage(browser, staff.site)
    try:
        page = console.open()
        expect(page.get_by_label("Email", exact=True)).to_be_focused()
        assert axe_violations(page) == []
        page.keyboard.type(staff.admin.email)
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password", exact=True)).to_be_focused()
        assert focus_is_visible(page)
        page.keyboard.type(staff.admin.password)
        page.keyboard.press("Enter")
        expect(page.locator("#view-inbox")).to_be_visible()
        expect(page.locator("#inbox-title")).to_be_focused()

        tab_until(page, f'#lead-list a[data-lead="{lead_id}"]')
        assert focus_is_visible(page)
        page.keyboard.press("Enter")
        expect(page.locator("#lead-title")).to_be_focused()
        tab_until(page, "#status-select")
        assert focus_is_visible(page)
        page.keyboard.press("ArrowDown")  # New -> Contacted
        expect(page.locator("#status-select")).to_have_value("contacted")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Note (optional)")).to_be_focused()
        page.keyboard.type("Spoke with them.")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Save status")).to_be_focused()
        page.keyboard.press("Enter")
        expect(console.notice()).to_have_text("Status saved: Contacted.")

        tab_until(page, "#erase-open")
        page.keyboard.press("Enter")
        cancel, confirm = page.locator("#erase-cancel"), page.locator("#erase-confirm")
        expect(cancel).to_be_focused()
        assert axe_violations(page) == []  # with the dialog open
        page.keyboard.press("Tab")
        expect(confirm).to_be_focused()
        page.keyboard.press("Tab")
        expect(cancel).to_be_focused()  # the dialog keeps the focus
        page.keyboard.press("Shift+Tab")
        expect(confirm).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("#erase-dialog")).to_be_hidden()
        expect(page.locator("#erase-open")).to_be_focused()
        assert staff.site.stored_lead(lead_id)["status"] == "contacted"

        tab_until(page, "#back-to-inbox", backwards=True)
        page.keyboard.press("Enter")
        expect(page.locator("#view-inbox")).to_be_visible()
        expect(page.locator(f'#lead-list a[data-lead="{lead_id}"]')).to_be_focused()
    finally:
        console.close()


def test_idle_logout_and_refresh_while_active(staff: Staff, staff_account: Account, browser: Browser) -> None:
    with urllib.request.urlopen(staff.site.url("/staff/config.json"), timeout=10) as response:
        idle_minutes = float(json.load(response)["idleMinutes"])
    submit_lead(staff.site, first_name="Quinn")
    console = ConsolePage(browser, staff.site, clock=True)
    try:
        page = console.open()
        console.sign_in(staff_account)
        expect(page.locator("#view-inbox")).to_be_visible()
        expect(page.locator("#lead-list li").first).to_be_visible()

        # Shortly before the idle limit: a warning; a key press keeps the session.
        page.clock.fast_forward(int((idle_minutes * 60 - 50) * 1000))
        expect(console.notice()).to_contain_text("You will be signed out in")
        page.keyboard.press("Shift")
        expect(console.notice()).to_have_text("You are still signed in.")

        # Active near the token's end: the console refreshes it (REFRESH_TOKEN_AUTH) and stays signed in.
        claims = claims_of(console.tokens[-1])
        lifetime = int(claims["exp"]) - int(claims["iat"])
        while not any(c.get("AuthFlow") == "REFRESH_TOKEN_AUTH" for c in console.cognito_calls):
            page.clock.fast_forward(int(min(idle_minutes * 60 / 2, lifetime / 3) * 1000))
            page.keyboard.press("Shift")
            page.wait_for_timeout(50)
            assert page.evaluate("() => Date.now()") < (int(claims["exp"]) + 3600) * 1000, "never refreshed"
        with page.expect_response(lambda r: "/staff/leads?" in r.url) as listed:
            page.get_by_role("button", name="Show", exact=True).click()
        assert listed.value.status == 200  # the renewed token is accepted
        expect(page.locator("#lead-list li").first).to_be_visible()

        # Then nothing for the idle time: signed out, nothing left on screen, the refresh token revoked.
        page.clock.fast_forward(int((idle_minutes * 60 + 1) * 1000))
        expect(page.locator("#view-sign-in")).to_be_visible()
        expect(console.notice()).to_contain_text("signed out after")
        expect(page.locator("#lead-list li")).to_have_count(0)
        expect(page.locator("#user-bar")).to_be_hidden()
        revoked = [c for c in console.cognito_calls if c["target"] in {"RevokeToken", "GlobalSignOut"}]
        assert revoked, console.cognito_calls
    finally:
        console.close()


def test_visitor_markup_shows_as_text(staff: Staff, staff_console: ConsolePage) -> None:
    lead_id = submit_lead(
        staff.site,
        first_name="<img src=x onerror=window.__pwned=1>",
        last_name="</script><b>Bold</b>",
        message=(
            "Call me \u202eexe.txt\u202c <img src=x onerror=window.__pwned=2> "
            "</script><script>window.__pwned=3</script>"
        ),
        heard_about="<svg onload=window.__pwned=4>",
        utm_source="<i>ad</i>",
    )
    page = staff_console.page
    if page.locator("#view-lead").is_visible():
        page.get_by_role("link", name="Back to the leads").click()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(staff_console.inbox_link(lead_id)).to_contain_text("<img src=x onerror=window.__pwned=1> <")
    staff_console.open_lead(lead_id)
    expect(page.locator("#lead-title")).to_contain_text(
        "<img src=x onerror=window.__pwned=1> </script><b>Bold</b>"
    )
    request = page.locator("#lead-request")
    expect(request).to_contain_text("Call me [U+202E]exe.txt[U+202C] <img src=x onerror=window.__pwned=2>")
    expect(request).to_contain_text("</script><script>window.__pwned=3</script>")
    expect(request).to_contain_text("<svg onload=window.__pwned=4>")
    expect(page.locator("#lead-attribution")).to_contain_text("<i>ad</i>")
    assert page.locator("main img, main svg, main script, main b, main i").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert "\u202e" not in page.locator("main").inner_text()


def test_authenticator_set_up_at_first_sign_in_and_code_after(staff: Staff, browser: Browser) -> None:
    """With MFA required (the pool as `StaffMfa=required` deploys it), a new member sets up an authenticator
    app at the first sign-in (key shown as text), and every later sign-in asks for its code."""
    import boto3

    with urllib.request.urlopen(staff.site.url("/staff/config.json"), timeout=10) as response:
        pool_id = json.load(response)["userPoolId"]
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=staff.site.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    account = staff.add_staff(f"mfa.{secrets.token_hex(3)}@clinic.example")
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    console = ConsolePage(browser, staff.site)
    try:
        page = console.open()
        console.sign_in(account)
        console.choose_password(NEW_PASSWORD)
        expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
        secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
        assert re.fullmatch(r"[A-Za-z2-7]{8,}=*", secret), secret  # base32, as authenticator apps take it
        uri = page.locator("#mfa-uri").inner_text()
        assert uri.startswith("otpauth://totp/"), uri
        assert f"secret={secret}&issuer=" in uri, uri
        assert page.locator("#view-mfa-setup img").count() == 0  # no QR image from any service
        wrong = "000000" if totp(secret) != "000000" else "111111"
        page.get_by_label("6-digit code from the app").fill(wrong)
        page.get_by_role("button", name="Confirm and sign in").click()
        expect(page.locator("#mfa-setup-error")).to_contain_text("did not match")
        page.get_by_label("6-digit code from the app").fill(fresh_totp(secret))
        page.get_by_role("button", name="Confirm and sign in").click()
        expect(page.locator("#view-inbox")).to_be_visible()

        page.get_by_role("button", name="Sign out").click()
        expect(console.notice()).to_have_text("You are signed out.")
        console.sign_in(Account(account.email, NEW_PASSWORD))
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        page.get_by_label("6-digit code from your authenticator app").fill(fresh_totp(secret))
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#view-inbox")).to_be_visible()
    finally:
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
        )
        console.close()


def test_an_answer_that_arrives_after_sign_out_is_not_shown(
    staff: Staff, staff_account: Account, browser: Browser
) -> None:
    submit_lead(staff.site, first_name="Harper")
    console = ConsolePage(browser, staff.site)
    try:
        page = console.open()
        console.sign_in(staff_account)
        expect(page.locator("#lead-list li").first).to_be_visible()
        held: list[Route] = []

        def hold(route: Route) -> None:  # Playwright needs a Python function here, not a bound builtin
            held.append(route)

        page.route("**/staff/leads?*", hold)
        page.get_by_role("button", name="Show", exact=True).click()
        for _ in range(250):
            if held:
                break
            page.wait_for_timeout(20)
        assert held, "the list request never left the page"
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("#lead-list li")).to_have_count(0)
        with page.expect_response(lambda r: "/staff/leads?" in r.url):
            held[0].continue_()
        page.wait_for_timeout(100)
        expect(page.locator("#view-sign-in")).to_be_visible()
        expect(page.locator("#lead-list li")).to_have_count(0)
    finally:
        console.close()


def test_time_left_and_overdue_show_when_the_api_gives_a_due_time(
    staff: Staff, admin_console: ConsolePage
) -> None:
    """`sla_due_at` (speed to lead, contract 8) on the list's entries: "Due in" / "Overdue by" on new leads,
    nothing without it. The stack's answer is fetched for real and only gains the due times here."""
    due_soon, overdue, plain = (submit_lead(staff.site, first_name=n) for n in ("Ira", "Jo", "Lee"))
    now = time.time()
    due = {
        due_soon: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 12 * 60 + 10)),
        overdue: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 5 * 60 - 10)),
    }

    def with_due_times(route: Route) -> None:
        response = route.fetch()
        document = response.json()
        for entry in document["leads"]:
            if entry["id"] in due:
                entry["sla_due_at"] = due[entry["id"]]
            elif entry["id"] == plain:
                entry.pop("sla_due_at", None)  # the stack gives one: this entry stands for one without
        route.fulfill(response=response, json=document)

    page = admin_console.page
    if page.locator("#view-lead").is_visible():
        with page.expect_response(lambda r: "/staff/leads?" in r.url):
            page.get_by_role("link", name="Back to the leads").click()
    page.route("**/staff/leads?*", with_due_times)
    try:
        page.get_by_role("button", name="Show", exact=True).click()
        expect(admin_console.inbox_link(due_soon).locator(".lead-sla")).to_have_text("Due in 12 min")
        overdue_label = admin_console.inbox_link(overdue).locator(".lead-sla")
        expect(overdue_label).to_have_text("Overdue by 5 min")
        expect(overdue_label).to_have_class(re.compile(r"\bsla-overdue\b"))
        expect(admin_console.inbox_link(plain).locator(".lead-sla")).to_be_hidden()
    finally:
        page.unroute("**/staff/leads?*")


def test_a_late_answer_for_earlier_filters_does_not_replace_the_list(
    staff: Staff, admin_console: ConsolePage
) -> None:
    urgent = submit_lead(staff.site, first_name="Nico", in_crisis=True)
    calm = submit_lead(staff.site, first_name="Oakley")
    page = admin_console.page
    if page.locator("#view-lead").is_visible():
        with page.expect_response(lambda r: "/staff/leads?" in r.url):
            page.get_by_role("link", name="Back to the leads").click()
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/staff/leads?*", hold_the_first)
    try:
        page.get_by_label("Urgent only").uncheck()
        page.get_by_role("button", name="Show", exact=True).click()  # every lead: held
        for _ in range(250):
            if held:
                break
            page.wait_for_timeout(20)
        assert held, "the list request never left the page"
        page.get_by_label("Urgent only").check()
        page.get_by_role("button", name="Show", exact=True).click()  # urgent only: answered at once
        expect(admin_console.inbox_link(urgent)).to_be_visible()
        expect(admin_console.inbox_link(calm)).to_have_count(0)
        with page.expect_response(lambda r: "/staff/leads?" in r.url):
            held[0].continue_()
        page.wait_for_timeout(100)
        expect(admin_console.inbox_link(calm)).to_have_count(0)
        expect(admin_console.inbox_link(urgent)).to_be_visible()
    finally:
        page.unroute("**/staff/leads?*")
        page.get_by_label("Urgent only").uncheck()


def api_json(site: Site, path: str, token: str) -> Any:
    request = urllib.request.Request(site.url(path), headers={"Authorization": token})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)


def listed_ids(page: Page) -> list[str]:
    return list(page.locator("#lead-list a").evaluate_all("(links) => links.map((a) => a.dataset.lead)"))


def test_overdue_new_leads_come_first_and_labels_follow_the_clock(
    staff: Staff, admin_console: ConsolePage, browser: Browser
) -> None:
    """Issue #14 with the stack's own due times: the page's clock starts 40 s before a new lead is due (the
    lead is "Due in"); a minute later, without another request, it reads "Overdue by" and has moved above a
    newer lead that is no longer new. Overdue new leads come first, each group newest first."""
    late = submit_lead(staff.site, first_name="Harper")
    newer = submit_lead(staff.site, first_name="Rowan")
    staff.leads_cli("set-status", newer, "contacted")
    listing = api_json(staff.site, "/staff/leads?limit=25", admin_console.tokens[-1])
    due_at = next(entry["sla_due_at"] for entry in listing["leads"] if entry["id"] == late)
    due = datetime.fromisoformat(due_at.replace("Z", "+00:00"))

    console = ConsolePage(browser, staff.site)
    try:
        page = console.page
        page.clock.install(time=due - timedelta(seconds=40))
        console.open()
        console.sign_in(staff.admin)
        late_link, newer_link = console.inbox_link(late), console.inbox_link(newer)
        expect(late_link.locator(".lead-sla")).to_have_text("Due in 1 min")
        expect(newer_link.locator(".lead-sla")).to_be_hidden()  # answered: no clock on it
        ids = listed_ids(page)
        assert ids.index(newer) < ids.index(late)  # newest first while neither is overdue

        lists: list[str] = []
        page.on("request", lambda r: lists.append(r.url) if "/staff/leads" in r.url else None)
        page.clock.run_for(60_000)
        expect(late_link.locator(".lead-sla")).to_have_text("Overdue by 1 min")
        expect(late_link.locator("xpath=..")).to_have_class(re.compile(r"\blead-overdue\b"))
        ids = listed_ids(page)
        assert ids.index(late) < ids.index(newer)
        overdue = page.locator("#lead-list li").evaluate_all(
            "(items) => items.map((li) => li.classList.contains('lead-overdue'))"
        )
        assert overdue == sorted(overdue, reverse=True), "an overdue lead below one that is not"
        assert ids[0] == late  # the newest of the overdue leads
        expect(page.locator("#inbox-count")).to_contain_text("overdue, listed first.")
        page.clock.run_for(90_000)  # about 110 s past due now
        expect(late_link.locator(".lead-sla")).to_have_text("Overdue by 2 min")
        assert lists == [], "the labels changed by refetching the list"
    finally:
        console.close()


def _report_rows(page: Page, table_id: str) -> list[list[str]]:
    return list(
        page.locator(f"#{table_id} tbody tr").evaluate_all(
            "(rows) => rows.map((r) => Array.from(r.cells, (c) => c.textContent))"
        )
    )


def _figure(value: Any) -> str:
    """A figure as the page writes it (JavaScript's String(number); no figure is a dash)."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else str(value)


def test_admin_report_shows_the_api_figures_and_staff_get_none(
    staff: Staff, admin_console: ConsolePage, staff_console: ConsolePage
) -> None:
    submit_lead(staff.site, first_name="Sage", service="anxiety")
    page = admin_console.page
    if page.locator("#view-lead").is_visible():
        page.get_by_role("link", name="Back to the leads").click()
        expect(page.locator("#view-inbox")).to_be_visible()
    with page.expect_response(lambda r: "/staff/report?" in r.url) as answer:
        page.get_by_role("link", name="Report").click()
    assert answer.value.status == 200
    assert "since=30d" in answer.value.url
    figures = answer.value.json()
    expect(page.get_by_role("heading", name="Report: the last 30 days")).to_be_focused()
    expect(page.locator("#report-weekly caption")).to_have_text("Leads by week")

    # The same figures the API gives anyone with an admin token.
    again = api_json(staff.site, "/staff/report?since=30d", admin_console.tokens[-1])
    assert (again["total"], again["by_status"]) == (figures["total"], figures["by_status"])
    assert figures["total"] >= 1
    assert _report_rows(page, "report-source") == [[name, str(n)] for name, n in figures["by_source"].items()]
    # Locations by the name the alerts use ("naperville" -> "Naperville").
    assert _report_rows(page, "report-location") == [
        [name.replace("-", " ").title(), str(n)] for name, n in figures["by_location"].items()
    ]
    assert ["Naperville", str(figures["by_location"]["naperville"])] in _report_rows(page, "report-location")
    assert _report_rows(page, "report-weekly") == [[week, str(n)] for week, n in figures["weekly"].items()]
    for table_id, key in (("report-status-counts", "by_status"), ("report-service", "by_service")):
        assert [row[1] for row in _report_rows(page, table_id)] == [str(n) for n in figures[key].values()]
    assert ["New", str(figures["by_status"]["new"])] in _report_rows(page, "report-status-counts")
    speed = dict(_report_rows(page, "report-speed"))
    first, unanswered = figures["first_answer"], figures["unanswered"]
    assert speed["Leads (not spam)"] == str(figures["total"])
    assert speed["Answered"] == str(first["answered"])
    assert speed["Median minutes to first answer"] == _figure(first["median_minutes"])
    assert speed["90th percentile minutes"] == _figure(first["p90_minutes"])
    assert speed["Answered within the SLA"] == str(first["within_sla"])
    assert speed["Still unanswered"] == str(unanswered["count"])
    assert speed["Unanswered past the SLA"] == str(unanswered["past_sla"])
    assert speed["Converted to scheduled"] == str(figures["conversions"]["scheduled"])

    # Accessible tables, text only.
    tables = page.locator("#report-tables table")
    assert tables.count() == 6
    assert page.locator("#report-tables table > caption").count() == 6
    assert page.locator("#report-tables thead th:not([scope=col])").count() == 0
    assert page.locator("#report-tables tbody th:not([scope=row])").count() == 0
    assert page.locator("#report-tables td *, #report-tables th *").count() == 0
    assert axe_violations(page) == []
    page.get_by_role("link", name="Back to the leads").click()
    expect(page.locator("#view-inbox")).to_be_visible()

    # A `staff` member: no link, the API refuses, and the address alone shows the leads instead.
    spage = staff_console.page
    if spage.locator("#view-lead").is_visible():
        spage.get_by_role("link", name="Back to the leads").click()
    expect(spage.locator("#view-inbox")).to_be_visible()
    expect(spage.locator("#report-link")).to_be_hidden()
    assert spage.get_by_role("link", name="Report").count() == 0
    assert api_status(staff.site, "GET", "/staff/report?since=30d", staff_console.tokens[-1]) == 403
    spage.evaluate("() => { window.location.hash = 'report'; }")
    expect(staff_console.notice()).to_have_text("The report is for admins. Showing the newest leads.")
    expect(spage.locator("#view-inbox")).to_be_visible()
    expect(spage.locator("#view-report")).to_be_hidden()
    spage.evaluate("() => { window.location.hash = ''; }")

/*
 * Consultation form: progressive enhancement of the markup in form.html (see docs/embedding.md).
 *
 * Without this script the form is a plain HTML POST (urlencoded) that lands on the thank-you page.
 * With it the form sends JSON with an Idempotency-Key, shows errors beside each field, keeps the
 * visitor's answers on failures, and shows the 988/911 resources as soon as they are relevant.
 * No dependencies, no inline handlers (works under CSP script-src 'self'), nothing sent to third parties.
 */
(function () {
  "use strict";

  const ATTRIBUTION_PARAMS = [
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
  ];
  const ATTRIBUTION_FIELDS = ATTRIBUTION_PARAMS.concat(["landing_page", "referrer"]);
  const ATTRIBUTION_MAX_LENGTH = 500;
  const ATTRIBUTION_STORAGE_KEY = "cf-attribution";
  const PROVIDER_FIELDS = ["provider_name", "provider_practice", "provider_email", "provider_phone"];
  const BOOLEAN_FIELDS = ["consent_privacy", "consent_sms", "in_crisis"];
  const REQUEST_TIMEOUT_MS = 20000;
  const SENDING_LABEL = "Sending\u2026";

  function supported() {
    return (
      typeof window.fetch === "function" &&
      typeof window.FormData === "function" &&
      typeof window.URLSearchParams === "function" &&
      typeof window.RadioNodeList === "function" &&
      window.CSS !== undefined &&
      typeof window.CSS.escape === "function" &&
      window.crypto !== undefined &&
      typeof window.crypto.getRandomValues === "function"
    );
  }

  /** A fresh idempotency key: 8-64 characters of [A-Za-z0-9_-] (contract 2.1, submission_id). */
  function newIdempotencyKey() {
    if (typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function clip(value) {
    return String(value).slice(0, ATTRIBUTION_MAX_LENGTH);
  }

  /**
   * Campaign parameters of the visit, kept for the browser session so a visitor who lands on an article
   * from an ad and then opens the contact page is still attributed. Only non-empty values are returned.
   */
  function readAttribution() {
    const params = new URLSearchParams(window.location.search);
    const fromUrl = {};
    ATTRIBUTION_PARAMS.forEach((name) => {
      const value = params.get(name);
      if (value) {
        fromUrl[name] = clip(value);
      }
    });
    let stored = null;
    try {
      stored = JSON.parse(window.sessionStorage.getItem(ATTRIBUTION_STORAGE_KEY) || "null");
    } catch (ignored) {
      stored = null; // storage blocked or corrupt: attribute this page only
    }
    if (Object.keys(fromUrl).length === 0 && stored && typeof stored === "object") {
      const kept = {};
      ATTRIBUTION_FIELDS.forEach((name) => {
        if (typeof stored[name] === "string" && stored[name]) {
          kept[name] = clip(stored[name]);
        }
      });
      return kept;
    }
    const visit = Object.assign({}, fromUrl);
    visit.landing_page = clip(window.location.origin + window.location.pathname);
    if (document.referrer) {
      visit.referrer = clip(document.referrer);
    }
    try {
      window.sessionStorage.setItem(ATTRIBUTION_STORAGE_KEY, JSON.stringify(visit));
    } catch (ignored) {
      // storage blocked: nothing to keep
    }
    return visit;
  }

  function retryAfterSeconds(response) {
    const header = response.headers.get("Retry-After");
    const seconds = header === null ? NaN : Number.parseInt(header, 10);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
  }

  function waitPhrase(seconds) {
    if (seconds === null || seconds <= 5) {
      return "in a moment";
    }
    if (seconds < 90) {
      return "in about " + seconds + " seconds";
    }
    const minutes = Math.round(seconds / 60);
    return minutes < 90 ? "in about " + minutes + " minutes" : "later today";
  }

  class ConsultationForm {
    constructor(form) {
      this.form = form;
      this.root = form.closest(".cf") || form.parentElement;
      this.endpoint = new URL(
        form.getAttribute("data-endpoint") || form.getAttribute("action") || "",
        document.baseURI,
      ).href;
      this.clinicPhone = form.getAttribute("data-clinic-phone") || "";
      this.status = form.querySelector("[data-cf-status]");
      this.submitButton = form.querySelector("[data-cf-submit]");
      this.submitLabel = this.submitButton.textContent;
      this.retryButton = form.querySelector("[data-cf-retry]");
      this.providerFieldset = form.querySelector("[data-cf-provider]");
      this.personLegend = form.querySelector("[data-cf-person-legend]");
      this.personLegendText = this.personLegend ? this.personLegend.textContent : "";
      this.crisisHelp = form.querySelector("[data-cf-crisis-help]");
      this.success = this.root.querySelector("[data-cf-success]");
      this.sending = false;
      this.attempt = { body: null, key: null };
      this.describedBy = new Map();
    }

    start() {
      this.form.noValidate = true; // the API validates and answers with one sentence per field
      this.form.classList.add("cf-enhanced");
      Array.from(this.form.elements).forEach((control) => {
        this.describedBy.set(control, control.getAttribute("aria-describedby") || "");
      });
      this.fillAttribution();
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.send();
      });
      this.retryButton.addEventListener("click", () => {
        this.send();
      });
      this.form.querySelectorAll('input[name="referral_type"]').forEach((radio) => {
        radio.addEventListener("change", () => this.syncReferralType());
      });
      const crisisBox = this.form.elements.namedItem("in_crisis");
      if (crisisBox) {
        crisisBox.addEventListener("change", () => this.syncCrisis(crisisBox.checked, true));
        this.syncCrisis(crisisBox.checked, false); // a box the browser restored (back button) stays explained
      }
      this.status.addEventListener("click", (event) => {
        const link = event.target.closest("a[data-cf-goto]");
        if (link) {
          const control = document.getElementById(link.getAttribute("data-cf-goto"));
          if (control) {
            event.preventDefault();
            control.focus();
          }
        }
      });
      this.syncReferralType();
    }

    fillAttribution() {
      const values = readAttribution();
      ATTRIBUTION_FIELDS.forEach((name) => {
        const input = this.form.querySelector('input[type="hidden"][name="' + name + '"]');
        if (input && values[name]) {
          input.value = values[name];
          input.disabled = false;
        }
      });
    }

    referralType() {
      const checked = this.form.querySelector('input[name="referral_type"]:checked');
      return checked ? checked.value : "self";
    }

    syncReferralType() {
      const isProvider = this.referralType() === "provider";
      if (this.providerFieldset) {
        this.providerFieldset.hidden = !isProvider;
      }
      if (this.personLegend) {
        this.personLegend.textContent = isProvider
          ? this.personLegend.getAttribute("data-provider-text") || this.personLegendText
          : this.personLegendText;
      }
    }

    syncCrisis(checked, justTicked) {
      if (!this.crisisHelp) {
        return;
      }
      this.crisisHelp.hidden = !checked;
      if (checked && justTicked) {
        this.crisisHelp.scrollIntoView({ block: "nearest" });
        this.announce(
          "If you might harm yourself, call or text 988 now for the Suicide and Crisis Lifeline. " +
            "In immediate danger, call 911.",
        );
      }
    }

    /** The JSON body: non-empty strings, booleans for the checkboxes, provider fields only for referrals. */
    payload() {
      const body = {};
      new FormData(this.form).forEach((value, name) => {
        if (typeof value !== "string" || BOOLEAN_FIELDS.includes(name)) {
          return;
        }
        if (value.trim() !== "") {
          body[name] = value;
        }
      });
      BOOLEAN_FIELDS.forEach((name) => {
        const box = this.form.elements.namedItem(name);
        if (box) {
          body[name] = Boolean(box.checked);
        }
      });
      if (body.referral_type !== "provider") {
        PROVIDER_FIELDS.forEach((name) => delete body[name]);
      }
      return body;
    }

    async send() {
      if (this.sending) {
        return;
      }
      try {
        await this.sendOnce();
      } catch (unexpected) {
        // Never leave the visitor with a stuck "Sending…" button.
        this.setSending(false);
        this.showProblem("Something went wrong on this page. Please try again.", true);
        throw unexpected;
      }
    }

    async sendOnce() {
      const body = JSON.stringify(this.payload());
      if (body !== this.attempt.body) {
        // A changed submission is a new attempt; an identical one is a retry and keeps its key.
        this.attempt = { body: body, key: newIdempotencyKey() };
      }
      this.setSending(true);
      this.clearErrors();
      this.showStatus(null);
      const controller = typeof AbortController === "function" ? new AbortController() : null;
      const timer = controller ? window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS) : null;
      let response;
      let data = null;
      try {
        response = await window.fetch(this.endpoint, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "Idempotency-Key": this.attempt.key,
          },
          body: body,
          credentials: "omit",
          cache: "no-store",
          signal: controller ? controller.signal : undefined,
        });
        try {
          data = await response.json();
        } catch (notJson) {
          data = null; // an answer without a JSON body: handled by its status
        }
      } catch (networkError) {
        this.setSending(false);
        this.showProblem(
          "We couldn't reach the clinic. Please check your internet connection and try again; " +
            "your answers are still here.",
          true,
        );
        return;
      } finally {
        if (timer !== null) {
          window.clearTimeout(timer);
        }
      }
      this.setSending(false);
      this.handle(response, data);
    }

    handle(response, data) {
      const callUs = this.clinicPhone ? " or call us at " + this.clinicPhone : "";
      if (response.ok && data && typeof data.id === "string") {
        this.showSuccess(data);
      } else if (response.status === 422 && data && data.errors && typeof data.errors === "object") {
        this.showFieldErrors(data.errors);
      } else if (response.status === 429) {
        this.showProblem(
          "We've received several requests from your connection in a short time. Please try again " +
            waitPhrase(retryAfterSeconds(response)) +
            callUs +
            ".",
          true,
        );
      } else if (response.status === 503) {
        this.showProblem(
          "We couldn't save your request just now. Your answers are still here: please try again " +
            waitPhrase(retryAfterSeconds(response)) +
            ".",
          true,
        );
      } else if (response.status === 409) {
        this.attempt = { body: null, key: null };
        this.showProblem("Your request changed while it was being sent. Please send it again.", true);
      } else if (response.status === 413) {
        this.showProblem("Your request is too long. Please shorten your message and send it again.", false);
      } else if (response.status === 403) {
        this.showProblem("This form can't be sent from this page. Please try again later" + callUs + ".", false);
      } else {
        this.showProblem("Something went wrong on our side. Please try again" + callUs + ".", true);
      }
    }

    setSending(sending) {
      this.sending = sending;
      this.submitButton.disabled = sending;
      this.submitButton.textContent = sending ? SENDING_LABEL : this.submitLabel;
      this.retryButton.disabled = sending;
      if (sending) {
        this.form.setAttribute("aria-busy", "true");
      } else {
        this.form.removeAttribute("aria-busy");
      }
    }

    announce(text) {
      this.showStatus(text === null ? null : [document.createTextNode(text)], "cf-status--info");
    }

    showStatus(nodes, modifier) {
      this.status.className = "cf-status" + (nodes && modifier ? " " + modifier : "");
      this.status.replaceChildren.apply(this.status, nodes || []);
    }

    showProblem(text, canRetry) {
      const paragraph = document.createElement("p");
      paragraph.textContent = text;
      this.showStatus([paragraph], "cf-status--problem");
      this.retryButton.hidden = !canRetry;
      (canRetry ? this.retryButton : this.submitButton).focus();
    }

    controlsOf(name) {
      const item = this.form.elements.namedItem(name);
      if (!item) {
        return [];
      }
      const controls = item instanceof RadioNodeList ? Array.from(item) : [item];
      return controls.filter((c) => c.type !== "hidden" && !c.closest("[hidden]") && !c.closest(".cf-hp"));
    }

    clearErrors() {
      this.form.querySelectorAll("[data-cf-error]").forEach((node) => node.remove());
      this.form.querySelectorAll(".cf-field--invalid").forEach((node) => {
        node.classList.remove("cf-field--invalid");
      });
      this.form.querySelectorAll('[aria-invalid="true"]').forEach((control) => {
        control.removeAttribute("aria-invalid");
        const original = this.describedBy.get(control) || "";
        if (original) {
          control.setAttribute("aria-describedby", original);
        } else {
          control.removeAttribute("aria-describedby");
        }
      });
      this.retryButton.hidden = true;
    }

    showFieldErrors(errors) {
      const summaryItems = [];
      Object.keys(errors).forEach((name) => {
        const sentence = String(errors[name]);
        const controls = this.controlsOf(name);
        const wrapper = this.form.querySelector('[data-field="' + CSS.escape(name) + '"]');
        if (controls.length === 0 || !wrapper) {
          summaryItems.push({ sentence: sentence, control: null });
          return;
        }
        const message = document.createElement("p");
        message.id = "cf-error-" + name;
        message.className = "cf-error";
        message.setAttribute("data-cf-error", "");
        message.textContent = sentence;
        const grouped = wrapper.tagName === "FIELDSET";
        const anchor = grouped
          ? wrapper.querySelector("legend")
          : wrapper.querySelector(".cf-choice") || wrapper.querySelector("label");
        anchor.insertAdjacentElement("afterend", message);
        wrapper.classList.add("cf-field--invalid");
        controls.forEach((control) => {
          control.setAttribute("aria-invalid", "true");
          const original = this.describedBy.get(control) || "";
          control.setAttribute("aria-describedby", (message.id + " " + original).trim());
        });
        summaryItems.push({ sentence: sentence, control: controls[0] });
      });
      summaryItems.sort((a, b) => {
        if (!a.control || !b.control) {
          return a.control ? -1 : b.control ? 1 : 0;
        }
        return a.control.compareDocumentPosition(b.control) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
      });

      const heading = document.createElement("p");
      heading.className = "cf-summary-title";
      heading.textContent =
        summaryItems.length === 1
          ? "Please correct 1 answer before sending:"
          : "Please correct " + summaryItems.length + " answers before sending:";
      const list = document.createElement("ul");
      summaryItems.forEach((item) => {
        const entry = document.createElement("li");
        if (item.control && item.control.id) {
          const link = document.createElement("a");
          link.href = "#" + item.control.id;
          link.setAttribute("data-cf-goto", item.control.id);
          link.textContent = item.sentence;
          entry.appendChild(link);
        } else {
          entry.textContent = item.sentence;
        }
        list.appendChild(entry);
      });
      this.showStatus([heading, list], "cf-status--problem");
      const first = summaryItems.find((item) => item.control);
      if (first) {
        first.control.focus();
      } else {
        this.submitButton.focus();
      }
    }

    showSuccess(data) {
      this.showStatus(null);
      const success = this.success;
      success.querySelector("[data-cf-ref]").textContent = data.id;
      success.querySelector("[data-cf-message]").textContent = typeof data.message === "string" ? data.message : "";
      success.querySelector("[data-cf-urgent]").hidden = data.urgent !== true;
      this.form.reset();
      this.form.hidden = true;
      const intro = this.root.querySelector("[data-cf-intro]");
      if (intro) {
        intro.hidden = true;
      }
      success.hidden = false;
      success.focus();
      success.scrollIntoView({ block: "start" });
    }
  }

  function enhanceAll() {
    if (!supported()) {
      return; // the plain HTML form keeps working
    }
    document.querySelectorAll("form[data-consultation-form]").forEach((form) => {
      if (!form.hasAttribute("data-cf-ready")) {
        form.setAttribute("data-cf-ready", "");
        new ConsultationForm(form).start();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();

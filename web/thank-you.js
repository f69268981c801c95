/*
 * Thank-you page: shows the lead reference from ?ref=<id> (the only value the API puts in the URL).
 * Anything that does not look like a reference is ignored; the value is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  const REFERENCE_PATTERN = /^[0-9A-Za-z_-]{4,64}$/;

  function showReference() {
    const ref = new URLSearchParams(window.location.search).get("ref");
    const block = document.querySelector("[data-thanks-ref]");
    const value = document.querySelector("[data-thanks-ref-value]");
    if (!ref || !REFERENCE_PATTERN.test(ref) || !block || !value) {
      return;
    }
    value.textContent = ref;
    block.hidden = false;
    const hint = document.querySelector("[data-thanks-ref-hint]");
    if (hint) {
      hint.hidden = true; // the reference itself replaces the "look in the address bar" hint
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showReference);
  } else {
    showReference();
  }
})();

/*
 * Staff console (contract section 7): sign-in against Cognito's JSON API, the lead inbox, one lead.
 *
 * One ES module, no dependencies, no build step. Works under the strict CSP the staff function sends
 * (script-src 'self'; style-src 'self'; connect-src 'self' <Cognito endpoint>): no inline script or style,
 * no eval. Visitor text only ever reaches the page through textContent, never as markup.
 *
 * Tokens live in this module's memory only: not in localStorage, sessionStorage or cookies. A reload or a
 * closed tab therefore signs the person out, which is what a shared front-desk computer needs; an open tab
 * refreshes its tokens while the person is active and signs out after `idleMinutes` without activity.
 */

const LEAD_ID = /^[0-9A-HJKMNP-TV-Z]{10}$/;
const STATUS_LABELS = {
  new: "New",
  contacted: "Contacted",
  scheduled: "Scheduled",
  not_a_fit: "Not a fit",
  closed: "Closed",
  spam: "Spam",
};
// Readable names for the contract's codes (section 2.1); an unknown code is shown as it is.
const VALUE_LABELS = {
  service: {
    depression: "Depression",
    anxiety: "Anxiety",
    ptsd: "PTSD",
    bipolar: "Bipolar disorder",
    ocd: "OCD",
    chronic_pain: "Chronic pain",
    other: "Other",
  },
  preferred_contact: { phone: "Phone call", email: "Email", text: "Text message" },
  best_time: { morning: "Morning", afternoon: "Afternoon", evening: "Evening", any: "Any time" },
  referral_type: { self: "Self", provider: "Provider referral" },
};
const PAGE_SIZE = 25;
const TICK_MS = 1000;
const REPORT_ROUTE = "REPORT"; // #report (the hash is read upper-cased, as lead references are)
const REPORT_SINCE = "30d";
const SLA_REFRESH_MS = 15000;
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const WARN_BEFORE_MS = 60 * 1000;
const ACTIVITY_EVENTS = ["pointerdown", "keydown", "input", "wheel", "touchstart"];
// Bidi embedding/override/isolate controls and marks: shown as visible codes so they cannot reorder text.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Fields shown in each section of one lead; the rest (not internal) goes to "Other fields". */
const PERSON_FIELDS = [
  ["first_name", "First name"],
  ["last_name", "Last name"],
  ["phone", "Phone"],
  ["email", "Email"],
  ["preferred_contact", "Preferred contact"],
  ["best_time", "Best time"],
];
const REQUEST_FIELDS = [
  ["service", "Service"],
  ["location", "Location"],
  ["referral_type", "Referral"],
  ["provider_name", "Provider"],
  ["provider_practice", "Provider's practice"],
  ["provider_phone", "Provider's phone"],
  ["provider_email", "Provider's email"],
  ["message", "Message"],
  ["heard_about", "Heard about us"],
  ["in_crisis", "Ticked “I may be thinking about harming myself”"],
];
const CONSENT_FIELDS = [
  ["consent_privacy", "Privacy notice accepted"],
  ["consent_privacy_at", "Privacy notice accepted at"],
  ["consent_sms", "Agreed to text messages"],
  ["consent_sms_at", "Texts agreed at"],
];
const ATTRIBUTION_FIELDS = [
  ["utm_source", "Source (utm_source)"],
  ["utm_medium", "Medium (utm_medium)"],
  ["utm_campaign", "Campaign (utm_campaign)"],
  ["utm_term", "Term (utm_term)"],
  ["utm_content", "Content (utm_content)"],
  ["gclid", "Google click id"],
  ["fbclid", "Facebook click id"],
  ["landing_page", "Landing page"],
  ["referrer", "Referrer"],
];
const HANDLING_FIELDS = [
  ["id", "Reference"],
  ["status", "Status"],
  ["created_at", "Received"],
  ["assigned_to", "Assigned to"],
  ["first_answered_at", "First answered"],
  ["first_answered_by", "First answered by"],
];
// Shown elsewhere (flags, history) or bookkeeping of the alert path and retention.
const NOT_SHOWN = new Set([
  "history",
  "urgent",
  "urgent_reasons",
  "review_flags",
  "spam_reasons",
  "sla_due_at",
  "alerted_at",
  "alert_message_id",
  "expires_at",
  "submission_id",
  "inbox",
  "channel",
  "status_changed_at",
  "status_changed_by",
  "status_note",
]);
// Why a lead is urgent, in the words of the staff alert (leads_core.alerts.URGENT_REASON_LABELS).
const URGENT_REASONS = {
  self_reported: "they ticked “I may be thinking about harming myself”",
  message: "their message reads as a crisis",
};
const TIME_FIELDS = new Set(["created_at", "consent_privacy_at", "consent_sms_at", "first_answered_at"]);

const state = {
  config: null,
  apiRoot: "",
  idleMs: 30 * 60 * 1000,
  tokens: null, // {id, access, refresh, idExpiresAt}
  user: null, // {username, email, groups}
  challenge: null, // {name, session, username}
  lastActivity: Date.now(),
  warned: false,
  refreshing: null,
  lastSlaRender: 0,
  filters: { status: "", location: "", urgent: false },
  next: null,
  lead: null,
  lastLeadId: "",
  knownLocations: new Set(),
  ticker: 0,
  session: 0, // one more at each sign-in and sign-out
  listRequest: 0, // one more at each list request
  listed: 0, // leads shown since the list was last reset: each item keeps its place in the API's order
};

// --- small DOM helpers ------------------------------------------------------------------------------------

function byId(id) {
  return document.getElementById(id);
}

/** An element with a class and text (textContent only: never markup). */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = text;
  }
  return node;
}

/** Visitor text as plain text, with bidi controls made visible (e.g. "[U+202E]"). */
function safeText(value) {
  return String(value).replace(
    BIDI_CONTROLS,
    (ch) => "[U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "]",
  );
}

/** Visitor text isolated from the text around it (a stray direction character cannot flip the page). */
function isolated(value, className) {
  return h("bdi", className, safeText(value));
}

function announce(message, kind) {
  const notice = byId("notice");
  notice.textContent = "";
  notice.className = "notice" + (kind === "error" ? " notice-error" : "");
  // A fresh text node after clearing: screen readers announce a repeated message again.
  window.setTimeout(() => {
    notice.textContent = message;
  }, 30);
}

function setFieldError(id, message) {
  const error = byId(id);
  error.textContent = message || "";
  const form = error.closest("form");
  if (form) {
    form.querySelectorAll("input, select, textarea").forEach((control) => {
      if (control.getAttribute("aria-describedby")?.includes(id)) {
        control.setAttribute("aria-invalid", message ? "true" : "false");
      }
    });
  }
}

function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return safeText(iso);
  }
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function timeElement(iso) {
  const node = h("time", "", formatTime(iso));
  node.setAttribute("datetime", String(iso));
  return node;
}

function minutesText(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (minutes < 90) {
    return minutes + " min";
  }
  const hours = Math.floor(minutes / 60);
  return hours + " h " + (minutes % 60) + " min";
}

/** "Due in 12 min" / "Overdue by 5 min" for a new lead whose API entry has `sla_due_at`; null otherwise. */
function slaState(lead) {
  if (!lead || lead.status !== "new" || !lead.sla_due_at) {
    return null;
  }
  const due = new Date(lead.sla_due_at).getTime();
  if (Number.isNaN(due)) {
    return null;
  }
  const left = due - Date.now();
  if (left >= 0) {
    return { overdue: false, text: "Due in " + minutesText(left) };
  }
  return { overdue: true, text: "Overdue by " + minutesText(left) };
}

function codeLabel(field, value) {
  const labels = VALUE_LABELS[field] || {};
  return Object.prototype.hasOwnProperty.call(labels, value) ? labels[value] : String(value);
}

// A location's name as the staff alerts write it (leads_core.alerts.location_label): "oak-brook" -> "Oak Brook".
function locationLabel(slug) {
  const name = String(slug)
    .split("-")
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join(" ");
  return name || "Unknown location";
}

function label(value) {
  return STATUS_LABELS[value] || String(value).replace(/_/g, " ");
}

// --- views and focus --------------------------------------------------------------------------------------

const VIEWS = [
  "view-sign-in",
  "view-new-password",
  "view-mfa-setup",
  "view-mfa",
  "view-inbox",
  "view-lead",
  "view-report",
];

function showView(id, focusId) {
  byId("loading").hidden = true;
  VIEWS.forEach((view) => {
    byId(view).hidden = view !== id;
  });
  const target = byId(focusId || id.replace("view-", "") + "-title");
  if (target) {
    target.focus();
  }
}

// --- Cognito ----------------------------------------------------------------------------------------------

class AuthError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

const AUTH_MESSAGES = {
  NotAuthorizedException: "The email or password is not right, or the account is disabled.",
  UserNotFoundException: "The email or password is not right, or the account is disabled.",
  PasswordResetRequiredException: "Your password has to be reset: ask the operations team.",
  CodeMismatchException: "That code did not match. Codes change every 30 seconds: enter the current one.",
  EnableSoftwareTokenMFAException: "That code did not match. Codes change every 30 seconds: enter the current one.",
  ExpiredCodeException: "That code has expired. Enter the current one.",
  TooManyRequestsException: "Too many attempts. Wait a minute, then try again.",
  TooManyFailedAttemptsException: "Too many attempts. Wait a minute, then try again.",
  LimitExceededException: "Too many attempts. Wait a minute, then try again.",
  UserNotConfirmedException: "This account is not active yet: ask the operations team.",
};

function authMessage(type, serverMessage) {
  if (type === "InvalidPasswordException") {
    // Cognito's sentence names the password rule that failed (never the password itself).
    return "That password is not allowed. " + (serverMessage || "");
  }
  if (type === "NotAuthorizedException" && /session/i.test(serverMessage || "")) {
    return "The sign-in took too long. Start again with your email and password.";
  }
  return AUTH_MESSAGES[type] || "Sign-in failed. Try again; if it keeps failing, tell the operations team.";
}

async function cognito(target, body) {
  let response;
  try {
    response = await fetch(state.config.authEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService." + target,
      },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (ignored) {
    throw new AuthError("Network", "The sign-in service could not be reached. Check the connection and try again.");
  }
  let data = {};
  try {
    data = await response.json();
  } catch (ignored) {
    data = {};
  }
  if (!response.ok) {
    const type = String(data.__type || data.code || "Unknown").split("#").pop();
    throw new AuthError(type, authMessage(type, data.message || data.Message));
  }
  return data;
}

function decodeJwt(token) {
  const part = String(token).split(".")[1] || "";
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** Groups as the ID token carries them (a list; tolerate a string too). */
function groupsOf(claims) {
  const raw = claims["cognito:groups"];
  if (Array.isArray(raw)) {
    return raw.map(String);
  }
  if (typeof raw === "string" && raw) {
    return raw.replace(/^\[|\]$/g, "").split(/[\s,]+/).filter(Boolean);
  }
  return [];
}

function storeTokens(result) {
  const claims = decodeJwt(result.IdToken);
  // The token's lifetime counted from now on this device's clock, so a device clock that is off does not
  // make the console refresh in a loop or too late.
  const lifetimeSeconds = Number(claims.exp) - Number(claims.iat || claims.auth_time);
  const lifetimeMs = Number.isFinite(lifetimeSeconds) && lifetimeSeconds > 60 ? lifetimeSeconds * 1000 : 60000;
  state.tokens = {
    id: result.IdToken,
    access: result.AccessToken,
    refresh: result.RefreshToken || (state.tokens && state.tokens.refresh) || null,
    idExpiresAt: Date.now() + lifetimeMs,
    lifetimeMs,
  };
  // The staff API names people by the email they sign in with (history, assignment, audit).
  const email = String(claims.email || claims["cognito:username"] || "");
  state.user = {
    username: email.toLowerCase(),
    email,
    groups: groupsOf(claims),
  };
}

/** A staff username as people read it: "you" for the signed-in person. */
function actorNode(username) {
  if (state.user && username && username === state.user.username) {
    return h("span", "actor-self", "you (" + state.user.email + ")");
  }
  return isolated(username || "unknown");
}

function isAdmin() {
  return Boolean(state.user && state.user.groups.includes("admin"));
}

async function startSignIn(email, password) {
  const data = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: state.config.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  await handleAuthResult(data, email);
}

async function handleAuthResult(data, username) {
  if (data.AuthenticationResult) {
    storeTokens(data.AuthenticationResult);
    state.challenge = null;
    await afterSignIn();
    return;
  }
  const parameters = data.ChallengeParameters || {};
  state.challenge = {
    name: data.ChallengeName,
    session: data.Session,
    username: parameters.USER_ID_FOR_SRP || parameters.USERNAME || username,
    email: username,
  };
  if (data.ChallengeName === "NEW_PASSWORD_REQUIRED") {
    showView("view-new-password");
  } else if (data.ChallengeName === "MFA_SETUP") {
    await startMfaSetup();
  } else if (data.ChallengeName === "SOFTWARE_TOKEN_MFA") {
    showView("view-mfa");
  } else {
    state.challenge = null;
    throw new AuthError(
      "UnsupportedChallenge",
      "This account needs a sign-in step the console does not offer. Tell the operations team.",
    );
  }
}

async function respond(challengeName, responses) {
  const data = await cognito("RespondToAuthChallenge", {
    ChallengeName: challengeName,
    ClientId: state.config.clientId,
    Session: state.challenge.session,
    ChallengeResponses: { USERNAME: state.challenge.username, ...responses },
  });
  await handleAuthResult(data, state.challenge.email);
}

async function startMfaSetup() {
  const data = await cognito("AssociateSoftwareToken", { Session: state.challenge.session });
  state.challenge.session = data.Session || state.challenge.session;
  const secret = String(data.SecretCode || "");
  const issuer = "Clinic staff console";
  const account = encodeURIComponent(issuer + ":" + state.challenge.email);
  byId("mfa-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
  byId("mfa-uri").textContent =
    "otpauth://totp/" + account + "?secret=" + encodeURIComponent(secret) + "&issuer=" + encodeURIComponent(issuer);
  showView("view-mfa-setup");
}

async function refreshTokens() {
  if (!state.tokens || !state.tokens.refresh) {
    return false;
  }
  if (!state.refreshing) {
    const refreshToken = state.tokens.refresh;
    state.refreshing = cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: state.config.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    })
      .then((data) => {
        if (state.tokens && state.tokens.refresh === refreshToken && data.AuthenticationResult) {
          storeTokens(data.AuthenticationResult);
          return true;
        }
        return false;
      })
      .catch(() => false)
      .finally(() => {
        state.refreshing = null;
      });
  }
  return state.refreshing;
}

/** Ends the session: forgets every token and everything shown, then tells Cognito (best effort). */
function signOut(reason, kind) {
  const tokens = state.tokens;
  state.session += 1;
  state.tokens = null;
  state.user = null;
  state.challenge = null;
  state.lead = null;
  state.next = null;
  state.warned = false;
  window.clearInterval(state.ticker);
  state.ticker = 0;
  clearScreen();
  showView("view-sign-in");
  announce(reason || "You are signed out.", kind);
  if (tokens && tokens.refresh) {
    cognito("RevokeToken", { Token: tokens.refresh, ClientId: state.config.clientId }).catch(() =>
      cognito("GlobalSignOut", { AccessToken: tokens.access }).catch(() => undefined),
    );
  } else if (tokens) {
    cognito("GlobalSignOut", { AccessToken: tokens.access }).catch(() => undefined);
  }
}

function clearScreen() {
  document.querySelectorAll("form").forEach((form) => form.reset());
  ["sign-in-error", "new-password-error", "mfa-setup-error", "mfa-error", "find-error", "status-error"].forEach(
    (id) => setFieldError(id, ""),
  );
  [
    "lead-list",
    "lead-person",
    "lead-request",
    "lead-consent",
    "lead-attribution",
    "lead-other",
    "lead-handling",
    "lead-history",
    "lead-flags",
    "known-locations",
    "report-tables",
  ].forEach((id) => byId(id).replaceChildren());
  [
    "lead-title",
    "mfa-secret",
    "mfa-uri",
    "user-name",
    "user-role",
    "inbox-count",
    "erase-dialog-ref",
    "report-status",
  ].forEach(
    (id) => {
      byId(id).textContent = "";
    },
  );
  state.knownLocations.clear();
  if (state.config && Array.isArray(state.config.locations)) {
    state.config.locations.forEach(rememberLocation);
  }
  state.filters = { status: "", location: "", urgent: false };
  byId("user-bar").hidden = true;
  byId("load-more").hidden = true;
  const dialog = byId("erase-dialog");
  if (dialog.open) {
    dialog.close();
  }
}

// --- activity, idle logout, token refresh -----------------------------------------------------------------

function noteActivity() {
  state.lastActivity = Date.now();
  if (state.warned) {
    state.warned = false;
    announce("You are still signed in.");
  }
}

function tick() {
  if (!state.tokens) {
    return;
  }
  const now = Date.now();
  const idleFor = now - state.lastActivity;
  if (idleFor >= state.idleMs) {
    signOut("You were signed out after " + idleText() + " without activity. Sign in again to continue.");
    return;
  }
  const warnAt = state.idleMs - Math.min(WARN_BEFORE_MS, state.idleMs / 4);
  if (idleFor >= warnAt && !state.warned) {
    state.warned = true;
    const seconds = Math.round((state.idleMs - idleFor) / 1000);
    announce("You will be signed out in " + seconds + " seconds without activity. Press any key to stay.");
  }
  const margin = Math.min(REFRESH_MARGIN_MS, state.tokens.lifetimeMs / 4);
  if (state.tokens.idExpiresAt - now < margin && !state.refreshing) {
    refreshTokens().then((ok) => {
      if (!ok && state.tokens && state.tokens.idExpiresAt <= Date.now()) {
        signOut("Your session has ended. Sign in again to continue.");
      }
    });
  }
  if (now - state.lastSlaRender >= SLA_REFRESH_MS) {
    renderSlaLabels();
  }
}

function idleText() {
  const minutes = state.idleMs / 60000;
  return minutes >= 1 ? Math.round(minutes) + " minutes" : Math.round(state.idleMs / 1000) + " seconds";
}

// --- the staff API ----------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function apiUrl(path, query) {
  const url = new URL(state.apiRoot + path, window.location.href);
  Object.entries(query || {}).forEach(([name, value]) => {
    if (value !== "" && value !== null && value !== undefined && value !== false) {
      url.searchParams.set(name, String(value));
    }
  });
  return url;
}

async function send(method, path, options) {
  const headers = { Authorization: state.tokens.id, Accept: options.accept || "application/json" };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  return fetch(apiUrl(path, options.query), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "omit",
    cache: "no-store",
  });
}

function apiMessage(status, data) {
  if (status === 403) {
    return "Only an admin can do that.";
  }
  if (status === 404) {
    return "No lead has that reference. It may have been erased.";
  }
  if ((status === 400 || status === 422) && data && typeof data.message === "string") {
    return data.message;
  }
  if (status === 429) {
    return "Too many requests. Wait a moment, then try again.";
  }
  return "The server could not do that right now. Try again in a moment.";
}

/** One staff API call with the ID token; one token refresh and retry on 401, then sign-out. */
async function api(method, path, options = {}) {
  if (!state.tokens) {
    throw new ApiError(401, "Not signed in.");
  }
  // An answer that arrives after a sign-out (or for an earlier session) is dropped, never shown.
  const session = state.session;
  const current = () => {
    if (session !== state.session || !state.tokens) {
      throw new ApiError(401, "Signed out.");
    }
  };
  let response;
  try {
    response = await send(method, path, options);
    if (response.status === 401 && session === state.session && (await refreshTokens())) {
      current();
      response = await send(method, path, options);
    }
  } catch (error) {
    current();
    throw new ApiError(0, "No connection to the server. Check the connection and try again.");
  }
  current();
  if (response.status === 401) {
    signOut("Your session has ended. Sign in again to continue.");
    throw new ApiError(401, "Signed out.");
  }
  if (options.raw && response.ok) {
    return response;
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (ignored) {
      data = null;
    }
  }
  current();
  if (!response.ok) {
    throw new ApiError(response.status, apiMessage(response.status, data));
  }
  return data;
}

// --- after sign-in, routing -------------------------------------------------------------------------------

async function afterSignIn() {
  state.session += 1;
  ["sign-in-form", "new-password-form", "mfa-setup-form", "mfa-form"].forEach((id) => byId(id).reset());
  byId("mfa-secret").textContent = "";
  byId("mfa-uri").textContent = "";
  try {
    await api("POST", "/staff/session", { body: {} });
  } catch (error) {
    if (!state.tokens) {
      return; // the API refused the token: signOut() has explained
    }
  }
  state.lastActivity = Date.now();
  state.warned = false;
  byId("user-name").textContent = state.user.email;
  byId("user-role").textContent = isAdmin() ? "Admin" : "Staff";
  byId("user-bar").hidden = false;
  document.querySelectorAll(".admin-only").forEach((node) => {
    node.hidden = !isAdmin();
  });
  window.clearInterval(state.ticker);
  state.ticker = window.setInterval(tick, TICK_MS);
  announce("Signed in as " + state.user.email + ".");
  await route();
}

function leadIdFromHash() {
  return decodeURIComponent(window.location.hash.replace(/^#/, "")).trim().toUpperCase();
}

async function route() {
  if (!state.tokens) {
    if (!state.challenge) {
      showView("view-sign-in");
    }
    return;
  }
  const wanted = leadIdFromHash();
  if (wanted === REPORT_ROUTE) {
    await routeToReport();
    return;
  }
  if (wanted && LEAD_ID.test(wanted)) {
    await openLead(wanted);
    return;
  }
  if (wanted) {
    announce("That link does not point to a lead. Showing the newest leads.", "error");
  }
  await showInbox();
}

// --- the inbox --------------------------------------------------------------------------------------------

async function showInbox() {
  const returningFrom = state.lastLeadId;
  state.lead = null;
  showView("view-inbox");
  byId("filter-status").value = state.filters.status;
  byId("filter-location").value = state.filters.location;
  byId("filter-urgent").checked = state.filters.urgent;
  await loadLeads(true);
  const back = returningFrom && byId("lead-list").querySelector('a[data-lead="' + returningFrom + '"]');
  if (back) {
    back.focus();
  }
}

async function loadLeads(reset) {
  const list = byId("lead-list");
  const query = {
    status: state.filters.status,
    location: state.filters.location,
    urgent: state.filters.urgent ? "true" : "",
    limit: PAGE_SIZE,
    cursor: reset ? "" : state.next,
  };
  // Only the latest list request is shown: an earlier answer that arrives late (other filters) is dropped.
  state.listRequest += 1;
  const request = state.listRequest;
  let data;
  try {
    data = await api("GET", "/staff/leads", { query });
  } catch (error) {
    if (state.tokens && request === state.listRequest) {
      if (reset) {
        list.replaceChildren(); // never a list that does not match the filters shown
        byId("load-more").hidden = true;
        byId("inbox-count").textContent = "The leads could not be shown: " + error.message;
      }
      announce(error.message, "error");
    }
    return null;
  }
  if (request !== state.listRequest) {
    return null;
  }
  if (reset) {
    list.replaceChildren();
    state.listed = 0;
  }
  const leads = Array.isArray(data.leads) ? data.leads : [];
  const items = leads.map(leadItem);
  items.forEach((item) => {
    item.dataset.order = String(state.listed);
    state.listed += 1;
  });
  list.append(...items);
  orderLeads();
  leads.forEach((lead) => rememberLocation(lead.location));
  state.next = data.next || null;
  byId("load-more").hidden = !state.next;
  renderCount();
  state.lastSlaRender = Date.now();
  return items;
}

function renderCount() {
  const list = byId("lead-list");
  const shown = list.children.length;
  const more = state.next ? "; older ones below." : ".";
  const overdue = list.querySelectorAll(".lead-overdue").length;
  const first = overdue ? " " + overdue + " overdue, listed first." : "";
  byId("inbox-count").textContent =
    shown === 0 ? "No leads match." : shown + (shown === 1 ? " lead" : " leads") + " shown" + more + first;
}

function rememberLocation(location) {
  if (typeof location === "string" && location && !state.knownLocations.has(location)) {
    state.knownLocations.add(location);
    const option = document.createElement("option");
    option.value = location;
    option.label = locationLabel(location);
    byId("known-locations").append(option);
  }
}

function badge(text, kind) {
  return h("span", "badge badge-" + kind, text);
}

function leadItem(lead) {
  const item = h("li", "lead");
  const link = h("a", "lead-link");
  const id = String(lead.id || "");
  link.href = "#" + id;
  link.dataset.lead = id;
  const top = h("span", "lead-top");
  const name = [lead.first_name, lead.last_initial ? lead.last_initial + "." : ""].filter(Boolean).join(" ");
  top.append(isolated(name || "(no name)", "lead-name"));
  const badges = h("span", "badges");
  if (lead.urgent) {
    item.classList.add("lead-urgent");
    badges.append(badge("Urgent", "urgent"));
  }
  if (lead.status === "new") {
    item.classList.add("lead-new");
    badges.append(badge("New", "new"));
  } else {
    badges.append(badge(label(lead.status), "status"));
  }
  top.append(badges);
  link.append(top);
  const meta = [
    lead.service ? codeLabel("service", lead.service) : "",
    lead.location ? locationLabel(lead.location) : "",
    lead.referral_type === "provider" ? "Provider referral" : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const line = h("span", "lead-meta");
  line.append(isolated(meta), document.createTextNode(" · "), timeElement(lead.created_at));
  link.append(line);
  const sla = h("span", "lead-sla");
  sla.dataset.sla = JSON.stringify({ status: lead.status, sla_due_at: lead.sla_due_at || null });
  link.append(sla);
  const ref = h("span", "lead-ref", "Ref " + id);
  if (lead.assigned_to) {
    ref.append(document.createTextNode(" · Assigned to "), actorNode(lead.assigned_to));
  }
  link.append(ref);
  item.append(link);
  renderSla(sla);
  return item;
}

function renderSla(node) {
  let entry = null;
  try {
    entry = JSON.parse(node.dataset.sla || "null");
  } catch (ignored) {
    entry = null;
  }
  const sla = slaState(entry);
  node.textContent = sla ? sla.text : "";
  node.hidden = !sla;
  node.classList.toggle("sla-overdue", Boolean(sla && sla.overdue));
  const item = node.closest("li.lead");
  if (item) {
    item.classList.toggle("lead-overdue", Boolean(sla && sla.overdue));
  }
}

/** Labels from the device's clock (no new request); a lead that has just become overdue moves up. */
function renderSlaLabels() {
  state.lastSlaRender = Date.now();
  document.querySelectorAll("[data-sla]").forEach(renderSla);
  orderLeads();
  if (byId("lead-list").children.length) {
    renderCount();
  }
}

/**
 * The shown leads in the order staff work them: new leads past their due time first, then the others; each
 * group keeps the API's order (newest first). Only what is shown is ordered: older pages are not fetched.
 */
function orderLeads() {
  const list = byId("lead-list");
  const items = Array.from(list.children);
  const place = (item) => Number(item.dataset.order || 0);
  const group = (item) => (item.classList.contains("lead-overdue") ? 0 : 1);
  const wanted = items.slice().sort((a, b) => group(a) - group(b) || place(a) - place(b));
  if (wanted.every((item, index) => item === items[index])) {
    return;
  }
  const focused = document.activeElement;
  const hadFocus = focused && list.contains(focused);
  list.append(...wanted);
  if (hadFocus) {
    focused.focus(); // moving an element drops its focus: give it back where it went
  }
}

// --- the report (admin) -----------------------------------------------------------------------------------

async function routeToReport() {
  if (!isAdmin()) {
    announce("The report is for admins. Showing the newest leads.", "error");
    await showInbox();
    return;
  }
  await showReport();
}

async function showReport() {
  state.lead = null;
  const tables = byId("report-tables");
  tables.replaceChildren();
  byId("report-status").textContent = "Loading the report…";
  showView("view-report", "report-title");
  const session = state.session;
  let report;
  try {
    report = await api("GET", "/staff/report", { query: { since: REPORT_SINCE } });
  } catch (error) {
    if (state.tokens && session === state.session) {
      byId("report-status").textContent = "The report could not be shown: " + error.message;
      announce(error.message, "error");
    }
    return;
  }
  if (session !== state.session || leadIdFromHash() !== REPORT_ROUTE) {
    return; // signed out, or moved on, while it loaded
  }
  tables.append(...reportTables(report || {}));
  byId("report-status").textContent =
    "Leads since " + formatTime(report.since) + ", counted at " + formatTime(report.generated_at) + ". Spam is left out.";
}

function numberText(value) {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : "—";
}

function shareText(value) {
  return typeof value === "number" && Number.isFinite(value) ? Math.round(value * 1000) / 10 + " %" : "—";
}

/** One accessible table: a caption, column headers, a row header per row; every cell is text. */
function reportTable(id, caption, headers, rows) {
  const table = h("table");
  table.id = id;
  table.append(h("caption", "", caption));
  const head = h("thead");
  const headRow = h("tr");
  headers.forEach((text) => {
    const cell = h("th", "", text);
    cell.scope = "col";
    headRow.append(cell);
  });
  head.append(headRow);
  const body = h("tbody");
  rows.forEach(([name, ...values]) => {
    const row = h("tr");
    const header = h("th", "", String(name));
    header.scope = "row";
    row.append(header, ...values.map((value) => h("td", "number", String(value))));
    body.append(row);
  });
  if (!rows.length) {
    const row = h("tr");
    const cell = h("td", "", "None in this period.");
    cell.colSpan = headers.length;
    row.append(cell);
    body.append(row);
  }
  table.append(head, body);
  return table;
}

function countRows(counts, nameOf = safeText) {
  const entries = counts && typeof counts === "object" ? Object.entries(counts) : [];
  return entries.map(([key, value]) => [nameOf(key), numberText(value)]);
}

function reportTables(report) {
  const first = report.first_answer || {};
  const open = report.unanswered || {};
  const conversions = report.conversions || {};
  const sla = report.sla_minutes || {};
  return [
    reportTable("report-speed", "Speed to first answer (business minutes)", ["Figure", "Value"], [
      ["Leads (not spam)", numberText(report.total)],
      ["Answered", numberText(first.answered)],
      ["Median minutes to first answer", numberText(first.median_minutes)],
      ["90th percentile minutes", numberText(first.p90_minutes)],
      ["Answered within the SLA", numberText(first.within_sla)],
      ["Share answered within the SLA", shareText(first.within_sla_share)],
      ["Answered, time not recorded", numberText(first.answered_without_time)],
      ["Still unanswered", numberText(open.count)],
      ["Unanswered past the SLA", numberText(open.past_sla)],
      ["Converted to scheduled", numberText(conversions.scheduled)],
      ["Share converted to scheduled", shareText(conversions.share)],
      ["SLA, first contact (minutes)", numberText(sla.first_contact)],
      ["SLA, urgent (minutes)", numberText(sla.urgent)],
    ]),
    reportTable("report-status-counts", "Leads by status", ["Status", "Leads"], countRows(report.by_status, label)),
    reportTable(
      "report-service",
      "Leads by service",
      ["Service", "Leads"],
      countRows(report.by_service, (key) => codeLabel("service", key)),
    ),
    reportTable(
      "report-location",
      "Leads by location",
      ["Location", "Leads"],
      countRows(report.by_location, locationLabel),
    ),
    reportTable("report-source", "Leads by source", ["Source", "Leads"], countRows(report.by_source)),
    reportTable("report-weekly", "Leads by week", ["Week", "Leads"], countRows(report.weekly)),
  ];
}

// --- one lead ---------------------------------------------------------------------------------------------

async function openLead(id) {
  let lead;
  try {
    lead = await api("GET", "/staff/leads/" + encodeURIComponent(id));
  } catch (error) {
    if (state.tokens) {
      announce(error.message, "error");
      if (error.status === 404 || error.status === 400) {
        window.location.hash = "";
      }
    }
    return;
  }
  state.lastLeadId = id;
  renderLead(lead);
  showView("view-lead", "lead-title");
}

function valueText(name, value) {
  if (typeof value === "boolean") {
    return value ? "Yes" : "No";
  }
  if (TIME_FIELDS.has(name)) {
    return formatTime(value);
  }
  if (name === "status") {
    return label(value);
  }
  if (name === "location") {
    return locationLabel(value);
  }
  if (VALUE_LABELS[name]) {
    return codeLabel(name, value);
  }
  if (Array.isArray(value)) {
    return value.map(String).join(", ");
  }
  if (value !== null && typeof value === "object") {
    return JSON.stringify(value);
  }
  return String(value);
}

function contactLink(name, value) {
  const text = String(value);
  if ((name === "phone" || name === "provider_phone") && /^\+[0-9]{6,15}$/.test(text)) {
    const link = h("a", "", text);
    link.href = "tel:" + text;
    return link;
  }
  if ((name === "email" || name === "provider_email") && /^[^\s@<>"]+@[^\s@<>"]+$/.test(text)) {
    const link = h("a", "");
    link.append(isolated(text));
    link.href = "mailto:" + text;
    return link;
  }
  return null;
}

function detailRow(list, name, title, value) {
  const term = h("dt", "", title);
  const description = h("dd", name === "message" ? "detail-message" : "");
  const link = contactLink(name, value);
  if (name === "assigned_to" || name === "first_answered_by") {
    description.append(actorNode(value));
  } else if (link) {
    description.append(link);
  } else if (TIME_FIELDS.has(name)) {
    description.append(timeElement(value));
  } else {
    description.append(isolated(valueText(name, value)));
  }
  list.append(term, description);
}

function fillDetails(listId, fields, lead, shown) {
  const list = byId(listId);
  list.replaceChildren();
  fields.forEach(([name, title]) => {
    shown.add(name);
    const value = lead[name];
    if (value !== null && value !== undefined && value !== "") {
      detailRow(list, name, title, value);
    }
  });
  if (!list.children.length) {
    list.append(h("dt", "", "Nothing recorded"), h("dd", "", "—"));
  }
}

function renderFlags(lead) {
  const flags = byId("lead-flags");
  flags.replaceChildren();
  if (lead.urgent) {
    flags.append(badge("Urgent", "urgent"));
    const reasons = (Array.isArray(lead.urgent_reasons) ? lead.urgent_reasons : [])
      .filter((reason) => Object.prototype.hasOwnProperty.call(URGENT_REASONS, reason))
      .map((reason) => URGENT_REASONS[reason]);
    const why = reasons.length ? " Flagged because " + reasons.join(" and ") + "." : "";
    flags.append(h("span", "flag-text", "Call back first. If they are in danger now: 988 or 911." + why));
  }
  if (lead.status === "new") {
    flags.append(badge("New", "new"));
  }
  const reviewFlags = Array.isArray(lead.review_flags) ? lead.review_flags : [];
  if (reviewFlags.includes("possible_spam")) {
    const reasons = Array.isArray(lead.spam_reasons) ? " (" + lead.spam_reasons.join(", ") + ")" : "";
    flags.append(badge("Check: possible spam" + reasons, "review"));
  }
  const sla = slaState(lead);
  if (sla) {
    const node = h("span", "lead-sla");
    node.dataset.sla = JSON.stringify({ status: lead.status, sla_due_at: lead.sla_due_at });
    flags.append(node);
    renderSla(node);
  }
  flags.hidden = !flags.children.length;
}

function renderHistory(history) {
  const list = byId("lead-history");
  list.replaceChildren();
  const entries = Array.isArray(history) ? history.slice() : [];
  entries.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  entries.forEach((entry) => {
    const item = h("li", "history-entry");
    const head = h("p", "history-head");
    head.append(timeElement(entry.at), document.createTextNode(" · "), actorNode(entry.actor));
    item.append(head);
    item.append(h("p", "history-what", historyText(entry)));
    if (entry.note) {
      const note = h("p", "history-note");
      note.append(isolated(entry.note));
      item.append(note);
    }
    list.append(item);
  });
  byId("lead-history-empty").hidden = entries.length > 0;
}

function historyText(entry) {
  if (entry.action === "assign") {
    return "Assigned" + (entry.status ? " (status " + label(entry.status) + ")" : "");
  }
  if (entry.action === "status") {
    return "Status set to " + label(entry.status || "");
  }
  if (entry.action === "note") {
    return "Note";
  }
  return label(entry.action || "change") + (entry.status ? ": " + label(entry.status) : "");
}

function renderLead(lead) {
  state.lead = lead;
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
  const title = byId("lead-title");
  title.replaceChildren(isolated(name || "(no name)"), document.createTextNode(" · Ref " + lead.id));
  renderFlags(lead);
  const shown = new Set(NOT_SHOWN);
  fillDetails("lead-person", PERSON_FIELDS, lead, shown);
  fillDetails("lead-request", REQUEST_FIELDS, lead, shown);
  fillDetails("lead-consent", CONSENT_FIELDS, lead, shown);
  fillDetails("lead-attribution", ATTRIBUTION_FIELDS, lead, shown);
  fillDetails("lead-handling", HANDLING_FIELDS, lead, shown);
  const handling = byId("lead-handling");
  const sla = slaState(lead);
  if (sla) {
    detailRow(handling, "sla", "Time to first contact", sla.text);
  }
  const others = Object.keys(lead)
    .filter((key) => !shown.has(key))
    .map((key) => [key, key.replace(/_/g, " ")]);
  fillDetails("lead-other", others, lead, shown);
  byId("lead-other-panel").hidden = others.length === 0;
  renderHistory(lead.history);
  byId("status-select").value = STATUS_LABELS[lead.status] ? lead.status : "new";
  const mine = state.user && lead.assigned_to === state.user.username;
  byId("assign-me").hidden = Boolean(mine);
  byId("erase-panel").hidden = !isAdmin();
  byId("erase-dialog-ref").textContent = lead.id;
}

// --- actions ----------------------------------------------------------------------------------------------

async function withBusy(button, work) {
  if (button.getAttribute("aria-disabled") === "true") {
    return;
  }
  button.setAttribute("aria-disabled", "true");
  try {
    await work();
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

async function onSaveStatus(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = byId("status-select").value;
  const note = byId("status-note").value.trim();
  setFieldError("status-error", "");
  if (!state.lead) {
    return;
  }
  await withBusy(form.querySelector("button[type=submit]"), async () => {
    const id = state.lead.id;
    try {
      const lead = await api("POST", "/staff/leads/" + encodeURIComponent(id) + "/status", {
        body: note ? { status, note } : { status },
      });
      await showUpdatedLead(id, lead);
      byId("status-note").value = "";
      announce("Status saved: " + label(status) + ".");
    } catch (error) {
      if (state.tokens) {
        setFieldError("status-error", error.message);
        announce(error.message, "error");
      }
    }
  });
}

/** The lead after a change; history comes from the answer, else from a fresh read of the lead. */
async function showUpdatedLead(id, lead) {
  let fresh = lead;
  if (!fresh || !Array.isArray(fresh.history)) {
    fresh = await api("GET", "/staff/leads/" + encodeURIComponent(id));
  }
  renderLead(fresh);
}

async function onAssign(event) {
  const button = event.currentTarget;
  if (!state.lead) {
    return;
  }
  await withBusy(button, async () => {
    const id = state.lead.id;
    try {
      const lead = await api("POST", "/staff/leads/" + encodeURIComponent(id) + "/assign", { body: {} });
      await showUpdatedLead(id, lead);
      announce("Lead " + id + " is assigned to you.");
      byId("status-select").focus();
    } catch (error) {
      if (state.tokens) {
        announce(error.message, "error");
      }
    }
  });
}

function openEraseDialog() {
  const dialog = byId("erase-dialog");
  dialog.showModal();
  byId("erase-cancel").focus();
}

function trapFocus(event) {
  if (event.key !== "Tab") {
    return;
  }
  const dialog = event.currentTarget;
  const focusable = Array.from(dialog.querySelectorAll("button, [href], input, select, textarea")).filter(
    (node) => !node.disabled && !node.hidden,
  );
  if (!focusable.length) {
    return;
  }
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

async function onEraseConfirm(event) {
  const dialog = byId("erase-dialog");
  if (!state.lead) {
    dialog.close();
    return;
  }
  await withBusy(event.currentTarget, async () => {
    const id = state.lead.id;
    try {
      await api("DELETE", "/staff/leads/" + encodeURIComponent(id));
      dialog.close();
      state.lastLeadId = "";
      announce("Lead " + id + " was erased.");
      window.location.hash = "";
    } catch (error) {
      dialog.close();
      if (state.tokens) {
        announce(error.message, "error");
      }
    }
  });
}

async function onExport(event) {
  event.preventDefault();
  const button = event.currentTarget.querySelector("button[type=submit]");
  const day = byId("export-since").value;
  const since = day ? new Date(day + "T00:00:00").toISOString() : "";
  await withBusy(button, async () => {
    try {
      const response = await api("GET", "/staff/export", { query: { since }, raw: true, accept: "text/csv" });
      const text = await response.text();
      if (!state.tokens) {
        return; // signed out while the file was on its way: nothing is saved
      }
      const blob = new Blob([text], { type: "text/csv;charset=utf-8" });
      const url = URL.createObjectURL(blob);
      const link = h("a", "");
      link.href = url;
      link.download = "leads-" + new Date().toISOString().slice(0, 10) + ".csv";
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      announce("Export downloaded: " + link.download + ".");
    } catch (error) {
      if (state.tokens) {
        announce(error.message, "error");
      }
    }
  });
}

// --- sign-in forms ----------------------------------------------------------------------------------------

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const email = byId("sign-in-email").value.trim();
  const password = byId("sign-in-password").value;
  setFieldError("sign-in-error", "");
  if (!email || !password) {
    setFieldError("sign-in-error", "Enter your email and your password.");
    byId(email ? "sign-in-password" : "sign-in-email").focus();
    return;
  }
  await withBusy(form.querySelector("button[type=submit]"), async () => {
    try {
      await startSignIn(email, password);
    } catch (error) {
      byId("sign-in-password").value = "";
      setFieldError("sign-in-error", error.message);
      byId("sign-in-password").focus();
    }
  });
}

async function onNewPassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const password = byId("new-password").value;
  const again = byId("new-password-again").value;
  setFieldError("new-password-error", "");
  if (!password || password !== again) {
    setFieldError("new-password-error", password ? "The two passwords differ." : "Enter a new password.");
    byId("new-password").focus();
    return;
  }
  await withBusy(form.querySelector("button[type=submit]"), async () => {
    await challengeStep("new-password-error", "new-password", () =>
      respond("NEW_PASSWORD_REQUIRED", { NEW_PASSWORD: password }),
    );
  });
}

async function onMfaSetup(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const code = byId("mfa-setup-code").value.replace(/\s/g, "");
  setFieldError("mfa-setup-error", "");
  if (!/^[0-9]{6}$/.test(code)) {
    setFieldError("mfa-setup-error", "Enter the 6 digits the app shows.");
    byId("mfa-setup-code").focus();
    return;
  }
  await withBusy(form.querySelector("button[type=submit]"), async () => {
    await challengeStep("mfa-setup-error", "mfa-setup-code", async () => {
      const verified = await cognito("VerifySoftwareToken", {
        Session: state.challenge.session,
        UserCode: code,
        FriendlyDeviceName: "Authenticator app",
      });
      state.challenge.session = verified.Session || state.challenge.session;
      await respond("MFA_SETUP", {});
    });
  });
}

async function onMfa(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const code = byId("mfa-code").value.replace(/\s/g, "");
  setFieldError("mfa-error", "");
  if (!/^[0-9]{6}$/.test(code)) {
    setFieldError("mfa-error", "Enter the 6 digits the app shows.");
    byId("mfa-code").focus();
    return;
  }
  await withBusy(form.querySelector("button[type=submit]"), async () => {
    await challengeStep("mfa-error", "mfa-code", () =>
      respond("SOFTWARE_TOKEN_MFA", { SOFTWARE_TOKEN_MFA_CODE: code }),
    );
  });
}

/** One challenge answer; an expired sign-in session goes back to the first step. */
async function challengeStep(errorId, inputId, work) {
  if (!state.challenge) {
    showView("view-sign-in");
    return;
  }
  try {
    await work();
  } catch (error) {
    if (error.type === "NotAuthorizedException") {
      state.challenge = null;
      showView("view-sign-in");
      setFieldError("sign-in-error", error.message);
      return;
    }
    setFieldError(errorId, error.message);
    byId(inputId).focus();
  }
}

// --- inbox forms ------------------------------------------------------------------------------------------

function onFind(event) {
  event.preventDefault();
  // Crockford base32 as people type it: case-insensitive, I/L read as 1, O as 0, spaces and dashes ignored.
  const typed = byId("find-ref").value.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (!LEAD_ID.test(typed)) {
    setFieldError("find-error", "A reference is 10 letters and digits, as in the alert.");
    byId("find-ref").focus();
    return;
  }
  setFieldError("find-error", "");
  byId("find-ref").value = "";
  if (leadIdFromHash() === typed) {
    openLead(typed);
  } else {
    window.location.hash = typed;
  }
}

async function onFilter(event) {
  event.preventDefault();
  state.filters = {
    status: byId("filter-status").value,
    location: byId("filter-location").value.trim(),
    urgent: byId("filter-urgent").checked,
  };
  if (await loadLeads(true)) {
    announce(byId("inbox-count").textContent);
  }
}

async function onLoadMore(event) {
  await withBusy(event.currentTarget, async () => {
    const items = await loadLeads(false);
    if (items && items.length) {
      items[0].querySelector("a").focus();
    }
  });
}

// --- start ------------------------------------------------------------------------------------------------

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) {
    throw new Error("config " + response.status);
  }
  const config = await response.json();
  if (!config.authEndpoint || !config.clientId) {
    throw new Error("config incomplete");
  }
  return config;
}

function apiRootFor(config) {
  if (typeof config.apiBase === "string" && config.apiBase) {
    return config.apiBase.replace(/\/$/, "");
  }
  // Same API as the page: everything before "/staff/" in the page's path (e.g. "/Prod" on API Gateway).
  return window.location.pathname.replace(/\/staff(\/.*)?$/, "");
}

function bind() {
  byId("sign-in-form").addEventListener("submit", onSignIn);
  byId("new-password-form").addEventListener("submit", onNewPassword);
  byId("mfa-setup-form").addEventListener("submit", onMfaSetup);
  byId("mfa-form").addEventListener("submit", onMfa);
  byId("find-form").addEventListener("submit", onFind);
  byId("filter-form").addEventListener("submit", onFilter);
  byId("load-more").addEventListener("click", onLoadMore);
  byId("export-form").addEventListener("submit", onExport);
  byId("status-form").addEventListener("submit", onSaveStatus);
  byId("assign-me").addEventListener("click", onAssign);
  byId("erase-open").addEventListener("click", openEraseDialog);
  byId("erase-cancel").addEventListener("click", () => byId("erase-dialog").close());
  byId("erase-confirm").addEventListener("click", onEraseConfirm);
  byId("erase-dialog").addEventListener("keydown", trapFocus);
  byId("erase-dialog").addEventListener("close", () => {
    if (state.lead) {
      byId("erase-open").focus();
    }
  });
  byId("sign-out").addEventListener("click", () => signOut("You are signed out."));
  window.addEventListener("hashchange", () => {
    route();
  });
  ACTIVITY_EVENTS.forEach((name) => document.addEventListener(name, noteActivity, { capture: true, passive: true }));
}

async function start() {
  bind();
  try {
    state.config = await loadConfig();
  } catch (ignored) {
    byId("loading").textContent =
      "The console could not load its settings. Reload the page; if that fails, tell the operations team.";
    return;
  }
  const minutes = Number(state.config.idleMinutes);
  state.idleMs = (Number.isFinite(minutes) && minutes > 0 ? minutes : 30) * 60000;
  state.apiRoot = apiRootFor(state.config);
  if (Array.isArray(state.config.locations)) {
    state.config.locations.forEach(rememberLocation); // the clinic's locations, offered in the filter
  }
  showView("view-sign-in", "sign-in-email");
  if (LEAD_ID.test(leadIdFromHash())) {
    announce("Sign in to open lead " + leadIdFromHash() + ".");
  }
  document.documentElement.dataset.ready = "true";
}

start();

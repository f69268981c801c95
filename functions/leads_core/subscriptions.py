"""Are the staff alert subscriptions still there? (contract 2.5, last bullet; ``leads subscriptions``)

Every SNS email carries an unsubscribe link, and a mail scanner that follows links removes that address
from the topic without anyone noticing. This module compares the topic's subscriptions with the configured
endpoints and gives each configured endpoint one state:

- ``confirmed``: subscribed, and only an AWS-authenticated caller can unsubscribe it;
- ``pending``: subscribed but the confirmation link was not followed yet (no alert reaches it);
- ``missing``: configured but not subscribed (unsubscribed, or the confirmation expired after 3 days);
- ``unauthenticated-unsubscribe``: confirmed through the link in the email, so anyone holding the
  unsubscribe link (a scanner) can remove it. Fix: re-subscribe and confirm with ``leads subscriptions
  confirm URL`` (``AuthenticateOnUnsubscribe=true``).

The same code runs in the ``leads`` CLI and in the scheduled check function (``check_subscriptions``); the
AWS calls take a client, pure functions do the comparison. Endpoints are personal data of staff: anything
shown or logged uses ``mask_endpoint``; the check function logs and publishes counts only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

CONFIRMED = "confirmed"
PENDING = "pending"
MISSING = "missing"
UNAUTHENTICATED = "unauthenticated-unsubscribe"
STATES = (CONFIRMED, PENDING, MISSING, UNAUTHENTICATED)
UNHEALTHY_STATES = (PENDING, MISSING, UNAUTHENTICATED)

# Protocols whose messages carry an unsubscribe link anyone can follow; an SMS has none (a STOP reply opts the
# number out of all SMS of the account instead), so its ConfirmationWasAuthenticated does not matter.
UNSUBSCRIBE_LINK_PROTOCOLS = frozenset({"email", "email-json", "http", "https"})

# SNS shows a subscription that waits for confirmation (and, briefly, one being removed) without an ARN.
_PENDING_ARN = "PendingConfirmation"
_DELETED_ARN = "Deleted"


@dataclass(frozen=True)
class EndpointList:
    """One configured list of alert recipients: its template parameter, its environment variable (the check
    function's and the CLI's), and the protocol its subscriptions use."""

    parameter: str
    variable: str
    protocol: str


# Every configured list, in the order they are shown (the escalation lists receive only the second escalation
# of a lead still unanswered at twice its SLA, docs/speed-to-lead.md).
ENDPOINT_LISTS: tuple[EndpointList, ...] = (
    EndpointList("StaffEmails", "STAFF_EMAILS", "email"),
    EndpointList("StaffPhones", "STAFF_PHONES", "sms"),
    EndpointList("UrgentPhones", "URGENT_PHONES", "sms"),
    EndpointList("EscalationEmails", "ESCALATION_EMAILS", "email"),
    EndpointList("EscalationPhones", "ESCALATION_PHONES", "sms"),
)


@dataclass(frozen=True)
class ConfiguredEndpoint:
    source: str  # the parameter it comes from, e.g. "StaffEmails"
    protocol: str
    endpoint: str = field(repr=False)  # staff contact data: kept out of reprs, tracebacks and logs


@dataclass(frozen=True)
class TopicSubscription:
    """What SNS says about one subscription of the topic (attributes only for those with an ARN)."""

    arn: str
    protocol: str
    endpoint: str = field(repr=False)
    attributes: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def pending(self) -> bool:
        return self.arn == _PENDING_ARN or _true(self.attributes.get("PendingConfirmation"))

    @property
    def deleted(self) -> bool:
        return self.arn == _DELETED_ARN

    @property
    def authenticated(self) -> bool:
        return _true(self.attributes.get("ConfirmationWasAuthenticated"))

    @property
    def filter_policy(self) -> Any:
        raw = self.attributes.get("FilterPolicy")
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw


@dataclass(frozen=True)
class EndpointStatus:
    source: str
    protocol: str
    endpoint: str = field(repr=False)  # the real endpoint: never shown or logged, see ``as_dict``
    state: str = MISSING
    filter_policy: Any = None

    @property
    def healthy(self) -> bool:
        return self.state == CONFIRMED

    def as_dict(self) -> dict[str, Any]:
        """The public view: the endpoint masked."""
        return {
            "source": self.source,
            "protocol": self.protocol,
            "endpoint": mask_endpoint(self.endpoint),
            "state": self.state,
            "filter_policy": self.filter_policy,
        }


@dataclass(frozen=True)
class SubscriptionReport:
    statuses: tuple[EndpointStatus, ...]
    other_subscriptions: Mapping[str, int]  # protocol -> count of subscriptions no list configures

    @property
    def unhealthy(self) -> tuple[EndpointStatus, ...]:
        return tuple(status for status in self.statuses if not status.healthy)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for status in self.statuses:
            counts[status.state] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscriptions": [status.as_dict() for status in self.statuses],
            "counts": self.counts(),
            "unhealthy": len(self.unhealthy),
            "other_subscriptions": dict(self.other_subscriptions),
        }


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


# ------------------------------------------------------------------------------------------ masking


def mask_endpoint(endpoint: str) -> str:
    """``alex@clinic.com`` -> ``a***@clinic.com``; ``+16305550142`` -> ``+1******0142``."""
    value = endpoint.strip()
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 6) + value[-4:]


# ------------------------------------------------------------------------------------------ configuration


def normalise_endpoint(protocol: str, endpoint: str) -> str:
    """The form two spellings of one endpoint share (case of emails; spaces, dashes, brackets of phones)."""
    value = endpoint.strip()
    if protocol == "email":
        return value.lower()
    if protocol == "sms":
        return re.sub(r"[\s().-]", "", value)
    return value


def split_list(raw: str | None) -> list[str]:
    """A comma list as CloudFormation joins a ``CommaDelimitedList`` (empty entries dropped)."""
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def configured_endpoints(
    values: Mapping[str, str | None], *, by: str = "variable"
) -> list[ConfiguredEndpoint]:
    """The configured endpoints from ``values`` keyed by each list's environment variable (``by="variable"``,
    the check function) or template parameter (``by="parameter"``, a deployed stack's parameters)."""
    found: list[ConfiguredEndpoint] = []
    for endpoint_list in ENDPOINT_LISTS:
        key = endpoint_list.variable if by == "variable" else endpoint_list.parameter
        for endpoint in split_list(values.get(key)):
            found.append(ConfiguredEndpoint(endpoint_list.parameter, endpoint_list.protocol, endpoint))
    return found


# ------------------------------------------------------------------------------------------ comparison


def compare(
    configured: Iterable[ConfiguredEndpoint], subscriptions: Iterable[TopicSubscription]
) -> SubscriptionReport:
    """Each configured endpoint with its state (pure: no AWS)."""
    by_key: dict[tuple[str, str], list[TopicSubscription]] = {}
    for subscription in subscriptions:
        if subscription.deleted:
            continue
        key = (subscription.protocol, normalise_endpoint(subscription.protocol, subscription.endpoint))
        by_key.setdefault(key, []).append(subscription)

    matched: set[tuple[str, str]] = set()
    statuses: list[EndpointStatus] = []
    for wanted in configured:
        key = (wanted.protocol, normalise_endpoint(wanted.protocol, wanted.endpoint))
        candidates = by_key.get(key, [])
        matched.add(key)
        statuses.append(
            EndpointStatus(
                source=wanted.source,
                protocol=wanted.protocol,
                endpoint=wanted.endpoint,
                state=_state_of(candidates),
                filter_policy=_best(candidates).filter_policy if candidates else None,
            )
        )
    others: dict[str, int] = {}
    for key, found in by_key.items():
        if key not in matched:
            others[key[0]] = others.get(key[0], 0) + len(found)
    return SubscriptionReport(tuple(statuses), others)


def _best(candidates: list[TopicSubscription]) -> TopicSubscription:
    """Of several subscriptions of one endpoint, the healthiest (confirmed and authenticated first)."""
    return sorted(candidates, key=lambda s: (s.pending, not s.authenticated))[0]


def _state_of(candidates: list[TopicSubscription]) -> str:
    if not candidates:
        return MISSING
    best = _best(candidates)
    if best.pending:
        return PENDING
    if not best.authenticated and best.protocol in UNSUBSCRIBE_LINK_PROTOCOLS:
        return UNAUTHENTICATED
    return CONFIRMED


# ------------------------------------------------------------------------------------------ AWS reads


def topic_subscriptions(sns: Any, topic_arn: str) -> list[TopicSubscription]:
    """Every subscription of the topic (all pages) with its attributes (ListSubscriptionsByTopic,
    GetSubscriptionAttributes). A subscription that disappears between the two calls is left out."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    listed: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TopicArn": topic_arn}
    while True:
        page = sns.list_subscriptions_by_topic(**kwargs)
        listed.extend(page.get("Subscriptions", []))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token

    found: list[TopicSubscription] = []
    for item in listed:
        arn = str(item.get("SubscriptionArn", ""))
        attributes: dict[str, str] = {}
        if arn.startswith("arn:"):
            try:
                attributes = dict(sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"NotFound", "NotFoundException"}:
                    continue
                raise
        found.append(
            TopicSubscription(
                arn=arn,
                protocol=str(item.get("Protocol", "")),
                endpoint=str(item.get("Endpoint", "")),
                attributes={str(k): str(v) for k, v in attributes.items()},
            )
        )
    return found


def check(sns: Any, topic_arn: str, configured: Iterable[ConfiguredEndpoint]) -> SubscriptionReport:
    return compare(configured, topic_subscriptions(sns, topic_arn))


# ------------------------------------------------------------------------------------------ confirmation


class InvalidConfirmation(ValueError):
    """Not an SNS confirmation link (or token) for this stack's topic; the message says why."""


@dataclass(frozen=True)
class Confirmation:
    topic_arn: str
    token: str


_TOKEN = re.compile(r"^[0-9a-f]{32,1024}$")
_SAFE_LINKS_HOST = ".safelinks.protection.outlook.com"
_SNS_HOST = re.compile(r"^sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def parse_confirmation(value: str, topic_arn: str) -> Confirmation:
    """The token of a ``ConfirmSubscription`` link from SNS's confirmation email, for ``topic_arn`` only.

    Accepts the whole link (``https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&TopicArn=...
    &Token=...``, also as rewritten by Safe Links or with HTML ``&amp;``) or just its token. Refuses anything
    else: another host, another action, another topic, a missing or malformed token.
    """
    text = value.strip().replace("&amp;", "&")  # a link copied from the email's HTML source
    if not text:
        raise InvalidConfirmation("empty: paste the confirmation link from the email, or its token")
    if _TOKEN.match(text):
        return Confirmation(topic_arn=topic_arn, token=text)
    query = parse_qs(_sns_link(text, topic_arn).query)
    action = query.get("Action", [""])[0]
    if action != "ConfirmSubscription":
        raise InvalidConfirmation(f"not a ConfirmSubscription link (Action={action or 'none'})")
    link_topic = query.get("TopicArn", [""])[0]
    if link_topic != topic_arn:
        raise InvalidConfirmation("the link confirms a subscription to another topic, not this stack's")
    token = query.get("Token", [""])[0]
    if not token:
        raise InvalidConfirmation("the link has no Token")
    if not _TOKEN.match(token):
        raise InvalidConfirmation("the link's Token is not an SNS confirmation token")
    return Confirmation(topic_arn=topic_arn, token=token)


def _sns_link(text: str, topic_arn: str) -> SplitResult:
    """``text`` as an https link to SNS in the topic's region (unwrapped from Safe Links when rewritten)."""
    parts = urlsplit(text)
    if (parts.hostname or "").endswith(_SAFE_LINKS_HOST) and parse_qs(parts.query).get("url"):
        # A link rewritten by the mail scanner (Microsoft Safe Links): the original is its ``url`` parameter.
        parts = urlsplit(parse_qs(parts.query)["url"][0])
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidConfirmation("not an https link and not a confirmation token")
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else ""
    host = _SNS_HOST.match(parts.hostname)
    if host is None:
        raise InvalidConfirmation(f"not an SNS link (host {parts.hostname})")
    if region and host.group(1) != region:
        raise InvalidConfirmation(
            f"the link is for region {host.group(1)}, this stack's topic is in {region}"
        )
    return parts


def confirm(sns: Any, confirmation: Confirmation) -> str:
    """Confirm with ``AuthenticateOnUnsubscribe=true`` (signed with the caller's credentials); the new
    subscription's ARN."""
    response = sns.confirm_subscription(
        TopicArn=confirmation.topic_arn, Token=confirmation.token, AuthenticateOnUnsubscribe="true"
    )
    return str(response.get("SubscriptionArn", ""))

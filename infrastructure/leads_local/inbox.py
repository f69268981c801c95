"""The local alert inbox: every alert the staff topic delivered, for ``/_local/alerts`` and ``/_local/inbox``.

Delivery: at start the stack subscribes an SQS queue (``<prefix>-LocalInbox``, raw delivery off) to the topic;
a thread drains it and parses each SNS envelope (``MessageId``, ``Subject``, ``MessageAttributes``,
``Timestamp``). That is the proof an alert went through the topic and its subscriptions.

Content: with ``MessageStructure=json`` SNS gives each subscriber only its protocol's key (an SQS subscriber
gets ``sqs`` or ``default``), so the queue alone cannot show the ``email`` and ``sms`` texts staff receive.
moto's topic keeps every message it accepted (the whole JSON document, by message id): the inbox reads the
``email`` and ``sms`` parts from there, matched by ``MessageId``, through a ``lookup``: the local stack's
emulation answers it on an internal route (``leads_local.aws_process.AwsEmulator.published_message``); with
moto in the same process (tests) ``moto_published_message`` reads the backend directly. This covers publishes
from any client (the alert function, ``leads alert-test``, ``aws sns publish``). When the topic's copy cannot
be found (it should not happen), the delivered text stands in for both parts.

SMS as the phone receives it: ``sms`` is the topic's display name, ``"> "`` and the ``sms`` part (SNS puts
that prefix in front of every SMS from a topic), and ``None`` when no SMS subscription received the alert.
moto delivers nothing to SMS subscriptions, so the inbox decides as SNS would: it reads the topic's SMS
subscriptions and their filter policies (``ListSubscriptionsByTopic``, ``GetSubscriptionAttributes``) and
the topic's ``DisplayName`` (``GetTopicAttributes``) once per batch of alerts read from the queue, and
matches each alert's message attributes against those policies (moto's own filter-policy matcher, the one
that decides SQS deliveries; a policy with ``FilterPolicyScope=MessageBody`` is matched against the
published document's ``default``/``sqs`` text).
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeliveredAlert:
    lead_id: str
    subject: str
    email: str
    sms: str | None  # as the phone receives it (display-name prefix included); None: no SMS subscriber got it
    attributes: dict[str, str]
    published_at: str
    message_id: str

    def public(self) -> dict[str, Any]:
        """The ``/_local/alerts`` item (contract section 4)."""
        data = asdict(self)
        data.pop("message_id")
        return data


PublishedLookup = Callable[[str, str], str | None]


def moto_published_message(topic_arn: str, message_id: str) -> str | None:
    """The message document moto's topic accepted for ``message_id`` (in-process moto server only)."""
    try:
        from moto.sns.models import sns_backends  # noqa: PLC0415

        _, _, _, region, account_id, _ = topic_arn.split(":", 5)
        topic = sns_backends[account_id][region].topics[topic_arn]
        for sent in reversed(list(topic.sent_notifications)):
            if sent[0] == message_id:
                return str(sent[1])
    except (ImportError, KeyError, ValueError, AttributeError, IndexError):
        return None
    return None


@dataclass(frozen=True)
class SmsRoute:
    """The topic's SMS side: its display name and the filter policy (and scope) of each SMS subscription."""

    display_name: str = ""
    policies: Sequence[tuple[dict[str, Any] | None, str]] = field(default_factory=tuple)

    def received(self, envelope_attributes: Mapping[str, Any], message: str) -> bool:
        """Whether at least one SMS subscription's filter policy lets this message through."""
        if not self.policies:
            return False
        from moto.sns.utils import FilterPolicyMatcher  # noqa: PLC0415

        for policy, scope in self.policies:
            if not policy:
                return True
            try:
                if FilterPolicyMatcher(policy, scope).matches(dict(envelope_attributes), message):
                    return True
            except FilterPolicyMatcher.CheckException:
                continue
        return False

    def as_delivered(self, sms: str) -> str:
        return f"{self.display_name}> {sms}" if self.display_name else sms


def read_sms_route(sns_client: Any, topic_arn: str) -> SmsRoute:
    """The topic's display name and its SMS subscriptions' filter policies, as SNS would apply them."""
    display_name = str(
        sns_client.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("DisplayName") or ""
    )
    policies: list[tuple[dict[str, Any] | None, str]] = []
    token: str | None = None
    while True:
        page = sns_client.list_subscriptions_by_topic(
            TopicArn=topic_arn, **({"NextToken": token} if token else {})
        )
        for subscription in page.get("Subscriptions", []):
            if subscription.get("Protocol") != "sms" or not str(
                subscription.get("SubscriptionArn", "")
            ).startswith("arn:"):
                continue
            attributes = sns_client.get_subscription_attributes(
                SubscriptionArn=subscription["SubscriptionArn"]
            )["Attributes"]
            raw = attributes.get("FilterPolicy")
            policy = json.loads(raw) if raw else None
            policies.append((policy, str(attributes.get("FilterPolicyScope") or "MessageAttributes")))
        token = page.get("NextToken")
        if not token:
            return SmsRoute(display_name, tuple(policies))


def alert_from_envelope(
    envelope: Mapping[str, Any], published: str | None, route: SmsRoute | None = None
) -> DeliveredAlert:
    """Build the inbox entry from the SNS envelope an SQS subscriber received and the published document.

    ``route``: the topic's SMS side (``read_sms_route``); without it no SMS subscription is known and ``sms``
    is ``None``.
    """
    delivered = str(envelope.get("Message", ""))
    email = sms = delivered
    if published is not None and published != delivered:
        # The publish used MessageStructure=json: SNS delivered one key of this document to the queue.
        try:
            document = json.loads(published)
        except ValueError:
            document = None
        if isinstance(document, dict):
            default = str(document.get("default", delivered))
            email = str(document.get("email", default))
            sms = str(document.get("sms", default))
    raw_attributes = envelope.get("MessageAttributes") or {}
    attributes = {
        str(name): str(value.get("Value", "")) if isinstance(value, Mapping) else str(value)
        for name, value in raw_attributes.items()
    }
    received = route is not None and route.received(raw_attributes, delivered)
    return DeliveredAlert(
        lead_id=attributes.get("lead_id", ""),
        subject=str(envelope.get("Subject") or ""),
        email=email,
        sms=route.as_delivered(sms) if route is not None and received else None,
        attributes=attributes,
        published_at=str(envelope.get("Timestamp", "")),
        message_id=str(envelope.get("MessageId", "")),
    )


class AlertInbox:
    """Drains the inbox queue in a thread and keeps every delivered alert in memory, oldest first."""

    def __init__(  # noqa: PLR0913 - keyword-only collaborators of the constructor
        self,
        sqs_client: Any,
        queue_url: str,
        topic_arn: str,
        *,
        sns_client: Any = None,
        lookup: PublishedLookup = moto_published_message,
        on_alert: Callable[[DeliveredAlert], None] | None = None,
        poll_interval_seconds: float = 0.2,
        log: Callable[[str], None] = print,
    ) -> None:
        self.sqs = sqs_client
        self.sns = sns_client
        self.queue_url = queue_url
        self.topic_arn = topic_arn
        self.lookup = lookup
        self.on_alert = on_alert
        self.poll_interval = poll_interval_seconds
        self.log = log
        self._alerts: list[DeliveredAlert] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def alerts(self) -> list[DeliveredAlert]:
        with self._lock:
            return list(self._alerts)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-inbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                received = self.drain_once()
            except Exception as exc:
                self.log(f"alert inbox: {type(exc).__name__} while reading the queue; retrying")
                self._stop.wait(1.0)
                continue
            if not received:
                self._stop.wait(self.poll_interval)

    def drain_once(self) -> int:
        """Receive what the queue holds now (up to 10), record it, delete what was recorded (one
        ``DeleteMessageBatch``: every request takes a turn in the one AWS emulation process); return how many
        arrived."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        # The SMS side as it is now (subscriptions may change while the stack runs), once per batch.
        route = read_sms_route(self.sns, self.topic_arn) if messages and self.sns is not None else None
        recorded: list[str] = []
        try:
            for message in messages:
                try:
                    envelope = json.loads(message["Body"])
                except ValueError:
                    envelope = {"Message": message["Body"]}
                alert = alert_from_envelope(
                    envelope, self.lookup(self.topic_arn, str(envelope.get("MessageId"))), route
                )
                with self._lock:
                    self._alerts.append(alert)
                    self._alerts.sort(key=lambda a: a.published_at)
                recorded.append(message["ReceiptHandle"])
                if self.on_alert is not None:
                    self.on_alert(alert)
        finally:
            if recorded:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(recorded)
                    ],
                )
        return len(messages)


def console_line(alert: DeliveredAlert) -> str:
    """One short console line per alert: ids, priority and subject only (never personal data)."""
    priority = alert.attributes.get("priority", "?")
    return f"alert: lead {alert.lead_id or '-'} priority={priority} subject={alert.subject!r}"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local staff inbox ({count})</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }}
header {{ background: #1f2937; color: #fff; padding: 12px 20px; }}
header p {{ margin: 4px 0 0; color: #d1d5db; font-size: 14px; }}
main {{ padding: 16px 20px; }}
.alert {{ display: flex; flex-wrap: wrap; gap: 20px; background: #fff; border-radius: 8px;
  padding: 16px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.1); }}
.alert.urgent {{ border-left: 6px solid #dc2626; }}
.mail {{ flex: 2 1 420px; }}
.mail dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 8px;
  font-size: 14px; }}
.mail dt {{ color: #6b7280; }} .mail dd {{ margin: 0; }}
.mail pre {{ white-space: pre-wrap; background: #f9fafb; border: 1px solid #e5e7eb; padding: 10px;
  font: 13px/1.45 ui-monospace, monospace; margin: 0; }}
.phone {{ flex: 1 1 240px; max-width: 300px; background: #111827; border-radius: 24px; padding: 18px 12px; }}
.phone .from {{ color: #9ca3af; font-size: 12px; text-align: center; margin-bottom: 8px; }}
.bubble {{ background: #e5e7eb; border-radius: 16px 16px 16px 4px; padding: 8px 12px;
  font-size: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }}
.phone .meta {{ color: #9ca3af; font-size: 11px; margin-top: 6px; }}
.badge {{ display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  background: #e5e7eb; }}
.badge.urgent {{ background: #dc2626; color: #fff; }}
.empty {{ color: #6b7280; }}
</style></head>
<body><header><strong>Local staff inbox</strong>
<p>Every alert the staff topic delivered, newest first ({count}). Refreshes every 3 seconds.
Data lives in memory only. JSON: <a href="/_local/alerts" style="color:#93c5fd">/_local/alerts</a></p>
</header><main>
{items}
</main></body></html>
"""

_ITEM = """<section class="alert{urgent_class}">
<div class="mail"><dl>
<dt>From</dt><dd>{sender} (staff alert topic)</dd>
<dt>Subject</dt><dd><strong>{subject}</strong></dd>
<dt>Date</dt><dd>{published_at}</dd>
<dt>Lead</dt><dd>{lead_id} <span class="badge{urgent_class}">{priority}</span> {attributes}</dd>
</dl><pre>{email}</pre></div>
{phone}
</section>"""

_PHONE = """<div class="phone"><div class="from">{sender}</div><div class="bubble">{sms}</div>
<div class="meta">SMS as received, {sms_length} characters</div></div>"""
_NO_PHONE = """<div class="phone"><div class="from">{sender}</div>
<div class="meta">No SMS subscription received this alert.</div></div>"""


def render_inbox(alerts: list[DeliveredAlert], sender: str = "Clinic leads") -> str:
    """The staff view of ``alerts``: each as a plain-text mail and an SMS bubble; every value escaped."""
    escape = html.escape
    items = []
    for alert in reversed(alerts):
        priority = alert.attributes.get("priority", "normal")
        others = ", ".join(
            f"{name}={value}" for name, value in sorted(alert.attributes.items()) if name not in {"lead_id"}
        )
        items.append(
            _ITEM.format(
                urgent_class=" urgent" if priority == "urgent" else "",
                sender=escape(sender),
                subject=escape(alert.subject),
                published_at=escape(alert.published_at),
                lead_id=escape(alert.lead_id or "-"),
                priority=escape(priority),
                attributes=escape(others),
                email=escape(alert.email),
                phone=(
                    _PHONE.format(sender=escape(sender), sms=escape(alert.sms), sms_length=len(alert.sms))
                    if alert.sms is not None
                    else _NO_PHONE.format(sender=escape(sender))
                ),
            )
        )
    body = (
        "\n".join(items)
        or '<p class="empty">No alerts yet. Submit the form on <a href="/">the demo page</a>.</p>'
    )
    return _PAGE.format(count=len(alerts), items=body)

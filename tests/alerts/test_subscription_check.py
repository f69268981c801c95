"""The subscription check (``leads_core.subscriptions`` and the scheduled ``check_subscriptions`` function):
states from moto's subscriptions and from recorded AWS-shaped answers (moto confirms every subscription at
once and authenticates it, so pending and link-confirmed subscriptions are AWS answers replayed through
botocore's Stubber or set on moto's backend), masking, the confirmation-link checks, the metric and the SMS
delivery-status custom resource."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from check_subscriptions import app
from leads_core import aws
from leads_core import subscriptions as subs
from leads_core.observability import logger, metrics
from leads_local.faults import FaultInjector, parse_faults
from leads_local.template import create_subscriptions
from moto.sns.models import sns_backends

EMAIL = "alex.rivera@clinic-staff.example.com"
PHONE = "+16305550142"
URGENT = "+16305550177"
ENDPOINT_ENV = {"STAFF_EMAILS": EMAIL, "STAFF_PHONES": PHONE, "URGENT_PHONES": URGENT}
TOPIC = "arn:aws:sns:us-east-1:123456789012:clinic-StaffAlertsTopic-AbC123"
TOKEN = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad0"


def scheduled_event() -> dict[str, Any]:
    return {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "resources": []}


# ------------------------------------------------------------------------------------------ pure parts


def test_masking_keeps_the_first_letter_domain_and_last_four_digits() -> None:
    assert subs.mask_endpoint("alex@clinic.com") == "a***@clinic.com"
    assert subs.mask_endpoint("+16305550142") == "+1******0142"
    assert subs.mask_endpoint(EMAIL) == "a***@clinic-staff.example.com"
    assert "5550" not in subs.mask_endpoint(PHONE)


def test_configured_lists_come_from_variables_or_parameters() -> None:
    by_variable = subs.configured_endpoints(
        {"STAFF_EMAILS": "a@x.com, b@x.com", "STAFF_PHONES": "", "URGENT_PHONES": PHONE}
    )
    assert [(e.source, e.protocol, e.endpoint) for e in by_variable] == [
        ("StaffEmails", "email", "a@x.com"),
        ("StaffEmails", "email", "b@x.com"),
        ("UrgentPhones", "sms", PHONE),
    ]
    by_parameter = subs.configured_endpoints({"StaffPhones": PHONE}, by="parameter")
    assert [(e.source, e.endpoint) for e in by_parameter] == [("StaffPhones", PHONE)]


def _sub(endpoint: str, protocol: str = "email", arn: str = f"{TOPIC}:1", **attributes: str) -> Any:
    return subs.TopicSubscription(arn=arn, protocol=protocol, endpoint=endpoint, attributes=attributes)


def test_each_state_from_the_topics_subscriptions() -> None:
    configured = subs.configured_endpoints(
        {"STAFF_EMAILS": "ok@x.com,link@x.com,wait@x.com,gone@x.com", "STAFF_PHONES": "+1 (630) 555-0142"}
    )
    report = subs.compare(
        configured,
        [
            _sub("OK@x.com", PendingConfirmation="false", ConfirmationWasAuthenticated="true"),
            _sub("link@x.com", PendingConfirmation="false", ConfirmationWasAuthenticated="false"),
            _sub("wait@x.com", arn="PendingConfirmation"),
            _sub("gone@x.com", arn="Deleted"),
            _sub(PHONE, "sms", PendingConfirmation="false", ConfirmationWasAuthenticated="false"),
            _sub("arn:aws:sqs:us-east-1:123456789012:q", "sqs", ConfirmationWasAuthenticated="true"),
        ],
    )
    assert [s.state for s in report.statuses] == [
        subs.CONFIRMED,
        subs.UNAUTHENTICATED,
        subs.PENDING,
        subs.MISSING,
        subs.CONFIRMED,  # an SMS has no unsubscribe link: how it was confirmed does not matter
    ]
    assert report.counts() == {"confirmed": 2, "pending": 1, "missing": 1, "unauthenticated-unsubscribe": 1}
    assert len(report.unhealthy) == 3
    assert report.other_subscriptions == {"sqs": 1}
    public = json.dumps(report.as_dict())
    assert "link@x.com" not in public
    assert "5550142" not in public
    assert "l***@x.com" in public
    assert "link@x.com" not in repr(report)  # nor in a traceback or a stray log of the objects


def test_a_confirmed_authenticated_duplicate_wins_over_a_pending_one() -> None:
    [configured] = subs.configured_endpoints({"STAFF_EMAILS": "a@x.com"})
    report = subs.compare(
        [configured],
        [
            _sub("a@x.com", arn="PendingConfirmation"),
            _sub(
                "a@x.com", arn=f"{TOPIC}:2", PendingConfirmation="false", ConfirmationWasAuthenticated="true"
            ),
        ],
    )
    assert report.statuses[0].state == subs.CONFIRMED


# ------------------------------------------------------------------------------------------ AWS answers


def test_reads_every_page_and_skips_attributes_of_pending_and_vanished_subscriptions() -> None:
    """Recorded answers of real SNS: a pending subscription is listed with the ARN ``PendingConfirmation``
    (GetSubscriptionAttributes cannot be asked about it), a list has pages (all read before the attributes),
    and a subscription removed between the two calls answers NotFound."""
    sns = boto3.client("sns", region_name="us-east-1")
    confirmed_arn, vanished_arn, link_arn = (f"{TOPIC}:{n}" for n in ("a1", "b2", "c3"))
    with Stubber(sns) as stub:
        stub.add_response(
            "list_subscriptions_by_topic",
            {
                "Subscriptions": [
                    {
                        "SubscriptionArn": confirmed_arn,
                        "Protocol": "sms",
                        "Endpoint": PHONE,
                        "TopicArn": TOPIC,
                    },
                    {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": EMAIL},
                ],
                "NextToken": "page-2",
            },
            {"TopicArn": TOPIC},
        )
        stub.add_response(
            "list_subscriptions_by_topic",
            {
                "Subscriptions": [
                    {"SubscriptionArn": vanished_arn, "Protocol": "email", "Endpoint": "old@x.com"},
                    {"SubscriptionArn": link_arn, "Protocol": "email", "Endpoint": "link@x.com"},
                ]
            },
            {"TopicArn": TOPIC, "NextToken": "page-2"},
        )
        stub.add_response(
            "get_subscription_attributes",
            {"Attributes": {"PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true"}},
            {"SubscriptionArn": confirmed_arn},
        )
        stub.add_client_error("get_subscription_attributes", "NotFound", "Subscription does not exist", 404)
        stub.add_response(
            "get_subscription_attributes",
            {
                "Attributes": {
                    "PendingConfirmation": "false",
                    "ConfirmationWasAuthenticated": "false",
                    "FilterPolicy": '{"priority": ["urgent"]}',
                }
            },
            {"SubscriptionArn": link_arn},
        )
        found = subs.topic_subscriptions(sns, TOPIC)
        stub.assert_no_pending_responses()

    assert [(s.endpoint, s.pending, s.authenticated) for s in found] == [
        (PHONE, False, True),
        (EMAIL, True, False),
        ("link@x.com", False, False),
    ]
    assert found[2].filter_policy == {"priority": ["urgent"]}
    report = subs.compare(
        subs.configured_endpoints({"STAFF_EMAILS": f"{EMAIL},link@x.com,old@x.com", "STAFF_PHONES": PHONE}),
        found,
    )
    assert [s.state for s in report.statuses] == [
        subs.PENDING,
        subs.UNAUTHENTICATED,
        subs.MISSING,
        subs.CONFIRMED,
    ]


# ------------------------------------------------------------------------------------------ confirmation


def _link(**overrides: str) -> str:
    query = {"Action": "ConfirmSubscription", "TopicArn": TOPIC, "Token": TOKEN, **overrides}
    from urllib.parse import urlencode

    return f"https://sns.us-east-1.amazonaws.com/?{urlencode(query)}"


def test_accepts_the_emails_link_or_its_token() -> None:
    assert subs.parse_confirmation(_link(), TOPIC) == subs.Confirmation(TOPIC, TOKEN)
    assert subs.parse_confirmation(f"  {TOKEN}\n", TOPIC) == subs.Confirmation(TOPIC, TOKEN)
    assert subs.parse_confirmation(_link().replace("&", "&amp;"), TOPIC) == subs.Confirmation(TOPIC, TOKEN)


def test_accepts_a_link_rewritten_by_safe_links_but_checks_the_original() -> None:
    from urllib.parse import quote

    wrapped = "https://nam02.safelinks.protection.outlook.com/?url={}&data=05%7C02&reserved=0"
    assert subs.parse_confirmation(wrapped.format(quote(_link(), safe="")), TOPIC) == subs.Confirmation(
        TOPIC, TOKEN
    )
    elsewhere = quote("https://evil.example/?Action=ConfirmSubscription&Token=" + TOKEN, safe="")
    with pytest.raises(subs.InvalidConfirmation, match="not an SNS link"):
        subs.parse_confirmation(wrapped.format(elsewhere), TOPIC)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        (_link().replace("https://", "http://"), "not an https link"),
        (
            _link().replace("sns.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com.evil.example"),
            "not an SNS",
        ),
        (_link().replace("sns.us-east-1", "sns.eu-west-1"), "region eu-west-1"),
        (_link(Action="Unsubscribe"), "not a ConfirmSubscription link"),
        (_link(TopicArn=TOPIC.replace("AbC123", "Other")), "another topic"),
        (_link(Token=""), "no Token"),
        (_link(Token="<script>"), "not an SNS confirmation token"),
        ("https://clinic.example/confirm?Token=abc", "not an SNS link"),
        ("not-a-token", "not an https link"),
    ],
)
def test_refuses_anything_else(value: str, reason: str) -> None:
    with pytest.raises(subs.InvalidConfirmation, match=reason):
        subs.parse_confirmation(value, TOPIC)


# ------------------------------------------------------------------------------------------ check function


@pytest.fixture
def subscribed(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The configured endpoints subscribed as the template's subscription slots do; the function's env set."""
    for name, value in ENDPOINT_ENV.items():
        monkeypatch.setenv(name, value)
    arns = create_subscriptions(
        aws.client("sns"),
        stack.topic_arn,
        {"StaffEmails": [EMAIL], "StaffPhones": [PHONE], "UrgentPhones": [URGENT]},
    )
    yield arns
    metrics.clear_metrics()


def _emf(output: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def _set_moto_attributes(arn: str, **attributes: Any) -> None:
    sns_backends["123456789012"]["us-east-1"].subscriptions[arn].attributes.update(attributes)


def test_template_slots_subscribe_with_their_filter_policy(subscribed: dict[str, str]) -> None:
    assert set(subscribed) == {
        "StaffEmailSubscription1",
        "StaffPhoneSubscription1",
        "UrgentPhoneSubscription1",
    }
    sns = aws.client("sns")
    urgent = sns.get_subscription_attributes(SubscriptionArn=subscribed["UrgentPhoneSubscription1"])
    assert json.loads(urgent["Attributes"]["FilterPolicy"]) == {"priority": ["urgent"], "sms": ["send"]}


def test_healthy_subscriptions_publish_zero(
    subscribed: dict[str, str], lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = app.lambda_handler(scheduled_event(), lambda_context)

    assert result == {
        "checked": 3,
        "unhealthy": 0,
        "counts": {"confirmed": 3, "pending": 0, "missing": 0, "unauthenticated-unsubscribe": 0},
    }
    emf = _emf(capsys.readouterr().out)
    assert emf["UnhealthySubscriptions"] == 0.0  # published on every run: missing data means "not checked"


def test_each_unhealthy_state_is_counted_without_an_endpoint(
    subscribed: dict[str, str],
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _set_moto_attributes(subscribed["StaffEmailSubscription1"], ConfirmationWasAuthenticated="false")
    _set_moto_attributes(subscribed["StaffPhoneSubscription1"], PendingConfirmation="true")
    aws.client("sns").unsubscribe(SubscriptionArn=subscribed["UrgentPhoneSubscription1"])

    with caplog.at_level("DEBUG", logger=logger.name):
        result = app.lambda_handler(scheduled_event(), lambda_context)

    assert result["unhealthy"] == 3
    assert result["counts"] == {"confirmed": 0, "pending": 1, "missing": 1, "unauthenticated-unsubscribe": 1}
    output = capsys.readouterr().out + "\n".join(
        logger.registered_formatter.format(record) for record in caplog.records
    )
    emf = _emf(output)
    assert emf["UnhealthySubscriptions"] == 3.0
    assert emf["SubscriptionsMissing"] == 1.0
    assert emf["SubscriptionsPending"] == 1.0
    assert emf["SubscriptionsUnauthenticated"] == 1.0
    assert "StaffEmails:unauthenticated-unsubscribe" in output
    assert "UrgentPhones:missing" in output
    for value in (EMAIL, "alex.rivera", PHONE, URGENT, "5550142", "5550177"):
        assert value not in output


def test_throttled_sns_never_reports_a_wrong_count(
    subscribed: dict[str, str], lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every SNS operation throttled at 30% (faults that bypass botocore's retries, as ``LOCAL_FAULTS``
    does): each run either reports exactly the truth or fails without publishing the metric, which the alarm
    then reads as missing data (breaching). A throttled read never turns into "healthy" or "missing"."""
    aws.client("sns").unsubscribe(SubscriptionArn=subscribed["StaffEmailSubscription1"])
    capsys.readouterr()
    faults = FaultInjector(parse_faults("sns:*=0.3"), seed=11)
    session = boto3.Session(region_name="us-east-1")
    faults.install(session)
    aws.use_session(session)
    outcomes: list[str] = []
    codes: list[str] = []
    for _ in range(30):
        try:
            result = app.lambda_handler(scheduled_event(), lambda_context)
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
            assert "UnhealthySubscriptions" not in _emf(capsys.readouterr().out)
            outcomes.append("failed")
            continue
        assert result["counts"] == {
            "confirmed": 2,
            "pending": 0,
            "missing": 1,
            "unauthenticated-unsubscribe": 0,
        }
        assert _emf(capsys.readouterr().out)["UnhealthySubscriptions"] == 1.0
        outcomes.append("exact")
    assert set(outcomes) == {"failed", "exact"}
    assert set(codes) == {"Throttled"}  # SNS's own throttling error
    assert faults.injected["sns:ListSubscriptionsByTopic"] > 0
    assert faults.injected["sns:GetSubscriptionAttributes"] > 0


def test_without_a_topic_the_function_names_the_variable(
    subscribed: dict[str, str], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOPIC_ARN")
    with pytest.raises(Exception, match="TOPIC_ARN"):
        app.lambda_handler(scheduled_event(), lambda_context)


# ------------------------------------------------------------------------------------------ custom resource


class _ResponseCatcher(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []  # one subclass per test server (see response_url)

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """CloudFormation's pre-signed response URL, played by a local server that keeps what it was sent."""

    class Catcher(_ResponseCatcher):
        bodies: ClassVar[list[dict[str, Any]]] = []  # this server's only

    server = HTTPServer(("127.0.0.1", 0), Catcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cfn-response?X-Amz-Signature=x", Catcher.bodies
    server.shutdown()
    server.server_close()


ROLE = "arn:aws:iam::123456789012:role/clinic-SmsDeliveryStatusRole-X"


def _cfn_event(request_type: str, url: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/clinic/1",
        "RequestId": "req-1",
        "LogicalResourceId": "SmsDeliveryStatus",
        "ResourceType": "Custom::SmsDeliveryStatus",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:check",
            "DeliveryStatusIAMRole": ROLE,
            "DeliveryStatusSuccessSamplingRate": "100",
            "DefaultSMSType": "Transactional",
        },
    }


def test_custom_resource_sets_and_releases_sms_delivery_status(
    stack: Any, lambda_context: Any, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = response_url
    sns = aws.client("sns")

    app.lambda_handler(_cfn_event("Create", url), lambda_context)
    assert sns.get_sms_attributes()["attributes"] == {
        "DeliveryStatusIAMRole": ROLE,
        "DeliveryStatusSuccessSamplingRate": "100",
        "DefaultSMSType": "Transactional",
    }
    assert bodies[-1]["Status"] == "SUCCESS"
    assert bodies[-1]["RequestId"] == "req-1"
    assert bodies[-1]["LogicalResourceId"] == "SmsDeliveryStatus"
    physical_id = bodies[-1]["PhysicalResourceId"]

    delete = {**_cfn_event("Delete", url), "PhysicalResourceId": physical_id}
    app.lambda_handler(delete, lambda_context)
    assert sns.get_sms_attributes()["attributes"]["DeliveryStatusIAMRole"] == ""
    assert bodies[-1] == {**bodies[-1], "Status": "SUCCESS", "PhysicalResourceId": physical_id}


def test_custom_resource_reports_a_refused_update_and_never_blocks_a_delete(
    stack: Any, lambda_context: Any, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = response_url
    sns = aws.client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error("set_sms_attributes", "AuthorizationError", "not allowed", 403)
        app.lambda_handler(_cfn_event("Update", url), lambda_context)
        stub.add_client_error("get_sms_attributes", "AuthorizationError", "not allowed either", 403)
        app.lambda_handler(_cfn_event("Delete", url), lambda_context)

    assert [b["Status"] for b in bodies] == ["FAILED", "SUCCESS"]
    assert "AuthorizationError" in bodies[0]["Reason"]
    assert "AuthorizationError" in bodies[1]["Reason"]

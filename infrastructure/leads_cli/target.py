"""Which AWS account and resources a ``leads`` command works on.

Three ways to say it, in this order of precedence for each resource:

1. overrides: ``--table`` / ``--topic-arn`` / ``--queue-url`` / ``--hash-key-secret`` (hidden options) or the
   environment variables ``LEADS_TABLE``, ``LEADS_TOPIC_ARN``, ``LEADS_QUEUE_URL``, ``LEADS_HASH_KEY_SECRET``;
   AWS is then reached with the ambient configuration (tests use them with moto in-process);
2. ``--local``: the local stack of ``make run`` (``http://127.0.0.1:$AWS_PORT``, fake credentials, us-east-1,
   the deterministic names of ``leads_local.template.local_outputs``);
3. ``--stack NAME [--region R]`` (default ``LEADS_STACK``): the outputs of a deployed CloudFormation stack,
   read with the operator's own credentials.

Resources are resolved lazily: a command that only reads the table never asks for the topic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from leads_core import aws

LOCAL_REGION = "us-east-1"
DEFAULT_AWS_PORT = 4566
DEFAULT_PORT = 3000

# Resource -> (stack output, override environment variable, what it is for the error message)
OUTPUTS: dict[str, tuple[str, str, str]] = {
    "table": ("LeadsTableName", "LEADS_TABLE", "the leads table"),
    "topic": ("StaffAlertsTopicArn", "LEADS_TOPIC_ARN", "the staff alert topic"),
    "queue": ("AlertFailuresQueueUrl", "LEADS_QUEUE_URL", "the alert failures queue"),
    "hash_key_secret": ("HashKeySecretArn", "LEADS_HASH_KEY_SECRET", "the hash key secret"),
    "stream": ("LeadsTableStreamArn", "LEADS_STREAM_ARN", "the table's stream"),
    "api": ("ApiUrl", "LEADS_API_URL", "the consultations API"),
    "user_pool": ("StaffUserPoolId", "LEADS_USER_POOL_ID", "the staff user pool"),
    "user_pool_client": ("StaffUserPoolClientId", "LEADS_USER_POOL_CLIENT_ID", "the console's app client"),
    "console": ("StaffConsoleUrl", "LEADS_CONSOLE_URL", "the staff console"),
    "lead_events_bus": ("LeadEventsBusName", "LEADS_EVENTS_BUS", "the lead events bus"),
}
# Outputs the local stack cannot name in advance (user pools get random ids): asked of the running stack.
_LOCAL_LOOKUPS = frozenset({"StaffUserPoolId", "StaffUserPoolClientId"})

# Stack parameters the alert renderer needs (``leads dlq replay`` renders alerts like the alert function).
_ALERT_PARAMETERS = {
    "clinic_name": ("ClinicName", "CLINIC_NAME"),
    "alert_detail": ("AlertDetail", "ALERT_DETAIL"),
    "alert_storm_threshold": ("AlertStormThreshold", "ALERT_STORM_THRESHOLD"),
}
_TEMPLATE_DEFAULTS = {"clinic_name": "Clinic", "alert_detail": "minimal", "alert_storm_threshold": "20"}


@dataclass(frozen=True)
class AlertRenderSettings:
    """What ``leads_core.delivery`` needs to render and publish (its ``DeliverySettings`` protocol)."""

    table_name: str
    topic_arn: str
    clinic_name: str
    alert_detail: str
    console_url: str
    alert_storm_threshold: int = 20


class TargetError(Exception):
    """No target, an unknown stack, or a stack without a needed output (exit code 4)."""


@dataclass
class TargetOptions:
    local: bool = False
    stack: str | None = None
    region: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)

    def merged_with(self, outer: TargetOptions) -> TargetOptions:
        """Options given to a subcommand win over those given to the group (``leads --local list``)."""
        return TargetOptions(
            local=self.local or outer.local,
            stack=self.stack or outer.stack,
            region=self.region or outer.region,
            overrides={**outer.overrides, **self.overrides},
        )


class Target:
    """Resolved lazily; ``describe()`` names it for humans (never a visitor value, never a secret)."""

    def __init__(self, options: TargetOptions, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self._overrides = {
            name: value
            for name, (_, variable, _) in OUTPUTS.items()
            if (value := options.overrides.get(name) or env.get(variable, ""))
        }
        stack = options.stack or ("" if options.local else env.get("LEADS_STACK", ""))
        self.local = options.local
        self.stack = stack or None
        self.region = options.region or None
        self.aws_port = int(env.get("AWS_PORT") or DEFAULT_AWS_PORT)
        self.port = int(env.get("PORT") or DEFAULT_PORT)
        self._outputs: dict[str, str] | None = None
        self._local_pool: dict[str, str] | None = None
        self._parameters: dict[str, str] = {}
        self._environ = env
        if not self.local and not self.stack and not self._overrides:
            raise TargetError(
                "no target: pass --local (the local stack) or --stack NAME (or set LEADS_STACK)"
            )

    # ------------------------------------------------------------------ session

    def activate(self) -> None:
        """Install the boto3 session every ``leads_core`` call will use."""
        import boto3  # noqa: PLC0415

        if self.local:
            # boto3 reads the endpoint from the environment; this process is the CLI, nothing else runs in it.
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
            os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
            aws.use_session(
                boto3.Session(
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",  # noqa: S106 - the local stack's fake credentials
                    region_name=LOCAL_REGION,
                )
            )
        elif self.stack and self.region and aws.session().region_name != self.region:
            # The operator's own credentials (profile, SSO, environment) in the region asked for.
            aws.use_session(boto3.Session(region_name=self.region))

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def describe(self) -> str:
        if self.local:
            return f"local stack at {self.endpoint_url}"
        if self.stack:
            return f"stack {self.stack}" + (f" ({self.region})" if self.region else "")
        return "resources given by override"

    # ------------------------------------------------------------------ resources

    def _stack_outputs(self) -> dict[str, str]:
        if self._outputs is not None:
            return self._outputs
        if self.local:
            from leads_local.template import local_outputs  # noqa: PLC0415

            self._outputs = local_outputs(port=self.port, aws_port=self.aws_port)
            return self._outputs
        if not self.stack:
            self._outputs = {}
            return self._outputs
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            stacks = aws.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ValidationError" and "does not exist" in str(error.get("Message", "")):
                raise TargetError(f"stack {self.stack!r} does not exist in this account/region") from None
            raise
        outputs = stacks[0].get("Outputs", []) if stacks else []
        parameters = stacks[0].get("Parameters", []) if stacks else []
        self._outputs = {str(o["OutputKey"]): str(o["OutputValue"]) for o in outputs}
        self._parameters = {
            str(p["ParameterKey"]): str(p.get("ResolvedValue") or p.get("ParameterValue", ""))
            for p in parameters
        }
        return self._outputs

    def resource(self, name: str) -> str:
        """The name/ARN/URL of ``name`` (a key of ``OUTPUTS``); ``TargetError`` when the target lacks it."""
        if name in self._overrides:
            return self._overrides[name]
        output, variable, label = OUTPUTS[name]
        value = self._stack_outputs().get(output, "")
        if not value and self.local and output in _LOCAL_LOOKUPS:
            value = self._local_staff_pool().get(output, "")
        if not value:
            where = self.describe() if (self.stack or self.local) else "the overrides"
            raise TargetError(f"{label} is unknown: {where} has no output {output} (or set {variable})")
        return value

    def _local_staff_pool(self) -> dict[str, str]:
        """The running local stack's staff pool and app client ids (found by the pool's name)."""
        if self._local_pool is None:
            import boto3  # noqa: PLC0415
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
            from leads_local.cognito import find_staff_pool  # noqa: PLC0415

            client = boto3.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 # nosec B106: the local stack's fake credentials
                region_name=LOCAL_REGION,
            ).client("cognito-idp", endpoint_url=self.endpoint_url)
            try:
                self._local_pool = find_staff_pool(client)
            except (BotoCoreError, ClientError) as exc:
                raise TargetError(
                    f"the local stack does not answer at {self.endpoint_url} ({type(exc).__name__}): "
                    "start it with make run (same AWS_PORT)"
                ) from None
        return self._local_pool

    def stack_parameters(self) -> dict[str, str]:
        """The deployed stack's parameters (empty for ``--local`` and override targets)."""
        self._stack_outputs()
        return dict(self._parameters)

    def stream_arn(self) -> str | None:
        """The table's stream: the stack output, else asked of the table (the local one has no fixed name)."""
        try:
            return self.resource("stream")
        except TargetError:
            pass
        description = aws.client("dynamodb").describe_table(TableName=self.resource("table"))["Table"]
        arn = description.get("LatestStreamArn")
        return str(arn) if arn else None

    def allowed_origin(self) -> str:
        """An origin the submit function accepts: ``LEADS_ORIGIN``, else the stack's first ``AllowedOrigins``
        entry, else (local) the demo page's own origin."""
        self._stack_outputs()
        configured = self._environ.get("LEADS_ORIGIN", "").strip()
        if configured:
            return configured
        first = self._parameters.get("AllowedOrigins", "").split(",")[0].strip()
        if first:
            return first
        if self.local:
            return f"http://127.0.0.1:{self.port}"
        raise TargetError("no allowed origin known: set LEADS_ORIGIN to one of the stack's AllowedOrigins")

    def alert_settings(self) -> AlertRenderSettings:
        """Clinic name and alert detail as the deployed alert function has them (stack parameters), else the
        environment (``CLINIC_NAME``, ``ALERT_DETAIL``), else the local stack's / template's defaults."""
        self._stack_outputs()
        defaults = dict(_TEMPLATE_DEFAULTS)
        if self.local:
            try:
                from leads_local.stack import DEMO_CLINIC_NAME  # noqa: PLC0415

                defaults["clinic_name"] = DEMO_CLINIC_NAME
            except ImportError:  # pragma: no cover - the local stack package is part of this repository
                pass
        values = {}
        for name, (parameter, variable) in _ALERT_PARAMETERS.items():
            values[name] = self._parameters.get(parameter) or self._environ.get(variable) or defaults[name]
        return AlertRenderSettings(
            table_name=self.resource("table"),
            topic_arn=self.resource("topic"),
            clinic_name=values["clinic_name"],
            alert_detail=values["alert_detail"],
            console_url=self.console_url(),
            alert_storm_threshold=int(values["alert_storm_threshold"])
            if values["alert_storm_threshold"].isdigit()
            else 20,
        )

    def console_url(self) -> str:
        """The staff console alerts link to, as the deployed alert functions have it.

        ``LEADS_CONSOLE_URL``, else the stack's ``ConsoleUrl`` parameter, else its ``StaffConsoleUrl`` output,
        else (local) ``http://127.0.0.1:$PORT/staff/``, else ``CONSOLE_URL``, else the API's ``.../staff/``.
        Checked as the functions check ``CONSOLE_URL``."""
        from leads_core.alerts import console_link_problem  # noqa: PLC0415
        from leads_core.settings import normalise_console_url  # noqa: PLC0415

        outputs = self._stack_outputs()
        api_url = outputs.get("ApiUrl", "")
        derived = ""
        if api_url.endswith("/consultations"):
            derived = api_url.removesuffix("consultations") + "staff/"
        candidates = (
            self._environ.get("LEADS_CONSOLE_URL", ""),
            self._parameters.get("ConsoleUrl", ""),
            outputs.get("StaffConsoleUrl", ""),
            f"http://127.0.0.1:{self.port}/staff/" if self.local else "",
            self._environ.get("CONSOLE_URL", ""),
            derived,
        )
        value = next((candidate.strip() for candidate in candidates if candidate.strip()), "")
        if not value:
            raise TargetError("the staff console's URL is unknown: set LEADS_CONSOLE_URL (alerts link to it)")
        try:
            url = normalise_console_url(value)
        except ValueError as exc:
            raise TargetError(f"the staff console's URL (CONSOLE_URL) {exc}") from None
        problem = console_link_problem(url)
        if problem:
            raise TargetError(f"the staff console's URL (CONSOLE_URL) is {problem}")
        return url

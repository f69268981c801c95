"""``LocalStack``: the whole product on one machine (contract section 4).

Processes, as on AWS: the AWS emulation (moto's server on ``aws_port``, ``leads_local.aws_process``) holds the
template's table, topic, queues and secret in its own process; each function of the template runs in its own
worker processes (``leads_local.workers``), as Lambda runs each in its own containers: the submit
function behind the API Gateway emulation on ``port`` (up to ``submit_workers`` concurrent requests), the
alert function driven by the stream poller with the template's event-source settings (one worker per
shard), each scheduled function on the scheduler's timer (one worker each). This process serves HTTP, polls
the stream, reads the alert inbox and starts and stops the others; they end with it, even when it is killed.

The stack always forces fake credentials (``testing``), region ``us-east-1`` and empty AWS config files for as
long as it runs, so a developer's real AWS credentials, profile or endpoint settings can never be used; the
previous environment is restored by ``stop()``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from leads_local import template as cfn
from leads_local.apigw import HttpRequest, HttpResponse, LambdaContext, binary_media_types, build_event
from leads_local.apigw import gateway_error as _gateway_error
from leads_local.apigw import http_response as _http_response
from leads_local.authorizer import Unauthorized
from leads_local.aws_process import AwsEmulator, EmulatorError
from leads_local.cognito import COGNITO_PROXY_PATH, LocalCognito, forward_cognito_call
from leads_local.faults import FaultInjector, parse_faults
from leads_local.inbox import AlertInbox, DeliveredAlert
from leads_local.poller import EventSourceMapping, HandlerUnavailable, StreamPoller, sqs_on_failure_sender
from leads_local.routes import Router, api_routes
from leads_local.scheduler import ScheduledJob, Scheduler
from leads_local.server import LocalHTTPServer
from leads_local.workers import FunctionError, FunctionPool, FunctionSpec, FunctionTimeout

HOST = "127.0.0.1"
SUBMIT_MODULE = "submit_consultation.app"
ALERTS_MODULE = "send_alerts.app"
SUBMIT_FUNCTION = "SubmitConsultationFunction"
ALERTS_FUNCTION = "SendAlertsFunction"
API_WORKERS = 2  # concurrent requests per other function behind the API (the staff function)
DEFAULT_SUBMIT_WORKERS = 4  # LOCAL_SUBMIT_WORKERS: how many submissions run at once (concurrent containers)
DEMO_CLINIC_NAME = "Naperville Wellness Clinic"  # the name on the demo page (web/index.html)

SWEEP_FUNCTION = "SweepLeadsFunction"  # runs every LOCAL_SWEEP_SECONDS instead of LOCAL_SCHEDULE_SECONDS

# Contract 2.6 settings (plus the functions' own extras) a developer may set in the environment for make run.
HONOURED_SETTINGS = (
    "BUSINESS_HOURS",
    "FIRST_CONTACT_SLA_MINUTES",
    "URGENT_SLA_MINUTES",
    "ALLOWED_ORIGINS",
    "THANK_YOU_URL",
    "FORM_URL",
    "LOCATIONS",
    "CLINIC_NAME",
    "ALERT_DETAIL",
    "CONSOLE_URL",
    "ALERT_STORM_THRESHOLD",
    "RETENTION_DAYS",
    "SPAM_RETENTION_DAYS",
    "RATE_LIMIT_PER_HOUR",
    "CAPTCHA_PROVIDER",
    "CAPTCHA_SECRET_PARAM",
    "CAPTCHA_VERIFY_URL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_TRACE_DISABLED",
    "STAFF_IDLE_MINUTES",
)
# Set by the stack from the resources it created: the environment cannot point the handlers elsewhere.
RESOURCE_SETTINGS = (
    "TABLE_NAME",
    "TOPIC_ARN",
    "HASH_KEY_SECRET_ID",
    "ALERT_FAILURES_QUEUE_URL",
    "ALERT_STREAM_ARN",
    "USER_POOL_ID",
    "USER_POOL_CLIENT_ID",
)
# Public always-pass test secrets the providers document, used when a captcha provider is chosen locally.
CAPTCHA_TEST_SECRETS = {
    "turnstile": "1x0000000000000000000000000000000AA",
    "hcaptcha": "0x0000000000000000000000000000000000000000",
    "recaptcha": "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": cfn.LOCAL_REGION,
    "AWS_REGION": cfn.LOCAL_REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_DROPPED_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


# Demo alert recipients: the local stack subscribes them to the staff topic the way the template's
# subscriptions do, and the scheduled subscription check and `leads --local subscriptions` compare with them.
# STAFF_EMAILS / STAFF_PHONES / URGENT_PHONES / ESCALATION_EMAILS / ESCALATION_PHONES in the environment
# replace them (an empty value: none).
LOCAL_ENDPOINT_DEFAULTS = {
    "STAFF_EMAILS": "frontdesk@example.com",
    "STAFF_PHONES": "+16305550100",
    "URGENT_PHONES": "+16305550199",
    "ESCALATION_EMAILS": "manager@example.com",
}


def local_endpoints(environ: Mapping[str, str]) -> dict[str, str]:
    """Each configured list's environment variable -> its comma list, for the local stack."""
    from leads_core.subscriptions import ENDPOINT_LISTS  # noqa: PLC0415

    return {
        entry.variable: environ.get(entry.variable, LOCAL_ENDPOINT_DEFAULTS.get(entry.variable, ""))
        for entry in ENDPOINT_LISTS
    }


def endpoints_by_parameter(variables: Mapping[str, str]) -> dict[str, list[str]]:
    """``local_endpoints`` keyed by template parameter (``StaffEmails``) with the lists split."""
    from leads_core.subscriptions import ENDPOINT_LISTS, split_list  # noqa: PLC0415

    return {entry.parameter: split_list(variables.get(entry.variable)) for entry in ENDPOINT_LISTS}


class LocalStackError(RuntimeError):
    """The stack could not start (port in use, bad setting); the message says what to change."""


def template_settings() -> dict[str, str]:
    """Plain environment values of every function in the template, ``!Ref Parameter`` resolved to its default.

    Other intrinsics (resource names, ``!If``) are skipped: the stack sets resource names itself.
    """
    parameters = cfn.load_template().get("Parameters", {})
    values: dict[str, str] = {}
    for function in cfn.resources_of_type("AWS::Serverless::Function"):
        for name, value in cfn.function_environment(function).items():
            if not isinstance(value, dict):
                values[name] = str(value)
            elif set(value) == {"Ref"} and "Default" in parameters.get(value["Ref"], {}):
                values[name] = str(parameters[value["Ref"]]["Default"])
    return values


def function_settings(
    port: int, environ: Mapping[str, str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The handlers' settings: template defaults < local defaults < environment (2.6 settings) < overrides."""
    base = f"http://{HOST}:{port}"
    settings = template_settings()
    settings.update(
        {
            "ALLOWED_ORIGINS": f"{base},http://localhost:{port}",
            "THANK_YOU_URL": f"{base}/thank-you",
            "FORM_URL": f"{base}/",
            "CONSOLE_URL": f"{base}/staff/",  # alerts link to the staff console this stack serves
            "CLINIC_NAME": DEMO_CLINIC_NAME,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            # The console signs in through the stack's same-origin Cognito endpoint (leads_local.cognito).
            "COGNITO_ENDPOINT": f"{base}{COGNITO_PROXY_PATH}",
        }
    )
    settings.setdefault("LOCATIONS", "naperville")
    for name in HONOURED_SETTINGS:
        if environ.get(name):
            settings[name] = environ[name]
    settings.update(overrides or {})
    for name in RESOURCE_SETTINGS:
        settings.pop(name, None)
    return settings


class _Environment:
    """Sets and removes process environment variables and puts every one back on ``restore``."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def drop(self, name: str) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        os.environ.pop(name, None)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


def _check_port_free(port: int, variable: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise LocalStackError(f"{variable}: port {port} on {HOST} is in use; choose another") from None


def function_limits(logical_id: str) -> tuple[int, float]:
    """The function's ``MemorySize`` and ``Timeout``: its own, else the template's ``Globals``."""
    globals_ = cfn.load_template().get("Globals", {}).get("Function", {})
    props = cfn.resource(logical_id).get("Properties", {})
    memory = props.get("MemorySize", globals_.get("MemorySize", 128))
    timeout = props.get("Timeout", globals_.get("Timeout", 3))
    return int(memory), float(timeout)


class LocalStack:
    """Start with ``start()``, stop with ``stop()`` (also a context manager)."""

    def __init__(  # noqa: PLR0913 - constructor options of the local stack, all with defaults
        self,
        port: int = 3000,
        aws_port: int = 4566,
        faults: str = "",
        settings: Mapping[str, str] | None = None,
        *,
        faults_seed: int | None = None,
        prefix: str = cfn.LOCAL_PREFIX,
        submit_workers: int = DEFAULT_SUBMIT_WORKERS,
        preload: Sequence[str] = (),
        event_source: cfn.StreamEventSource | None = None,
        retry_delay_seconds: float = 0.2,
        schedule_seconds: float = 10.0,
        sweep_seconds: float | None = None,
        log: Callable[[str], None] = lambda line: print(line, flush=True),
        on_alert: Callable[[DeliveredAlert], None] | None = None,
    ) -> None:
        """``preload``: modules every worker imports before its handler (tests use one to fix a clock)."""
        self.port = port
        self.aws_port = aws_port
        self.faults = FaultInjector(parse_faults(faults), seed=faults_seed)
        self.setting_overrides = dict(settings or {})
        self.prefix = prefix
        self.event_source = event_source or cfn.stream_event_source()
        self.retry_delay_seconds = retry_delay_seconds
        self.schedule_seconds = schedule_seconds
        self.sweep_seconds = sweep_seconds  # the speed-to-lead sweep's own period (LOCAL_SWEEP_SECONDS)
        self.log = log
        self.on_alert = on_alert
        self.resources: cfn.LocalResources | None = None
        self.inbox_queue_url = ""
        self.settings: dict[str, str] = {}
        self._env = _Environment()
        self._worker_env: dict[str, str] = {}
        self._function_env: dict[str, dict[str, str | None]] = {}  # per function: update_function_environment
        self._aws: AwsEmulator | None = None
        self._http: LocalHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._inbox: AlertInbox | None = None
        self._poller: StreamPoller | None = None
        self._mapping: EventSourceMapping | None = None
        self._scheduler: Scheduler | None = None
        self._binary_types = binary_media_types()
        self.router = Router(api_routes())  # the template's API routes (each function gets a pool)
        self.cognito: LocalCognito | None = None
        self.pools = self._function_pools(max(1, submit_workers), faults_seed, preload)
        self.submit = self.pools[SUBMIT_FUNCTION]
        self.alert = self.pools[ALERTS_FUNCTION]

    # -- addresses ------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def topic_display_name(self) -> str:
        """The staff topic's ``DisplayName`` (the sender staff see), from the template."""
        return str(cfn.resource("StaffAlertsTopic").get("Properties", {}).get("DisplayName", "Clinic leads"))

    @property
    def aws_endpoint(self) -> str:
        return f"http://{HOST}:{self.aws_port}"

    def function_name(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    # -- functions ------------------------------------------------------------------------------------------
    def _function_pools(
        self, submit_workers: int, faults_seed: int | None, preload: Sequence[str]
    ) -> dict[str, FunctionPool]:
        """A worker pool per function: submit, alerts, each scheduled function and each other function behind
        the API (the staff function) in the template."""
        modules = {SUBMIT_FUNCTION: (SUBMIT_MODULE, submit_workers), ALERTS_FUNCTION: (ALERTS_MODULE, 1)}
        for function in cfn.scheduled_functions():
            modules[function.logical_id] = (function.handler_module, 1)
        for route in self.router.routes:
            modules.setdefault(route.function, (route.handler_module, API_WORKERS))
        pools = {}
        for logical_id, (module, max_workers) in modules.items():
            memory, timeout = function_limits(logical_id)
            spec = FunctionSpec(
                logical_id, module, self.function_name(logical_id), timeout, memory, max_workers
            )
            pools[logical_id] = FunctionPool(
                spec,
                environment=self._environment_of(logical_id),
                faults=self.faults,
                faults_seed=faults_seed,
                preload=preload,
            )
        return pools

    def _environment_of(self, logical_id: str) -> Callable[[], dict[str, str]]:
        def environment() -> dict[str, str]:
            env = dict(self._worker_env)
            for name, value in self._function_env.get(logical_id, {}).items():
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = value
            return env

        return environment

    def update_function_environment(
        self, changes: Mapping[str, str | None], functions: Sequence[str] | None = None
    ) -> None:
        """Set (``None``: remove) environment variables of ``functions`` (logical ids; default all), as a
        configuration update does on AWS: their next invocations run in new workers that have them."""
        for logical_id in functions or list(self.pools):
            self._function_env.setdefault(logical_id, {}).update(changes)
        self.replace_workers(functions)

    def replace_workers(self, functions: Sequence[str] | None = None) -> None:
        """The next invocation of each function (default all) runs in a new worker, a container that saw
        nothing before."""
        for logical_id in functions or list(self.pools):
            self.pools[logical_id].replace_workers()

    def process_ids(self) -> dict[str, list[int]]:
        """The pids of the stack's child processes: ``aws`` and each function's workers."""
        aws_pid = self._aws.pid if self._aws is not None else None
        pids = {"aws": [aws_pid] if aws_pid is not None else []}
        pids.update({logical_id: pool.pids() for logical_id, pool in self.pools.items()})
        return pids

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        import boto3  # noqa: PLC0415

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        _check_port_free(self.aws_port, "AWS_PORT")
        try:
            self._http = LocalHTTPServer((HOST, self.port), self)  # binds now: fails fast when PORT is taken
        except OSError as exc:
            raise LocalStackError(
                f"PORT: cannot serve on {HOST}:{self.port} ({exc.strerror}); choose another"
            ) from None
        self.port = self._http.server_address[1]

        self._aws = AwsEmulator(self.aws_port, os.environ)
        try:
            self._aws.start()
        except EmulatorError as exc:
            raise LocalStackError(f"AWS_PORT: could not start the local AWS endpoint: {exc}") from None
        self.aws_port = self._aws.port

        for name in _DROPPED_AWS_VARIABLES:
            self._env.drop(name)
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
            self._env.drop(name)
        for name, value in FAKE_CREDENTIALS.items():
            self._env.set(name, value)
        self._env.set("AWS_ENDPOINT_URL", self.aws_endpoint)

        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            aws_session_token="testing",  # noqa: S106
            region_name=cfn.LOCAL_REGION,
        )
        endpoints = local_endpoints({**os.environ, **self.setting_overrides})
        self.resources = cfn.create_resources(
            session, prefix=self.prefix, endpoints=endpoints_by_parameter(endpoints)
        )
        sqs = session.client("sqs")
        sns = session.client("sns")
        self.inbox_queue_url = sqs.create_queue(QueueName=f"{self.prefix}-LocalInbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=self.inbox_queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=self.resources.topic_arn,
            Protocol="sqs",
            Endpoint=inbox_arn,
            Attributes={"RawMessageDelivery": "false"},
        )

        self.cognito = LocalCognito.started(session, self.aws_endpoint, self.prefix)

        self.settings = function_settings(self.port, os.environ, self.setting_overrides)
        self.settings.update({**self.resources.function_environment(), **self.cognito.function_environment()})
        self.settings.update(endpoints)  # the check function's lists (joined from parameters in the template)
        self._create_captcha_secret(session)
        for name, value in self.settings.items():
            self._env.set(name, value)
        self._check_settings()
        # Ops code run in this process (``leads --local``, tests) reaches the emulation too, without faults.
        self._reset_handler_caches(boto3.Session(region_name=cfn.LOCAL_REGION))
        self._worker_env = dict(os.environ)
        self._start_workers()

        self._inbox = AlertInbox(
            sqs,
            self.inbox_queue_url,
            self.resources.topic_arn,
            sns_client=sns,  # reads the SMS subscriptions and the display name: `sms` as phones receive it
            lookup=self._aws.published_message,
            on_alert=self.on_alert,
            log=self.log,
        )
        self._inbox.start()
        self._start_stream(session, sqs)

        self._scheduler = Scheduler(self.scheduled_jobs(), self.schedule_seconds, log=self.log)
        self._scheduler.start()

        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True
        )
        self._http_thread.start()

    def _start_workers(self) -> None:
        """A warm worker for the submit and the alert functions before the first request (both at once)."""
        for pool in (self.submit, self.alert):
            pool.prestart()
        for pool in (self.submit, self.alert):
            error = pool.wait_started()
            if error:
                self.log(f"note: {error}; it is loaded on first use")

    def _start_stream(self, session: Any, sqs: Any) -> None:
        """The alert function's event source mapping on the table's stream, one alert worker per shard."""
        from botocore.config import Config  # noqa: PLC0415

        if self.resources is None or self._aws is None:
            raise LocalStackError("the stream starts after the resources and the AWS emulation")
        memory, timeout = function_limits(ALERTS_FUNCTION)
        self._mapping = EventSourceMapping(
            settings=self.event_source,
            load_handler=self.alert.load,
            stream_arn=self.resources.stream_arn,
            function_name=self.function_name(ALERTS_FUNCTION),
            send_on_failure=sqs_on_failure_sender(sqs, self.resources.alert_failures_queue_url),
            retry_delay_seconds=self.retry_delay_seconds,
            timeout_seconds=timeout,
            memory_limit_in_mb=memory,
            log=self.log,
        )
        streams = session.client("dynamodbstreams", config=Config(retries={"mode": "standard"}))
        self._poller = StreamPoller(streams, self._mapping, forget_iterator=self._aws.forget_iterator)
        self._poller.start()
        self.alert.max_workers = max(1, self._poller.shard_count)

    def stop(self) -> None:
        """Stop the timers, the poller, the inbox, the HTTP server, the workers and the AWS emulation (its
        data is gone); restore the environment."""
        for invoker in (self._scheduler, self._mapping):
            if invoker is not None:
                invoker.stop_event.set()  # no new invocations from here on
        for pool in self.pools.values():
            pool.stop()  # an invocation still running fails: the stack's data goes with it
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self._inbox is not None:
            self._inbox.stop()
            self._inbox = None
        if self._http is not None:
            if self._http_thread is not None:
                self._http.shutdown()
                self._http_thread.join(5)
                self._http_thread = None
            self._http.server_close()
            self._http = None
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
        self._env.restore()
        self._reset_handler_caches(None)

    # -- handlers -------------------------------------------------------------------------------------------
    def scheduled_jobs(self) -> list[ScheduledJob]:
        """The template's scheduled functions, each run in its own worker, one invocation at a time."""
        return [
            ScheduledJob(
                logical_id=function.logical_id,
                function_name=self.function_name(function.logical_id),
                load_handler=self.pools[function.logical_id].load,
                timeout_seconds=self.pools[function.logical_id].spec.timeout_seconds,
                memory_limit_in_mb=self.pools[function.logical_id].spec.memory_limit_in_mb,
                every_seconds=self.sweep_seconds if function.logical_id == SWEEP_FUNCTION else None,
            )
            for function in cfn.scheduled_functions()
        ]

    def run_scheduled_functions(self) -> None:
        """Run every scheduled function once now (tests; the timer does it every ``schedule_seconds``)."""
        if self._scheduler is not None:
            self._scheduler.run_all_once()

    def scheduled_result(self, logical_id: str) -> Any:
        """What the last run of that scheduled function returned (``None`` before its first run)."""
        jobs = self._scheduler.jobs if self._scheduler is not None else []
        return next((job.last_result for job in jobs if job.logical_id == logical_id), None)

    @staticmethod
    def _reset_handler_caches(session: Any) -> None:
        from leads_core import aws, hashing  # noqa: PLC0415
        from leads_core.settings import load_settings  # noqa: PLC0415

        aws.use_session(session)
        hashing.forget_key()
        load_settings.cache_clear()

    def _check_settings(self) -> None:
        from leads_core.errors import ConfigurationError  # noqa: PLC0415
        from leads_core.settings import settings_from  # noqa: PLC0415

        try:
            settings = settings_from(os.environ)
            settings.require_submit()
            settings.require_alerts()
        except ConfigurationError as exc:
            raise LocalStackError(str(exc)) from None

    def _create_captcha_secret(self, session: Any) -> None:
        provider = self.settings.get("CAPTCHA_PROVIDER", "none")
        if provider == "none" or provider not in CAPTCHA_TEST_SECRETS:
            return
        parameters = cfn.load_template().get("Parameters", {})
        name = self.settings.get("CAPTCHA_SECRET_PARAM") or str(
            parameters.get("CaptchaSecretParameter", {}).get("Default", "/clinic-leads/captcha-secret")
        )
        secret = os.environ.get("LOCAL_CAPTCHA_SECRET") or CAPTCHA_TEST_SECRETS[provider]
        session.client("ssm").put_parameter(Name=name, Value=secret, Type="SecureString", Overwrite=True)
        self.settings["CAPTCHA_SECRET_PARAM"] = name

    def invoke_submit(self, request: HttpRequest) -> HttpResponse:
        """Run the submit function for one HTTP request, as API Gateway's proxy integration would."""
        request_id = str(uuid.uuid4())
        event = build_event(request, request_id=request_id, binary_types=self._binary_types)
        return self.invoke_http(self.submit, event, request_id, label="submit")

    def invoke_http(
        self, pool: FunctionPool, event: dict[str, Any], request_id: str, *, label: str
    ) -> HttpResponse:
        """Invoke a function behind the API with a proxy event; API Gateway's 502 if it fails or times out."""
        context = LambdaContext(
            function_name=pool.spec.function_name,
            aws_request_id=request_id,
            memory_limit_in_mb=pool.spec.memory_limit_in_mb,
            timeout_seconds=pool.spec.timeout_seconds,
        )
        try:
            result = pool.invoke(event, context, overrun_fails=True)
        except HandlerUnavailable as exc:
            self.log(f"{label} function unavailable: {exc} (request {request_id})")
            return _gateway_error(502, "Internal server error", request_id)
        except FunctionTimeout:
            # Lambda stops a function at its timeout; API Gateway answers 502 without the function's headers.
            seconds = pool.spec.timeout_seconds
            self.log(f"{label} function timed out after {seconds:g} s (request {request_id})")
            return _gateway_error(502, "Internal server error", request_id)
        except FunctionError as exc:
            # The exception's message may quote visitor input: its type and where it was raised only.
            self.log(f"{label} function error: {type(exc).__name__} (request {request_id})\n{exc.frames}")
            return _gateway_error(502, "Internal server error", request_id)
        return _http_response(result, request_id)

    def serves_api(self, path: str) -> bool:
        """Whether ``path`` is under a resource of the template's REST API (API Gateway answers for it)."""
        return self.router.serves(path)

    def invoke_api(self, request: HttpRequest) -> HttpResponse:
        """One request through the REST API emulation: the template's route, its authorizer, its function."""
        request_id = str(uuid.uuid4())
        found = self.router.match(request.method, request.path)
        if found is None:
            return _gateway_error(403, "Missing Authentication Token", request_id)
        claims = None
        if found.route.authorizer is not None:
            try:
                if self.cognito is None:
                    raise Unauthorized("the user pools are not created")
                claims = self.cognito.authorize(found.route.authorizer, request.headers)
            except Unauthorized as exc:
                self.log(f"{found.route.authorizer}: 401 ({exc.reason}) (request {request_id})")
                return _gateway_error(401, "Unauthorized", request_id)
        event = build_event(
            request,
            resource=found.route.resource,
            request_id=request_id,
            binary_types=self._binary_types,
            path_parameters=found.path_parameters,
            claims=claims,
        )
        function = found.route.function
        return self.invoke_http(self.pools[function], event, request_id, label=function)

    def invocations(self, logical_id: str) -> int:
        """How often the API emulation has invoked that function (a refused request invokes nothing)."""
        return self.pools[logical_id].stats.invocations

    def cognito_call(self, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        """The console's sign-in calls (``COGNITO_PROXY_PATH``), passed on to the emulation."""
        return forward_cognito_call(self.aws_endpoint, headers, body)

    def staff_console_line(self) -> str | None:
        """``staff console: <url>  user: <email>  password: <password>`` for the demo admin (contract 4)."""
        demo = self.cognito.demo if self.cognito is not None else None
        if demo is None:
            return None
        return f"staff console: {self.base_url}/staff/  user: {demo.email}  password: {demo.password}"

    def staff_outputs(self) -> dict[str, str]:
        """The staff pool's ids and the console's address, as the template's outputs name them."""
        outputs = self.cognito.outputs() if self.cognito is not None else {}
        return {**outputs, "StaffConsoleUrl": f"{self.base_url}/staff/"} if outputs else {}

    # -- views ----------------------------------------------------------------------------------------------
    def alerts(self) -> list[DeliveredAlert]:
        return self._inbox.alerts() if self._inbox is not None else []

    def health(self) -> dict[str, Any]:
        mapping_stats = dataclasses.asdict(self._mapping.stats) if self._mapping is not None else {}
        return {
            "status": "ok",
            "url": self.base_url,
            "aws_endpoint": self.aws_endpoint,
            "region": cfn.LOCAL_REGION,
            "handlers": {"submit": self.submit.loaded, "alerts": self.alert.loaded},
            "functions": {logical_id: pool.health() for logical_id, pool in self.pools.items()},
            "processes": self.process_ids(),
            "alerts": len(self.alerts()),
            "stream": mapping_stats,
            "scheduled": {
                job.logical_id: {"runs": job.runs, "errors": job.errors}
                for job in (self._scheduler.jobs if self._scheduler is not None else [])
            },
            "faults": [str(rule) for rule in self.faults.rules],
            "faults_injected": dict(self.faults.injected),
            "resources": dataclasses.asdict(self.resources) if self.resources else {},
            "staff": self.staff_outputs(),
        }

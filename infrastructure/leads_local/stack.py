"""``LocalStack``: the whole product on one machine (contract section 4).

An embedded moto server on ``aws_port`` holds the template's table, topic, queues and secret; the real
handlers run in this process against it (``AWS_ENDPOINT_URL``): the submit function behind the API Gateway
emulation on ``port``, the alert function driven by the stream poller with the template's event-source
settings.

The stack always forces fake credentials (``testing``), region ``us-east-1`` and empty AWS config files for as
long as it runs, so a developer's real AWS credentials, profile or endpoint settings can never be used; the
previous environment is restored by ``stop()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import socket
import threading
import traceback
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from leads_local import moto_patches
from leads_local import template as cfn
from leads_local.apigw import HttpRequest, HttpResponse, LambdaContext, binary_media_types, build_event
from leads_local.apigw import gateway_error as _gateway_error
from leads_local.apigw import http_response as _http_response
from leads_local.authorizer import Unauthorized
from leads_local.cognito import COGNITO_PROXY_PATH, LocalCognito, ProxyReply, forward_cognito_call
from leads_local.faults import FaultInjector, parse_faults
from leads_local.inbox import AlertInbox, DeliveredAlert, moto_published_message
from leads_local.poller import (
    EventSourceMapping,
    Handler,
    HandlerUnavailable,
    StreamPoller,
    sqs_on_failure_sender,
)
from leads_local.routes import Router, api_routes
from leads_local.scheduler import ScheduledJob, Scheduler
from leads_local.server import LocalHTTPServer

HOST = "127.0.0.1"
SUBMIT_MODULE = "submit_consultation.app"
ALERTS_MODULE = "send_alerts.app"
DEMO_CLINIC_NAME = "Naperville Wellness Clinic"  # the name on the demo page (web/index.html)

# Contract 2.6 settings (plus the functions' own extras) a developer may set in the environment for make run.
HONOURED_SETTINGS = (
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
# STAFF_EMAILS / STAFF_PHONES / URGENT_PHONES in the environment replace them (an empty value: none).
LOCAL_ENDPOINT_DEFAULTS = {
    "STAFF_EMAILS": "frontdesk@example.com",
    "STAFF_PHONES": "+16305550100",
    "URGENT_PHONES": "+16305550199",
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


def _init_error(module: str, exc: BaseException) -> str:
    """An import-time failure with its traceback (no request has run yet, so it holds no visitor data)."""
    return f"{module} failed to import:\n" + "".join(traceback.format_exception(exc)).rstrip()


class LazyHandler:
    """Imports ``module.lambda_handler`` on first use (the handler module may not exist yet)."""

    def __init__(self, module: str, handler: Handler | None = None) -> None:
        self.module = module
        self._handler = handler
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._handler is not None

    def __call__(self) -> Handler:
        if self._handler is not None:
            return self._handler
        with self._lock:
            if self._handler is None:
                try:
                    module = importlib.import_module(self.module)
                except ModuleNotFoundError as exc:
                    if exc.name and self.module.startswith(exc.name):
                        raise HandlerUnavailable(f"{self.module} does not exist yet") from None
                    raise HandlerUnavailable(_init_error(self.module, exc)) from exc
                except Exception as exc:
                    raise HandlerUnavailable(_init_error(self.module, exc)) from exc
                handler = getattr(module, "lambda_handler", None)
                if not callable(handler):
                    raise HandlerUnavailable(f"{self.module} has no lambda_handler")
                self._handler = handler
            return self._handler


def _check_port_free(port: int, variable: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise LocalStackError(f"{variable}: port {port} on {HOST} is in use; choose another") from None


def _moto_server(port: int) -> Any:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    class _QuietMotoServer(ThreadedMotoServer):
        """moto's threaded server; a failure to bind is reported instead of hanging ``start()``."""

        startup_error: BaseException | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except BaseException as exc:
                self.startup_error = exc
                self._server_ready_event.set()

    return _QuietMotoServer(ip_address=HOST, port=port, verbose=False)


def _forget_moto_iterator(iterator_arn: str) -> None:
    """moto keeps every shard iterator forever; drop the ones the poller has used (in-process server)."""
    try:
        from moto.dynamodbstreams.models import dynamodbstreams_backends  # noqa: PLC0415

        backend = dynamodbstreams_backends[cfn.LOCAL_ACCOUNT_ID][cfn.LOCAL_REGION]
        backend.shard_iterators.pop(iterator_arn, None)
    except (ImportError, KeyError, AttributeError):
        return


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
        submit_handler: Handler | None = None,
        alert_handler: Handler | None = None,
        event_source: cfn.StreamEventSource | None = None,
        retry_delay_seconds: float = 0.2,
        schedule_seconds: float = 10.0,
        log: Callable[[str], None] = lambda line: print(line, flush=True),
        on_alert: Callable[[DeliveredAlert], None] | None = None,
    ) -> None:
        self.port = port
        self.aws_port = aws_port
        self.faults = FaultInjector(parse_faults(faults), seed=faults_seed)
        self.setting_overrides = dict(settings or {})
        self.prefix = prefix
        self.submit = LazyHandler(SUBMIT_MODULE, submit_handler)
        self.alert = LazyHandler(ALERTS_MODULE, alert_handler)
        self.event_source = event_source or cfn.stream_event_source()
        self.retry_delay_seconds = retry_delay_seconds
        self.schedule_seconds = schedule_seconds
        self.log = log
        self.on_alert = on_alert
        self.resources: cfn.LocalResources | None = None
        self.inbox_queue_url = ""
        self.settings: dict[str, str] = {}
        self._env = _Environment()
        self._moto: Any = None
        self._patched_moto = False
        self._http: LocalHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._inbox: AlertInbox | None = None
        self._poller: StreamPoller | None = None
        self._mapping: EventSourceMapping | None = None
        self._scheduler: Scheduler | None = None
        self._invoke_lock = threading.Lock()
        self._binary_types = binary_media_types()
        self._memory, self._timeout = self._function_limits()
        self.router = Router(api_routes())  # the template's API routes
        self._api_handlers = {r.function: LazyHandler(r.handler_module) for r in self.router.routes}
        self._invocations: dict[str, int] = {}
        self.cognito: LocalCognito | None = None

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

    @staticmethod
    def _function_limits() -> tuple[int, float]:
        globals_ = cfn.load_template().get("Globals", {}).get("Function", {})
        return int(globals_.get("MemorySize", 128)), float(globals_.get("Timeout", 3))

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

        self._patched_moto = moto_patches.install()
        self._moto = _moto_server(self.aws_port)
        self._moto.start()
        if self._moto.startup_error is not None:
            raise LocalStackError(
                f"AWS_PORT: could not start the local AWS endpoint: {self._moto.startup_error}"
            )
        self.aws_port = self._moto.get_host_and_port()[1]
        self._reset_emulator()  # moto's state is per process: start from an empty account

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

        handler_session = boto3.Session(region_name=cfn.LOCAL_REGION)
        self.faults.install(handler_session)
        self._reset_handler_caches(handler_session)
        self._preload_handlers()

        self._inbox = AlertInbox(
            sqs,
            self.inbox_queue_url,
            self.resources.topic_arn,
            sns_client=sns,  # reads the SMS subscriptions and the display name: `sms` as phones receive it
            lookup=moto_published_message,
            on_alert=self.on_alert,
            log=self.log,
        )
        self._inbox.start()

        self._mapping = EventSourceMapping(
            settings=self.event_source,
            load_handler=self._serialised(self.alert),
            stream_arn=self.resources.stream_arn,
            function_name=self.function_name("SendAlertsFunction"),
            send_on_failure=sqs_on_failure_sender(sqs, self.resources.alert_failures_queue_url),
            retry_delay_seconds=self.retry_delay_seconds,
            timeout_seconds=self._timeout,
            memory_limit_in_mb=self._memory,
            log=self.log,
        )
        from botocore.config import Config  # noqa: PLC0415

        streams = session.client("dynamodbstreams", config=Config(retries={"mode": "standard"}))
        self._poller = StreamPoller(streams, self._mapping, forget_iterator=_forget_moto_iterator)
        self._poller.start()

        self._scheduler = Scheduler(self.scheduled_jobs(), self.schedule_seconds, log=self.log)
        self._scheduler.start()

        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True
        )
        self._http_thread.start()

    def stop(self) -> None:
        """Stop the timers, the poller, the inbox, the HTTP and moto servers; restore the environment."""
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
        if self._moto is not None:
            with contextlib.suppress(Exception):
                self._reset_emulator()  # the data is gone when the stack stops
                self._moto.stop()
            self._moto = None
        if self._patched_moto:
            moto_patches.uninstall()
            self._patched_moto = False
        self._env.restore()
        self._reset_handler_caches(None)

    def _reset_emulator(self) -> None:
        """Empty every moto backend through the server's own reset endpoint."""
        url = f"{self.aws_endpoint}/moto-api/reset"  # our own local server
        request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()

    # -- handlers -------------------------------------------------------------------------------------------
    def _serialised(self, loader: LazyHandler) -> Callable[[], Handler]:
        """One invocation at a time, like one warm container: Powertools keeps per-invocation module state."""

        def load() -> Handler:
            handler = loader()

            def invoke(event: dict[str, Any], context: Any) -> Any:
                with self._invoke_lock:
                    # Lambda's clock starts when a container runs the invocation, not while it waits for one.
                    start = getattr(context, "start_clock", None)
                    if callable(start):
                        start()
                    return handler(event, context)

            return invoke

        return load

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """The template's scheduled functions, each loaded lazily and run one invocation at a time."""
        return [
            ScheduledJob(
                logical_id=function.logical_id,
                function_name=self.function_name(function.logical_id),
                load_handler=self._serialised(LazyHandler(function.handler_module)),
                timeout_seconds=self._timeout,
                memory_limit_in_mb=self._memory,
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

    def _preload_handlers(self) -> None:
        for loader in (self.submit, self.alert, *self._api_handlers.values()):
            try:
                loader()
            except HandlerUnavailable as exc:
                self.log(f"note: {exc}; it is loaded on first use")

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
        try:
            handler = self._serialised(self.submit)()
        except HandlerUnavailable as exc:
            self.log(f"submit function unavailable: {exc} (request {request_id})")
            return _gateway_error(502, "Internal server error", request_id)
        event = build_event(request, request_id=request_id, binary_types=self._binary_types)
        context = LambdaContext(
            function_name=self.function_name("SubmitConsultationFunction"),
            aws_request_id=request_id,
            memory_limit_in_mb=self._memory,
            timeout_seconds=self._timeout,
        )
        try:
            result = handler(event, context)
        except Exception as exc:
            frames = "".join(traceback.format_tb(exc.__traceback__))
            # The exception's message may quote visitor input: log its type and where it was raised only.
            self.log(f"submit function error: {type(exc).__name__} (request {request_id})\n{frames}")
            return _gateway_error(502, "Internal server error", request_id)
        if context.get_remaining_time_in_millis() <= 0:
            # Lambda stops a function at its timeout; API Gateway answers 502 without the function's headers.
            self.log(f"submit function timed out after {self._timeout:g} s (request {request_id})")
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
        return self._invoke_http(self._api_handlers[function], function, event)

    def _invoke_http(self, loader: LazyHandler, logical_id: str, event: dict[str, Any]) -> HttpResponse:
        """Run a function for a proxy event as API Gateway's proxy integration would."""
        request_id = str(event["requestContext"]["requestId"])
        try:
            handler = self._serialised(loader)()
        except HandlerUnavailable as exc:
            self.log(f"{logical_id} unavailable: {exc} (request {request_id})")
            return _gateway_error(502, "Internal server error", request_id)
        context = LambdaContext(
            function_name=self.function_name(logical_id),
            aws_request_id=request_id,
            memory_limit_in_mb=self._memory,
            timeout_seconds=self._timeout,
        )
        self._invocations[logical_id] = self._invocations.get(logical_id, 0) + 1
        try:
            result = handler(event, context)
        except Exception as exc:
            frames = "".join(traceback.format_tb(exc.__traceback__))
            # The exception's message may quote visitor input: log its type and where it was raised only.
            self.log(f"{logical_id} error: {type(exc).__name__} (request {request_id})\n{frames}")
            return _gateway_error(502, "Internal server error", request_id)
        if context.get_remaining_time_in_millis() <= 0:
            self.log(f"{logical_id} timed out after {self._timeout:g} s (request {request_id})")
            return _gateway_error(502, "Internal server error", request_id)
        return _http_response(result, request_id)

    def invocations(self, logical_id: str) -> int:
        """How often the API emulation has invoked that function (a refused request invokes nothing)."""
        return self._invocations.get(logical_id, 0)

    def cognito_call(self, headers: list[tuple[str, str]], body: bytes) -> ProxyReply:
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

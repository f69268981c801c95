"""The submit use case: submitted fields in, a stored lead (or a domain error) out. No HTTP here.

``accept(fields, channel, source_ip, settings=..., store=..., captcha=...)`` does, in order:

1. parse and normalise the fields (``leads_core.submission``; ``ValidationFailed`` on a bad field);
2. the spam rules (``leads_core.spam``);
3. the captcha, when ``CAPTCHA_PROVIDER`` is not ``none`` and no spam rule matched (below);
4. the crisis rules (``leads_core.crisis``): an urgent lead is never quarantined (``NewLead.status``);
5. one write through the store (``LeadRepository.submit``: ``DuplicateConflict``, ``RateLimited``,
   ``StorageUnavailable``);
6. the metric and the log line of the outcome (codes only).

Captcha policy: a missing token, or one the provider definitely rejects, marks the lead as spam (answered like
an accepted lead, quarantined, no alert). When the captcha cannot be verified (provider unreachable or in
error, secret unreadable or wrong, token already used, no time left: see ``leads_core.captcha``), the lead is
accepted as a normal lead with ``review_flags: ["captcha_unverified"]``, the metric ``CaptchaUnverified``
(alarmed) and a log line with the code only: the honeypot, the spam rules and the rate limit still apply, and
a clinic must not lose a person's request because a third-party service is down. A definite verdict is
remembered for a retry of the same submission (``captcha.verdicts``), under a key derived from the submission
by the verifier (``CaptchaVerifier.verdict_key``).

Collaborators are passed in: ``store`` (anything with ``submit(NewLead) -> StoredResult``) and ``captcha``
(a ``CaptchaVerifier``). Left out, they are the ones built by ``default_store`` and ``default_captcha``, the
one place where this use case reaches AWS (through ``leads_core.aws``). Tests hand in moto-backed ones or
fakes. Cold start: nothing heavier than the rule modules is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from leads_core import aws, crisis, deadline, hashing, spam
from leads_core import captcha as captchas  # ``accept`` takes a parameter named ``captcha``
from leads_core.errors import CaptchaUnavailable, ConfigurationError
from leads_core.observability import MetricUnit, logger, metrics
from leads_core.store.submit import Channel, LeadRepository, NewLead, StoredResult
from leads_core.submission.model import Submission, digest_of, parse_submission

if TYPE_CHECKING:
    from leads_core.settings import Settings

CAPTCHA_UNVERIFIED = "captcha_unverified"
CAPTCHA_FAILED = "captcha"
CAPTCHA_TIMEOUT_SECONDS = 3.0
# Kept for storage when the captcha call is sized: one full SDK attempt, plus a little for the rest.
STORAGE_TIME_SECONDS = aws.ATTEMPT_SECONDS + 0.5

OutcomeKind = Literal["accepted", "spam", "duplicate"]


class LeadStore(Protocol):
    """Where a lead is written: ``LeadRepository`` (one ``TransactWriteItems``) or a test fake."""

    def submit(self, lead: NewLead) -> StoredResult: ...


class CaptchaVerifier(Protocol):
    """Asks the captcha provider about one token.

    ``verdict_key`` names a submission for the verdict memory (``None``: nothing is remembered).
    ``verify`` answers a ``CaptchaVerdict`` or raises ``CaptchaUnavailable``/``ConfigurationError`` (both
    read as ``unverified`` by ``accept``).
    """

    def verdict_key(self, submission_id: str | None, digest: str) -> str | None: ...

    def verify(
        self, token: str | None, source_ip: str, *, verdict_key: str | None
    ) -> captchas.CaptchaVerdict: ...


@dataclass(frozen=True)
class Outcome:
    """What ``accept`` did: the lead as stored (status, reasons, flags) and the store's answer."""

    lead: NewLead
    result: StoredResult

    @property
    def kind(self) -> OutcomeKind:
        """``duplicate`` (a retry of a stored submission), ``spam`` (quarantined) or ``accepted``."""
        if self.result.replayed:
            return "duplicate"
        return "spam" if self.lead.status == "spam" else "accepted"


class ProviderCaptcha:
    """The real verifier: the secret from SSM, the provider over HTTPS within the invocation's time budget,
    and a verdict key that is the keyed hash (HMAC, purpose ``captcha``) of the submission's idempotency key
    and content digest. ``ssm`` is the client the secret is read with (default ``aws.client("ssm")``)."""

    def __init__(self, settings: Settings, *, ssm: Any | None = None) -> None:
        self._settings = settings
        self._ssm = ssm

    def verdict_key(self, submission_id: str | None, digest: str) -> str | None:
        """``None`` (no memory) when the hash key is unavailable: the write that follows needs that key too
        and answers ``503`` then."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - loaded by then

        try:
            return hashing.keyed_hash(
                self._settings.hash_key_secret_id, "captcha", f"{submission_id or ''}:{digest}"
            )
        except (ClientError, BotoCoreError, ConfigurationError, KeyError) as exc:
            logger.warning("captcha verdict key unavailable", extra={"code": type(exc).__name__})
            return None

    def verify(
        self, token: str | None, source_ip: str, *, verdict_key: str | None
    ) -> captchas.CaptchaVerdict:
        settings = self._settings
        secret = captchas.captcha_secret(settings.captcha_secret_param, self._ssm)
        # Up to 3 s, and never so long that one storage attempt no longer fits in the time budget.
        timeout = deadline.time_for(CAPTCHA_TIMEOUT_SECONDS, keep=STORAGE_TIME_SECONDS)
        if timeout is None:
            raise CaptchaUnavailable("no time left to ask the captcha provider")
        return captchas.verify_captcha(
            settings.captcha_provider,
            token,
            source_ip or None,
            secret=secret,
            verify_url=settings.captcha_verify_url or None,
            idempotency_key=captchas.turnstile_idempotency_key(verdict_key) if verdict_key else None,
            timeout=timeout,
        )


def default_store(settings: Settings) -> LeadStore:
    """The table of ``settings`` through ``leads_core.aws``'s DynamoDB client."""
    return LeadRepository(settings, dynamodb=aws.client("dynamodb"))


def default_captcha(settings: Settings) -> CaptchaVerifier:
    """The provider of ``settings`` (``CAPTCHA_PROVIDER``), its secret read through ``leads_core.aws``."""
    return ProviderCaptcha(settings, ssm=aws.client("ssm"))


def accept(  # noqa: PLR0913 - the use case takes its collaborators (settings, store, captcha) keyword-only
    fields: Mapping[str, Any],
    channel: Channel,
    source_ip: str,
    *,
    settings: Settings,
    store: LeadStore | None = None,
    captcha: CaptchaVerifier | None = None,
    verdicts: captchas.VerdictCache | None = None,
) -> Outcome:
    """Validate, classify and store one submission; see the module docstring for the order and the policy.

    Raises ``ValidationFailed``, ``DuplicateConflict``, ``RateLimited`` or ``StorageUnavailable``.
    ``verdicts`` is the verdict memory (default: this container's ``captcha.verdicts``).
    """
    submission = parse_submission(fields, locations=settings.locations)
    spam_reasons = spam.spam_reasons(submission)
    review_flags: list[str] = []
    fields_as_stored = submission.model_dump(mode="json")
    digest = digest_of(fields_as_stored)  # == submission.normalised_digest(), without a second dump
    if settings.captcha_provider != captchas.NO_CAPTCHA and not spam_reasons:
        verifier = captcha if captcha is not None else default_captcha(settings)
        memory = verdicts if verdicts is not None else captchas.verdicts
        outcome = _captcha_outcome(verifier, memory, submission, digest, source_ip)
        if outcome == captchas.UNVERIFIED:
            review_flags.append(CAPTCHA_UNVERIFIED)
        elif outcome == captchas.FAILED:
            spam_reasons.append(CAPTCHA_FAILED)

    lead = NewLead(
        fields=fields_as_stored,
        digest=digest,
        channel=channel,
        source_ip=source_ip,
        submission_id=submission.submission_id,
        urgent_reasons=crisis.crisis_reasons(submission),
        spam_reasons=spam_reasons,
        review_flags=review_flags,
    )
    result = (store if store is not None else default_store(settings)).submit(lead)
    done = Outcome(lead=lead, result=result)
    _record(done)
    return done


def _captcha_outcome(
    verifier: CaptchaVerifier,
    memory: captchas.VerdictCache,
    submission: Submission,
    digest: str,
    source_ip: str,
) -> captchas.Outcome:
    """``passed``/``failed``/``unverified``; a retry of the same submission gets the verdict this container
    already had, without asking the provider about a now-used token again."""
    key = verifier.verdict_key(submission.submission_id, digest)
    remembered = memory.get(key)
    if remembered is not None:
        return remembered.outcome
    try:
        verdict = verifier.verify(submission.captcha_token, source_ip, verdict_key=key)
    except (CaptchaUnavailable, ConfigurationError) as exc:
        verdict = captchas.CaptchaVerdict(captchas.UNVERIFIED, type(exc).__name__)
    memory.put(key, verdict)
    if verdict.outcome == captchas.UNVERIFIED:
        logger.warning("captcha not verified", extra={"code": verdict.code})
        metrics.add_metric(name="CaptchaUnverified", unit=MetricUnit.Count, value=1)
    return verdict.outcome


def _record(outcome: Outcome) -> None:
    """The outcome's metric(s) and its one log line: codes, counts and flags, never a submitted value."""
    lead, result = outcome.lead, outcome.result
    logger.append_keys(lead_id=result.lead_id)
    kind = outcome.kind
    if kind == "duplicate":
        metrics.add_metric(name="DuplicateSubmission", unit=MetricUnit.Count, value=1)
    elif kind == "spam":
        metrics.add_metric(name="SpamQuarantined", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="LeadAccepted", unit=MetricUnit.Count, value=1)
        if result.urgent:
            metrics.add_metric(name="UrgentLead", unit=MetricUnit.Count, value=1)
    logger.info(
        "submission stored",
        extra={
            "outcome": kind,
            "channel": lead.channel,
            "urgent": result.urgent,
            "urgent_reasons": list(lead.urgent_reasons),
            "spam_reasons": list(lead.spam_reasons),
            "review_flags": list(lead.review_flags),
            "keyed": lead.submission_id is not None,
        },
    )

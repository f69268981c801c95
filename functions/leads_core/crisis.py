"""Crisis detection and the 988/911 support block every accepted response carries (contract 2.2).

A lead is urgent when the visitor ticked ``in_crisis`` (``self_reported``) or the message reads as a crisis
(``message``). The message check is a phrase list over normalised text (case folded, accents and apostrophes
removed, punctuation as spaces), in English and a few common Spanish phrases.

Bias on purpose: a false "urgent" costs staff one fast call back; a missed one can cost a life. Only two
narrow negations are ignored: "not suicidal" (also "never"/"no longer"/"not currently" suicidal) and "no
thoughts/ideation/plans/intent/history of suicide or self-harm", and only that phrase itself: "I'm not
suicidal but I want to die" is still urgent. "I feel like I'm going to die" (common in panic attacks) is not
on the list; "I want to die" is. Anything else that mentions suicide or self-harm is urgent,
including third-person mentions ("my brother died by suicide").

An urgent lead always reaches staff: when a spam rule (honeypot, links, pattern, failed captcha) also matched,
it is stored as ``new`` with ``review_flags: ["possible_spam"]`` rather than quarantined
(``repository.NewLead.status``), and the alert email says it was flagged for review.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from leads_core.submission.model import Submission

SELF_REPORTED = "self_reported"
MESSAGE = "message"

SUPPORT: dict[str, Any] = {
    "crisis_line": {
        "name": "988 Suicide & Crisis Lifeline",
        "call": "988",
        "text": "988",
        "chat": "https://988lifeline.org/chat",
        "available": "24/7, free and confidential",
    },
    "emergency": {
        "name": "Emergency services",
        "call": "911",
        "when": "If you or someone else is in immediate danger",
    },
}

_CRISIS_PHRASES = (
    # English: intent, wishes, self-harm.
    r"kill(?:ing)? my ?self",
    r"end(?:ing)? (?:my|it) (?:own )?life",
    r"end(?:ing)? it all",
    r"tak(?:e|ing) (?:my|my own) life",
    r"(?:want|wanna|wanted|wanting|plan|planning|ready) (?:to )?die",
    r"wish (?:i|that i) (?:was|were|had) (?:dead|never been born)",
    r"better off dead",
    r"suicid\w*",
    r"(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|injure|injuring) my ?self",
    r"self (?:harm|harming|injury|injuring|injure|mutilation)",
    r"selfharm\w*",
    r"no (?:reason|point|will) (?:to|in) (?:live|living|go on|going on)",
    r"nothing (?:left )?to live for",
    r"(?:dont|do not|dont really) want to (?:live|be alive|be here anymore|exist|wake up)",
    r"(?:cant|can not|cannot) go on",
    r"overdos\w*",
    r"hang(?:ing)? my ?self",
    r"shoot(?:ing)? my ?self",
    r"unalive",
    # Spanish (accents removed by normalisation; "suicidio", "suicidarme" match suicid\w* above).
    r"matarme",
    r"quitarme la vida",
    r"no quiero vivir",
    r"quiero morir(?:me)?",
    r"hacerme dano",
    r"lastimarme",
)
_NEGATED_TOPIC = r"(?:suicide|self harm|hurting my ?self|harming my ?self)"
_NEGATED_PATTERN = (
    r"\b(?:not|never|no longer|isnt|arent|wasnt|im not|i am not)"
    r" (?:currently |actively |feeling |been |ever been )?suicidal\b"
    r"|\bno (?:current |active |recent )?(?:suicidal (?:thoughts?|ideation|intent|plans?)"
    r"|(?:thoughts?|ideation|plans?|intent|history) of "
    + _NEGATED_TOPIC
    + r"(?: (?:or|and|nor) "
    + _NEGATED_TOPIC
    + r")*)\b"
)


@functools.cache
def _rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The phrase list and the negations, compiled on the first message checked (not at import)."""
    crisis = re.compile(r"\b(?:" + "|".join(dict.fromkeys(_CRISIS_PHRASES)) + r")\b")
    return crisis, re.compile(_NEGATED_PATTERN)


_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_for_matching(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: accents, apostrophes and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", without_marks)).strip()


def message_reads_as_crisis(text: str | None) -> bool:
    if not text:
        return False
    crisis, negated = _rules()
    normalised = negated.sub(" ", normalise_for_matching(text))
    return crisis.search(normalised) is not None


def crisis_reasons(sub: Submission) -> list[str]:
    """``self_reported`` when ``in_crisis`` is ticked; ``message`` when the message reads as a crisis."""
    reasons: list[str] = []
    if sub.in_crisis:
        reasons.append(SELF_REPORTED)
    if message_reads_as_crisis(sub.message):
        reasons.append(MESSAGE)
    return reasons


def visitor_message(urgent: bool, clinic_name: str) -> str:
    """The text shown after a submission; when urgent, the 988/911 resources come first."""
    if urgent:
        return (
            "If you are thinking about harming yourself, call or text 988 now to reach the 988 Suicide & "
            "Crisis Lifeline, or chat at 988lifeline.org. It is free, confidential and open 24/7. "
            "If you or someone else is in immediate danger, call 911. "
            f"We have received your request, and {clinic_name} will call you back as soon as possible."
        )
    return (
        f"Thank you. We have received your request, and {clinic_name} will contact you soon to talk about "
        "next steps. If you are in crisis, call or text 988 (Suicide & Crisis Lifeline) any time, "
        "or call 911 in an emergency."
    )

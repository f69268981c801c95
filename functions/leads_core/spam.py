"""Spam rules for a validated submission: a short list of reason codes, empty for a real lead.

A spam lead is quarantined silently (contract 2.2), so a false positive hides a person asking for care from
staff for ``SPAM_RETENTION_DAYS``. Every rule is therefore conservative and tested both ways:

``honeypot``
    The hidden ``website`` field holds anything at all. People never see it; form-filling bots fill it.
``links``
    The message and "how did you hear about us" hold 3 or more links together (a patient mentioning a
    directory or our own site once or twice is fine), or a name holds a link or a web domain.
``pattern``
    Known spam shapes, each needing clear evidence:

    * BBCode links (``[url=...]``, ``[url]``, ``[link=...]``) or HTML anchors (``<a href``) in the message;
    * marketing offers aimed at the clinic's website: two "strong" phrases (backlinks, guest posts, link
      building, domain authority, first page of Google, website traffic, SEO services), one strong phrase
      with a link, or three distinct phrases counting "weak" ones (SEO, your website, marketing agency,
      web design services, unsubscribe, ...). A patient who says "I work in SEO" is not spam;
    * gambling, crypto, forex, loan or pharmacy pitches: such a term *with a link and a call to action*
      ("bonus", "click", "sign up", ...). People seeking help talk about losing money in crypto or at a
      casino, and that is not spam;
    * first and last name identical *and* random-looking (digits, one letter repeated, no vowels, or jumbled
      capitals), e.g. ``xxxxxxxx xxxxxxxx``; "Abdullah Abdullah" is a real name and passes.

A person in crisis is never dropped by these rules (nor by the honeypot or a failed captcha): an urgent lead
(``crisis.crisis_reasons`` non-empty) that a rule matched is stored as ``new`` and alerted, with
``review_flags: ["possible_spam"]`` and its ``spam_reasons`` kept for staff (``repository.NewLead.status``).
Bot floods that use crisis words are bounded by the rate limit and the SMS storm guard instead.

Deliberately *not* a rule: the script or language of the text. Cyrillic, Arabic, Chinese, Spanish ... are
ordinary for patients of a US clinic.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from leads_core.submission.model import Submission

HONEYPOT = "honeypot"
LINKS = "links"
PATTERN = "pattern"

LINK_THRESHOLD = 3

_COMMON_TLDS = (
    "com|net|org|info|biz|io|co|us|ru|su|xyz|top|site|online|shop|store|club|pro|link|click|live|app|dev|"
    "me|tk|ml|ga|cf|gq|cn|ua|in|uk|de|fr|pl|br|vip|win|bet|casino|icu|buzz|ly|gl|to|cc|ws"
)
# A link: a URL with a scheme or "www." (the whole URL is one match), or a bare domain with a common
# top-level domain ("cheap-seo.xyz", "bit.ly/x"); the domain of an email address is not a link.
_LINK = (
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"'\]\[]+"
    r"|(?<![@\w.-])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*\.(?:"
    + _COMMON_TLDS
    + r")\b(?![.-]?[a-z0-9@])(?:/[^\s<>\"']*)?"
)
_MARKUP_LINK = r"\[(?:url|link)\s*[=\]]|<a\s[^>]{0,200}?href"

# Marketing offers aimed at the clinic's website. A STRONG phrase is one a patient does not write about
# themselves; a WEAK one might appear in a patient's story ("I work in SEO") and only counts in numbers.
_STRONG_OFFER_PHRASES = (
    r"\bback-?links?\b",
    r"\bguest[- ]post(?:s|ing)?\b",
    r"\blink[- ]building\b",
    r"\bdomain authority\b|\b(?-i:DA|DR)\s*[:=]?\s*\d{2}\+?(?!\w)",
    r"\b(?:first|1st|top) page (?:of|on|in) google\b",
    r"\brank(?:ing)? (?:higher |#?1 |first )?(?:on|in) google\b",
    r"\b(?:website|organic|web|site) traffic\b",
    r"\bseo (?:services?|agency|expert|package|audit|company|team|specialists?)\b",
)
_WEAK_OFFER_PHRASES = (
    r"\bseo\b",
    r"\bsearch engine optimi[sz]ation\b",
    r"\byour (?:web)?site\b",
    r"\b(?:digital )?marketing (?:agency|services|campaign)\b",
    r"\b(?:web(?:site)? (?:design|development)|app development) services?\b",
    r"\bsocial media (?:marketing|management)\b",
    r"\blead generation\b|\bgenerate (?:more )?leads\b",
    r"\bunsubscribe\b|\bopt[- ]out\b",
    r"\bmonthly (?:package|plan|fee)s?\b|\baffordable (?:price|rates?|packages?)\b",
)
_PITCH_TERMS = (
    r"\b(?:casino|slots?|free spins|jackpot|betting|bet365|poker|crypto(?:currency)?|bitcoin|btc|usdt|"
    r"ethereum|forex|binary options|airdrop|nft|payday loans?|viagra|cialis|online pharmacy|"
    r"weight loss pills|porn|onlyfans|dating site|hot girls)\b"
)
_CALL_TO_ACTION = (
    r"\b(?:bonus|earn|profit|deposit|free|win|winnings|click|sign up|register|promo|discount|offer|"
    r"buy|order now|cheap|guaranteed|invest now|limited time)\b"
)
_VOWELS = re.compile(r"[aeiouy]", re.IGNORECASE)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


class _Rules(NamedTuple):
    link: re.Pattern[str]
    markup_link: re.Pattern[str]
    strong_offers: tuple[re.Pattern[str], ...]
    weak_offers: tuple[re.Pattern[str], ...]
    pitch_terms: re.Pattern[str]
    call_to_action: re.Pattern[str]


@functools.cache
def _rules() -> _Rules:
    """The patterns above, compiled (case-insensitive) on the first text checked, not at import."""

    def compiled(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern, re.IGNORECASE)

    return _Rules(
        link=compiled(_LINK),
        markup_link=compiled(_MARKUP_LINK),
        strong_offers=tuple(compiled(p) for p in _STRONG_OFFER_PHRASES),
        weak_offers=tuple(compiled(p) for p in _WEAK_OFFER_PHRASES),
        pitch_terms=compiled(_PITCH_TERMS),
        call_to_action=compiled(_CALL_TO_ACTION),
    )


def count_links(text: str | None) -> int:
    return len(_rules().link.findall(text)) if text else 0


def spam_reasons(sub: Submission) -> list[str]:
    """Reason codes (``honeypot``, ``links``, ``pattern``) in that order; empty for a genuine lead."""
    reasons: list[str] = []
    if sub.website:
        reasons.append(HONEYPOT)
    if _has_too_many_links(sub):
        reasons.append(LINKS)
    if _matches_spam_pattern(sub):
        reasons.append(PATTERN)
    return reasons


def _names(sub: Submission) -> list[str]:
    # Not provider_practice: a practice may well be named after its web address ("Talkspace.com").
    return [n for n in (sub.first_name, sub.last_name, sub.provider_name) if n]


def _has_too_many_links(sub: Submission) -> bool:
    if any(count_links(name) for name in _names(sub)):
        return True
    return count_links(sub.message) + count_links(sub.heard_about) >= LINK_THRESHOLD


def _matches_spam_pattern(sub: Submission) -> bool:
    free_text = "\n".join(t for t in (sub.message, sub.heard_about) if t)
    if free_text:
        text = unicodedata.normalize("NFKC", free_text)
        rules = _rules()
        if rules.markup_link.search(text):
            return True
        links = count_links(text)
        if _is_marketing_offer(text, links):
            return True
        if links and rules.pitch_terms.search(text) and rules.call_to_action.search(text):
            return True
    return _is_random_twin_name(sub.first_name, sub.last_name)


def _is_marketing_offer(text: str, links: int) -> bool:
    rules = _rules()
    strong = sum(1 for phrase in rules.strong_offers if phrase.search(text))
    weak = sum(1 for phrase in rules.weak_offers if phrase.search(text))
    return strong >= 2 or (strong >= 1 and links >= 1) or strong + weak >= 3


def _is_random_twin_name(first: str, last: str) -> bool:
    """First and last name identical and random-looking (only plain ASCII words are judged)."""
    if first.casefold() != last.casefold() or not _ASCII_WORD.fullmatch(first):
        return False
    if any(ch.isdigit() for ch in first):
        return True
    letters = first.lower()
    if len(letters) >= 3 and len(set(letters)) == 1:
        return True
    if len(letters) >= 5 and not _VOWELS.search(letters):
        return True
    inner_capitals = sum(1 for ch in first[1:] if ch.isupper())
    inner_lower = sum(1 for ch in first[1:] if ch.islower())
    return inner_capitals >= 2 and inner_lower >= 2

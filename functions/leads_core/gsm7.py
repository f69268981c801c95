"""Text rules for alerts: the GSM 03.38 basic alphabet, transliteration of visitor text to SMS-safe ASCII,
one-line and multi-line cleaning, and what fits in one SMS segment once SNS adds the topic's prefix.

Pure code on strings (no lead, no settings). What to do when a value does not fit (drop the clinic's name,
shorten the visitor's name, ...) is rendering and lives in ``leads_core.alerts``; the rules are in
docs/alerts.md ("Rules every alert follows", "SMS length"):

- SNS puts the topic's display name and ``"> "`` in front of every SMS from a topic (``Clinic leads> ``); that
  prefix plus our text must be at most 160 characters, every one in the GSM 03.38 *basic* alphabet.
- Visitor text is transliterated to plain ASCII (José -> Jose, ß -> ss, curly quotes -> straight); the ASCII
  characters that are not GSM basic are replaced (``[ {`` -> ``(``, ``] }`` -> ``)``, ``| \\`` -> ``/``,
  ``~`` -> ``-``, the backtick -> ``'``) or dropped (``^``); emoji, other scripts, control and bidi
  characters are dropped.
"""

from __future__ import annotations

import re
import unicodedata

SMS_MAX_CHARS = 160
# The template's StaffAlertsTopic DisplayName: SNS sends "<DisplayName>> <text>" to SMS subscribers.
DEFAULT_TOPIC_DISPLAY_NAME = "Clinic leads"
MESSAGE_MAX_CHARS = 2000  # the longest visitor text block kept (``clean_block``)

# GSM 03.38 basic character set (the 128 code points of the default alphabet, in table order). 0x1B (ESC)
# introduces the extension table ([ ] { } | ^ ~ \ €), whose characters take two septets: we never send them.
GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_BASIC = frozenset(GSM7_BASIC_TABLE) - {"\x1b"}
# What our SMS text is built from: printable ASCII that is also GSM basic (the same on every handset).
SMS_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) & GSM7_BASIC
PRINTABLE_ASCII = frozenset(chr(c) for c in range(0x20, 0x7F))

# Characters NFKD cannot decompose to ASCII but that have an obvious ASCII spelling.
_TRANSLITERATIONS = {
    "ß": "ss",
    "ẞ": "SS",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "ł": "l",
    "Ł": "L",
    "ı": "i",
    "ħ": "h",
    "Ħ": "H",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‹": "'",
    "›": "'",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": "-",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "|": "/",
    "\\": "/",
    "~": "-",
    "^": "",
}

_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------- SMS segment


def sms_prefix(display_name: str) -> str:
    """What SNS puts before every SMS of a topic with this display name (nothing without one)."""
    return f"{display_name}> " if display_name else ""


def sms_as_delivered(sms: str, display_name: str = DEFAULT_TOPIC_DISPLAY_NAME) -> str:
    """The SMS as the phone receives it from a topic with ``display_name``."""
    return sms_prefix(display_name) + sms


def sms_budget(display_name: str = DEFAULT_TOPIC_DISPLAY_NAME) -> int:
    """Characters left for our own text in one GSM-7 segment once SNS added the display-name prefix."""
    return SMS_MAX_CHARS - len(sms_prefix(display_name))


def is_single_gsm7_segment(sms: str, display_name: str = DEFAULT_TOPIC_DISPLAY_NAME) -> bool:
    """``sms`` is one GSM-7 segment as delivered by a topic with ``display_name`` (its prefix included)."""
    delivered = sms_as_delivered(sms, display_name)
    return bool(sms) and len(delivered) <= SMS_MAX_CHARS and all(c in GSM7_BASIC for c in delivered)


# --------------------------------------------------------------------------------------------- text cleaning


def to_sms_text(value: str) -> str:
    """``value`` transliterated to SMS-safe text (printable ASCII in the GSM basic set), one line."""
    out: list[str] = []
    for char in value:
        if char in _TRANSLITERATIONS:
            out.append(_TRANSLITERATIONS[char])
            continue
        if char.isspace():
            out.append(" ")
            continue
        for part in unicodedata.normalize("NFKD", char):
            if part in _TRANSLITERATIONS:
                out.append(_TRANSLITERATIONS[part])
            elif part in SMS_SAFE:
                out.append(part)
            elif part.isspace():
                out.append(" ")
            # anything else (combining marks, emoji, other scripts, controls, bidi marks) is dropped
    return _WHITESPACE.sub(" ", "".join(out)).strip()


def to_ascii_line(value: str) -> str:
    """Like ``to_sms_text`` but for email subjects: printable ASCII, one line."""
    return "".join(c for c in to_sms_text(value) if c in PRINTABLE_ASCII)


def clean_line(value: str) -> str:
    """Unicode kept, one line; control, format (bidi overrides, zero-width) and unassigned chars removed."""
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category[0] == "C":
            continue
        else:
            kept.append(char)
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def clean_block(value: str, limit: int = MESSAGE_MAX_CHARS) -> list[str]:
    """A multi-line visitor text as clean lines (CR/CRLF -> LF, at most ``limit`` chars, no empty runs)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")[:limit]
    lines = [clean_line(line) for line in text.split("\n")]
    result: list[str] = []
    for line in lines:
        if line or (result and result[-1]):
            result.append(line)
    while result and not result[-1]:
        result.pop()
    return result

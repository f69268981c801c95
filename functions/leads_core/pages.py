"""Small HTML pages for visitors whose browser posted the plain HTML form (no JavaScript).

Every text that goes into a page is escaped, including the field names and sentences of ``ValidationFailed``
(they never hold a submitted value, but an unknown field's name comes from the client). Every page carries the
988/911 line: the person reading it may be in crisis and the form just failed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

CRISIS_LINE = (
    "If you are in crisis or thinking about harming yourself, call or text 988 (Suicide &amp; Crisis "
    "Lifeline), any time. If you or someone else is in immediate danger, call 911."
)

# Labels of the form's fields, so a visitor sees "Email: Enter a valid email address."
FIELD_LABELS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "preferred_contact": "Preferred contact",
    "best_time": "Best time to reach you",
    "service": "Service",
    "location": "Location",
    "referral_type": "Who is making this request",
    "provider_name": "Provider's name",
    "provider_practice": "Practice",
    "provider_email": "Provider's email",
    "provider_phone": "Provider's phone",
    "message": "Message",
    "heard_about": "How you heard about us",
    "consent_privacy": "Privacy notice",
    "consent_sms": "Text messages",
    "in_crisis": "Safety question",
}

_STYLE = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:2rem auto;"
    "padding:0 1rem;line-height:1.5;color:#1d2733}"
    ".crisis{border-left:4px solid #b3261e;padding:.5rem 1rem;background:#fdf3f2}"
    "a{color:#0b57d0}"
)


def _page(title: str, body_html: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body_html}"
        f'<p class="crisis" role="note">{CRISIS_LINE}</p></main></body></html>\n'
    )


def error_page(title: str, summary: str, errors: Mapping[str, str], form_url: str) -> str:
    """A page listing one sentence per bad field and a link back to the form."""
    items = []
    for field, sentence in errors.items():
        label = FIELD_LABELS.get(field)
        text = f"<strong>{escape(label)}:</strong> {escape(sentence)}" if label else escape(sentence)
        items.append(f"<li>{text}</li>")
    listed = f"<ul>{''.join(items)}</ul>" if items else ""
    link = f'<p><a href="{escape(form_url, quote=True)}">Go back to the form</a></p>'
    return _page(title, f"<p>{escape(summary)}</p>{listed}{link}")


def redirect_page(location: str) -> str:
    """Body of a 303 for clients that do not follow redirects by themselves."""
    return _page(
        "Thank you",
        f'<p>We have received your request. <a href="{escape(location, quote=True)}">Continue</a></p>',
    )

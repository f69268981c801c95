"""The sentences a visitor reads when a field is refused: wording only, never a submitted value.

The only client text that can appear in a sentence is the *name* of an unknown field (``MSG_UNKNOWN_FIELD``),
and only when ``fields.reportable_field_name`` accepts it.
"""

from __future__ import annotations

from collections.abc import Sequence

from leads_core.submission.schema import MAX_HEARD_ABOUT_LENGTH, MAX_MESSAGE_LENGTH, MAX_PROVIDER_TEXT_LENGTH

# --- sentences (written for a visitor; never a submitted value) --------------------------------------------
PHONE_EXAMPLE = "(630) 555-0142"
MSG_EMAIL_INVALID = "Enter a valid email address."
MSG_PHONE_INVALID = f"Enter a phone number we can call, such as {PHONE_EXAMPLE}."
MSG_CONTACT_MISSING = "Tell us how to reach you: a phone number or an email."
MSG_EMAIL_REQUIRED = "Enter your email address, or choose another way to reach you."
MSG_PHONE_REQUIRED = "Enter your phone number, or choose another way to reach you."
MSG_CONSENT_PRIVACY = "Please agree to the privacy notice so we can contact you."
MSG_CONSENT_SMS = "Please agree to receive text messages, or choose another way to reach you."
MSG_CONSENT_SMS_INVALID = "Tick the box to agree to text messages, or leave it unticked."
MSG_IN_CRISIS_INVALID = "Please answer the safety question with yes or no."
MSG_PROVIDER_NAME_REQUIRED = "Enter the name of the referring provider."
MSG_PROVIDER_CONTACT_MISSING = "Enter the provider's email address or phone number."
MSG_PROVIDER_EMAIL_INVALID = "Enter a valid email address for the provider."
MSG_PROVIDER_PHONE_INVALID = f"Enter a phone number for the provider, such as {PHONE_EXAMPLE}."
MSG_MESSAGE_INVALID = "Enter your message as plain text."
MSG_MESSAGE_TOO_LONG = f"Shorten your message to {MAX_MESSAGE_LENGTH:,} characters or fewer."
MSG_MESSAGE_CONTROL = "Remove unusual invisible characters from your message."
MSG_HEARD_ABOUT_INVALID = "Tell us in a few words how you heard about us."
MSG_HEARD_ABOUT_TOO_LONG = f"Shorten how you heard about us to {MAX_HEARD_ABOUT_LENGTH} characters or fewer."
MSG_SUBMISSION_ID = "This form's reference code is not valid. Please reload the page and try again."
MSG_ATTRIBUTION = "The page sent a tracking value we could not accept. Please reload the page and try again."
MSG_CAPTCHA = "The spam check did not complete. Please reload the page and try again."
MSG_PREFERRED_CONTACT = "Choose how we should contact you: phone call, email or text message."
MSG_BEST_TIME = "Choose the best time to reach you: morning, afternoon, evening or any time."
MSG_SERVICE = "Choose a service: depression, anxiety, PTSD, bipolar disorder, OCD, chronic pain or other."
MSG_REFERRAL_TYPE = "Choose who is making this request: yourself or a healthcare provider."
MSG_UNKNOWN_FIELD = "This field is not part of the form: {name}."
MSG_UNKNOWN_FIELDS_GENERIC = "The form sent fields it does not have. Please reload the page and try again."
MSG_REPEATED_FIELD = "This field was sent more than once."
MSG_NOT_A_FORM = "The form could not be read. Please reload the page and try again."


class NameSentences:
    """The sentences of one name-like field."""

    def __init__(self, label: str, *, required: str, max_length: int) -> None:
        self.required = required
        self.too_long = f"Shorten {label} to {max_length} characters or fewer."
        self.control = f"Remove line breaks and invisible characters from {label}."


NAME_SENTENCES = {
    "first_name": NameSentences("your first name", required="Enter your first name.", max_length=80),
    "last_name": NameSentences("your last name", required="Enter your last name.", max_length=80),
    "provider_name": NameSentences(
        "the provider's name", required=MSG_PROVIDER_NAME_REQUIRED, max_length=MAX_PROVIDER_TEXT_LENGTH
    ),
    "provider_practice": NameSentences(
        "the practice name", required="Enter the name of the practice.", max_length=MAX_PROVIDER_TEXT_LENGTH
    ),
}


def location_choices_sentence(locations: Sequence[str]) -> str:
    words = [slug.replace("-", " ").replace("_", " ").title() for slug in locations]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"Choose one of our locations: {listed}."

"""The form's shape: field names, enum choices, limits and the keys of errors that are not one field.

Changes here are changes to the public interface (the contract's field table). Standard library only.
"""

from __future__ import annotations

from typing import Literal, get_args

from leads_core.keys import ATTRIBUTION_FIELDS

# --- limits the handler can reuse ---------------------------------------------------------------------------
MAX_BODY_BYTES = 16 * 1024
MAX_FIELD_COUNT = 60
MAX_NAME_LENGTH = 80
MAX_PROVIDER_TEXT_LENGTH = 120
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40
MAX_MESSAGE_LENGTH = 2000
MAX_HEARD_ABOUT_LENGTH = 100
MAX_ATTRIBUTION_LENGTH = 500
MAX_WEBSITE_LENGTH = 500
MAX_CAPTCHA_TOKEN_LENGTH = 4096
MAX_UNKNOWN_FIELD_ERRORS = 10
MAX_REPORTED_FIELD_NAME_LENGTH = 40

PreferredContact = Literal["phone", "email", "text"]
BestTime = Literal["morning", "afternoon", "evening", "any"]
Service = Literal["depression", "anxiety", "ptsd", "bipolar", "ocd", "chronic_pain", "other"]
ReferralType = Literal["self", "provider"]

PREFERRED_CONTACTS: tuple[str, ...] = get_args(PreferredContact)
BEST_TIMES: tuple[str, ...] = get_args(BestTime)
SERVICES: tuple[str, ...] = get_args(Service)
REFERRAL_TYPES: tuple[str, ...] = get_args(ReferralType)

# The submission's text fields and yes/no fields, as the lead item stores them (leads_core.store.submit).
TEXT_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "service",
    "location",
    "referral_type",
    "provider_name",
    "provider_practice",
    "provider_email",
    "provider_phone",
    "message",
    "heard_about",
)
BOOLEAN_FIELDS: tuple[str, ...] = ("consent_privacy", "consent_sms", "in_crisis")

FORM_FIELDS: tuple[str, ...] = (
    *TEXT_FIELDS,
    *BOOLEAN_FIELDS,
    "submission_id",
    *ATTRIBUTION_FIELDS,
    "website",
    "captcha_token",
)
KNOWN_FIELDS: frozenset[str] = frozenset(FORM_FIELDS)

CONTACT_ERROR_FIELD = "phone"
PROVIDER_CONTACT_ERROR_FIELD = "provider_phone"
UNKNOWN_FIELDS_ERROR_KEY = "_unknown"
REPEATED_FIELDS_ERROR_KEY = "_repeated"
FORM_ERROR_KEY = "_form"

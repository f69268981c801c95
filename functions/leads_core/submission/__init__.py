"""The consultation request: turn submitted fields into a validated, normalised ``Submission``.

Modules, one per reason to change:

* ``schema``: the form's field names, enum choices, limits and error keys (the contract's field table);
* ``messages``: the sentences a visitor reads (wording only);
* ``fields``: readers and normalisers of one value (names, text, email, phone, booleans, enum choices);
* ``model``: the ``Submission`` model, its content digest and ``parse_submission`` (the cross-field rules);
* ``form_body``: decoding an ``application/x-www-form-urlencoded`` body into fields.

Import each name from the module that owns it (there is no package-level re-export).

``model.parse_submission(fields, locations=...)`` is the only way in. It applies the field rules of contract
section 2.1 and raises ``ValidationFailed`` whose ``errors`` map each bad field to ONE sentence written for
the visitor. Sentences never contain a submitted value and never a type name. The only client text that can
appear in a sentence is the *name* of an unknown field, and only when it is short and made of safe
characters (``[A-Za-z0-9_.-[]]``, at most 40 characters, at most 10 such entries).

Decisions (documented here because the contract leaves them open):

* ``null`` (JSON) and an empty or all-blank string mean "not given"; zero-width spaces/joiners and a BOM
  at either end of a value are trimmed like spaces, and a name made only of invisible characters is
  missing. Any other non-text value where text is expected (number, boolean, list, object) gets the
  field's sentence. A body that is not an object gets one sentence under ``_form``.
* Names (``first_name``, ``last_name``, ``provider_name``, ``provider_practice``): trimmed, inner runs of
  spaces collapsed to one, NFC-normalised. Rejected: C0/C1 control characters (tab, newline, CR, ...),
  line/paragraph separators, bidi embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069) and
  lone surrogates. Emoji, right-to-left letters and the bidi *marks* LRM/RLM are allowed. ``<`` and ``>``
  are accepted: a name is stored as typed and every renderer escapes (a URL in a name is a spam signal
  instead, see ``leads_core.spam``).
* ``message`` may hold line breaks and tabs (CRLF and CR become LF); other control characters are rejected.
* Enum values are case-insensitive, spaces and hyphens count as underscores ("Chronic pain"), stored
  lower-case.
* Phones: digits and the usual punctuation ``+ ( ) - . /`` and spaces only; letters and extensions are
  rejected (E.164 cannot hold an extension and we do not drop data silently).
* Self referrals ignore the ``provider_*`` fields (a hidden part of the form must not block a visitor).
* Provider referrals without patient contact default ``preferred_contact`` to ``phone`` when a patient or
  provider phone is known, else ``email``.
* When neither email nor phone is given, the sentence is reported under ``phone`` (``CONTACT_ERROR_FIELD``);
  a provider referral missing both provider contacts reports under ``provider_phone``.
* ``website`` (honeypot) never fails validation; it is kept (truncated) only for ``spam.spam_reasons``.

Cold start: only stdlib and pydantic at import; ``email_validator`` and ``phonenumbers`` are imported on
first use (``fields.warm_up()`` loads them on demand, e.g. in an init phase).
"""

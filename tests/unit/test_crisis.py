"""Crisis detection (urgent leads), the 988/911 support block and the visitor message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leads_core.crisis import (
    SUPPORT,
    crisis_reasons,
    message_reads_as_crisis,
    normalise_for_matching,
    visitor_message,
)
from leads_core.errors import ValidationFailed
from leads_core.submission.model import Submission, parse_submission


def sub(**overrides: Any) -> Submission:
    fields: dict[str, Any] = {
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "(630) 555-0142",
        "consent_privacy": True,
    }
    fields.update(overrides)
    return parse_submission(fields, locations=("naperville",))


# --- reasons --------------------------------------------------------------------------------------------
def test_no_crisis() -> None:
    assert crisis_reasons(sub(message="Looking for help with anxiety, evenings are best.")) == []
    assert crisis_reasons(sub()) == []


def test_self_reported() -> None:
    assert crisis_reasons(sub(in_crisis="on")) == ["self_reported"]


def test_self_reported_and_message() -> None:
    assert crisis_reasons(sub(in_crisis=True, message="I want to die")) == ["self_reported", "message"]


@pytest.mark.parametrize(
    "message",
    [
        "I want to kill myself",
        "I keep thinking about killing myself.",
        "I want to END MY LIFE.",
        "I've been thinking about ending my life",
        "i just want to die",
        "I wanna die",
        "Some days I wish I was dead",
        "Everyone would be better off dead... I mean me.",
        "I have been having suicidal thoughts",
        "Suicide has been on my mind",
        "I attempted suicide last year and it's coming back",
        "I have been hurting myself again",
        "I hurt myself last night",
        "I've been cutting myself",
        "self-harm",
        "I self harm when I'm stressed",
        "There is no reason to live anymore",
        "I have nothing left to live for",
        "I don't want to live anymore",
        "I don’t want to be alive",
        "I can't go on like this",
        "I thought about taking an overdose",
        "I overdosed on my pills last month",
        "I'm going to end it all",
        "I want to take my own life",
        "thinking of hanging myself",
        "K i l l myself? no: kill-myself",
        "I'm not suicidal but I want to die",
        "I'm not suicidal, I just cut myself sometimes",
        "No thoughts of suicide. But I have been hurting myself.",
        "My brother died by suicide and I can't cope",
        "Quiero morir",
        "Ya no quiero vivir",
        "He pensado en quitarme la vida",
        "pienso en el suicidio",
        "Tengo ganas de hacerme daño",
        "sometimes I want to unalive myself",
        "SUICIDAL",
        "suicidal.",
    ],
)
def test_crisis_messages_are_urgent(message: str) -> None:
    assert crisis_reasons(sub(message=message)) == ["message"]


@pytest.mark.parametrize(
    "message",
    [
        "I'm not suicidal, just very anxious.",
        "Not suicidal. Struggling with sleep.",
        "I am not currently suicidal",
        "I have never been suicidal, but my depression is bad",
        "No thoughts of suicide or self-harm, mostly panic attacks.",
        "no suicidal ideation, referred for OCD",
        "No history of self-harm.",
        "I feel like I'm going to die when the panic attacks hit",
        "This job is killing me",
        "I'm dying to get an appointment lol",
        "My killer headaches make everything worse",
        "I take care of myself as best as I can",
        "I harmonise well with my family",
        "My chronic pain makes it hard to live a normal life",
        "",
    ],
)
def test_ordinary_messages_are_not_urgent(message: str) -> None:
    assert crisis_reasons(sub(message=message)) == []


def test_no_message_is_not_a_crisis() -> None:
    assert message_reads_as_crisis(None) is False
    assert message_reads_as_crisis("") is False


def test_normalisation() -> None:
    assert normalise_for_matching("  I’M   Not—SUICIDAL!! Ça va. ") == "im not suicidal ca va"
    assert normalise_for_matching("Don't\nwant\tto live") == "dont want to live"


def test_negation_is_narrow() -> None:
    assert message_reads_as_crisis("not suicidal") is False
    assert message_reads_as_crisis("not suicidal; suicidal") is True
    assert message_reads_as_crisis("no thoughts of suicide, want to die") is True
    assert message_reads_as_crisis("no thoughts of suicide or self harm") is False
    assert message_reads_as_crisis("no thoughts of suicide or cutting myself") is True


# --- support block and visitor message ---------------------------------------------------------------------
def test_support_block_is_json_ready_and_names_988_and_911() -> None:
    decoded = json.loads(json.dumps(SUPPORT))
    assert decoded["crisis_line"]["name"] == "988 Suicide & Crisis Lifeline"
    assert decoded["crisis_line"]["call"] == "988"
    assert decoded["crisis_line"]["text"] == "988"
    assert decoded["crisis_line"]["chat"] == "https://988lifeline.org/chat"
    assert decoded["emergency"]["call"] == "911"
    assert decoded["emergency"]["when"]


def test_urgent_message_puts_988_and_911_before_the_confirmation() -> None:
    text = visitor_message(True, "Naperville Wellness Clinic")
    assert text.startswith("If you are thinking about harming yourself, call or text 988 now")
    assert text.index("911") < text.index("Naperville Wellness Clinic")
    assert text.index("988") < text.index("received your request")
    assert "call you back" in text


def test_normal_message_confirms_first_and_still_mentions_988() -> None:
    text = visitor_message(False, "Naperville Wellness Clinic")
    assert text.startswith("Thank you.")
    assert text.index("Naperville Wellness Clinic") < text.index("988")
    assert "911" in text
    assert visitor_message(False, "Naperville Wellness Clinic") != visitor_message(
        True, "Naperville Wellness Clinic"
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_any_message_yields_only_known_codes(message: str) -> None:
    try:
        submission = sub(message=message)
    except ValidationFailed:
        return
    assert crisis_reasons(submission) in ([], ["message"])

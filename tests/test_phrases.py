"""Phrase detectors against what the recognizer really hears."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from coach.analysis.phrases import has, sound_key
from coach.config.settings import PhraseSettings


@pytest.mark.parametrize("heard, phrase", [
    ("you need to come down that is our problem", "calm down"),  # tiny.en int8 on another CPU
    ("and the free digit security code on the back", "three digit"),
    ("this is ridiculus", "ridiculous"),
    ("i want to speak to a supervisor", "supervisor"),
    # a word Whisper was unsure of comes out in two pieces (tiny.en, partial decode of a long turn)
    ("i want to speak to your super minor right now", "speak to your supervisor"),
    ("this is my acceptable", "unacceptable"),
    ("this in a acceptable", "unacceptable"),  # tiny.en, a partial decode at another cadence
    ("i will make a come plain", "complaint"),
])
def test_heard_as_it_sounds(heard: str, phrase: str):
    assert has(heard, [phrase]) == [phrase]


@pytest.mark.parametrize("heard, phrase", [
    ("yes sir", "sorry"),  # same key, but a lone short word needs more than that
    ("i am not sure", "i am sorry"),
    ("can you do that", "cannot"),
    ("i do not understand", "i understand"),  # negation survives sound matching
    ("let me come back to you", "calm down"),
    ("speak to your manner", "manager"),
    ("you never need to worry", "you need to"),
    ("that is not acceptable", "unacceptable"),  # "not" is never half of a joined word
    ("i can sell it", "cancel"),  # too short a word to match two joined pieces
    ("i got some of them yesterday", "sick of"),  # one sound swapped (SM/SK) is another word ...
    ("i am sick of this", "i am sorry"),  # ... (SK/SR)
    ("that is acceptable", "unacceptable"),  # a negated word is not its own stem ...
    ("i am happy with that", "unhappy"),
    ("that is possible", "impossible"),
    ("that is an acceptable offer", "unacceptable"),  # ... nor an article or "is" before it
    ("it is acceptable", "unacceptable"),
    ("we will compare the plans", "complaint"),
])
def test_not_heard_where_it_is_not(heard: str, phrase: str):
    assert has(heard, [phrase]) == []


def test_sound_key_folds_th_into_f():
    assert sound_key("three") == sound_key("free") and sound_key("calm") != sound_key("come")


MISHEARINGS = json.loads((DATA / "mishearings.json").read_text())
# What no spelling or sound match can recover: a word inserted, dropped or turned into its
# opposite. Each is listed so a detector that starts catching it (or stops) shows here.
KNOWN_MISSES = {
    ("acknowledgement", "sorry i am out that"): "a word inserted into 'sorry about that'",
    ("backchannel", "uh uh"): "'uh uh' is also a no: not taken as a backchannel",
    ("backchannel", ""): "nothing heard at all",
    ("manager_request", "to manage an hour"): "'manager now' split into three other words",
    ("manager_request", "want to manage an hour"): "'want a manager now' split into other words",
}


@pytest.mark.parametrize("e", MISHEARINGS["phrases"], ids=lambda e: f"{e['list']}:{e['heard']}")
def test_each_detector_still_fires_on_what_the_recognizer_heard(e: dict):
    """tests/data/mishearings.json: tools/mishearings.py decoded every scripted turn with tiny.en at
    three compute types and the multilingual base model; where a listed phrase came out otherwise,
    the detector (the whole phrase list) must still fire on the sentence as heard."""
    phrases = getattr(PhraseSettings(), e["list"])
    assert has(e["said"], phrases), e  # the script itself is detected
    fired = has(e["in"], phrases)
    if (e["list"], e["heard"]) in KNOWN_MISSES:
        assert not fired, f"now detected: take it off KNOWN_MISSES ({e})"
    else:
        assert fired, e

"""Phrase detectors against what the recognizer really hears."""

from __future__ import annotations

import pytest

from coach.analysis.phrases import has, sound_key


@pytest.mark.parametrize("heard, phrase", [
    ("you need to come down that is our problem", "calm down"),  # tiny.en int8 on another CPU
    ("and the free digit security code on the back", "three digit"),
    ("this is ridiculus", "ridiculous"),
    ("i want to speak to a supervisor", "supervisor"),
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
])
def test_not_heard_where_it_is_not(heard: str, phrase: str):
    assert has(heard, [phrase]) == []


def test_sound_key_folds_th_into_f():
    assert sound_key("three") == sound_key("free") and sound_key("calm") != sound_key("come")

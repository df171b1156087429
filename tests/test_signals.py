"""Sentiment, pace, acoustics and phrase matching."""

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from coach.analysis.acoustics import Baseline, loudness_db, pitch_hz, semitones
from coach.analysis.pace import PaceTracker, rate
from coach.analysis.phrases import content_words, has, tokens
from coach.analysis.sentiment import sentiment


def test_call_lexicon_fixes_vader_on_angry_call_language():
    plain = SentimentIntensityAnalyzer()
    # what plain VADER gets wrong (docs/facts.md): "ridiculous" positive, a long complaint neutral
    text = "honestly this is ridiculous"
    assert plain.polarity_scores(text)["compound"] > 0
    assert sentiment(text) < 0
    text = "i have been on hold for forty minutes and nobody can tell me what happened to my refund"
    assert plain.polarity_scores(text)["compound"] == 0
    assert sentiment(text) < -0.2
    assert sentiment("thank you i appreciate that") > 0.5
    assert sentiment("") == 0.0


def test_pace_is_words_over_speech_time_in_a_recent_window():
    assert rate(30, 10.0) == 180.0
    p = PaceTracker()
    p.add(10, 5.0)  # 120 wpm, old
    p.add(50, 10.0)  # 300 wpm
    p.add(25, 5.0)  # 300 wpm
    wpm, covered = p.recent(12.0)
    assert covered == 15.0 and wpm == 300.0
    assert p.overall() == pytest.approx(85 / 20 * 60)
    p.add(0, 3.0)  # an utterance with no words carries no pace
    assert len(p.stretches) == 3


def test_loudness_pitch_and_baseline():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    assert loudness_db(x) == pytest.approx(-20, abs=0.5)
    assert loudness_db(x * 2) - loudness_db(x) == pytest.approx(6.02, abs=0.1)
    assert pitch_hz(x) is None  # noise has no pitch
    t = np.arange(16000) / 16000
    for f0 in (110, 220):
        voice = (np.sign(np.sin(2 * np.pi * f0 * t)) * 0.1).astype(np.float32)
        assert pitch_hz(voice) == pytest.approx(f0, rel=0.03)
    assert semitones(220, 110) == pytest.approx(12)
    b = Baseline()
    assert b.value() is None
    for v in (-25, -24, -10):
        b.add(v)
    assert b.value() == -24  # one shouted turn does not move the median


def test_tokens_shape_text_like_asr():
    assert tokens("I'm SO sorry, that's not my problem!") == "i am so sorry that is not my problem".split()
    assert tokens("im sorry thats fine") == "i am sorry that is fine".split()  # apostrophes ASR dropped


@pytest.mark.parametrize("text, phrase", [
    ("I understand.", "i understand"),
    ("i understnd", "i understand"),  # mis-hearing
    ("that sounds frustratin for you", "sounds frustrating"),
    ("so what im hearing is the line drops", "what i am hearing"),
    ("That's not my problem", "not my problem"),
])
def test_phrases_match_fuzzily(text: str, phrase: str):
    assert has(text, [phrase]) == [phrase]


@pytest.mark.parametrize("text, phrase", [
    ("i don't understand why", "i understand"),  # negated
    ("you don't need to do anything", "you need to"),
    ("that's not a problem at all", "not my problem"),
    ("i can stand it", "i understand"),
    ("let me check", "let me chuck it"),
])
def test_phrases_do_not_match(text: str, phrase: str):
    assert has(text, [phrase]) == []


def test_wildcard_and_content_words():
    assert has("let me just check that", ["let me * check"]) == ["let me * check"]
    assert content_words("I was charged twice for my ticket") & content_words("so the charges came twice")

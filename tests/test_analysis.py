import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from coach.analysis.acoustics import Baseline, loudness_db
from coach.analysis.engine import CueEngine, Proposal
from coach.analysis.escalation import assess, normalise, phrase_hits
from coach.analysis.pace import PaceTracker, rate
from coach.analysis.rules import Rules
from coach.analysis.sentiment import sentiment
from coach.analysis.turns import TurnTracker
from coach.events import Utterance, Word
from coach.settings import CueSettings


def test_call_lexicon_fixes_vader_on_angry_call_language():
    plain = SentimentIntensityAnalyzer()
    # what plain VADER gets wrong (FACTS.md): "ridiculous" positive, a long complaint neutral
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


@pytest.mark.parametrize("text, name", [
    ("I want to speak to a manager", "asks for a manager"),
    ("can you put me through to your supervisor please", "asks for a manager"),
    ("this is the third time i'm calling", "third time"),
    ("THIS IS COMPLETELY UNACCEPTABLE!!", "unacceptable"),
    ("i'm going to make a complaint", "complaint"),
    ("i'll be contacting my lawyer", "legal threat"),
    ("im fed up with this", "fed up"),
    ("nobody has called me back", "nobody helps"),
])
def test_escalation_phrases_in_asr_shaped_text(text: str, name: str):
    assert name in dict(phrase_hits(text))


def test_normalise_shapes_text_like_asr():
    assert normalise("Ten days? That's OUTRAGEOUS.") == "ten days that's outrageous"


@pytest.mark.parametrize("text", ["the manager of the branch said it was fine", "thanks, that's sorted then", "could you check the order"])
def test_calm_turns_do_not_escalate(text: str):
    a = assess(text, sentiment(text), [0.2, 0.1], 0.5)
    assert a.score < 0.6, a


def test_escalation_combines_signals_and_names_them():
    text = "i have waited a week and nobody has replied this is unacceptable"
    quiet = assess(text, sentiment(text), [0.4], None)
    loud = assess(text, sentiment(text), [0.4], 7.0)
    assert loud.score > quiet.score
    assert any("loudness +7.0 dB" in r for r in loud.reasons)
    assert any("falling" in r for r in loud.reasons)
    assert loud.score >= 0.6


def test_loudness_and_baseline():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    assert loudness_db(x) == pytest.approx(-20, abs=0.5)
    assert loudness_db(x * 2) - loudness_db(x) == pytest.approx(6.02, abs=0.1)
    b = Baseline()
    assert b.value() is None
    for v in (-25, -24, -10):
        b.add(v)
    assert b.value() == -24  # one shouted turn does not move the median


def test_turn_tracker_times_talk_overtalk_dead_air_monologue():
    t = TurnTracker(0.1, dead_air_min_s=1.0, monologue_gap_s=0.5, check_in_s=2.0)
    events = []
    plan = ([{"agent": True}] * 30 + [{"agent": True, "customer": True}] * 5 + [{}] * 25
            + [{"customer": True}] * 10 + [{}] * 5)
    for a in plan:
        e = t.update(a)
        if e:
            events.append(e)
    assert t.seconds(t.talk["agent"]) == 3.5
    assert t.seconds(t.overtalk) == 0.5
    assert t.seconds(t.dead_air) == 2.5  # the trailing 0.5 s is not dead air (and too short)
    assert len(events) == 1 and events[0].since == pytest.approx(3.5) and events[0].at == pytest.approx(5.5)
    assert t.seconds(t.longest["agent"]) == 3.5


def test_monologue_survives_backchannel_and_ends_when_the_other_takes_the_floor():
    t = TurnTracker(0.1, 3.0, 2.0, 8.0)
    for _ in range(50):
        t.update({"agent": True})
    for _ in range(5):  # "uh huh" under the agent: 0.5 s
        t.update({"agent": True, "customer": True})
    for _ in range(50):
        t.update({"agent": True})
    assert t.monologue_s("agent") == pytest.approx(10.5)
    for _ in range(15):  # the customer talks for 1.5 s
        t.update({"customer": True})
    t.update({"agent": True})
    assert t.monologue_s("agent") == pytest.approx(0.1)
    assert t.seconds(t.longest["agent"]) == 10.5


def prop(cue_id: str, end: float = 0.0) -> Proposal:
    return Proposal(cue_id, "agent", "because", end)


def test_engine_cooldown_gap_priority_and_switches():
    s = CueSettings()
    e = CueEngine(s)
    c = e.offer(prop("slow_down", 9.5), 10.0)
    assert c is not None and c.latency_s == 0.5 and c.label == "slow down" and c.tip
    assert e.offer(prop("check_in"), 12.0) is None  # lower priority, inside the global gap
    assert e.offer(prop("customer_escalating"), 12.5) is not None  # more urgent: shown anyway
    assert e.offer(prop("slow_down"), 40.0) is None  # its own 60 s cooldown
    assert e.offer(prop("slow_down"), 71.0) is not None
    s.check_in.enabled = False
    assert e.offer(prop("check_in"), 200.0) is None
    assert [x[1] for x in e.suppressed] == ["check_in", "slow_down"]


def utt(speaker: str, text: str, start: float, end: float, loud: float = -24.0) -> Utterance:
    n = len(text.split())
    words = [Word(w, start + i * (end - start) / n, start + (i + 1) * (end - start) / n) for i, w in enumerate(text.split())]
    return Utterance(speaker, start, end, text, words, sentiment(text), None, loud)


def test_rules_escalation_then_calming_needs_turns():
    r = Rules(CueSettings())
    assert r.on_utterance(utt("customer", "hi i need to change my address", 0, 3)) == []
    out = r.on_utterance(utt("customer", "this is ridiculous i want to speak to a manager now", 5, 9, loud=-18))
    assert [p.id for p in out] == ["customer_escalating"] and "loudness +6.0 dB" in out[0].reason
    assert r.on_utterance(utt("customer", "thank you that is great", 12, 14)) == []  # too soon to call it
    out = r.on_utterance(utt("customer", "perfect thank you i appreciate it", 16, 18))
    assert [p.id for p in out] == ["customer_calming"]


def test_rules_slow_down_needs_sustained_fast_speech():
    r = Rules(CueSettings())
    fast_short = " ".join(["word"] * 15)  # 15 words in 3 s = 300 wpm, but only 3 s
    assert r.on_utterance(utt("agent", fast_short, 0, 3)) == []
    out = r.on_utterance(utt("agent", " ".join(["word"] * 25), 4, 9))  # 8 s of speech at 300 wpm
    assert [p.id for p in out] == ["slow_down"] and "300 wpm" in out[0].reason
    calm = Rules(CueSettings())
    assert calm.on_utterance(utt("agent", " ".join(["word"] * 30), 0, 12)) == []  # 150 wpm

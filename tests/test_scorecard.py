"""Skill scorecards (coach/session/scorecard.py) of a scripted session document whose opportunities
were counted by hand: every rate, every moment's time, status and flagged segment."""

from __future__ import annotations

import json

import pytest

from coach.analysis.catalog import CATALOG
from coach.config.settings import Settings
from coach.session.scorecard import SKILLS, combine, scorecard, shared, shown

FILLER = "open the blue menu and pick the network tab then".split()


def utt(speaker: str, start: float, end: float, text: str, sentiment: float | None = None, n: int | None = None) -> dict:
    """An utterance as the store keeps it; `n` words of filler when no text is given."""
    words = text.split() if n is None else [FILLER[i % len(FILLER)] for i in range(n)]
    step = (end - start) / len(words)
    return {"speaker": speaker, "start": start, "end": end, "text": " ".join(words), "sentiment": sentiment,
            "words": [{"w": w, "start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3), "p": 0.95}
                      for i, w in enumerate(words)]}


A, C = "agent", "customer"
UTTERANCES = [
    # a rushed opening: four 5 s stretches of 50 words (600 wpm), then 20 s of slow explanation (120 wpm)
    utt(A, 1.0, 6.0, "", n=50), utt(A, 6.5, 11.5, "", n=50), utt(A, 12.0, 17.0, "", n=50), utt(A, 17.5, 22.5, "", n=50),
    utt(A, 23.0, 43.0, "", n=40),
    # E1: emotion, acknowledged by phrase
    utt(C, 45.0, 49.0, "I am really upset, the parcel never came and it was a gift.", -0.5),
    utt(A, 49.5, 54.0, "I am so sorry to hear that, I will find your parcel now."),
    # E2: emotion, not acknowledged: acknowledge_feelings shown, reflect_back held back by the gap
    utt(C, 55.0, 60.0, "This is so frustrating, I have been waiting all week for it.", -0.6),
    utt(A, 60.5, 65.0, "What is your order number please, and the postcode as well?"),
    # E3: emotion, acknowledged in words no list has: the encoder judged it live, no cue
    utt(C, 66.0, 70.0, "I am worried the money is gone from my account.", -0.4),
    utt(A, 70.5, 75.0, "Oh no, that is not what you want to hear at all."),
    # E4: emotion; acknowledge_feelings held back as unsure, reflect_back shown
    utt(C, 76.0, 80.0, "I am angry about all of this, honestly.", -0.5),
    utt(A, 80.5, 85.0, "Can you read me the long number on the card?"),
    # E5: emotion; both cues held back by their cooldowns: still missed
    utt(C, 86.0, 90.0, "I am fed up with being passed around, really.", -0.5),
    utt(A, 90.5, 95.0, "Please give me the date of the first order you placed."),
    # L1: a long calm turn (40 words), restated
    utt(C, 96.0, 108.0, "So the router is in the hall, and every evening around seven the lights go off and the connection "
                        "drops, then it comes back after ten minutes, and it happens most days, and I work from home in the evenings.", 0.0),
    utt(A, 108.5, 113.0, "So what I am hearing is the router drops every evening."),
    # L2: a long happy turn: chat, not a problem to restate
    utt(C, 114.0, 125.0, "I am really glad I called, thank you so much, you have all been wonderful and so helpful and kind, the new "
                         "phone works great and I love it, my daughter loves it too, it is a great present for her birthday next week.", 0.9),
    utt(A, 125.5, 130.0, "Great, I will book that in for you today then."),
    # B1: one turn across the agent's backchannel, acknowledged
    utt(C, 131.0, 134.0, "And another thing, the engineer never showed up.", -0.2),
    utt(A, 134.5, 135.0, "okay"),
    utt(C, 135.5, 139.0, "I took a day off work for it, which makes me really annoyed.", -0.4),
    utt(A, 139.5, 144.0, "I understand, that is a wasted day, I will log a complaint."),
    # G1: a hold announced, 9 s of silence
    utt(A, 145.0, 149.0, "Let me check that for you, one moment please."),
    utt(C, 158.0, 160.0, "Thanks, that is fine.", 0.4),
    # G2: 11 s of silence, no hold
    utt(A, 171.0, 175.0, "Sorry for the wait, I can see the parcel on the system."),
    utt(C, 175.5, 178.0, "Where is it now then?", 0.0),
    utt(A, 183.0, 187.0, "It is at the depot in town, it leaves on Monday morning."),  # after 5 s: no dead air
    # E6: an escalation, acknowledged; the customer calms
    utt(C, 188.0, 195.0, "This is unacceptable, I want to speak to a manager right now.", -0.7),
    utt(A, 195.5, 200.0, "I am really sorry, I will sort this out for you myself."),
    utt(C, 201.0, 206.0, "Fine, but it has to arrive by Monday, that is the third time.", -0.3),
    utt(A, 206.5, 211.0, "It will, I have put a priority flag on the delivery."),
    utt(C, 211.5, 214.5, "Okay, that is great, thank you very much.", 0.8),
    # an early closing with no summary (confirm_resolution shown), then the call goes on
    utt(A, 215.0, 219.0, "Is there anything else I can do for you?"),
    utt(C, 219.5, 223.0, "Actually yes, my card was charged twice last month.", -0.3),
    # G3: a hold announced, then 14 s of silence
    utt(A, 223.5, 228.0, "Let me look at the card payments on your account."),
    utt(C, 242.0, 245.0, "Hello, are you still there?", 0.0),
    utt(A, 245.5, 250.0, "Yes, sorry, I can see the second charge now, my apologies."),
    # E7: a second escalation, acknowledged, never calmed
    utt(C, 250.5, 256.0, "This is ridiculous, I am going to cancel my contract and complain.", -0.7),
    utt(A, 256.5, 261.0, "I hear you, and I will refund the second charge today."),
    # the last closing, after a summary
    utt(A, 262.0, 267.0, "To confirm, the refund will reach your card in five days."),
    utt(A, 267.5, 271.0, "Is there anything else I can help with today?"),
    utt(C, 271.5, 273.0, "No, bye.", 0.0),
]


def cue(cue_id: str, t: float, latency: float, reason: str = "") -> dict:
    return {"id": cue_id, "label": cue_id, "t": t, "speaker": "agent", "severity": "info", "skill": "", "tip": "",
            "reason": reason or cue_id, "latency_s": latency, "confidence": 1.0}


DOC = {
    "schema": "coach.analysis/1",
    "source": {"path": "call.wav", "duration_s": 275.0},
    "utterances": UTTERANCES,
    "cues": [
        cue("acknowledge_feelings", 65.9, 0.9, "customer said 'frustrating'; your reply acknowledged nothing"),
        cue("reflect_back", 85.8, 0.8),
        cue("let_them_finish", 136.1, 0.1),
        cue("check_in", 168.0, 0.0),
        cue("reflect_back", 175.5, 0.5, "the customer gave the detail; you moved on without reading it back"),
        cue("customer_escalating", 195.2, 0.2),
        cue("customer_calming", 215.0, 0.5),
        cue("confirm_resolution", 219.5, 0.5),
        cue("check_in", 240.0, 0.0),
        cue("customer_escalating", 256.3, 0.3),
    ],
    "suppressed_cues": [
        {"t": 65.9, "id": "reflect_back", "why": "within 8 s of acknowledge_feelings"},
        {"t": 85.6, "id": "acknowledge_feelings", "why": "confidence 0.40 below 0.5"},
        {"t": 95.5, "id": "acknowledge_feelings", "why": "cooldown"},
        {"t": 95.5, "id": "reflect_back", "why": "cooldown"},
        {"t": 150.0, "id": "let_them_finish", "why": "cooldown"},
        {"t": 205.0, "id": "customer_escalating", "why": "cooldown"},
    ],
    "flags": [{"start": 185.0, "end": 215.0, "reason": "customer_escalating", "by": "rule", "note": ""},
              {"start": 246.0, "end": 276.0, "reason": "customer_escalating", "by": "rule", "note": ""}],
    "metrics": {"agent": {"talk_s": 100.0}, "customer": {"talk_s": 120.0}},
}


@pytest.fixture(scope="module")
def card() -> dict:
    s = Settings()
    # the thresholds the hand counts below rest on, pinned: other work tunes the shipped defaults
    s.cues.acknowledge_feelings.min_reply_words = 6
    s.cues.reflect_back.min_words, s.cues.reflect_back.min_turn_s, s.cues.reflect_back.happy_sentiment = 30, 10.0, 0.6
    s.cues.slow_down.max_wpm, s.cues.slow_down.window_s, s.cues.slow_down.min_speech_s = 230.0, 20.0, 8.0
    s.cues.check_in.dead_air_s, s.cues.check_in.hold_dead_air_s = 8.0, 12.0
    s.cues.confirm_resolution.min_call_s, s.cues.confirm_resolution.lookback_s = 20.0, 180.0
    return {sk["id"]: sk for sk in scorecard(json.loads(json.dumps(DOC)), s)["skills"]}


def moments(sk: dict) -> list[tuple]:
    return [(m["t"], m["status"], m["cue"], m["segment"]) for m in sk["moments"]]


def test_every_skill_of_the_catalog_is_on_the_card(card):
    assert list(card) == [s.id for s in SKILLS]
    assert {sk["cue"] for sk in card.values()} <= set(CATALOG)


def test_empathy_counts_emotional_turns_and_the_replies_that_acknowledged_them(card):
    # E1 phrase, E3 by meaning (no cue), B1 across a backchannel, E6, E7: taken; E2 shown, E5 held back: missed;
    # E4 held back as unsure: listed, not counted
    assert (card["empathy"]["n"], card["empathy"]["k"]) == (7, 5)
    assert moments(card["empathy"]) == [
        (45.0, "taken", None, None), (55.0, "missed", "acknowledge_feelings", None), (66.0, "taken", None, None),
        (76.0, "unsure", "acknowledge_feelings", None), (86.0, "missed", "acknowledge_feelings", None),
        (131.0, "taken", None, None), (188.0, "taken", None, 0), (250.5, "taken", None, 1)]
    assert card["empathy"]["moments"][0]["end"] == 54.0
    assert "i am so sorry" in card["empathy"]["moments"][0]["why"] and "frustrating" in card["empathy"]["moments"][1]["why"]
    assert shown("empathy", 7, 5) == "5 of 7 (71%)"


def test_active_listening_counts_long_or_emotional_turns_and_the_replies_that_restated_them(card):
    # the seven emotional turns (E4 missed: reflect_back shown) and L1 (40 words, restated); L2 is chat
    assert (card["active_listening"]["n"], card["active_listening"]["k"]) == (9, 6)
    assert [(t, st) for t, st, _, _ in moments(card["active_listening"]) if st != "cue"] == [
        (45.0, "taken"), (55.0, "missed"), (66.0, "taken"), (76.0, "missed"), (86.0, "missed"), (96.0, "taken"),
        (131.0, "taken"), (188.0, "taken"), (250.5, "taken")]
    assert "what i am hearing" in card["active_listening"]["moments"][5]["why"]
    # a reflect_back cue on a reply that was no such turn (a read-back, say): listed, not counted
    assert [(m["t"], m["status"]) for m in card["active_listening"]["moments"] if m["status"] == "cue"] == [(175.0, "cue")]


def test_interruptions_talk_share_and_pace(card):
    assert (card["interruptions"]["n"], card["interruptions"]["k"]) == (1, 2)  # shown once, held back once
    assert [m["t"] for m in card["interruptions"]["moments"]] == [136.0, 150.0]
    assert (card["talk_share"]["n"], card["talk_share"]["k"]) == (220.0, 100.0)
    # pace: the 2nd-4th rushed stretches (a window of >= 8 s at 600 wpm); the 1st has 5 s of speech, the slow
    # explanation's own 20 s fill its window, and every later reply's window reaches back into it
    agent_speech = sum(u["end"] - u["start"] for u in UTTERANCES if u["speaker"] == "agent")
    assert card["pace"]["n"] == pytest.approx(agent_speech) and card["pace"]["k"] == pytest.approx(15.0)
    assert moments(card["pace"]) == [(6.5, "missed", None, None)] and card["pace"]["moments"][0]["end"] == 22.5
    assert card["pace"]["reliability"] and "slow_down" in card["pace"]["reliability"]


def test_de_escalation_resolution_and_dead_air(card):
    # two episodes (the escalation held back at 205 s is the first one's): the first calmed
    assert (card["de_escalation"]["n"], card["de_escalation"]["k"]) == (2, 1)
    assert moments(card["de_escalation"]) == [(195.0, "taken", "customer_calming", 0), (256.0, "missed", "customer_escalating", 1)]
    assert card["de_escalation"]["moments"][0]["end"] == 214.5
    # the call's last closing came after a summary; the early one's cue does not count against it
    assert (card["resolution"]["n"], card["resolution"]["k"]) == (1, 1)
    assert moments(card["resolution"]) == [(219.0, "cue", "confirm_resolution", None), (267.5, "taken", None, 1)]
    assert "to confirm" in card["resolution"]["moments"][1]["why"]
    assert "below 80 %" in card["resolution"]["reliability"]
    # 9 s after a hold: taken; 11 s without one and 14 s after one: missed; 5 s: no opportunity
    assert (card["dead_air"]["n"], card["dead_air"]["k"]) == (3, 1)
    assert moments(card["dead_air"]) == [(149.0, "taken", None, None), (160.0, "missed", "check_in", None),
                                         (228.0, "missed", "check_in", None)]


def test_what_is_shared_is_numbers_and_times_only():
    out = shared(scorecard(json.loads(json.dumps(DOC))))
    strings: set[str] = set()

    def walk(x: object) -> None:
        if isinstance(x, str):
            strings.add(x)
        for v in x.values() if isinstance(x, dict) else x if isinstance(x, list) else ():
            walk(v)

    walk(out)
    # ids and statuses only: no word of the call, nor a cue's reason (which quotes them)
    assert strings <= {s.id for s in SKILLS} | set(CATALOG) | {"taken", "missed", "unsure", "cue"}
    assert set(out[0]) == {"id", "n", "k", "moments"} and set(out[0]["moments"][0]) == {"t", "end", "status", "cue", "segment"}


def test_a_call_with_nothing_to_judge_and_several_calls_combined(card):
    empty = scorecard({"source": {"duration_s": 10.0}, "utterances": [], "cues": [], "flags": []})
    assert all(sk["n"] == 0 and sk["moments"] == [] for sk in empty["skills"] if sk["id"] != "interruptions")
    both = combine([{"skills": list(card.values())}, empty])
    assert both["empathy"] == {"n": 7, "k": 5} and both["interruptions"] == {"n": 2, "k": 2}
    assert shown("interruptions", 2, 2) == "1.0 per call (2 in 2 calls)" and shown("empathy", 0, 0) == "no opportunity"

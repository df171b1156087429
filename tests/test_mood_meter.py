"""The customer mood meter on the escalation cue's own evidence (issue #31): no verdict from a second
of speech, a hint from the voice does not outlast the customer's talking, and a calm real caller
reads calm. The meter's states are the overlay's: upset from 0.6 (the cue's score_threshold), tense
from 0.3 (coach/ui/overlay.py)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fakes import ScriptedTranscriber
from test_voice import R, changed, gap, real_caller

from coach.config.settings import Settings
from coach.core.events import AudioChunk, Meters, Utterance, VoiceLevel
from coach.core.pipeline import Pipeline
from coach.core.runner import SimClock, SimulatedRunner
from coach.session.live_state import LiveState

TENSE, UPSET = 0.3, 0.6


def level(t: float, value: float) -> VoiceLevel:
    return VoiceLevel(t, value, 1.0, 1.0)


def test_a_hint_from_the_voice_lapses_once_the_customer_stops_talking():
    state = LiveState(voice_hold_s=5.0)
    state.set(position=2.0)
    assert state.snapshot().escalation is None  # nothing heard of the customer: no verdict, not "calm"
    state.on_meters(Meters(0.1, None, None))  # the words of their latest utterance: calm
    state.on_voice(level(100.0, 0.45))
    assert state.snapshot().escalation == pytest.approx(0.45) and state.snapshot().escalation_trend == 1
    state.set(position=104.0)  # a pause within the customer's turn
    assert state.snapshot().escalation == pytest.approx(0.45)
    state.set(position=106.0)  # the agent has the floor: the words' verdict alone
    snap = state.snapshot()
    assert snap.escalation == pytest.approx(0.1) and snap.escalation_trend == -1
    state.set(position=160.0)  # a minute of the agent talking
    assert state.snapshot().escalation == pytest.approx(0.1)


def test_an_alarm_from_the_voice_holds_until_the_voice_is_read_again():
    state = LiveState(voice_hold_s=5.0)
    state.on_voice(level(50.0, 0.7))
    state.set(position=90.0)  # the customer shouted, then listens: still upset
    assert state.snapshot().escalation == pytest.approx(0.7)
    state.on_voice(level(95.0, 0.1))  # they speak calmly again
    assert state.snapshot().escalation == pytest.approx(0.1)


def test_a_customer_utterance_moves_the_clock_without_a_position():
    """analyze and the tests feed no position: an utterance's end is stream time too."""
    state = LiveState(voice_hold_s=5.0)
    state.on_voice(level(10.0, 0.4))
    u = Utterance("agent", 12.0, 30.0, "so what we will do is this", [])
    state.on_utterance(u)
    state.on_meters(Meters(0.0, None, None))
    assert state.snapshot().escalation == 0.0


def chunks(customer: np.ndarray, state: LiveState) -> Iterator[AudioChunk]:
    """The customer's channel (the agent silent) in 100 ms chunks, the overlay told the position as it goes."""
    step = R // 10
    for i in range(0, len(customer), step):
        x = customer[i:i + step]
        state.set(position=i / R)
        yield AudioChunk(i / R, {"agent": np.zeros(len(x), np.float32), "customer": x})


def meter_through_pipeline(customer: np.ndarray) -> tuple[list[tuple[float, float | None]], list[VoiceLevel], Pipeline]:
    """The mood meter after each chunk, as the overlay would read it, with the words calm: the voice alone moves it."""
    clock, state = SimClock(), LiveState()
    voice: list[VoiceLevel] = []

    def on_event(e: object) -> None:
        if isinstance(e, VoiceLevel):
            voice.append(e)
            state.on_voice(e)
        elif isinstance(e, Utterance):
            state.on_utterance(e)
        elif isinstance(e, Meters):
            state.on_meters(e)

    p = Pipeline(Settings(), ScriptedTranscriber([]), ["agent", "customer"], clock, on_event=on_event)
    readings: list[tuple[float, float | None]] = []
    SimulatedRunner(p, clock, progress=lambda t: readings.append((t, state.snapshot().escalation))).run(chunks(customer, state))
    return readings, voice, p


@pytest.fixture(scope="module")
def caller() -> np.ndarray:
    return real_caller()


def test_a_second_of_raised_speech_moves_no_meter(caller: np.ndarray):
    """The real caller, her baseline learnt, 25 s of listening, then 1.4 s of her speech 6 semitones
    higher and 10 dB louder: too short for the voice rule (3 s of speech), so too short for the meter.
    Before issue #31 this second read 0.85, "upset"."""
    burst = changed(caller[17 * R:19 * R], 0, semitones=6, gain_db=10)
    x = np.concatenate([caller[:40 * R], gap(25), burst, gap(8)])
    readings, voice, p = meter_through_pipeline(x)
    assert [v for v in voice if v.t > 60] == []
    assert max(e or 0.0 for t, e in readings if t > 60) < TENSE
    assert [c.id for c in p.engine.fired if c.id == "customer_escalating"] == []


def test_the_real_caller_reads_calm(caller: np.ndarray):
    """The whole real call (a calm caller, delighted at the end): the meter is never upset and
    tense for at most a few seconds. Before issue #31: tense for 52 s of its 4 minutes, 41 s at a
    stretch from 146 s, most of it while the agent talked."""
    readings, voice, _ = meter_through_pipeline(caller)
    assert len(voice) >= 30  # the caller's voice was read for most of her talking
    assert all((e or 0.0) < UPSET for _, e in readings)
    tense_s = sum(0.1 for _, e in readings if (e or 0.0) >= TENSE)
    assert tense_s <= 3.0, tense_s

"""Escalation from the customer's voice: the features, the meter, and the cue through the pipeline.

No angry-speech corpus with a licence we can ship exists (issue #18), so: synthetic voices for each
feature, the real call's caller with controlled gain and pitch changes (and gain alone, which must
not escalate), and espeak renders with raised pitch and amplitude."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import DATA, render_one
from fakes import ScriptedTranscriber

from coach.analysis.voice import FRAME, WINDOW, VoiceMeter, VoiceReading, VoiceSettings, frame_features
from coach.audio.file_source import FileSource
from coach.config.settings import Settings
from coach.core.events import Cue, Utterance, VoiceLevel
from coach.core.pipeline import Pipeline
from coach.core.runner import SimClock, SimulatedRunner
from coach.session.live_state import LiveState
from coach.speech.vad import SileroStream

R = 16000


def voice(f0: float, seconds: float, db: float = -26.0, tilt: float = 1.2, seed: int = 0) -> np.ndarray:
    """A voiced sound: harmonics of a slowly wavering f0 with a spectral tilt (smaller = brighter)."""
    t = np.arange(int(seconds * R)) / R
    f = f0 * (1 + 0.02 * np.sin(2 * np.pi * 4 * t) + 0.03 * np.sin(2 * np.pi * 0.7 * t + seed))
    phase = 2 * np.pi * np.cumsum(f) / R
    x = sum((max(k * f0, 300) / 300) ** -tilt * np.sin(k * phase) for k in range(1, int(3800 // f0)))
    x = x * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)  # syllables
    x *= 10 ** (db / 20) / np.sqrt(np.mean(x**2))
    return x.astype(np.float32)


def gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * R), np.float32)


def features(x: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(x) // FRAME - 1
    return frame_features(x[np.arange(n)[:, None] * FRAME + np.arange(WINDOW)[None, :]])


@pytest.mark.parametrize("f0", [95.0, 150.0, 220.0, 310.0])
def test_pitch_of_a_voice_within_two_percent(f0: float):
    _, hz, *_ = features(voice(f0, 1.0))
    assert np.nanmedian(hz) == pytest.approx(f0, rel=0.02)  # the wavering is +-3 %; the median is the centre
    assert np.mean(np.isnan(hz)) < 0.1


def test_noise_has_no_pitch_and_gain_changes_loudness_only():
    noise = np.random.default_rng(1).normal(0, 0.05, R).astype(np.float32)
    assert np.mean(np.isnan(features(noise)[1])) > 0.9
    quiet, loud = features(voice(140, 1.0)), features(voice(140, 1.0) * 10)
    assert 10 * np.log10(loud[0].mean() / quiet[0].mean()) == pytest.approx(20, abs=0.1)
    np.testing.assert_allclose(loud[1], quiet[1], rtol=1e-6)
    bright = lambda f: 10 * np.log10(f[3].sum() / f[2].sum())  # noqa: E731
    assert bright(loud) == pytest.approx(bright(quiet), abs=0.01)
    assert bright(features(voice(140, 1.0, tilt=0.6))) > bright(quiet) + 3  # effort flattens the tilt


class EnergyVad:
    """Speech where there is sound, on the VAD's frame grid: Silero rightly hears no speech in a synthetic voice."""

    def __init__(self) -> None:
        self.rest = np.zeros(0, np.float32)

    def feed(self, chunk: np.ndarray) -> np.ndarray:
        x = np.concatenate([self.rest, chunk])
        n = len(x) // FRAME
        self.rest = x[n * FRAME:]
        frames = x[: n * FRAME].reshape(n, FRAME)
        return np.where(np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (-45 / 20), 0.9, 0.0).astype(np.float32)


def meter_over(x: np.ndarray, silero: bool = True) -> list[VoiceReading]:
    """The meter fed 100 ms chunks, with the real VAD deciding what is speech (or, for synthetic voices, energy)."""
    vad, meter, out = SileroStream() if silero else EnergyVad(), VoiceMeter(VoiceSettings()), []
    for i in range(0, len(x), 1600):  # 1600 = 3 frames + 64 samples: chunks and frames do not line up
        chunk = x[i:i + 1600]
        out += meter.feed(chunk, vad.feed(chunk))
    return out


def real_caller() -> np.ndarray:
    x, sr = sf.read(DATA / "auto_repairs_49_stereo.flac", dtype="float32")
    return (soxr.resample(x[:, 1], sr, R) * 0.2).astype(np.float32)  # headroom: +12 dB later must not clip


def changed(x: np.ndarray, from_s: float, semitones: float = 0.0, gain_db: float = 0.0) -> np.ndarray:
    """From from_s on: pitch raised by resampling (the tempo rises with it) and a gain."""
    a = int(from_s * R)
    tail = soxr.resample(x[a:], R * 2 ** (semitones / 12), R) if semitones else x[a:]
    return np.concatenate([x[:a], tail * 10 ** (gain_db / 20)]).astype(np.float32)


@pytest.fixture(scope="module")
def caller() -> np.ndarray:
    return real_caller()


def escalations(rs: list[VoiceReading]) -> list[float]:
    return [r.t for r in rs if r.escalating]


def talking_after(x: np.ndarray, t: float) -> float:
    """Start of the caller's first sustained speech after t: 1.5 s of speech within 3 s (a short
    "next time" is not yet a raised voice)."""
    vad = SileroStream()
    speech = np.concatenate([vad.feed(x[i:i + 1600]) for i in range(0, len(x), 1600)]) >= 0.5
    times = np.flatnonzero(speech) * FRAME / R
    return float(next(a for a in times[times >= t] if np.sum((times >= a) & (times < a + 3.0)) * FRAME / R >= 1.5))


def test_the_real_caller_as_recorded_and_louder_never_escalates(caller: np.ndarray):
    """A real, calm (at the end delighted) caller; then the same call with the line 12 dB and 20 dB
    louder from a minute in: a louder line is not a raised voice."""
    for x in (caller, changed(caller, 60, gain_db=12), changed(caller, 30, gain_db=20)):
        rs = meter_over(x)
        assert rs and rs[-1].baseline_s >= 15
        assert escalations(rs) == []


def test_a_calm_mono_conversation_is_not_escalation():
    """Two real voices, a man's and a woman's, in one channel played as the customer: a change
    of speaker changes the pitch, not the effort."""
    x, sr = sf.read(DATA / "katiesteve.flac", dtype="float32")
    rs = meter_over(x)
    assert rs[-1].baseline_s >= 15 and escalations(rs) == []


@pytest.mark.parametrize("from_s,semitones,gain_db", [(60, 4, 8), (60, 6, 10), (100, 5, 8)])
def test_the_real_caller_raising_her_voice_escalates_within_5_s(caller: np.ndarray, from_s: float, semitones: float,
                                                                   gain_db: float):
    x = changed(caller, from_s, semitones, gain_db)
    rs = meter_over(x)
    onset = talking_after(x, from_s)
    esc = escalations(rs)
    assert esc and esc[0] - onset <= 5.0, (onset, esc)
    hit = next(r for r in rs if r.escalating)
    assert hit.pitch_st >= 3 and hit.loud_db >= 3 and hit.level >= 0.6


def test_synthetic_raised_voice_escalates_and_short_bursts_do_not():
    calm = np.concatenate([np.concatenate([voice(120, 3.0, seed=i), gap(0.7)]) for i in range(7)])  # ~21 s of speech
    raised = np.concatenate([voice(120 * 2 ** (5 / 12), 3.0, db=-16, tilt=0.8, seed=i) for i in range(3)])
    rs = meter_over(np.concatenate([calm, raised]), silero=False)
    assert escalations(rs) and escalations(rs)[0] - len(calm) / R <= 5.0
    laugh = voice(120 * 2 ** (8 / 12), 1.2, db=-14, tilt=0.8)
    cough = (np.random.default_rng(2).normal(0, 0.3, int(0.4 * R))).astype(np.float32)
    bursts = np.concatenate([calm, laugh, gap(0.5), calm[: 6 * R], cough, gap(0.5), calm[: 6 * R]])
    assert escalations(meter_over(bursts, silero=False)) == []


def test_no_baseline_no_verdict_and_a_noisy_line_is_not_anger():
    loud_from_the_start = np.concatenate([voice(190, 3.0, db=-14, tilt=0.8, seed=i) for i in range(8)])
    rs = meter_over(loud_from_the_start, silero=False)
    assert escalations(rs) == [] and all(r.loud_db is None for r in rs if r.baseline_s < 15)
    calm = np.concatenate([np.concatenate([voice(120, 3.0, seed=i), gap(0.7)]) for i in range(10)])
    noise = np.random.default_rng(3).normal(0, 10 ** (-32 / 20), len(calm)).astype(np.float32)
    noisy = np.concatenate([calm, calm + noise])
    assert escalations(meter_over(noisy, silero=False)) == []


# -- an hour of calm real speech (issue #31) --------------------------------------------------------


def real_channel(path: Path, channel: int = 1) -> np.ndarray:
    """One channel of a real call at 16 kHz as recorded (the caller is on the right)."""
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return soxr.resample(x[:, channel], sr, R).astype(np.float32)


def hour_readings(x: np.ndarray, times: int) -> list[VoiceReading]:
    """The meter over `x` played `times` times as one call, fed as the pipeline feeds it: 100 ms
    chunks, Silero's own probabilities per 512-sample frame (coach/core/pipeline.py)."""
    vad, meter, out = SileroStream(backstop_db=Settings().vad.loud_backstop_db), VoiceMeter(VoiceSettings()), []
    for _ in range(times):
        for i in range(0, len(x), 1600):
            chunk = x[i:i + 1600]
            vad.feed(chunk)
            out += meter.feed(chunk, vad.silero)
    return out


@pytest.mark.slow
def test_an_hour_of_one_calm_real_caller_raises_no_alert():
    """The real call's caller played 16 times over as one 63-minute call. Before issue #31 the
    baseline that follows the caller drifted (brightness 1.5-2.5 dB below her first 15 s) and
    brightness alone passed as effort on this 8 kHz line: 10 alarms, in repeats after the first,
    at +3-4 semitones, +3-4 dB brighter, +0 dB louder."""
    rs = hour_readings(real_channel(DATA / "auto_repairs_49_stereo.flac"), 16)
    assert rs[-1].t >= 3600 and sum(r.loud_db is not None for r in rs) >= 800  # an hour, mostly judged
    assert escalations(rs) == [] and not any(r.aroused for r in rs)
    assert max(r.level for r in rs) < 0.6  # nor is the mood meter ever "upset"


@pytest.mark.slow
def test_calm_real_callers_each_for_a_quarter_hour_raise_no_alert():
    """The 17 Harper Valley callers, each call looped 4 times as a call of its own: 61 minutes of
    17 more voices on 8 kHz lines, most of them judged once their first 15 s of speech is in."""
    judged = 0
    for call in sorted((DATA / "harper_valley").glob("*.flac")):
        rs = hour_readings(real_channel(call), 4)
        judged += sum(r.loud_db is not None for r in rs)
        assert escalations(rs) == [] and max(r.level for r in rs) < 0.6, call.name
    assert judged >= 250


# -- through the pipeline: the cue, mid-turn, and the mood meter ------------------------------------


@pytest.fixture(scope="module")
def voice_calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    return {n: render_one(tmp_path_factory, "scenarios_voice.json", n)
            for n in ("v1_raised_voice_neutral_words", "v2_louder_line_only", "v3_loud_from_the_start")}


def coach_call(call: Path, truth: Path, swap: bool = False) -> tuple[Pipeline, list, LiveState]:
    src = FileSource(str(call), agent_channel=1 if swap else None)  # swapped: the raised voice is the agent's
    clock = SimClock()
    state = LiveState(clock=clock)
    events: list = []

    def on_event(e: object) -> None:
        if isinstance(e, VoiceLevel):
            state.on_voice(e)
        elif isinstance(e, Utterance) and e.speaker == "customer":
            state.on_utterance(e, 0.0, None, None)  # the words alone: calm
        events.append((e, state.snapshot().escalation))

    s = Settings()
    s.model.partial_every_s = 0.0
    p = Pipeline(s, ScriptedTranscriber.from_truth(truth), list(src.info.speakers), clock, on_event=on_event)
    SimulatedRunner(p, clock).run(src.chunks())
    return p, events, state


def test_a_raised_voice_with_neutral_words_is_cued_mid_turn_and_moves_the_meter(voice_calls):
    call, truth = voice_calls["v1_raised_voice_neutral_words"]
    turn = ScriptedTranscriber.from_truth(truth).turns[5]
    p, events, _ = coach_call(call, truth)
    cues = [e for e, _ in events if isinstance(e, Cue) and e.id == "customer_escalating"]
    assert len(cues) == 1 and "voice" in cues[0].reason and "pitch" in cues[0].reason
    assert turn["start"] < cues[0].t < turn["end"]  # while the customer is still talking
    assert cues[0].t - turn["start"] <= 5.0
    said = next(i for i, (e, _) in enumerate(events) if isinstance(e, Utterance) and e.start >= turn["start"] - 0.5)
    assert max(level for _, level in events[:said] if level is not None) >= 0.6  # before the turn's text exists
    assert p.flags and p.flags[0].reason == "customer_escalating"


@pytest.mark.parametrize("name", ["v2_louder_line_only", "v3_loud_from_the_start"])
def test_a_louder_line_or_a_loud_caller_is_not_escalation(voice_calls, name: str):
    p, events, state = coach_call(*voice_calls[name])
    assert [c.id for c in p.engine.fired if c.id == "customer_escalating"] == []
    assert (state.snapshot().escalation or 0.0) < 0.6


def test_the_agent_raising_their_voice_is_never_scored(voice_calls):
    p, events, _ = coach_call(*voice_calls["v1_raised_voice_neutral_words"], swap=True)
    assert [c.id for c in p.engine.fired if c.id == "customer_escalating"] == []
    assert max((e.level for e, _ in events if isinstance(e, VoiceLevel)), default=0.0) < 0.6
    agent_only = Pipeline(Settings(), ScriptedTranscriber([]), ["agent"], SimClock())
    assert agent_only._voice is None

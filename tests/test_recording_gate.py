"""Privacy is a gate: audio reaches disk only after redaction has seen it, and audio that
analysis never saw is recorded as silence. A kill -9 at any moment leaves nothing unchecked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import render_one
from fakes import ScriptedTranscriber
from privacy_scan import stored_text

from coach.app import compose as app
from coach.audio import recorder as recorder_mod
from coach.audio.recorder import Recorder
from coach.core.events import AudioChunk
from coach.session import coaching
from coach.speech.models import ResolvedModel

SR = 16000


def tone(seconds: float = 1.0, level: float = 0.5) -> np.ndarray:
    return np.full(int(seconds * SR), level, np.float32)


def chunk(t0: float, x: np.ndarray) -> AudioChunk:
    return AudioChunk(t0, {"agent": x, "customer": x})


def on_disk(path: Path) -> np.ndarray:
    """What a reader finds in the file right now (as after a kill -9): the frames the header claims."""
    x, _ = sf.read(path, dtype="float32")
    return x


def test_audio_waits_for_redaction_and_spans_are_silenced_before_writing(tmp_path: Path):
    rec = Recorder(tmp_path / "a.wav")
    for i in range(4):
        rec.write(chunk(float(i), tone()))
    assert len(on_disk(rec.path)) == 0  # nothing redacted yet: nothing written
    rec.silence(1.2, 1.5)  # a card span found in held audio
    rec.release(2.0)
    assert len(on_disk(rec.path)) == 2 * SR
    rec.silence(0.3, 0.5)  # a span in audio already written (only the margin ever is): patched on disk
    rec.silence(3.3, 3.6)  # still held
    rec.close()
    x = on_disk(rec.path)
    assert len(x) == 4 * SR
    for a, b in ((0.3, 0.5), (1.2, 1.5), (3.3, 3.6)):
        assert np.all(x[int(a * SR):int(b * SR)] == 0)
    assert np.all(x[int(0.7 * SR):int(1.0 * SR)] != 0) and np.all(x[int(2.0 * SR):int(3.1 * SR)] != 0)


def test_what_analysis_never_saw_is_silence(tmp_path: Path):
    rec = Recorder(tmp_path / "a.wav")
    rec.write(chunk(0.0, tone()))
    rec.write(chunk(1.0, tone()), analysed=False)  # dropped under load, or coaching paused
    rec.write(chunk(2.0, tone()))
    rec.close()
    x = on_disk(rec.path)
    assert np.all(x[SR:2 * SR] == 0) and np.all(x[:SR] != 0) and np.all(x[2 * SR:] != 0)


def test_a_stalled_analysis_never_lets_unchecked_audio_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(recorder_mod, "HOLD_MAX_S", 3.0)
    rec = Recorder(tmp_path / "a.wav")
    for i in range(5):
        rec.write(chunk(float(i), tone()))
    x = on_disk(rec.path)
    assert len(x) == 2 * SR and np.all(x == 0) and rec.unchecked_s == 2.0  # written, as silence
    rec.close(checked_until=2.0)  # the analysis failed: what it never redacted stays silent
    assert np.all(on_disk(rec.path) == 0)


@pytest.fixture(scope="module")
def payment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_one(tmp_path_factory, "scenarios_payment.json", "p1_card_payment")


class PauseDuring:
    """The call, with "pause coaching" pressed over a span (c.paused, as the tray does)."""

    def __init__(self, inner, ref: list, span: tuple[float, float] | None) -> None:
        self.inner, self.ref, self.span = inner, ref, span
        self.info, self.speakers = inner.info, inner.speakers

    def chunks(self):
        for chunk in self.inner.chunks():
            if self.span is not None:
                self.ref[0].paused = self.span[0] <= chunk.t0 < self.span[1]
            yield chunk

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.mark.parametrize("speed,pause", [
    (6.0, False),
    (6.0, True),
    pytest.param(1.0, False, marks=pytest.mark.slow),  # real time
    pytest.param(None, False, marks=pytest.mark.slow),  # as fast as the file can be read: analysis far behind
])
def test_at_no_moment_does_the_card_reach_disk(payment: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              speed: float | None, pause: bool):
    """A recorded session of the payment call: after every write the file is read as a kill -9
    would leave it; the customer's card digits and code are never in it, at any moment; with
    coaching paused over the read-out, that audio is recorded as silence."""
    wav, truth_path = payment
    truth = json.loads(truth_path.read_text())
    stt = ScriptedTranscriber.from_truth(truth_path)
    monkeypatch.setattr(coaching, "load_model", lambda s, data: (stt, ResolvedModel("scripted", Path("."), "test")))
    secrets = []
    for turn in (truth["turns"][1], truth["turns"][3]):  # from the first digit word (the scripted recognizer spreads words evenly)
        toks = turn["text"].split()
        first = next(i for i, w in enumerate(toks) if w.strip(",.").lower() in ("four", "seven"))
        secrets.append((turn["start"] + first * (turn["end"] - turn["start"]) / len(toks), turn["end"], turn["text"]))
    checks = {"times": 0, "written_s": 0.0}
    release = Recorder.release

    def release_and_check(self: Recorder, until_s: float) -> None:
        release(self, until_s)
        checks["times"] += 1
        if checks["times"] % 5:
            return
        x = on_disk(self.path)
        checks["written_s"] = len(x) / SR
        for a, b, text in secrets:
            assert np.all(x[int(a * SR):int(b * SR), 1] == 0), f"customer audio of {text!r} on disk at {len(x) / SR:.1f} s"

    monkeypatch.setattr(Recorder, "release", release_and_check)
    opts = app.Options(data_dir=str(tmp_path))
    s, data = app.load_settings(opts)
    s.model.partial_every_s = 0.0
    inner = app.open_source(str(wav), s, opts, realtime=speed is not None, speed=speed or 1.0)  # paced: as live
    ref: list = []
    card = truth["turns"][1]
    src = PauseDuring(inner, ref, (card["start"] - 0.5, card["end"] + 0.5) if pause else None)
    c = app.coaching_session(s, data, src, list(inner.info.speakers), app.Console(), record=True, store=True)
    ref.append(c)
    c.load()
    c.run()
    if speed is not None:
        assert checks["written_s"] > truth["turns"][3]["end"] - 1  # the checks saw the file grow past both secrets
    x = on_disk(c.session.recorder.path)
    greeting = truth["turns"][0]
    assert np.max(np.abs(x[int(greeting["start"] * SR):int(greeting["end"] * SR), 0])) > 0.1  # the rest is kept
    for a, b, _ in secrets:
        assert np.all(x[int(a * SR):int(b * SR), 1] == 0)
    if pause:
        assert np.all(x[int(card["start"] * SR):int(card["end"] * SR)] == 0)  # never analysed: never stored
        secrets = secrets[1:]
    stored = json.loads(c.session.json_path.read_text())["redactions"]  # kept with the session for exports
    for a, b, _ in secrets:
        assert any(lo - 0.1 <= a + 0.3 and hi + 0.1 >= b - 0.3 for lo, hi in stored), (a, b, stored)
    # and no byte anywhere under the data folder (store, WAL, JSON, logs, an exported segment) says them
    from coach.session.exports import export_segment
    from coach.store.db import Store

    store = Store(data / "sessions.db")
    export_segment(store.get(c.session_id), 0.0, truth["duration_s"], data / "export")
    store.close()
    everything = stored_text(p for p in data.rglob("*") if p.is_file() and p.suffix != ".wav")
    for secret in ("4111", "1111", "7 3 7", "one one one one", "seven three seven"):  # (737 alone could be a sample count)
        assert secret not in everything, secret
    for wav_file in data.rglob("*.wav"):
        x, _ = sf.read(wav_file, dtype="float32", always_2d=True)
        for a, b, _ in secrets:
            assert np.all(x[int(a * SR):int(b * SR)] == 0), wav_file


def test_exports_and_playback_silence_the_stored_spans(tmp_path: Path):
    """A demo or `analyze --save` session points at the original call file: its clips and its
    playback are silenced from the spans stored with the session, whatever file they read."""
    from coach.session.exports import audio_array, export_segment

    call = tmp_path / "call.wav"
    sf.write(call, np.full((10 * SR, 2), 0.5, np.float32), SR)
    doc = {"source": {"path": str(call), "duration_s": 10.0}, "utterances": [], "cues": [], "flags": [],
           "redactions": [[4.0, 6.0]]}
    clip, _ = sf.read(export_segment(doc, 2.0, 8.0, tmp_path / "seg") / "clip.wav")
    assert np.all(clip[int(1.9 * SR):int(4.1 * SR)] == 0) and np.all(clip[: int(1.8 * SR)] != 0)
    data, _ = audio_array(doc)
    assert np.all(data[int(3.9 * SR):int(6.1 * SR)] == 0) and np.all(data[int(6.2 * SR):] != 0)

"""Issue #27's three read-outs, spoken (espeak-ng) and heard by the real recognizer: through
`coach analyze --save` and through the live recorder (Coaching with record and store), no
byte under the data folder (sessions.db, its WAL and FTS, session.json, logs, an exported
segment, the team outbox) nor the analysis JSON holds a digit group of the card or the code,
and the recording is silent over every read-out. Slow: the speech model and real-time audio.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA, ROOT, render_one
from privacy_scan import stored_text

from coach.app import compose as app
from coach.privacy.redact import _digits_of
from coach.speech import engines

pytestmark = pytest.mark.slow
SCRIPT = "scenarios_payment_shapes.json"
CASES = ["p3_no_card_word", "p4_long_search", "p5_fillers", "p6_shape_only"]
SR = 16000
ONES = "zero one two three four five six seven eight nine".split()


def scenario(name: str) -> dict:
    return next(sc for sc in json.loads((DATA / SCRIPT).read_text()) if sc["name"] == name)


def spellings(group: str) -> list[str]:
    """A digit group as any store might write it: 4539, 4 5 3 9, 4,5,3,9, four five three nine."""
    return [group, " ".join(group), ",".join(group), " ".join(ONES[int(d)] for d in group)]


def assert_nothing_stored(files: list[Path], sc: dict) -> None:
    text = stored_text(files)
    for group in sc["secrets"]:
        for spelled in spellings(group):
            if len(spelled) == 3:  # "829" alone could be a sample count or a size: spelled out only
                continue
            assert spelled not in text, spelled


def assert_read_outs_unheard(doc: dict, truth: dict, sc: dict) -> None:
    """Whatever the recognizer made of each read-out turn, no number word of it is kept."""
    for k in sc["secret_turns"]:
        t = truth["turns"][k]
        for u in doc["utterances"]:
            if u["speaker"] == t["who"] and u["start"] < t["end"] and u["end"] > t["start"]:
                assert all(_digits_of(w["w"]) is None for w in u["words"]), (t["text"], u["text"])


def digits_from(turn: dict, sc: dict) -> tuple[float, float]:
    """Where a turn's digits are said: after the words before its first number word, as long as
    espeak takes to say them alone ("Okay, here we go." then the pause before "Five four ...")."""
    toks = turn["text"].split()
    first = next(i for i, w in enumerate(toks) if _digits_of(w) is not None)
    if not first:
        return turn["start"], turn["end"]
    spec = importlib.util.spec_from_file_location("render_calls", ROOT / "tools" / "render_calls.py")
    render = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(render)  # type: ignore[union-attr]
    v = sc["voices"][turn["who"]]
    before = render.speak(" ".join(toks[:first]), v["voice"], v["wpm"], v["pitch"])
    return turn["start"] + len(before) / SR, turn["end"]


def assert_silent(wav: Path, truth: dict, sc: dict) -> None:
    x, _ = sf.read(wav, dtype="float32", always_2d=True)
    for k in sc["secret_turns"]:
        t = truth["turns"][k]
        a, b = digits_from(t, sc)
        a, b = a + 0.1 * (b - a), b - 0.1 * (b - a)  # the words' edges as the recognizer placed them may differ a little
        ch = 0 if t["who"] == "agent" else 1
        assert np.max(np.abs(x[int(a * SR):int(b * SR), ch])) == 0, (t["text"], wav)
    first = truth["turns"][0]
    assert np.max(np.abs(x[int(first["start"] * SR):int(first["end"] * SR), 0])) > 0.05  # the rest is kept


@pytest.mark.parametrize("name", CASES)
def test_analyze_save_stores_no_digit_of_the_read_out(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, name: str):
    wav, truth_path = render_one(tmp_path_factory, SCRIPT, name)
    truth, sc = json.loads(truth_path.read_text()), scenario(name)
    engines.unload()  # as a fresh `coach` process (tests/test_redact.py says why)
    data, out = tmp_path / "data", tmp_path / "out.json"
    doc = app.analyze(str(wav), str(out), app.Options(data_dir=str(data)), progress=False, save=True)
    assert "[card number]" in json.dumps(doc)
    assert_read_outs_unheard(doc, truth, sc)
    assert_nothing_stored([out, *(f for f in data.rglob("*") if f.is_file() and f.suffix != ".wav")], sc)
    from coach.session.exports import audio_array

    audio, _ = audio_array(doc)  # playback and exports read the call file through the stored spans
    sf.write(tmp_path / "played.wav", audio, SR)
    assert_silent(tmp_path / "played.wav", truth, sc)


@pytest.mark.parametrize("name", CASES)
def test_the_live_recorder_keeps_neither_text_nor_audio_of_the_read_out(tmp_path_factory: pytest.TempPathFactory,
                                                                        tmp_path: Path, name: str):
    wav, truth_path = render_one(tmp_path_factory, SCRIPT, name)
    truth, sc = json.loads(truth_path.read_text()), scenario(name)
    engines.unload()
    opts = app.Options(data_dir=str(tmp_path))
    s, data = app.load_settings(opts)
    src = app.open_source(str(wav), s, opts, realtime=True, speed=4.0)
    c = app.coaching_session(s, data, src, list(src.info.speakers), app.Console(), record=True, store=True)
    c.load()
    c.run()
    doc = json.loads(c.session.json_path.read_text())
    assert_read_outs_unheard(doc, truth, sc)
    from coach.session.exports import export_segment
    from coach.store.db import Store

    store = Store(data / "sessions.db")
    export_segment(store.get(c.session_id), 0.0, truth["duration_s"], data / "export")
    store.close()
    assert_nothing_stored([f for f in data.rglob("*") if f.is_file() and f.suffix != ".wav"], sc)
    assert_silent(c.session.recorder.path, truth, sc)
    for clip in (data / "export").rglob("*.wav"):
        assert_silent(clip, truth, sc)

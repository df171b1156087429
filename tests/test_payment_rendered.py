"""Issue #27's three read-outs, spoken (espeak-ng) and heard by the real recognizer: through
`coach analyze --save` and through the live recorder (Coaching with record and store), no
byte under the data folder (sessions.db, its WAL and FTS, session.json, logs, an exported
segment, the team outbox) nor the analysis JSON holds a digit group of the card or the code,
and the recording is silent over every read-out. Slow: the speech model and real-time audio.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA, ROOT, render_one
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from privacy_scan import stored_text
from test_payment_generator import Call, calls

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


def live_recorder(wav: Path, data_dir: Path):
    """The call played through the live recorder (real time, 4x), recording and storing: (Coaching, data folder)."""
    opts = app.Options(data_dir=str(data_dir))
    s, data = app.load_settings(opts)
    src = app.open_source(str(wav), s, opts, realtime=True, speed=4.0)
    c = app.coaching_session(s, data, src, list(src.info.speakers), app.Console(), record=True, store=True)
    c.load()
    c.run()
    return c, data


@pytest.mark.parametrize("name", CASES)
def test_the_live_recorder_keeps_neither_text_nor_audio_of_the_read_out(tmp_path_factory: pytest.TempPathFactory,
                                                                        tmp_path: Path, name: str):
    wav, truth_path = render_one(tmp_path_factory, SCRIPT, name)
    truth, sc = json.loads(truth_path.read_text()), scenario(name)
    engines.unload()
    c, data = live_recorder(wav, tmp_path)
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


def telephone(wav: Path) -> None:
    """The call as a phone line carries it: 8 kHz, 300-3400 Hz, 8-bit mu-law."""
    import soxr

    x, sr = sf.read(wav, dtype="float32", always_2d=True)
    y = soxr.resample(x, sr, 8000)
    spec = np.fft.rfft(y, axis=0)
    f = np.fft.rfftfreq(len(y), 1 / 8000)
    spec[(f < 300) | (f > 3400)] = 0
    y = np.fft.irfft(spec, n=len(y), axis=0)
    mu = 255.0
    q = np.round(np.sign(y) * np.log1p(mu * np.clip(np.abs(y), 0, 1)) / np.log1p(mu) * 127) / 127
    y = np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu
    sf.write(wav, np.clip(soxr.resample(y, 8000, sr), -1, 1)[: len(x)], sr, subtype="PCM_16")


def spoken(text: str) -> str:
    """Numerals as a caller says them, digit by digit (espeak would say "4539" as a thousands number)."""
    return " ".join(" ".join(ONES[int(d)] for d in w.strip(".,")) + ("." if w.endswith(".") else "")
                    if w.strip(".,").isdigit() else w for w in text.split())


RENDER = importlib.util.spec_from_file_location("render_calls", ROOT / "tools" / "render_calls.py")


REPORT = os.environ.get("PAYMENT_RENDERED_REPORT")  # make test-payment-explore: every leak listed, not the first


@pytest.mark.explore
@settings(max_examples=30, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["card", "request", "none"]).flatmap(calls), st.integers(0, 2))
def test_generated_read_outs_spoken_through_the_real_recognizer(tmp_path_factory: pytest.TempPathFactory, c: Call, line: int):
    """30 read-outs of the generator (tests/test_payment_generator.py), spoken by espeak-ng in two
    customer voices, a third of them through a telephone line, through `analyze --save`; a third
    (the en-us voice) through the live recorder instead. `make test` stops at the first leak;
    `make test-payment-explore` runs the same 30 and lists every leak, with what each pass heard."""
    if not REPORT:
        return _generated(tmp_path_factory, c, line)
    try:
        _generated(tmp_path_factory, c, line)
    except AssertionError as e:
        with open(REPORT, "a") as f:
            f.write(f"LEAK line={line} {c.turns!r}\n    {str(e).splitlines()[0][:240]}\n{_SEEN.get('why', '')}")


_SEEN: dict[str, str] = {}  # what the last generated call was heard as, for the report
_FIRST: list[tuple[str, float, float, str]] = []  # the first pass's words as the gate got them (a generated card)


@pytest.fixture(autouse=True)
def _first_pass_heard(monkeypatch: pytest.MonkeyPatch) -> None:
    """For `make test-payment-explore`'s report: what the first pass heard of each line, which the
    stored text (the second pass's) does not show."""
    if not REPORT:
        return
    from coach.privacy.payment_gate import PaymentGate

    said = PaymentGate.said

    def spy(self: PaymentGate, raw):  # noqa: ANN001, ANN202
        _FIRST.append((raw.speaker, raw.start, raw.end, raw.text))
        return said(self, raw)

    monkeypatch.setattr(PaymentGate, "said", spy)


def _heard(truth: dict, doc: dict) -> str:
    """Each turn said and each utterance kept, in time order, and the silenced spans: why a leak leaked."""
    rows = [(t["start"], f"      said {t['who'][0]} {t['start']:6.2f}-{t['end']:6.2f} {t['text']}") for t in truth["turns"]]
    rows += [(a, f"      1st  {who[0]} {a:6.2f}-{b:6.2f} {text}") for who, a, b, text in _FIRST]
    rows += [(u["start"], f"      kept {u['speaker'][0]} {u['start']:6.2f}-{u['end']:6.2f} ({u.get('text_from')}) {u['text']}")
             for u in doc["utterances"]]
    spans = " ".join(f"{a:.2f}-{b:.2f}" for a, b in doc.get("redactions", []))
    return "\n".join(r for _, r in sorted(rows)) + f"\n      silenced {spans}\n"


def _generated(tmp_path_factory: pytest.TempPathFactory, c: Call, line: int) -> None:
    _FIRST.clear()
    render = importlib.util.module_from_spec(RENDER)  # type: ignore[arg-type]
    RENDER.loader.exec_module(render)  # type: ignore[union-attr]
    out = tmp_path_factory.mktemp("generated")
    sc = {"name": "call", "voices": {"agent": {"voice": "en-us+f3", "wpm": 150, "pitch": 55},
                                     "customer": {"voice": ("en-gb+m3", "en-us+m1", "en-gb+m3")[line], "wpm": 140, "pitch": 45}},
          "turns": [{"who": who, "text": spoken(text), "gap": round(gap, 2)} for who, text, gap in c.turns],
          "secret_turns": [i for i, secret in enumerate(c.secret) if secret],
          "secrets": [g for g in c.secrets if len(g) >= 4]}
    wav = render.render(sc, out)
    if line == 2:
        telephone(wav)
    truth = json.loads((out / "call.truth.json").read_text())
    engines.unload()
    if line == 1:
        c, data = live_recorder(wav, out / "data")
        _SEEN["why"] = _heard(truth, json.loads(c.session.json_path.read_text()))
        assert_read_outs_unheard(json.loads(c.session.json_path.read_text()), truth, sc)
        assert_nothing_stored([f for f in data.rglob("*") if f.is_file() and f.suffix != ".wav"], sc)
        assert_silent(c.session.recorder.path, truth, sc)
        return
    data, result = out / "data", out / "out.json"
    doc = app.analyze(str(wav), str(result), app.Options(data_dir=str(data)), progress=False, save=True)
    _SEEN["why"] = _heard(truth, doc)
    assert_read_outs_unheard(doc, truth, sc)
    assert_nothing_stored([result, *(f for f in data.rglob("*") if f.is_file() and f.suffix != ".wav")], sc)
    from coach.session.exports import audio_array

    played = audio_array(doc)
    assert played is not None
    sf.write(out / "played.wav", played[0], SR)
    assert_silent(out / "played.wav", truth, sc)

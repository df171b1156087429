from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from coach.core.errors import UserError
from coach.core.events import Word
from coach.speech.models import resolve_model
from coach.speech.transcriber import repetition_guard, window_frames

DATA = Path(__file__).parent / "data"


def test_window_grows_with_the_utterance():
    assert window_frames(16000 * 2, "auto") == 1500
    assert window_frames(int(16000 * 6.2), "auto") == 1500
    assert window_frames(16000 * 12, "auto") == 2000
    assert window_frames(16000 * 14, "auto") == 2500
    assert window_frames(16000 * 40, "auto") == 3000
    assert window_frames(16000 * 2, "full") == 3000
    # a partial decode (speech still going on): the clip + 3 s, in 1 s steps
    assert window_frames(16000 * 4, "auto", partial=True) == 700
    assert window_frames(int(16000 * 2.55), "auto", partial=True) == 600
    assert window_frames(16000 * 40, "auto", partial=True) == 3000


def words(text: str) -> list[Word]:
    return [Word(w, i * 0.3, i * 0.3 + 0.2) for i, w in enumerate(text.split())]


def test_repetition_guard_cuts_loops_keeps_real_repeats():
    loop = words("what's the make and model of the car what's the make and model of the car what's the")
    assert " ".join(w.w for w in repetition_guard(loop)) == "what's the make and model of the car"
    assert len(repetition_guard(words("for free for free for free for free"))) == 4
    assert len(repetition_guard(words("no no no"))) == 3
    assert len(repetition_guard(words("yes yes yes yes yes"))) == 2
    human = words("no problem no problem let me check that for you")
    assert repetition_guard(human) == human
    card = words("it is five five five five five five five five 4 4 4 4 double one one one")
    assert repetition_guard(card) == card  # a read-out: every digit must reach redaction


def test_jfk_is_transcribed(transcriber):
    x, sr = sf.read(DATA / "jfk.flac", dtype="float32")
    audio = soxr.resample(x.mean(axis=1), sr, 16000)
    tr = transcriber.transcribe(audio, offset=100.0)
    text = tr.text.lower()
    assert "ask not what your country can do for you" in text
    assert tr.words[0].start >= 100.0 and tr.words[-1].end <= 100.0 + len(audio) / 16000 + 0.1
    assert all(a.start <= b.start for a, b in zip(tr.words, tr.words[1:]))


def test_silence_gives_no_words(transcriber):
    tr = transcriber.transcribe(np.zeros(16000 * 2, np.float32), 0.0)
    assert tr.words == []


def test_real_phone_turn_does_not_loop(transcriber):
    """A 6 s agent turn of the real call looped in a 10 s encoder window; it must not now."""
    x, sr = sf.read(DATA / "auto_repairs_49_stereo.flac", dtype="float32")
    clip = soxr.resample(x[int(82.9 * sr):int(89.2 * sr), 0], sr, 16000)
    tr = transcriber.transcribe(clip, 82.9)
    text = tr.text.lower()
    assert "make" in text and "car" in text
    assert text.count("car") == 1
    assert len(tr.words) < 40


def test_model_resolution_offline(tmp_path: Path):
    bundled = resolve_model("tiny.en", [tmp_path], allow_download=False)
    assert bundled.origin == "bundled" and (bundled.path / "model.bin").is_file()
    # a models/<name>/ folder wins over the bundled one
    local = tmp_path / "tiny.en"
    local.mkdir()
    for f in ("model.bin", "config.json"):
        (local / f).write_bytes((bundled.path / f).read_bytes()[:10])
    assert resolve_model("tiny.en", [tmp_path], allow_download=False).origin == "models-dir"
    assert resolve_model(str(bundled.path), [], allow_download=False).origin == "path"
    with pytest.raises(UserError, match="unknown model 'tiny.xx'"):
        resolve_model("tiny.xx", [tmp_path], allow_download=False)
    with pytest.raises(UserError, match="not on this computer"):
        resolve_model("small.en", [tmp_path], allow_download=False)
    with pytest.raises(UserError, match="no model folder"):
        resolve_model("./nowhere/model", [], allow_download=False)


def test_a_clip_longer_than_the_decoder_can_hold_is_transcribed_not_refused(transcriber):
    import numpy as np

    from coach.speech.transcriber import MAX_NEW_TOKENS

    # 40 s of a quiet tone: the token budget per second would ask for more than Whisper's 448
    t = np.arange(40 * 16000) / 16000
    tr = transcriber.transcribe((0.01 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 0.0)
    assert isinstance(tr.text, str) and 15 * 40 + 24 > MAX_NEW_TOKENS


def test_beam_search_and_a_long_prompt_fit_the_decoder(model_path: str):
    """model.beam_size and model.prompt reach the decoder; a prompt takes its tokens out of the
    text's share of Whisper's 448, so a long prompt before a long clip is not refused."""
    from coach.speech.transcriber import Transcriber

    tr = Transcriber(model_path, beam_size=5, prompt="Refund, invoice, booking reference. " * 60)
    x, sr = sf.read(DATA / "jfk.flac", dtype="float32")
    assert "ask not what your country can do for you" in tr.transcribe(soxr.resample(x.mean(axis=1), sr, 16000), 0.0).text.lower()
    t = np.arange(40 * 16000) / 16000
    assert isinstance(tr.transcribe((0.01 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 0.0).text, str)


class _Whisper:
    """faster-whisper's side of Transcriber: segments as Whisper scored them, and the temperatures asked for."""

    def __init__(self, text: str, avg_logprob: float) -> None:
        from types import SimpleNamespace as NS

        self.frames, self.asked = 0, []
        words = [NS(word=" " + w, start=0.1 + 0.2 * i, end=0.25 + 0.2 * i, probability=0.4) for i, w in enumerate(text.split())]
        self.segment = NS(words=words, compression_ratio=1.0, avg_logprob=avg_logprob, no_speech_prob=0.1)

    def transcribe(self, audio: np.ndarray, **kw: object) -> tuple:
        self.asked.append(kw["temperature"])
        return iter([self.segment]), None


def _with(whisper: _Whisper):
    from coach.speech.transcriber import Transcriber

    tr = Transcriber.__new__(Transcriber)
    tr.window, tr.names, tr.prompt, tr.beam_size, tr._model = "auto", "", None, 1, whisper
    return tr


@pytest.mark.parametrize("partial, second, asked", [
    (True, False, 0.0),  # a partial decode: greedy, the next one has another go
    (False, False, "fallback"),  # a first-pass final: as Whisper would (what the payment gate was measured with)
    (False, True, "second"),  # the second pass: up to 0.4, its beam-5 samples of long windows are its costliest
])
def test_each_decode_falls_back_as_far_as_its_pass_wants(partial, second, asked):
    """Whisper's temperature fallback, per pass: none for a partial decode, Whisper's own for a first-pass
    final, up to 0.4 for the second pass."""
    from coach.speech.transcriber import FALLBACK, SECOND_FALLBACK

    whisper = _Whisper("Bye bye.", -1.4)
    tr = _with(whisper).transcribe(np.zeros(int(16000 * 3.0), np.float32), 10.0, partial=partial, second=second)
    assert whisper.asked == [{"fallback": FALLBACK, "second": SECOND_FALLBACK}.get(asked, asked)]  # type: ignore[arg-type]
    assert SECOND_FALLBACK == [0.0, 0.2, 0.4] and FALLBACK[-1] == 1.0
    assert tr.text == "Bye bye." and tr.words[0].start == pytest.approx(10.1)

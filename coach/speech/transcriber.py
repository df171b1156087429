"""One faster-whisper decode per finished utterance, with a right-sized encoder window.

Whisper's encoder always sees 30 s of audio (padded with silence), so a 2 s turn costs
as much as a 25 s one. CTranslate2 accepts fewer frames: the window here is the
utterance plus a margin, rounded up (FACTS.md: ~2x faster, same text; a window barely
longer than the speech makes the decoder loop, hence the margin and the guard below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from coach.events import SAMPLE_RATE, Word

HOP = 160  # mel frame = 10 ms
FULL_WINDOW = 3000
MARGIN_FRAMES = 300  # 3 s of padding after the speech
WINDOW_STEP = 500


def window_frames(n_samples: int, mode: str) -> int:
    """Encoder frames for an utterance: speech + margin rounded up to 5 s steps, at least 10 s."""
    if mode == "full":
        return FULL_WINDOW
    need = n_samples // HOP + MARGIN_FRAMES
    return int(min(FULL_WINDOW, max(1000, -(-need // WINDOW_STEP) * WINDOW_STEP)))


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word]


def _repetition_guard(words: list[Word]) -> list[Word]:
    """Cut a decoder loop ("for free for free for free ...") after its second repeat."""
    toks = [re.sub(r"[^\w']", "", w.w.lower()) for w in words]
    for n in (1, 2, 3):
        for i in range(len(toks) - 3 * n + 1):
            a, b, c = toks[i:i + n], toks[i + n:i + 2 * n], toks[i + 2 * n:i + 3 * n]
            if a == b == c and (n > 1 or len(toks) - i > 4):
                return words[: i + 2 * n]
    return words


class Transcriber:
    """Adapter around faster_whisper.WhisperModel; consumes its lazy generator here."""

    def __init__(self, model_path: str, compute_type: str = "int8", threads: int = 2, window: str = "auto") -> None:
        from faster_whisper import WhisperModel

        class _Windowed(WhisperModel):
            frames: int = FULL_WINDOW

            def encode(self, features: np.ndarray):  # noqa: ANN201 - ctranslate2 StorageView
                return super().encode(features[..., : self.frames])

        self.window = window
        self._model = _Windowed(model_path, device="cpu", compute_type=compute_type, cpu_threads=threads)
        self.multilingual = self._model.model.is_multilingual

    def transcribe(self, audio: np.ndarray, offset: float) -> Transcript:
        """Words with stream times (offset = stream time of audio[0])."""
        self._model.frames = window_frames(len(audio), self.window)
        segments, _ = self._model.transcribe(
            audio,
            language="en",
            beam_size=1,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,  # our VAD already bounded the utterance
            without_timestamps=False,  # with word times, off is slower and worse (FACTS.md)
        )
        words: list[Word] = []
        for seg in segments:
            # Whisper invents text on noise: skip what it itself doubts is speech
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue
            for w in seg.words or []:
                if w.word.strip():
                    words.append(Word(w.word.strip(), round(offset + w.start, 3), round(offset + w.end, 3), round(w.probability, 3)))
        words = _repetition_guard(words)
        return Transcript(" ".join(w.w for w in words), words)


def silence_check(audio: np.ndarray) -> bool:
    """True when the clip is digital silence (no decode needed)."""
    return len(audio) < SAMPLE_RATE // 10 or float(np.max(np.abs(audio))) < 1e-4

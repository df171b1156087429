"""One faster-whisper decode per finished utterance, with a right-sized encoder window.

Whisper's encoder always sees 30 s of audio (padded with silence), so a 2 s turn costs
as much as a 25 s one. CTranslate2 accepts fewer frames: the window here is the
utterance plus a margin, rounded up (docs/facts.md: ~2x faster, same text; a window barely
longer than the speech makes the decoder loop, hence the margin and the guard below).
"""

from __future__ import annotations

import re

import ctranslate2
import numpy as np

from coach.core.events import SAMPLE_RATE, Speaker, Word
from coach.privacy.redact import is_plain_digit
from coach.speech.stt import Transcript

HOP = 160  # mel frame = 10 ms
FULL_WINDOW = 3000
MIN_WINDOW = 1500
WINDOW_STEP = 500
PARTIAL_MARGIN = 300
MAX_NEW_TOKENS = 440  # Whisper's decoder holds 448 tokens, the prompt's among them: more raises ValueError
FALLBACK = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]  # Whisper's temperatures for a final decode it dislikes
# the second pass samples beam-5 decodes of windows up to 30 s: on the real call its 2 decodes that went to
# 1.0 cost 13 % of its CPU (docs/design.md); it stops at 0.4 and keeps its best try, as Whisper does
SECOND_FALLBACK = FALLBACK[:3]


def window_frames(n_samples: int, mode: str, partial: bool = False) -> int:
    """Encoder frames for an utterance: speech + max(5 s, half the speech), in 5 s steps, 15-30 s.

    Measured on real calls: a 6 s turn in a 10 s window looped ("what's the make and
    model ... what's the make and model ..."), the same turn in 12 s or more did not.
    A partial decode gets speech + 3 s: its tokens are capped like a final's, a loop in it is
    cut by the guard, and its words still wait for sureness or agreement, while
    the smaller window halves its cost (docs/benchmark.md).
    """
    if mode == "full":
        return FULL_WINDOW
    speech = n_samples // HOP
    if partial:
        return int(min(FULL_WINDOW, -(-(speech + PARTIAL_MARGIN) // 100) * 100))
    need = speech + max(500, speech // 2)
    return int(min(FULL_WINDOW, max(MIN_WINDOW, -(-need // WINDOW_STEP) * WINDOW_STEP)))


def _norm(w: str) -> str:
    return re.sub(r"[^\w']", "", w.lower())


def repetition_guard(words: list[Word]) -> list[Word]:
    """Cut a decoder loop. People say "no no no" and "no problem, no problem"; they do not
    say a word four times running, a short phrase three times, or repeat a phrase of five
    or more words verbatim. Keep two copies of a short loop, one of a long one.
    Numbers are the exception: "one one one one" is a card read out, and cutting it would
    hide digits from redaction (a real decoder loop on digits is masked whole as card data)."""
    toks = [_norm(w.w) for w in words]
    for i in range(len(toks)):
        for n in range(1, (len(toks) - i) // 2 + 1):
            need = 4 if n == 1 else 3 if n < 5 else 2
            if all(is_plain_digit(t) for t in toks[i:i + n]):
                continue
            if all(toks[i + k * n:i + (k + 1) * n] == toks[i:i + n] for k in range(1, need)):
                return words[: i + (n if n >= 5 else 2 * n)]
    return words


class Transcriber:
    """Adapter around faster_whisper.WhisperModel; consumes its lazy generator here."""

    def __init__(self, model_path: str, compute_type: str = "int8", threads: int = 1, window: str = "auto",
                 beam_size: int = 1, prompt: str = "", vocabulary: tuple[str, ...] = ()) -> None:
        from faster_whisper import WhisperModel

        class _Windowed(WhisperModel):
            frames: int = FULL_WINDOW

            def encode(self, features: np.ndarray):  # noqa: ANN201 - ctranslate2 StorageView
                return super().encode(features[..., : self.frames])

        self.window = window
        # the vocabulary (company, product and place names) leads every final decode's prompt: Whisper
        # continues a prompt's spelling of a name it would otherwise hear as common words
        # (partial decodes too: a name heard wrong mid-turn is shown wrong)
        names = ", ".join(v.strip() for v in vocabulary if v.strip())
        self.names = names + "." if names else ""
        self.prompt = " ".join(x for x in (prompt.strip(), self.names) if x) or None
        self.beam_size = beam_size
        self._model = _Windowed(model_path, device="cpu", compute_type=compute_type, cpu_threads=threads)
        self.multilingual = self._model.model.is_multilingual

    def _tokens(self, prompt: str | None) -> int:
        """Decoder tokens a prompt takes: it shares Whisper's 448 with the text (at most 223 of them, as Whisper cuts it)."""
        return min(223, len(self._model.hf_tokenizer.encode(" " + prompt).ids)) + 4 if prompt else 0

    def transcribe(self, audio: np.ndarray, offset: float, speaker: Speaker | None = None, partial: bool = False,
                   opening: bool = False, context: str = "", second: bool = False) -> Transcript:
        """Words with stream times (offset = stream time of audio[0]); the speaker does not change how it listens.
        A partial decode (speech still going on) is greedy only: Whisper's temperature fallback re-decodes a
        hypothesis it dislikes up to five times (seconds, on a read-out of digits), and the next partial or
        the final decode will have another go anyway. `context`: what was said just before (the second
        pass's previous turns), after the vocabulary in the prompt; Whisper keeps the prompt's last 223 tokens.
        An `opening` partial decode (from where the utterance began) gets a final's window: in the partial's
        small one, tiny.en drops a turn's first words ("Got it." before "You just got it serviced", "Sorry,")
        that no later partial decode hears again (docs/design.md). `second`: a second-pass decode, whose
        fallback stops at SECOND_FALLBACK."""
        prompt = (self.names or None) if partial else " ".join(x for x in (self.prompt, context.strip()) if x) or None
        self._model.frames = window_frames(len(audio), self.window, partial and not opening)
        # Whisper's temperature fallback samples. CTranslate2 seeds each worker thread's generator once,
        # at its first draw, so this seed makes a process's first fallback reproducible and each later
        # one depend on the fallbacks before it: the same audio, decoded after other decodes, can come
        # out otherwise (a card read-out once "1 -1 -1 ...", once "Yes, it is hurt."). Decoding is
        # reproducible per process and call, not per utterance.
        ctranslate2.set_random_seed(0)
        duration = len(audio) / SAMPLE_RATE
        segments, _ = self._model.transcribe(
            audio,
            language="en",
            beam_size=1 if partial else self.beam_size,
            initial_prompt=prompt,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,  # our VAD already bounded the utterance
            without_timestamps=False,  # with word times, off is slower and worse (docs/facts.md)
            # fast talkers reach ~8 text tokens a second, plus punctuation and timestamps: more is a loop
            max_new_tokens=min(int(15 * duration) + 24, MAX_NEW_TOKENS - self._tokens(prompt)),
            temperature=0.0 if partial else SECOND_FALLBACK if second else FALLBACK,
        )
        words: list[Word] = []
        for seg in segments:
            # Whisper invents text on noise: skip what it itself doubts is speech
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue
            for w in seg.words or []:
                # a word timed past the end of the audio is invented
                if re.search(r"\w", w.word) and w.start < duration:
                    words.append(Word(w.word.strip(), round(offset + float(w.start), 3), round(offset + float(w.end), 3),
                                      round(float(w.probability), 3)))
        words = repetition_guard(words)
        return Transcript(" ".join(w.w for w in words), words)

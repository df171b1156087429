"""Streaming Silero VAD and per-speaker endpointing.

faster-whisper ships Silero v6 as ONNX but only runs it over a whole file with fresh
state; here the LSTM state and the 64-sample context carry over between chunks, so a
live stream gets exactly the probabilities a whole-file pass would (tested).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from coach.events import SAMPLE_RATE

FRAME = 512  # Silero's window at 16 kHz: 32 ms
FRAME_S = FRAME / SAMPLE_RATE
_CONTEXT = 64


def _session():  # noqa: ANN202 - onnxruntime type
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    return onnxruntime.InferenceSession(
        os.path.join(get_assets_path(), "silero_vad_v6.onnx"),
        providers=["CPUExecutionProvider"],
        sess_options=opts,
    )


LEVEL_TARGET_DB = -30.0  # loudest 16 ms of recent speech is brought down to this for the VAD
LEVEL_RELEASE_DB_S = 1.0


class SileroStream:
    """Speech probability per 32 ms frame, fed with chunks of any length.

    Silero misses loud speech: on a real 8 kHz call whose caller peaks near full scale, it
    found 831 frames of the caller's speech at the recording's level and 1,638 at -20 dB
    (an excited "oh my gosh, that's great, thank you so much" was not speech at all), while
    quieter recordings gave the same frames at any level. A shouting customer must not fall
    silent, so the VAD hears the audio through a level guard: a peak follower (instant attack,
    1 dB/s release) that only ever attenuates, to LEVEL_TARGET_DB. Only the VAD's input is
    scaled; the recognizer and the voice meter hear the audio as it is."""

    def __init__(self, level_target_db: float | None = LEVEL_TARGET_DB) -> None:
        self._target = level_target_db
        self._level = -120.0
        self._sess = _session()
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._ctx = np.zeros(_CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def feed(self, audio: np.ndarray) -> np.ndarray:
        x = np.concatenate([self._rest, audio.astype(np.float32, copy=False)])
        n = len(x) // FRAME
        self._rest = x[n * FRAME:]
        if n == 0:
            return np.zeros(0, np.float32)
        frames = x[: n * FRAME].reshape(n, FRAME)
        if self._target is not None:
            frames = frames * self._gains(frames)[:, None]
        ctx = np.vstack([self._ctx[None, :], frames[:-1, -_CONTEXT:]])
        self._ctx = frames[-1, -_CONTEXT:].copy()
        probs, self._h, self._c = self._sess.run(
            None, {"input": np.hstack([ctx, frames]), "h": self._h, "c": self._c}
        )
        return probs.reshape(-1)

    def _gains(self, frames: np.ndarray) -> np.ndarray:
        assert self._target is not None
        halves = frames.reshape(len(frames), 2, FRAME // 2).astype(np.float64)
        peak = 10 * np.log10(np.max(np.mean(halves**2, axis=2), axis=1) + 1e-12)
        out = np.empty(len(frames), np.float32)
        release = LEVEL_RELEASE_DB_S * FRAME_S
        for i, p in enumerate(peak):
            self._level = max(float(p), self._level - release)
            out[i] = 10 ** (min(0.0, self._target - self._level) / 20)
        return out


@dataclass(frozen=True)
class Segment:
    """A finished stretch of speech, in samples from stream start (end exclusive)."""

    start: int
    end: int
    detected_at: int  # the sample at which the endpointer knew the segment was over
    forced: bool = False  # cut at max length rather than at a pause


class Endpointer:
    """Hysteresis over frame probabilities: speech starts above `threshold`, ends after
    `end_silence_s` below `threshold - 0.15`; long turns are cut near a low point."""

    def __init__(self, threshold: float, end_silence_s: float, max_utterance_s: float, min_utterance_s: float) -> None:
        self.on = threshold
        self.off = max(threshold - 0.15, 0.01)
        self.end_frames = max(1, round(end_silence_s / FRAME_S))
        self.max_frames = round(max_utterance_s / FRAME_S)
        self.min_frames = max(1, round(min_utterance_s / FRAME_S))
        self.frame = 0  # index of the next frame
        self.speaking = False  # inside a segment (including its trailing silence)
        self.active = False  # the current frame is speech (for turn-taking)
        self._start = 0
        self._silent = 0
        self._probs: list[float] = []

    @property
    def open_start(self) -> float | None:
        """Stream time at which the speech still going on began (None when silent)."""
        return self._start * FRAME_S if self.speaking else None

    def push(self, probs: np.ndarray) -> Iterator[Segment]:
        for p in probs:
            i = self.frame
            self.frame += 1
            if not self.speaking:
                if p >= self.on:
                    self.speaking, self.active = True, True
                    self._start, self._silent, self._probs = i, 0, [float(p)]
                continue
            self._probs.append(float(p))
            if p >= self.on or (self.active and p >= self.off):
                self._silent, self.active = 0, True
            else:
                self._silent, self.active = self._silent + 1, False
            if self._silent >= self.end_frames:
                self.speaking = self.active = False
                end = i + 1 - self._silent
                if end - self._start >= self.min_frames:
                    yield Segment(self._start * FRAME, end * FRAME, (i + 1) * FRAME)
            elif i + 1 - self._start >= self.max_frames:
                yield self._cut(i)

    def _cut(self, i: int) -> Segment:
        """Split a long turn at its quietest frame in the last third, keep the rest going."""
        probs = np.asarray(self._probs)
        lo = len(probs) * 2 // 3
        k = lo + int(np.argmin(probs[lo:]))
        cut = self._start + k + 1
        seg = Segment(self._start * FRAME, cut * FRAME, (i + 1) * FRAME, forced=True)
        self._start, self._probs = cut, self._probs[k + 1:]
        self._silent = 0
        return seg

    def flush(self) -> Iterator[Segment]:
        """End of stream: close an open segment."""
        if self.speaking:
            end = self.frame - self._silent
            self.speaking = self.active = False
            if end - self._start >= self.min_frames:
                yield Segment(self._start * FRAME, end * FRAME, self.frame * FRAME)

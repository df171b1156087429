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

from coach.core.events import SAMPLE_RATE

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
BACKSTOP_MIN_P = 0.15  # a loud frame Silero gives at least this much is speech (see SileroStream)
FLOOR_RISE_DB_S = 0.5  # the noise floor follows quieter frames at once, louder ones this slowly
FLOOR_LOWEST_DB = -70.0  # a near-silent line is not the floor a voice is measured against ...
DIGITAL_SILENCE_DB = -90.0  # ... and digital silence is not the line at all
BASS_BINS = 9  # 31-281 Hz of a 512-point spectrum at 16 kHz
BASSLESS_SHARE = 0.03  # loud frames with less of their energy there: a line without bass (full-band speech: 10-30 %)
BASS_PRIOR = 0.1  # a line has bass until ~0.75 s of loud frames say otherwise ...
BASS_PACE = 0.05  # ... (a hiss or an "sss" on a line with bass is not that long)


class SileroStream:
    """Speech probability per 32 ms frame, fed with chunks of any length.

    Silero misses loud speech: on a real 8 kHz call whose caller peaks near full scale, it
    found 831 frames of the caller's speech at the recording's level and 1,638 at -20 dB
    (an excited "oh my gosh, that's great, thank you so much" was not speech at all), while
    quieter recordings gave the same frames at any level. A shouting customer must not fall
    silent, so the VAD hears the audio through a level guard: a peak follower (instant attack,
    1 dB/s release) that only ever attenuates, to LEVEL_TARGET_DB. Only the VAD's input is
    scaled; the recognizer and the voice meter hear the audio as it is.

    Silero also misses speech with no energy below 300 Hz, as some telephone lines and
    softphones deliver it: with the real call's channels high-passed at 300 Hz it kept 70 %
    of the agent's speech frames and 23 % of the caller's. With `backstop_db`, on a line
    whose loud frames carry under 3 % of their energy below 281 Hz, a frame at least that
    far above the channel's noise floor (a follower that drops at once and rises 0.5 dB/s)
    that Silero gives at least BACKSTOP_MIN_P is speech: 15 dB kept 96 % and 78 %. A line
    with bass is left to Silero alone: there the backstop also took word edges and noise
    for speech, which moved turn boundaries and the caller's voice baseline."""

    def __init__(self, level_target_db: float | None = LEVEL_TARGET_DB, backstop_db: float | None = None) -> None:
        self._target = level_target_db
        self._backstop = backstop_db
        self._floor: float | None = None
        self._bass = BASS_PRIOR  # share of loud frames' energy below 281 Hz, averaged
        self.silero = np.zeros(0, np.float32)
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
            self.silero = np.zeros(0, np.float32)
            return self.silero
        frames = x[: n * FRAME].reshape(n, FRAME)
        loud = self._loud(frames) if self._backstop else None
        if self._target is not None:
            frames = frames * self._gains(frames)[:, None]
        ctx = np.vstack([self._ctx[None, :], frames[:-1, -_CONTEXT:]])
        self._ctx = frames[-1, -_CONTEXT:].copy()
        probs, self._h, self._c = self._sess.run(
            None, {"input": np.hstack([ctx, frames]), "h": self._h, "c": self._c}
        )
        probs = self.silero = probs.reshape(-1)  # Silero's own, for whoever must not hear the backstop
        if loud is not None:
            probs = np.where(loud & (probs >= BACKSTOP_MIN_P), np.float32(1.0), probs)
        return probs

    def _loud(self, frames: np.ndarray) -> np.ndarray:
        """Which frames stand `backstop_db` above the channel's noise floor, on a line without bass."""
        assert self._backstop is not None
        x = frames.astype(np.float64)
        energy = 10 * np.log10(np.mean(x**2, axis=1) + 1e-12)
        spec = np.abs(np.fft.rfft(x, axis=1)[:, 1:]) ** 2  # 31.25 Hz bins from 31 Hz
        bass = spec[:, :BASS_BINS].sum(axis=1) / (spec.sum(axis=1) + 1e-20)
        out = np.zeros(len(frames), bool)
        rise = FLOOR_RISE_DB_S * FRAME_S
        for i, e in enumerate(energy):
            if e > DIGITAL_SILENCE_DB:  # a gap in the stream is no measure of the line's noise
                self._floor = float(e) if self._floor is None else min(float(e), self._floor + rise)
            if self._floor is None or e < max(self._floor, FLOOR_LOWEST_DB) + self._backstop:
                continue
            self._bass += BASS_PACE * (float(bass[i]) - self._bass)
            out[i] = self._bass < BASSLESS_SHARE
        return out

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

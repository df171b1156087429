"""The customer's voice arousal, second by second, against the customer's own baseline.

A shouting customer is escalating even when the words are neutral ("Dogs are sitting by
the door." read in anger is 5-28 dB louder and 70-190 Hz higher than the same speaker's
neutral reading, issue #18). Each second of the customer's speech (VAD speech frames only,
so pauses and line noise between words do not count) gives three features:

- loudness: mean power of the speech frames, dB;
- pitch: median F0 of the voiced speech frames, in semitones;
- brightness: energy 1-3.4 kHz against 0.3-1 kHz, dB. Vocal effort flattens the spectral
  tilt, so a raised voice is brighter even when automatic gain control flattens its loudness.

Each reading pools the customer's last `listen_s` of speech and compares it with their
first `baseline_s` of speech (the anchor) and with a baseline that follows later calm speech
(a louder line, a caller nearer the phone become the new normal). Each feature is measured
against the higher of the two, so following the caller can only ever silence the meter:
over an hour the followed baseline drifts with what the caller says, and a baseline that
drifted below the anchor raised 10 false alarms in a calm real call played 16 times over.
The voice is *aroused* when the pitch is raised **and** there is effort: louder, or brighter
(energy above 1 kHz against below) where the line carries the band above 4 kHz. On a
band-limited (telephone) line brightness moves with the vowels and a cheerful voice, so there
it counts only with the voice louder too. A gain change alone raises loudness only, never
pitch. No verdict on less than 3/4 of `listen_s` of pooled speech (one laugh, a cough or
"Okay, we." is too short), and none before the anchor: a caller who is loud from the first
word is that caller's normal.

Qt-free and cheap (one 1024-point FFT per 32 ms frame); it runs on the pipeline thread,
never in the audio callback. Only ever fed the customer's channel: the agent's voice and
emotions are never scored (EU AI Act Art. 5(1)(f)).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.config.fields import opt

RATE = 16000
FRAME = 512  # the VAD's frame: features line up with its speech probabilities
WINDOW = 2 * FRAME  # pitch needs two periods of a 70 Hz voice: each frame with the one before
F0_MIN, F0_MAX = 70.0, 400.0
VOICED = 0.5  # normalised autocorrelation peak of a clearly periodic frame
MIN_SPEECH_FRAMES = 8  # a second with less than 0.25 s of speech says nothing
MIN_VOICED_FRAMES = 5
_BINS = np.fft.rfftfreq(WINDOW, 1 / RATE)
_LO = (_BINS >= 300) & (_BINS < 1000)
_HI = (_BINS >= 1000) & (_BINS < 3400)  # telephone band: 8 kHz calls carry nothing above
_TOP = (_BINS >= 4200) & (_BINS < 7800)  # above the telephone band: how wide the line is
# speech energy above 4.2 kHz against 0.3-3.4 kHz: real 8 kHz calls -120 dB and less, wideband
# recordings -20 to -26 dB (docs/cues.md: Voice escalation)
BAND_LIMITED_DB = -40.0


@dataclass
class VoiceSettings:
    """Escalation from the customer's voice alone (this module; docs/cues.md)."""

    enabled: bool = opt(True, "a raised voice escalates on its own, without angry words (issue #18: contact-centre tools do)")
    baseline_s: float = opt(15.0, "the caller's normal voice is learnt from this much of their first speech; no verdict before")
    loud_db: float = opt(6.0, "louder than the caller's baseline by this much counts as effort (acted anger: +5-15 dB normal, "
                              "+20-28 dB strong, issue #18)")
    bright_db: float = opt(3.0, "or brighter by this much (energy above 1 kHz against below): effort that gain control "
                                "cannot flatten (spectral tilt flattens with vocal effort)")
    bright_loud_db: float = opt(3.0, "on a band-limited (telephone) line brighter counts as effort only with the voice this "
                                     "much louder too: there brightness alone moves with the vowels and a cheerful voice "
                                     "(a calm real call played for an hour: 10 alarms at +3-4 dB brighter, +0 dB louder); 0: brighter alone")
    pitch_semitones: float = opt(3.0, "and pitch raised by this much, always required: a louder line or a caller nearer "
                                      "the phone is louder, not higher (acted anger: +70-190 Hz, +5-12 semitones)")
    listen_s: float = opt(3.0, "the verdict pools the caller's last this much speech: one laugh, a cough or an exclamation is "
                               "shorter, and a raised voice is heard within a few seconds")
    window_s: float = opt(20.0, "speech older than this no longer counts in the pool")
    adapt_s: float = opt(6.0, "while the pitch is normal, loudness and brightness become the caller's normal over about "
                               "this much speech (a louder line, a caller nearer the phone); calm pitch over 4x as long")
    block_s: float = opt(1.0, "the voice is judged a second at a time: the mood meter moves within a second or two", lo=0.25, hi=5)


def frame_features(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per analysis window (rows of WINDOW samples): power (linear), F0 in Hz (nan when not
    voiced), energy below/above 1 kHz, and energy above the telephone band (4.2-7.8 kHz)."""
    x = windows.astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    power = np.mean(x[:, FRAME:] ** 2, axis=1)  # the newer frame: the one the VAD judged
    spec = np.fft.rfft(x * np.hanning(WINDOW), 2 * WINDOW, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :WINDOW]
    lo, hi = int(RATE / F0_MAX), int(RATE / F0_MIN)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    rows = np.arange(len(ac))
    strength = ac[rows, lag] / np.maximum(ac[:, 0], 1e-12)
    # parabolic interpolation of the peak: whole-sample lags are 1.4 % apart at 220 Hz
    a, b, c = ac[rows, lag - 1], ac[rows, lag], ac[rows, np.minimum(lag + 1, WINDOW - 1)]
    den = a - 2 * b + c
    frac = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    f0 = np.where(strength >= VOICED, RATE / (lag + np.clip(frac, -0.5, 0.5)), np.nan)
    band = np.abs(np.fft.rfft(x * np.hanning(WINDOW), axis=1)) ** 2
    return power, f0, band[:, _LO].sum(axis=1), band[:, _HI].sum(axis=1), band[:, _TOP].sum(axis=1)


def semitones(hz: np.ndarray) -> np.ndarray:
    return 12 * np.log2(hz / 100.0)


@dataclass(frozen=True)
class Voice:
    """Pooled features of a stretch of speech: loudness dB, median pitch (semitones re 100 Hz), brightness dB."""

    loud_db: float
    pitch_st: float
    bright_db: float

    @staticmethod
    def of(frames: np.ndarray) -> Voice | None:
        """frames: rows of (power, pitch semitones or nan, energy below 1 kHz, energy above, ...)."""
        pitch = frames[:, 1][~np.isnan(frames[:, 1])]
        if len(pitch) < MIN_VOICED_FRAMES:
            return None
        return Voice(float(10 * np.log10(frames[:, 0].mean() + 1e-12)), float(np.median(pitch)),
                     float(10 * np.log10((frames[:, 3].sum() + 1e-12) / (frames[:, 2].sum() + 1e-12))))

    def higher(self, other: Voice) -> Voice:
        """Feature by feature the higher of two baselines: against it, nothing reads more raised than against either."""
        return Voice(max(self.loud_db, other.loud_db), max(self.pitch_st, other.pitch_st), max(self.bright_db, other.bright_db))


@dataclass(frozen=True)
class VoiceReading:
    """The customer's voice over their last `listen_s` of speech against their baseline, once a second
    while they speak (deltas None until there is a baseline, and when too little speech is pooled for a verdict)."""

    t: float  # stream time at the end of the second
    speech_s: float  # speech pooled into this reading
    loud_db: float | None = None
    pitch_st: float | None = None
    bright_db: float | None = None
    level: float = 0.0  # on the escalation score's scale: at the cue's threshold (0.6) exactly when aroused
    aroused: bool = False
    escalating: bool = False  # the moment arousal is first reached (once per episode)
    baseline_s: float = 0.0  # speech the baseline was learnt from


class VoiceMeter:
    """Feed the customer's audio and the VAD's speech probabilities; get a reading per second of speech."""

    def __init__(self, s: VoiceSettings, vad_threshold: float = 0.5, score_threshold: float = 0.6) -> None:
        self.s, self.vad_threshold, self.score_threshold = s, vad_threshold, score_threshold
        self._block = max(1, round(s.block_s * RATE / FRAME))
        self._samples = np.zeros(FRAME, np.float32)  # starts with one silent frame of history
        self._probs = np.zeros(0, np.float32)
        self._frames = 0  # frames seen so far
        self._acc: list[np.ndarray] = []  # this second's speech frames
        self._acc_n = 0
        self._learning: list[np.ndarray] = []  # speech frames until baseline_s is heard
        self.anchor: Voice | None = None  # the caller's first baseline_s of speech, never moved
        self.baseline: Voice | None = None  # follows the caller's later calm speech
        self.band_limited = True  # until the anchor shows energy above the telephone band
        self._learnt_s = 0.0
        self._recent: deque[tuple[float, np.ndarray]] = deque()  # (t, speech frames of one second)
        self._episode = False

    def feed(self, audio: np.ndarray, probs: np.ndarray) -> list[VoiceReading]:
        """`probs`: the VAD's new speech probabilities, one per FRAME of the stream, in step with the audio."""
        self._samples = np.concatenate([self._samples, audio.astype(np.float32, copy=False)])
        self._probs = np.concatenate([self._probs, probs])
        n = min(len(self._samples) // FRAME - 1, len(self._probs))
        if n <= 0:
            return []
        idx = np.arange(n)[:, None] * FRAME + np.arange(WINDOW)[None, :]
        power, f0, lo, hi, top = frame_features(self._samples[idx])
        rows = np.stack([power, semitones(f0), lo, hi, top], axis=1)
        speech = self._probs[:n] >= self.vad_threshold
        self._samples = self._samples[n * FRAME:]
        self._probs = self._probs[n:]
        out = []
        k = 0
        while k < n:
            take = min(n - k, self._block - self._acc_n)
            self._acc.append(rows[k:k + take][speech[k:k + take]])
            self._acc_n += take
            self._frames += take
            k += take
            if self._acc_n == self._block:
                r = self._second(np.concatenate(self._acc), self._frames * FRAME / RATE)
                if r is not None:
                    out.append(r)
                self._acc, self._acc_n = [], 0
        return out

    def _second(self, frames: np.ndarray, t: float) -> VoiceReading | None:
        if len(frames) < MIN_SPEECH_FRAMES:
            return None  # the customer said (next to) nothing this second
        if self.anchor is None:
            self._learning.append(frames)
            self._learnt_s += len(frames) * FRAME / RATE
            if self._learnt_s >= self.s.baseline_s:
                learnt = np.concatenate(self._learning)
                self.anchor = self.baseline = Voice.of(learnt)
                band = 10 * np.log10((learnt[:, 4].sum() + 1e-20) / (learnt[:, 2].sum() + learnt[:, 3].sum() + 1e-20))
                self.band_limited = bool(band < BAND_LIMITED_DB)
                self._learning = [] if self.anchor is not None else self._learning
            return VoiceReading(t, round(len(frames) * FRAME / RATE, 2), baseline_s=round(self._learnt_s, 1))
        self._recent.append((t, frames))
        while self._recent and (self._recent[0][0] <= t - self.s.window_s or self._speech_s(1) >= self.s.listen_s):
            self._recent.popleft()  # keep the last listen_s of speech, none older than window_s
        pooled = np.concatenate([f for _, f in self._recent])
        now, s = Voice.of(pooled), self.s
        speech_s = round(len(pooled) * FRAME / RATE, 2)
        # a verdict on a second or two of speech would be a laugh's, a cough's or "Okay, we.": neither
        # the cue nor the mood meter gets one
        if now is None or speech_s < s.listen_s * 0.75 or self.baseline is None or self.anchor is None:
            return VoiceReading(t, speech_s, baseline_s=round(self._learnt_s, 1))
        base = self.baseline.higher(self.anchor)
        dl, dp, db = now.loud_db - base.loud_db, now.pitch_st - base.pitch_st, now.bright_db - base.bright_db
        p, effort = dp / s.pitch_semitones, self.effort(dl, db)
        aroused = p >= 1 and effort >= 1
        escalating = aroused and not self._episode
        if aroused:
            self._episode = True
        elif min(p, effort) < 0.5:
            self._episode = False
        if p < 0.5:
            self._adapt(now, len(frames) * FRAME / RATE, calm=effort < 0.5)
        # min(p, effort) reaches 1 exactly when aroused, so the meter reads the cue's threshold exactly then
        return VoiceReading(t, speech_s, round(dl, 1), round(dp, 1), round(db, 1),
                            level=round(max(0.0, min(p, effort)) * self.score_threshold, 3), aroused=aroused,
                            escalating=escalating, baseline_s=round(self._learnt_s, 1))

    def effort(self, loud_db: float, bright_db: float) -> float:
        """Vocal effort on the scale of the thresholds (1 = effort): louder, or brighter; on a
        band-limited line brighter only as far as the voice is louder too (`bright_loud_db`)."""
        s = self.s
        bright = bright_db / s.bright_db
        if self.band_limited and s.bright_loud_db > 0:
            bright = min(bright, loud_db / s.bright_loud_db)
        return max(loud_db / s.loud_db, bright)

    def _speech_s(self, skip: int = 0) -> float:
        return sum(len(f) for _, f in list(self._recent)[skip:]) * FRAME / RATE

    def _adapt(self, now: Voice, speech_s: float, calm: bool) -> None:
        """The caller's normal follows their speech while their pitch is normal: loudness and
        brightness within about `adapt_s` of speech (a louder line, a caller nearer the phone,
        a gain control: none of them raises the pitch), the pitch itself over four times as
        long and only when the voice is calm all round."""
        b = self.baseline
        assert b is not None
        a = min(1.0, speech_s / self.s.adapt_s)
        ap = min(1.0, speech_s / (4 * self.s.adapt_s)) if calm else 0.0
        self.baseline = Voice(b.loud_db + a * (now.loud_db - b.loud_db), b.pitch_st + ap * (now.pitch_st - b.pitch_st),
                              b.bright_db + a * (now.bright_db - b.bright_db))

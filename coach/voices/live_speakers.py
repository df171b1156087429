"""Two speakers from one channel as the audio arrives: a live mono device.

The same steps as speakers.diarize, run on a growing call: Silero's speech decisions and a
CAM++ embedding for each 1.5 s window as soon as the window is complete; every few seconds
of new speech all windows so far are clustered again (seeded by the previous centroids, so
voice 0 stays voice 0), and in between each new window is labelled by the known centroids
with a Viterbi pass over the latest windows. A short stretch of speech between pauses is
embedded on its own once the pause after it is heard, and placed as speakers.diarize places
it. Labels already given may change at the next re-clustering; `result()` is the call as it
is understood now (what the JSON keeps).

Only the audio the next windows and the open stretch need is kept: an hour-long call holds
its embeddings and one bit per 10 ms, not its samples.
"""

from __future__ import annotations

import numpy as np

from coach.speech.vad import FRAME, SileroStream
from coach.voices import speakers as sp
from coach.voices.fbank import FRAME_LENGTH

LIVE_MIN_WINDOWS = 8  # a call is known to have two speakers: 6 s of speech may show the second voice
RECLUSTER_WINDOWS = 8  # all windows are clustered again after this many new ones (6 s of speech)
TAIL_WINDOWS = 16  # between re-clusterings, the latest windows are relabelled by Viterbi
BATCH = 8  # windows embedded in one model call
KEEP_FRAMES = sp.SHORT_MAX + sp.PAUSE_FRAMES + sp.WINDOW_FRAMES  # audio kept behind the VAD for a stretch still open


class _Growing:
    """An append-only array with amortised growth: a live call appends to it every 100 ms for
    hours, and concatenating each time would copy the whole call so far each time."""

    def __init__(self, dtype: type) -> None:
        self._dtype = dtype
        self._a: np.ndarray | None = None
        self.n = 0

    def extend(self, x: np.ndarray) -> None:
        x = np.asarray(x, self._dtype)
        need = self.n + len(x)
        if self._a is None or need > len(self._a):
            grown = np.zeros((max(need, 256, 2 * self.n), *x.shape[1:]), self._dtype)
            if self._a is not None:
                grown[:self.n] = self._a[:self.n]
            self._a = grown
        self._a[self.n:need] = x
        self.n = need

    @property
    def data(self) -> np.ndarray:
        return self._a[:self.n] if self._a is not None else np.zeros(0, self._dtype)

    def __len__(self) -> int:
        return self.n


class StreamingDiarizer:
    def __init__(self, embedder: sp.Embedder | None = None) -> None:
        self.embedder = embedder or sp.default_embedder()
        self._vad = SileroStream()
        self._probs = _Growing(bool)  # Silero's decisions, one per 32 ms
        self._speech_frames = _Growing(bool)  # per 10 ms frame, as far as the VAD has decided
        self._audio = np.zeros(0, np.float32)  # samples from frame `_audio_frame` on
        self._audio_frame = 0
        self.samples = 0
        self._next_start = 0  # the next window to consider starts at this frame
        self._starts = _Growing(np.int64)  # first frame of each embedded window
        self._emb = _Growing(np.float32)  # (windows, dims)
        self._short_a, self._short_b = _Growing(np.int64), _Growing(np.int64)  # short stretches [a, b)
        self._short_emb = _Growing(np.float32)
        self._scan = 0  # stretches of speech from this frame on are not over yet (a pause lies before it)
        self.win = np.zeros(0, int)
        self.centroids: np.ndarray | None = None
        self.similarity = 1.0
        self.two = False
        self._clustered_at = 0

    # -- input --------------------------------------------------------------------------

    def push(self, x: np.ndarray) -> bool:
        """Feed 16 kHz mono samples; True when the voices' labels changed."""
        x = x.astype(np.float32, copy=False)
        self.samples += len(x)
        self._audio = np.concatenate([self._audio, x])
        p = self._vad.feed(x)
        if len(p):
            self._probs.extend(p >= 0.5)
            frames = np.arange(len(self._speech_frames), len(self._probs) * FRAME // sp.HOP)
            self._speech_frames.extend(self._probs.data[(frames * sp.HOP) // FRAME])
        return self._windows()

    @property
    def _speech(self) -> np.ndarray:
        return self._speech_frames.data

    @property
    def starts(self) -> np.ndarray:
        return self._starts.data

    def _windows(self) -> bool:
        ready: list[int] = []
        while (self._next_start + sp.WINDOW_FRAMES <= len(self._speech)
               and (self._next_start + sp.WINDOW_FRAMES - 1) * sp.HOP + FRAME_LENGTH <= self.samples):
            s = self._next_start
            if self._speech[s:s + sp.WINDOW_FRAMES].mean() >= sp.MIN_SPEECH:
                ready.append(s)
            self._next_start += sp.STEP_FRAMES
        if ready:
            self._embed(ready)
        self._stretches()
        self._trim()
        return bool(ready) and self._label()

    def _stretches(self) -> None:
        """Embed the short stretches of speech the VAD has closed with a pause since last time."""
        base = self._scan
        speech = self._speech[base:]
        a, b = sp.stretches(speech)
        a, b = a + base, b + base
        if len(b):
            self._scan = int(b[-1])
        elif not speech.any() and len(speech) > sp.PAUSE_FRAMES:
            self._scan = base + len(speech) - sp.PAUSE_FRAMES  # a long pause: whatever comes next starts a stretch
        for x, y in zip(a, b):
            lo = (x - self._audio_frame) * sp.HOP
            hi = (y - 1 - self._audio_frame) * sp.HOP + FRAME_LENGTH
            if not sp.SHORT_MIN <= y - x < sp.SHORT_MAX or lo < 0 or hi > len(self._audio):
                continue
            feats = self.embedder.features(self._audio[lo:hi], x * sp.HOP)
            self._short_emb.extend(self.embedder(feats, np.zeros(1, int), int(y - x)))
            self._short_a.extend([x])
            self._short_b.extend([y])

    def _embed(self, starts: list[int]) -> None:
        lo = starts[0]
        a = (lo - self._audio_frame) * sp.HOP
        b = (starts[-1] - self._audio_frame + sp.WINDOW_FRAMES - 1) * sp.HOP + FRAME_LENGTH
        seg = self._audio[a:b]
        feats = self.embedder.features(seg, lo * sp.HOP)  # rows = frames from `lo` on (each Kaldi frame stands alone)
        rel = np.asarray(starts) - lo
        for i in range(0, len(rel), BATCH):
            self._emb.extend(self.embedder(feats, rel[i:i + BATCH], sp.WINDOW_FRAMES))
        self._starts.extend(np.asarray(starts))

    def _trim(self) -> None:
        """Keep only the audio from the next window's start and the open stretch's on (a stretch
        open for longer than KEEP_FRAMES is no short one)."""
        keep = min(self._next_start, max(self._scan, len(self._speech) - KEEP_FRAMES))
        drop = keep - self._audio_frame
        if drop > 0:
            self._audio = self._audio[drop * sp.HOP:]
            self._audio_frame = keep

    # -- voices -------------------------------------------------------------------------

    def _label(self) -> bool:
        n = len(self._emb)
        if n < 4:
            self.win = np.zeros(n, int)
            return False
        emb, starts = self._emb.data, self.starts
        due = n - self._clustered_at >= (1 if not self.two else RECLUSTER_WINDOWS)
        if due and n >= LIVE_MIN_WINDOWS:
            return self.recluster()
        if not self.two or self.centroids is None:
            self.win = np.zeros(n, int)
            return False
        k = max(0, n - TAIL_WINDOWS)
        tail = sp.relabel(emb[k:], self._speech, starts[k:], self.centroids)
        changed = not np.array_equal(self.win[k:len(self.win)], tail[:len(self.win) - k])
        self.win = np.concatenate([self.win[:k], tail])
        return changed

    def finish(self) -> bool:
        """The call has ended: one last clustering with every start tried, for the labels kept."""
        return self.recluster(final=True)

    def recluster(self, final: bool = False) -> bool:
        """All windows clustered again; voice numbers kept from before (or 0: the voice heard first)."""
        n = len(self._emb)
        if n < 4:
            return False
        emb, starts = self._emb.data, self.starts
        before = self.win.copy()
        c = sp.cluster(emb, starts, self._speech, None, min_windows=LIVE_MIN_WINDOWS,
                       seed=self.centroids if self.two else None, restarts=3 if self.two and not final else 8)
        win, cent = c.win, c.centroids
        if c.two:
            if self.two and self.centroids is not None:
                keep = cent[0] @ self.centroids[0] + cent[1] @ self.centroids[1]
                swap = cent[0] @ self.centroids[1] + cent[1] @ self.centroids[0]
                flip = swap > keep
            else:
                flip = win[0] == 1  # voice 0 is the one heard first
            if flip:
                win, cent = 1 - win, cent[::-1].copy()
        self.win, self.centroids, self.similarity, self.two = win, cent, c.similarity, c.two
        self._clustered_at = n
        return not np.array_equal(before, self.win[:len(before)]) or len(before) != len(self.win)

    def labels(self, lo: int, hi: int) -> np.ndarray:
        """Voice per 10 ms frame in [lo, hi): 0, 1, or -1 (no speech, or not decided yet)."""
        out = np.full(hi - lo, -1, int)
        a = max(0, lo - sp.WINDOW_FRAMES)
        b = min(len(self._speech), hi + sp.WINDOW_FRAMES)
        starts = self.starts
        if b <= a or not len(starts):
            return out
        centres = starts + sp.WINDOW_FRAMES // 2
        i, j = np.searchsorted(centres, [a - sp.WINDOW_FRAMES, b + sp.WINDOW_FRAMES])
        i, j = max(0, i - 1), min(len(starts), j + 1)  # the nearest window may lie just outside
        speech = self._speech[a:b]
        if j <= i:
            lab = np.where(speech, int(self.win[-1]) if len(self.win) else 0, -1)
        else:
            short = self._short(a, b)
            if short is not None and len(short):
                short.voices = sp.segment_voices(self._emb.data[i:j], starts[i:j] - a, short, speech, self.centroids)
            lab = sp.frame_labels(starts[i:j] - a, self.win[i:j], speech, short)
        seg = lab[max(0, lo - a):hi - a]
        out[:len(seg)] = seg
        return out

    def result(self) -> sp.Diarization:
        """The whole call as understood now (voice numbers as given live: 0 was heard first)."""
        speech = self._speech
        if not self.two or self.centroids is None:
            labels = np.where(speech, 0, -1)
            cent = self.centroids[:1] if self.centroids is not None else np.zeros((1, 192), np.float32)
            return sp.Diarization(labels, 1, self.similarity, cent)
        short = self._short(0, len(speech))
        if short is not None:
            short.voices = sp.segment_voices(self._emb.data, self.starts, short, speech, self.centroids)
        labels = sp.frame_labels(self.starts, self.win, speech, short)
        return sp.Diarization(labels.astype(np.int8), 2, self.similarity, self.centroids.astype(np.float32))

    def _short(self, a: int, b: int) -> sp.Short | None:
        """The short stretches inside frames [a, b), counted from a; None before two voices are known."""
        if not self.two or self.centroids is None:
            return None
        sa, sb = self._short_a.data, self._short_b.data
        i, j = np.searchsorted(sa, a), np.searchsorted(sb, b, side="right")
        return sp.Short(sa[i:j] - a, sb[i:j] - a, self._short_emb.data[i:j])

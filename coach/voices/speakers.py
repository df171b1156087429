"""Two speakers from one channel: who spoke when in a mono call.

Speech (the VAD's frames) is cut into overlapping windows; each window gets a speaker
embedding (CAM++, see assets/speaker-campplus/); the windows split into two voices by
cosine k-means; a two-state Viterbi pass over the windows in time order keeps a turn from
being broken by one odd window; each 10 ms frame of speech takes the voice of the window
centred nearest to it. A short stretch of speech between pauses (an answer such as "Yes."
between two of the other voice's turns) is mostly the other voice in every window around
it, so it is embedded on its own and placed by the same Viterbi pass. If the two voices are
as alike as one voice is to itself, the call has one speaker.

A call is read in blocks (an ndarray, or a function that gives its blocks anew): only the
speech mask, the embeddings and a block's features are held, so memory does not grow with
the length of the call beyond one bit and a label per 10 ms (docs/evaluation.md).

Numpy and onnxruntime only: no torch at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Protocol

import numpy as np

from coach.config.paths import assets_dir
from coach.speech.vad import FRAME, SileroStream
from coach.voices.fbank import FRAME_LENGTH, num_frames

RATE = 16000
HOP = 160
FRAME_S = HOP / RATE  # 10 ms: the unit of every label here
WINDOW_FRAMES, STEP_FRAMES = 150, 75  # 1.5 s windows every 0.75 s (docs/design.md: error and CPU by step)
MIN_SPEECH = 0.5  # a window is used when at least half of it is speech
SWITCH_PENALTY = 3.0  # Viterbi: log-odds a change of voice between neighbouring windows must beat
SHARPNESS = 12.0  # cosine difference -> log-likelihood scale for the Viterbi pass
SAME_VOICE = 0.85  # centroid cosine above which the two clusters are one voice (docs/usage.md, mono calls: one voice split in two
# gave 0.82-0.92 on real and synthetic voices, two real voices 0.21-0.76)
MIN_WINDOWS = 20  # auto: under ~15 s of speech is too little to tell a second voice, so it stays one
DITHER = 1.0 / 32768
PAUSE_FRAMES = 15  # a pause this long (0.15 s) between two windows ...
PAUSE_DISCOUNT = 0.2  # ... makes a change of voice there this much cheaper
SNAP_FRAMES = 30  # a change of voice inside speech moves to a pause up to 0.3 s away
VOICEPRINT_MIN = 0.45  # cosine to the enrolled voiceprint for a voice to be the agent's ...
VOICEPRINT_MARGIN = 0.15  # ... and this much closer than the other voice
MIN_SHARE = 0.04  # a "voice" with less than this share of the speech windows is noise, not a speaker
SHORT_MIN, SHORT_MAX = 20, 200  # a stretch of speech between pauses of 0.2-2 s is embedded on its own: no window is its own
# (docs/evaluation.md: Mono calls: short answers and memory)
BLOCK = RATE * 30  # samples read at a time from a call given as an array
FEATURE_MARGIN = FRAME_LENGTH + 2 * HOP  # samples past a span's last frame start that its features may need

Audio = np.ndarray | Callable[[], Iterable[np.ndarray]]  # a call: 16 kHz samples, or a function giving its blocks


def blocks(audio: Audio, size: int = BLOCK) -> Iterator[np.ndarray]:
    """A call's samples in blocks: slices of an array (no copies), or a stream read anew."""
    if isinstance(audio, np.ndarray):
        for i in range(0, len(audio), size):
            yield audio[i:i + size]
    else:
        for b in audio():
            yield np.asarray(b, np.float32)


class Embedder(Protocol):
    def features(self, audio: np.ndarray, start: int = 0) -> np.ndarray:
        """(frames, dims) features of a call's samples from sample `start` on, one frame per 10 ms."""
        ...

    def __call__(self, feats: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        """Unit embeddings of the windows feats[s:s+frames] for s in starts."""
        ...


def model_path() -> Path:
    return assets_dir() / "speaker-campplus" / "campplus.onnx"


class CamPlusPlus:
    """CAM++ (3D-Speaker, zh-en common, 192-d) as ONNX: Kaldi fbank, mean-normalised per window."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4
        self._sess = onnxruntime.InferenceSession(str(path or model_path()), providers=["CPUExecutionProvider"],
                                                  sess_options=opts)

    def features(self, audio: np.ndarray, start: int = 0) -> np.ndarray:
        from coach.voices.fbank import fbank

        # digital silence (a synthetic voice, a gated line) puts frames on the log floor, far
        # from anything the model heard in training; Kaldi's dither (1 LSB of 16 bits) lifts them
        return fbank(audio + dither(start, len(audio)))

    def __call__(self, feats: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        if len(starts) == 0:
            return np.zeros((0, 192), np.float32)
        idx = np.asarray(starts)[:, None] + np.arange(frames)[None, :]
        out = []
        for i in range(0, len(idx), 32):
            x = feats[idx[i:i + 32]]
            x = x - x.mean(axis=1, keepdims=True)  # the model was trained on mean-normalised windows
            out.append(self._sess.run(None, {"fbank": x.astype(np.float32)})[0])
        emb = np.concatenate(out)
        return emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12)


def dither(start: int, n: int) -> np.ndarray:
    """The dither of samples [start, start + n) of a call, the same however the call is cut:
    a noise that restarted with each piece read gave every piece's silences the same noise, and
    two alike voices' similarity moved by 0.05 with the cuts (0.003 with the noise's seed)."""
    if n <= 0:
        return np.zeros(0, np.float32)
    first, last = start // RATE, (start + n - 1) // RATE
    noise = np.concatenate([np.random.default_rng(s).normal(0.0, DITHER, RATE).astype(np.float32) for s in range(first, last + 1)])
    return noise[start - first * RATE:start - first * RATE + n]


@lru_cache(maxsize=1)
def default_embedder() -> CamPlusPlus:
    return CamPlusPlus()


@dataclass(frozen=True)
class Diarization:
    """Per 10 ms frame: 0 or 1 for the two voices (0 = the one heard first), -1 for no speech."""

    labels: np.ndarray
    speakers: int  # 1 or 2
    similarity: float  # cosine between the two voices' centroids (1.0: one voice, not split)
    centroids: np.ndarray  # (speakers, dims) unit vectors, voice 0 first

    def at(self, t: float) -> int:
        k = int(t / FRAME_S)
        return int(self.labels[k]) if 0 <= k < len(self.labels) else -1


def voice_of(centroids: np.ndarray, voiceprint: np.ndarray) -> int | None:
    """Which of two voices is the voiceprint's, or None when neither clearly is."""
    if len(centroids) != 2 or centroids.shape[1] != len(voiceprint):
        return None
    sims = centroids @ (voiceprint / (np.linalg.norm(voiceprint) + 1e-12))
    best = int(np.argmax(sims))
    return best if sims[best] >= VOICEPRINT_MIN and sims[best] - sims[1 - best] >= VOICEPRINT_MARGIN else None


def _kmeans2(x: np.ndarray, iters: int = 30, restarts: int = 8, seed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two clusters of unit vectors by cosine: the best of several k-means++ starts (seeding with
    the two least alike windows alone lets one odd window make a cluster of its own). `seed`:
    centroids found before (a call heard as it goes), tried first."""
    rng = np.random.default_rng(0)  # the same call always splits the same way
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for r in range(restarts + (seed is not None)):
        if seed is not None and r == 0:
            cent = seed.copy()
        else:
            a = int(rng.integers(len(x)))
            far = np.maximum(1.0 - x @ x[a], 0.0) ** 2
            b = int(rng.choice(len(x), p=far / far.sum())) if far.sum() > 0 else (a + 1) % len(x)
            cent = np.stack([x[a], x[b]])
        labels = np.full(len(x), -1)
        for _ in range(iters):
            new = np.argmax(x @ cent.T, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            cent = _centroids(x, labels)
        fit = float(np.sum(np.max(x @ cent.T, axis=1)))
        if best is None or fit > best[0]:
            best = (fit, np.maximum(labels, 0), cent)
    assert best is not None
    return best[1], best[2]


def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    cent = np.stack([x[labels == k].mean(axis=0) if np.any(labels == k) else x.mean(axis=0) for k in (0, 1)])
    return cent / (np.linalg.norm(cent, axis=1, keepdims=True) + 1e-12)


def _pauses_between(speech: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each window, whether a pause of PAUSE_FRAMES or more lies between its centre and
    the previous window's."""
    quiet = ~speech
    runs = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]])))
    long_quiet = np.zeros(len(speech) + 1, int)
    for a, b in zip(runs[::2], runs[1::2]):
        if b - a >= PAUSE_FRAMES:
            long_quiet[a:b] = 1
    c = np.concatenate([[0], np.cumsum(long_quiet)])
    prev = np.concatenate([[centres[0]], centres[:-1]])
    return (c[centres] - c[prev]) > 0


def _viterbi(scores: np.ndarray, paused: np.ndarray) -> np.ndarray:
    """Best voice sequence over windows in time order. scores (n, 2): log-likelihoods;
    paused (n,): a pause lies since the previous window (a change of voice there is cheap)."""
    n = len(scores)
    back = np.zeros((n, 2), int)
    acc = scores[0].copy()
    for i in range(1, n):
        pen = SWITCH_PENALTY * (PAUSE_DISCOUNT if paused[i] else 1.0)
        stay, switch = acc, acc[::-1] - pen
        back[i] = np.where(stay >= switch, [0, 1], [1, 0])
        acc = np.maximum(stay, switch) + scores[i]
    path = np.zeros(n, int)
    path[-1] = int(np.argmax(acc))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def speech_mask(audio: Audio) -> np.ndarray:
    """Silero's speech decisions (probability >= 0.5, 32 ms frames) as a per-10 ms mask."""
    v = SileroStream()
    probs, samples = [], 0
    for b in blocks(audio):
        samples += len(b)
        probs += [v.feed(b[i:i + RATE]) >= 0.5 for i in range(0, len(b), RATE)]
    p = np.concatenate(probs) if probs else np.zeros(0, bool)
    if len(p) == 0:
        return np.zeros(samples // HOP, bool)
    t = (np.arange(samples // HOP) * HOP) // FRAME
    return p[np.minimum(t, len(p) - 1)]


def filled(labels: np.ndarray) -> np.ndarray:
    """Every frame given a voice: a pause belongs to the nearer of the voices around it (the
    split is cut in the middle of the pause, where nobody speaks)."""
    known = np.flatnonzero(labels >= 0)
    if len(known) == 0:
        return np.zeros_like(labels)
    k = np.clip(np.searchsorted(known, np.arange(len(labels))), 1, max(len(known) - 1, 1))
    if len(known) == 1:
        return np.full_like(labels, labels[known[0]])
    left, right = known[k - 1], known[k]
    idx = np.arange(len(labels))
    nearest = np.where(np.abs(idx - left) <= np.abs(right - idx), left, right)
    return labels[nearest]


def speech_windows(speech: np.ndarray) -> np.ndarray:
    """Start frames of the windows that are mostly speech."""
    n = len(speech)
    if n < WINDOW_FRAMES:
        return np.zeros(0, int)
    c = np.concatenate([[0], np.cumsum(speech.astype(int))])
    starts = np.arange(0, n - WINDOW_FRAMES + 1, STEP_FRAMES)
    share = (c[starts + WINDOW_FRAMES] - c[starts]) / WINDOW_FRAMES
    return starts[share >= MIN_SPEECH]


def _snap_to_pauses(labels: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """Move a change of voice that falls inside speech to the nearest pause within SNAP_FRAMES:
    windows place a change only to within half a step, and speakers mostly change in a pause."""
    out = labels.copy()
    known = np.flatnonzero(labels >= 0)
    if len(known) < 2:
        return out
    changes = known[1:][labels[known[1:]] != labels[known[:-1]]]
    quiet = np.flatnonzero(~speech)
    for c in changes:
        if len(quiet) == 0 or not (speech[c] and speech[c - 1]):
            continue  # already at a pause
        q = quiet[np.argmin(np.abs(quiet - c))]
        if abs(q - c) > SNAP_FRAMES:
            continue
        before, after = labels[c - 1], labels[c]
        if q < c:
            out[q:c] = np.where(out[q:c] >= 0, after, -1)
        else:
            out[c:q] = np.where(out[c:q] >= 0, before, -1)
    return out


@dataclass(frozen=True)
class Clusters:
    """The speech windows split into voices."""

    win: np.ndarray  # voice of each window, 0 or 1
    centroids: np.ndarray  # (2, dims) unit vectors
    similarity: float  # cosine between the two centroids
    two: bool  # two voices are heard (else: one voice, and win is all 0)


def cluster(emb: np.ndarray, starts: np.ndarray, speech: np.ndarray, speakers: int | None = None,
            min_windows: int = MIN_WINDOWS, seed: np.ndarray | None = None, restarts: int = 8) -> Clusters:
    """Window embeddings (in time order, starting at frames `starts`) -> two voices, or one.
    `speakers`: 2 always splits; None decides from the voices."""
    paused = _pauses_between(speech, starts + WINDOW_FRAMES // 2)
    # what a window says about a voice is mixed with what was said: its neighbours within the
    # same stretch of speech (no pause between) are almost surely the same voice, so the
    # clusters are found on their mean
    joined = np.concatenate([~paused[1:], [False]])  # window i and i+1 in one stretch
    smooth = emb.copy()
    smooth[:-1] += np.where(joined[:-1, None], emb[1:], 0)
    smooth[1:] += np.where(joined[:-1, None], emb[:-1], 0)
    smooth /= np.linalg.norm(smooth, axis=1, keepdims=True) + 1e-12
    win, cent = _kmeans2(smooth, restarts=restarts, seed=seed)
    for _ in range(2):  # Viterbi, then centroids from its labels, twice
        win = _viterbi(SHARPNESS * (emb @ cent.T), paused)
        cent = _centroids(emb, win)
    similarity = float(cent[0] @ cent[1])
    share = np.bincount(win, minlength=2) / len(win)
    if speakers is None and (similarity > SAME_VOICE or share.min() < MIN_SHARE or len(starts) < min_windows):
        one = _centroids(emb, np.zeros(len(emb), int))
        return Clusters(np.zeros(len(emb), int), one, similarity, False)
    return Clusters(win, cent, similarity, True)


def relabel(emb: np.ndarray, speech: np.ndarray, starts: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The voices of windows in time order by known centroids, Viterbi-smoothed (the newest
    windows of a call heard as it goes, between re-clusterings)."""
    return _viterbi(SHARPNESS * (emb @ centroids.T), _pauses_between(speech, starts + WINDOW_FRAMES // 2))


def frame_labels(starts: np.ndarray, win: np.ndarray, speech: np.ndarray, short: Short | None = None) -> np.ndarray:
    """Each speech frame takes the voice of the window whose centre is nearest (a window
    straddling a change of voice speaks for its middle, not its edges); changes move to pauses;
    a short stretch embedded on its own (`short`, with its voices) takes its own voice."""
    labels = np.full(len(speech), -1, int)
    frames = np.flatnonzero(speech)
    if len(starts) == 0 or len(frames) == 0:
        return labels
    centres = starts + WINDOW_FRAMES // 2
    if len(centres) == 1:
        labels[frames] = win[0]
    else:
        k = np.clip(np.searchsorted(centres, frames), 1, len(centres) - 1)
        nearest = np.where(np.abs(centres[k - 1] - frames) <= np.abs(centres[k] - frames), k - 1, k)
        labels[frames] = win[nearest]
        labels = _snap_to_pauses(labels, speech)
    if short is not None and short.voices is not None:
        for a, b, v in zip(short.a, short.b, short.voices):
            labels[a:b] = np.where(speech[a:b], v, -1)
    return labels


@dataclass
class Short:
    """Short stretches of speech between pauses, each embedded on its own: frames [a, b)."""

    a: np.ndarray
    b: np.ndarray
    emb: np.ndarray  # (stretches, dims) unit vectors
    voices: np.ndarray | None = None  # 0 or 1 each, once placed by segment_voices

    def __len__(self) -> int:
        return len(self.a)


def stretches(speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, end) frames of the stretches of speech between pauses of PAUSE_FRAMES or more
    that are over (a pause that long follows them within `speech`)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    a, b = edges[::2], edges[1::2]
    if len(a) == 0:
        return a, b
    joined = (a[1:] - b[:-1]) < PAUSE_FRAMES  # a pause shorter than that is inside the stretch
    keep = np.concatenate([[True], ~joined])
    a, b = a[keep], np.concatenate([b[:-1][~joined], b[-1:]])
    over = b + PAUSE_FRAMES <= len(speech)
    return a[over], b[over]


def short_stretches(speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stretches that last SHORT_MIN to SHORT_MAX frames: answers, acknowledgements."""
    a, b = stretches(speech)
    pick = (b - a >= SHORT_MIN) & (b - a < SHORT_MAX)
    return a[pick], b[pick]


def segment_voices(emb: np.ndarray, starts: np.ndarray, short: Short, speech: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The voice of each short stretch: its own embedding and the windows' in one Viterbi pass
    in time order, by the voices' centroids. A stretch between pauses is cheap to give to the
    other voice (a change of voice at a pause costs SWITCH_PENALTY * PAUSE_DISCOUNT), so an
    answer between two of the other voice's turns goes to its own voice when it sounds like it."""
    if len(short) == 0:
        return np.zeros(0, int)
    centres = np.concatenate([starts + WINDOW_FRAMES // 2, (short.a + short.b) // 2])
    order = np.argsort(centres, kind="stable")
    scores = SHARPNESS * (np.concatenate([emb, short.emb])[order] @ centroids.T)
    path = np.empty(len(order), int)
    path[order] = _viterbi(scores, _pauses_between(speech, np.clip(centres[order], 0, len(speech))))  # windows may lie outside `speech`
    return path[len(starts):]


def embed_spans(audio: Audio, spans: np.ndarray, embedder: Embedder) -> list[np.ndarray]:
    """Embeddings of spans [first frame, frames] of a call (sorted by first frame), reading it
    block by block: only a block's samples and features are held at a time. Returns one array
    of unit vectors per run of spans of equal length, in order."""
    out: list[np.ndarray] = []
    buf, off, k = np.zeros(0, np.float32), 0, 0  # samples from sample `off` on; next span k

    def need(i: int) -> int:
        return int(spans[i, 0] + spans[i, 1] - 1) * HOP + FEATURE_MARGIN

    for block in chain(blocks(audio), [None]):  # None: the call is over, embed what is left
        if block is not None:
            buf = np.concatenate([buf, block]) if len(buf) else block
        end = off + len(buf)
        j = k
        while j < len(spans) and (block is None or need(j) <= end):
            j += 1
        if j > k:
            f0 = int(spans[k, 0])
            feats = embedder.features(buf[f0 * HOP - off:max(need(i) for i in range(k, j)) - off], f0 * HOP)
            rel = spans[k:j, 0] - f0
            for r in np.split(np.arange(k, j), np.flatnonzero(np.diff(spans[k:j, 1])) + 1):
                out.append(embedder(feats, rel[r - k], int(spans[r[0], 1])))
            del feats
            k = j
        if k < len(spans):
            drop = min(int(spans[k, 0]) * HOP - off, len(buf))  # the next span may start in a later block
            if drop > 0:
                buf, off = buf[drop:], off + drop
        else:
            buf, off = np.zeros(0, np.float32), off + len(buf)
    return out


def diarize(audio: Audio, speech: np.ndarray, embedder: Embedder | None = None,
            speakers: int | None = None) -> Diarization:
    """`audio`: 16 kHz mono, an array or a function giving its blocks; `speech`: a per-10 ms
    speech mask (the VAD's). `speakers`: 1, 2, or None to decide from the voices."""
    embedder = embedder or default_embedder()
    total = num_frames(len(audio)) if isinstance(audio, np.ndarray) else num_frames(len(speech) * HOP)
    n = min(total, len(speech))
    speech = speech[:n].astype(bool)
    labels = np.full(n, -1, np.int8)
    starts = speech_windows(speech)
    if speakers == 1 or len(starts) < 4:
        labels[speech] = 0
        return Diarization(labels, 1, 1.0, np.zeros((1, 192), np.float32))
    sa, sb = short_stretches(speech)
    spans = np.concatenate([np.stack([starts, np.full(len(starts), WINDOW_FRAMES)], 1), np.stack([sa, sb - sa], 1)])
    order = np.lexsort((spans[:, 1], spans[:, 0]))
    got = embed_spans(audio, spans[order], embedder)
    vecs = np.empty((len(spans), got[0].shape[1]), np.float32)
    vecs[order] = np.concatenate(got)
    emb, short = vecs[:len(starts)], Short(sa, sb, vecs[len(starts):])
    c = cluster(emb, starts, speech, speakers)
    if not c.two:
        labels[speech] = 0
        return Diarization(labels, 1, c.similarity, c.centroids[:1])
    short.voices = segment_voices(emb, starts, short, speech, c.centroids)
    return ordered(frame_labels(starts, c.win, speech, short), c.centroids, c.similarity)


def ordered(labels: np.ndarray, cent: np.ndarray, similarity: float) -> Diarization:
    """A two-voice diarization with voice 0 the one heard first."""
    labels = labels.astype(np.int8)  # one byte per 10 ms: an hour is 0.36 MB
    heard = labels[labels >= 0]
    if len(heard) and heard[0] == 1:
        labels = np.where(labels >= 0, 1 - labels, -1).astype(np.int8)
        cent = cent[::-1]
    return Diarization(labels, 2, similarity, np.ascontiguousarray(cent, dtype=np.float32))

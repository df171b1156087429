"""The audio a second-pass decode hears, and which of its words are the turn's own.

A second-pass window is three stretches of one speaker's channel: their earlier speech (heard for
the voice, its words not kept), the gap since their last window (where the live VAD heard no
speech), and the turn. In the gap, faster-whisper's own VAD (Silero with its offline defaults)
picks out speech the live VAD missed — a soft "hi" before an onset, an isolated "checking" — and
only that speech is heard, packed back to back as faster-whisper packs a whole channel: left in
place among seconds of silence, tiny.en heard "Thank you." in the silence and not the word.
Word times are mapped back to the stream.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from coach.core.events import SAMPLE_RATE, Word

SEPARATOR = int(0.2 * SAMPLE_RATE)  # silence between packed pieces of speech


@dataclass(frozen=True)
class Piece:
    """audio[at:at + n] of the packed audio is audio[src:src + n] of the window as cut."""

    at: int
    src: int
    n: int


def pack_gap(audio: np.ndarray, a: int, b: int) -> tuple[np.ndarray, list[Piece]]:
    """`audio` with its stretch [a, b) replaced by the speech faster-whisper's VAD finds there, back
    to back with a short silence between; and where each kept piece came from."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(audio[a:b], VadOptions(min_silence_duration_ms=500, speech_pad_ms=200)) if b > a else []
    parts, pieces, at = [audio[:a]], [Piece(0, 0, a)], a
    for c in found:
        n = c["end"] - c["start"]
        parts += [audio[a + c["start"]:a + c["end"]], np.zeros(SEPARATOR, np.float32)]
        pieces.append(Piece(at, a + c["start"], n))
        at += n + SEPARATOR
    parts.append(audio[b:])
    pieces.append(Piece(at, b, len(audio) - b))
    return np.concatenate(parts), pieces


def _where(t: float, pieces: list[Piece]) -> tuple[int, float]:
    """A packed time (s): the piece it falls in, and its time in the window as cut (s); in a
    separator, the next piece's start."""
    x = t * SAMPLE_RATE
    for k, p in enumerate(pieces):
        if x < p.at + p.n or k == len(pieces) - 1:
            return k, (p.src + min(max(x - p.at, 0.0), p.n)) / SAMPLE_RATE
    return 0, 0.0  # unreachable: the last piece takes the rest


def _source(t: float, pieces: list[Piece]) -> float:
    return _where(t, pieces)[1]


def turn_offset(pieces: list[Piece], start: float) -> float:
    """The offset to decode the packed audio at: the turn's words come out at their stream times
    (`start`: stream time of the window's first sample as cut). With no speech in the gap, the
    packed audio and this offset are the earlier speech and the turn as before the gap was heard."""
    turn = pieces[-1]
    return start + (turn.src - turn.at) / SAMPLE_RATE


def own_words(words: list[Word], pieces: list[Piece], heard: int, start: float) -> list[Word]:
    """The window's own words of a decode of the packed audio at `turn_offset`, at stream times.
    Not those of the earlier speech heard first (its first `heard` samples): a digit string Whisper
    ran on across that boundary ("-7572298" for "757", then "2298") keeps the digits after it."""
    shift = turn_offset(pieces, start)
    turn = heard / SAMPLE_RATE - 0.05
    out = []
    for w in words:
        a, b = w.start - shift, w.end - shift  # in the packed audio
        digits = re.sub(r"\D", "", w.w)
        if digits and a < turn < b:
            n = round(len(digits) * (b - turn) / max(b - a, 1e-3))
            if n > 0:
                out.append(Word(digits[-n:], round(start + _source(turn + 0.05, pieces), 3),
                                round(start + _source(b, pieces), 3), w.p))
            continue
        if (a + b) / 2 < turn:
            continue
        (ka, t0), (kb, t1) = _where(a, pieces), _where(b, pieces)
        if kb > ka:  # no word spans a separator ("6," from 0.6 to 4.6 s): it is in the piece holding more of it
            pa, pb = pieces[ka], pieces[kb]
            if b * SAMPLE_RATE - pb.at >= pa.at + pa.n - a * SAMPLE_RATE:
                t0 = pb.src / SAMPLE_RATE
            else:
                t1 = (pa.src + pa.n) / SAMPLE_RATE
        out.append(dataclasses.replace(w, start=round(start + t0, 3), end=round(start + max(t0, t1), 3)))
    return without_invented_end(out, start + (pieces[-1].src + pieces[-1].n) / SAMPLE_RATE)


INVENTED_P = 0.1  # Whisper's own probability of a word it adds in the silence after the speech ...
INVENTED_TAIL_S = 0.6  # ... that starts this close to the window's end
INVENTED_MAX = 4  # ("Thank you." at p 0.02 after "Forest Ranch."; a real "thank you" came at p 0.99)


def without_invented_end(words: list[Word], end: float) -> list[Word]:
    """A window's words without the phrase Whisper invents after the last one, in the trailing
    silence: a word it doubts (p < 0.1) in the window's last 0.6 s, and the word or two after it."""
    for k in range(max(0, len(words) - INVENTED_MAX), len(words)):
        if words[k].p < INVENTED_P and words[k].start >= end - INVENTED_TAIL_S:
            return words[:k]
    return words

"""Headless output: cues as they fire, a progress line with position and lag."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from coach.core.events import Cue, Flag, Utterance

ICON = {"alert": "!!", "warn": "! ", "info": "i ", "positive": "+ "}


def clock(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m):02d}:{s:04.1f}"


class Console:
    def __init__(self, out: TextIO = sys.stdout, transcript: bool = False) -> None:
        self.out = out
        self.transcript = transcript
        self.tty = out.isatty()
        self._last_progress = 0.0
        self._progress_shown = False

    def _line(self, text: str) -> None:
        if self._progress_shown and self.tty:
            self.out.write("\r\x1b[K")
            self._progress_shown = False
        self.out.write(text + "\n")
        self.out.flush()

    def event(self, e: object) -> None:
        if isinstance(e, Cue):
            self._line(f"[{clock(e.t)}] {ICON[e.severity]} {e.label.upper()}  {e.tip}  ({e.reason}; +{e.latency_s:.1f} s)")
        elif isinstance(e, Utterance) and self.transcript:
            self._line(f"[{clock(e.start)}] {e.speaker:>8}: {e.text}")
        elif isinstance(e, Flag):
            self._line(f"          flagged {clock(e.start)}-{clock(e.end)} for review ({e.reason.replace('_', ' ')})")

    def notice(self, text: str) -> None:
        self._line(f"  * {text}")

    def progress(self, position: float, duration: float | None, lag: float, every: float = 10.0, dropped: float = 0.0,
                 partials_skipped: int = 0) -> None:
        """On a terminal: one line rewritten in place; in a log: a line every `every` seconds."""
        total = f" / {clock(duration)}" if duration else ""
        text = f"position {clock(position)}{total}  lag {lag:.1f} s" + (f"  dropped {dropped:.1f} s (behind)" if dropped else "")
        if partials_skipped:  # under load, early words are the first thing given up
            text += f"  early-word decodes skipped {partials_skipped}"
        if self.tty:
            self.out.write("\r\x1b[K" + text)
            self.out.flush()
            self._progress_shown = True
        elif time.monotonic() - self._last_progress >= every:
            self._last_progress = time.monotonic()
            self._line(text)

"""What the overlay shows, kept current by the pipeline and read by the GUI on a timer.

Qt-free and thread-safe: the pipeline's worker thread and the source thread write, the
GUI thread takes a snapshot 30 times a second and never waits on audio or the model.

The customer mood meter reads the escalation score's scale, on the cue's own evidence: the
words' verdict on the customer's latest utterance, and the voice meter's reading
(coach/analysis/voice.py), which gives none on less speech than the voice rule judges and
reads the cue's threshold exactly when the voice rule would fire. A voice reading short of
an alarm counts while the customer is talking and for `voice_hold_s` after; an alarm holds
until their voice is next read (docs/cues.md: Voice escalation).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from coach.analysis.catalog import CATALOG
from coach.core.events import Cue, Flag, Meters, Partial, Revision, Utterance, VoiceLevel
from coach.privacy.redact import is_number_word

ALERT = 0.6  # customer_escalating's score_threshold: the overlay reads "upset" from here (ui/overlay.py)


@dataclass
class Snapshot:
    phase: str = "loading"  # loading | listening | paused | stopped
    position: float = 0.0  # stream time now
    cue: Cue | None = None
    cue_at: float = 0.0  # stream time the cue appeared
    agent_wpm: float | None = None
    wpm_limit: float = 230.0
    escalation: float | None = None  # the customer's latest escalation score, 0 calm .. 1+ escalating
    escalation_trend: int = 0  # -1 calming, 0 steady, +1 rising
    agent_share: float | None = None
    health: str = "ok"  # ok | behind | lost | loading | error
    health_text: str = "loading the speech model"
    transcript: list[tuple[str, str]] = field(default_factory=list)
    flags: int = 0
    team: str = ""  # the team server link's trouble, if any ("team: offline, 3 queued")


class LiveState:
    def __init__(self, wpm_limit: float = 230.0, lines: int = 6, visible_s: float = 6.0,
                 clock: Callable[[], float] = time.monotonic, voice_hold_s: float = 5.0) -> None:
        # "is a cue still on screen" is asked on the overlay's clock (wall time) with its
        # visible_s, so the two agree at any demo speed
        self.visible_s, self.clock = visible_s, clock
        self._cue_wall = float("-inf")
        self._lock = threading.Lock()
        self._s = Snapshot(wpm_limit=wpm_limit)
        self._lines: deque[tuple[str, str]] = deque(maxlen=lines)
        self._said = 0  # utterances shown so far: line k of the call is the conversation's k-th utterance
        self._open: dict[str, str] = {}  # words of speech still going on, per speaker (partial decodes)
        self._words_score: float | None = None  # the customer's latest utterance, words and all
        self._voice_score = 0.0  # the customer's voice over the last seconds, mid-turn
        # longer than a pause within the customer's turn (a 3 s gap ends it, analysis/rules.py): a
        # hint from the voice must not sit on the meter through a minute of the agent talking
        self.voice_hold_s = voice_hold_s
        self._voice_t: float | None = None  # stream time of the latest voice reading
        self._now = 0.0  # stream time: the latest position or event heard

    def snapshot(self) -> Snapshot:
        with self._lock:
            snap = copy.copy(self._s)
            snap.transcript = (list(self._lines) + [(sp, text + " …") for sp, text in self._open.items()])[-self._lines.maxlen:]
            return snap

    def set(self, **values: object) -> None:
        with self._lock:
            for k, v in values.items():
                setattr(self._s, k, v)
            pos = values.get("position")
            if isinstance(pos, (int, float)):
                self._advance(pos)

    def _advance(self, now: float) -> None:
        """Stream time moves on (the source's position, an utterance's end)."""
        counted = self._voice_counts()
        self._now = max(self._now, now)
        if counted and not self._voice_counts():
            self._mood()  # the voice's hint has lapsed: the words' verdict alone

    def on_cue(self, cue: Cue) -> None:
        """One cue on screen at a time: a new one replaces the current unless that one is more urgent."""
        with self._lock:
            cur = self._s.cue
            visible = cur is not None and self.clock() - self._cue_wall < self.visible_s
            if visible and CATALOG[cur.id].priority < CATALOG[cue.id].priority:
                return
            self._s.cue, self._s.cue_at, self._cue_wall = cue, cue.t, self.clock()

    def cue_showing(self) -> Cue | None:
        """The cue on the overlay now, if any."""
        with self._lock:
            cur = self._s.cue
            return cur if cur is not None and self.clock() - self._cue_wall < self.visible_s else None

    def on_partial(self, p: Partial) -> None:
        """Committed words of speech still going on. Not yet redacted (that needs the whole
        utterance in order), so every digit and number word is hidden on screen."""
        with self._lock:
            self._open[p.speaker] = " ".join("•" if is_number_word(w.w) else w.w for w in p.words)

    def on_utterance(self, u: Utterance, escalation: float | None = None, agent_wpm: float | None = None,
                     agent_share: float | None = None) -> None:
        with self._lock:
            self._open.pop(u.speaker, None)
            self._lines.append((u.speaker, u.text))
            self._said += 1
            self._advance(u.end)
        self.on_meters(Meters(escalation, agent_wpm, agent_share))

    def on_revision(self, r: Revision) -> None:
        """An utterance's second-pass text replaces its line where it is shown (if still on screen)."""
        with self._lock:
            k = r.index - (self._said - len(self._lines))
            if 0 <= k < len(self._lines):
                self._lines[k] = (r.utterance.speaker, r.utterance.text)

    def on_meters(self, m: Meters) -> None:
        with self._lock:
            if m.escalation is not None:
                self._words_score = m.escalation
                self._mood()
            if m.agent_wpm is not None:
                self._s.agent_wpm = m.agent_wpm
            if m.agent_share is not None:
                self._s.agent_share = m.agent_share

    def on_voice(self, v: VoiceLevel) -> None:
        """The meter moves with the customer's voice while they are still talking."""
        with self._lock:
            self._voice_score, self._voice_t = v.level, v.t
            self._now = max(self._now, v.t)
            self._mood()

    def _voice_counts(self) -> bool:
        if self._voice_t is None:
            return False
        return self._voice_score >= ALERT or self._now - self._voice_t <= self.voice_hold_s

    def _mood(self) -> None:
        """The meter shows the stronger of the words' latest verdict and the voice's."""
        if self._words_score is None and self._voice_t is None:
            return  # nothing heard of the customer yet: the meter shows no verdict
        score = max(self._words_score or 0.0, self._voice_score if self._voice_counts() else 0.0)
        prev = self._s.escalation or 0.0
        self._s.escalation_trend = 1 if score > prev + 0.1 else -1 if score < prev - 0.1 else 0
        self._s.escalation = score

    def on_flag(self, flag: Flag) -> None:
        with self._lock:
            self._s.flags += 1


"""What a cue plug-in is: its spec, its settings and the events it listens to.

A cue is one module in this package (docs/adding-a-cue.md). It subclasses `CueRule`, sets `spec`
(id, label, skill, tip, severity, priority) and `settings` (a dataclass of `opt()` fields with at
least `enabled` and `cooldown_s`), and overrides the hooks for the events it listens to; each hook
returns the cue proposals it makes. The shared state of the call (`CallState`: who is upset, the
escalation, the pace, the reply being judged) is kept by the dispatcher (rules.py), not by cues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from coach.core.events import Severity, Speaker, Utterance, Word

if TYPE_CHECKING:
    from coach.analysis.cues.state import CallState, Heard, Reply
    from coach.analysis.turns import Interruption, TurnTracker
    from coach.analysis.voice import VoiceReading

# The one place severity colours are defined: the overlay, the replay, its exports and the web
# dashboard all read them from here (an icon and a word carry the meaning for colour-blind users).
SEVERITY_COLOURS: dict[str, str] = {"alert": "#d64541", "warn": "#e8a33d", "info": "#3d8fe8", "positive": "#3dae5c"}
SEVERITY_ICONS: dict[str, tuple[str, str]] = {"alert": ("⚠", "alert"), "warn": ("!", "heads-up"), "info": ("i", "tip"),
                                              "positive": ("✓", "good")}

# the hooks a cue may override, in the order the dispatcher documents them
HOOKS = ("decoded", "said", "replied", "words", "frame", "interruption", "voice")


@dataclass
class Proposal:
    """A cue a rule would show; the cue engine (engine.py) decides whether it is."""

    id: str
    speaker: Speaker
    reason: str
    evidence_end: float  # stream time at which the triggering evidence ended
    # how far the evidence can be trusted, 0..1: how sure the recognizer was of the words, how exactly
    # they matched, how many independent signals agree (see combine()); warnings and tips below
    # cues.min_confidence are not shown
    confidence: float = 1.0


@dataclass(frozen=True)
class CueSpec:
    id: str
    label: str  # what the overlay shows: two or three words
    skill: str  # the conflict-resolution skill it teaches
    tip: str  # one line under the label
    severity: Severity
    priority: int  # lower = more urgent; decides which cue shows when two compete

    @property
    def colour(self) -> str:
        return SEVERITY_COLOURS[self.severity]


REGISTRY: dict[str, type[CueRule]] = {}  # every cue class defined, by id (filled as modules are imported)


class CueRule:
    """One cue. Hooks return proposals; the cue engine decides what is shown (cooldowns, gap)."""

    spec: ClassVar[CueSpec]
    settings: ClassVar[type]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        other = REGISTRY.get(cls.spec.id)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"two cues have the id {cls.spec.id!r}: {other.__module__} and {cls.__module__}")
        REGISTRY[cls.spec.id] = cls

    def __init__(self, state: CallState) -> None:
        self.state = state

    @property
    def cfg(self):  # noqa: ANN201 - this cue's own settings dataclass, current (the dialog may change it)
        return getattr(self.state.cues, self.spec.id)

    @classmethod
    def listens(cls) -> tuple[str, ...]:
        """The events this cue listens to: the hooks it overrides."""
        return tuple(h for h in HOOKS if getattr(cls, h) is not getattr(CueRule, h))

    # -- hooks: override those the cue needs ------------------------------------------------------

    def decoded(self, h: Heard) -> list[Proposal]:
        """An utterance's final text, in its own speaker's order (at once; not waiting for the other)."""
        return []

    def said(self, u: Utterance) -> list[Proposal]:
        """An utterance reached in the conversation's time order (both speakers interleaved)."""
        return []

    def replied(self, r: Reply) -> list[Proposal]:
        """The agent's reply to the customer's last turn has enough words to judge."""
        return []

    def words(self, speaker: Speaker, start: float, words: list[Word]) -> list[Proposal]:
        """Committed words of speech still going on (partial decodes)."""
        return []

    def frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        """Every VAD frame (32 ms): silences, monologues, talk share."""
        return []

    def interruption(self, e: Interruption) -> list[Proposal]:
        return []

    def voice(self, r: VoiceReading) -> list[Proposal]:
        """A second of the customer's voice against their own baseline."""
        return []


def quote(phrases: list[str]) -> str:
    return ", ".join(f"'{p}'" for p in phrases)

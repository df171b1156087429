"""Who is who, learnt during live calls: the agent's voiceprint (opt-in) and a live mono line's roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.core.events import AudioChunk, Utterance
from coach.session.coaching import Coaching, Ending, PausedSpans, Subscriber
from coach.voices import voiceprint
from coach.voices.mono_calls import OpeningWords

if TYPE_CHECKING:
    from coach.core.pipeline import Event


class Enrolment(Subscriber):
    """The agent's voiceprint learns from their own microphone in live calls, only if they opted in
    (not from a mono device: its agent channel is the voices' split, a guess), never while recording
    is paused, and is saved only after a call whose analysis went well."""

    def __init__(self, paused: PausedSpans) -> None:
        self.paused = paused
        self.enroller = voiceprint.Enroller()
        self.c: Coaching | None = None

    def on_load(self, c: Coaching) -> None:
        self.c = c

    def on_chunk(self, chunk: AudioChunk, analysed: bool) -> None:
        if analysed and not self.paused.active:
            self.enroller.feed(chunk.channels["agent"])

    def on_end(self, end: Ending) -> None:
        if not end.ok or self.c is None:
            return
        learnt = self.enroller.finish(self.c.data)
        if learnt:
            self.c.console.notice(f"voiceprint: learnt from {learnt:.0f} s of your speech (settings: Voiceprint)")


class LiveRoles(Subscriber):
    """A live mono line split as it speaks: its first words say which voice is the agent."""

    def __init__(self, split: object) -> None:
        self.split = split
        self.opening = OpeningWords(split)  # type: ignore[arg-type]

    def on_event(self, e: Event) -> None:
        if isinstance(e, Utterance):
            self.opening.heard(e.speaker, e.text, self.split.now())  # type: ignore[attr-defined]

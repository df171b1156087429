"""The overlay feed: pipeline events into the overlay's state, and the health line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.config.settings import Settings
from coach.core.events import Cue, Flag, Meters, Partial, Revision, Utterance, VoiceLevel
from coach.session.coaching import Coaching, Ending, Subscriber
from coach.session.live_state import LiveState

if TYPE_CHECKING:
    from coach.core.pipeline import Event


class OverlayFeed(Subscriber):
    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.c: Coaching | None = None

    def on_load(self, c: Coaching) -> None:
        self.c = c

    def on_start(self) -> None:
        self.state.set(phase="listening", health="ok", health_text="audio OK")

    def on_event(self, e: Event) -> None:
        if isinstance(e, Cue):
            self.state.on_cue(e)
        elif isinstance(e, Utterance):
            self.state.on_utterance(e)
        elif isinstance(e, Revision):
            self.state.on_revision(e)
        elif isinstance(e, Meters):
            self.state.on_meters(e)
        elif isinstance(e, Flag):
            self.state.on_flag(e)
        elif isinstance(e, Partial):
            self.state.on_partial(e)
        elif isinstance(e, VoiceLevel):
            self.state.on_voice(e)

    def on_progress(self, position: float, lag: float) -> None:
        c = self.c
        assert c is not None
        lost = c.src.health().lost
        if lost:
            self.state.set(position=position, health="lost", health_text=f"{' and '.join(lost)} device lost")
        elif lag > 2.0 or (c.runner is not None and c.runner.dropped_chunks):
            self.state.set(position=position, health="behind", health_text=f"analysis {lag:.1f} s behind")
        else:
            self.state.set(position=position, health="ok", health_text="audio OK")

    def on_error(self, message: str) -> None:
        self.state.set(health="error", health_text=f"error: {message}"[:80])

    def on_settings(self, new: Settings) -> None:
        self.state.set(wpm_limit=new.cues.slow_down.max_wpm)
        self.state.visible_s = new.cues.visible_s

    def on_end(self, end: Ending) -> None:
        self.state.set(phase="stopped")

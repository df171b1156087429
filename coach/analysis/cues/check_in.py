"""check_in (tip): dead air, nobody speaking for longer than the limit, with no hold announced."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import CallState
from coach.analysis.turns import TurnTracker
from coach.config.fields import opt


@dataclass
class CheckInSettings:
    enabled: bool = opt(True, "info: dead air with no hold announced (docs/cues.md)")
    cooldown_s: float = opt(30.0, "per-cue cooldown (docs/cues.md)")
    dead_air_s: float = opt(8.0, "vendors use 3 s (Amazon), 5 s (Google), 10 s; docs/cues.md: ~8 s")
    hold_dead_air_s: float = opt(12.0, "after 'one moment' / 'let me check': it buys some time, not silence forever (docs/cues.md)")


class CheckIn(CueRule):
    spec = CueSpec("check_in", "check in", "communicating clearly", "Tell them what you're doing: 'Still checking, one moment'",
                   "info", 7)
    settings = CheckInSettings

    def __init__(self, state: CallState) -> None:
        super().__init__(state)
        self._reported = False  # this silence has had its cue

    def frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        silence = turns.silence_s()
        if silence == 0.0:
            self._reported = False
            return []
        if self._reported:
            return []
        hold_at = self.state.hold_at
        held = hold_at is not None and now - silence <= hold_at + 1.0
        if silence < (self.cfg.hold_dead_air_s if held else self.cfg.dead_air_s):
            return []
        self._reported = True
        why = f"no one has spoken for {silence:.0f} s" + (" since the hold was announced" if held else "")
        return [Proposal(self.spec.id, "agent", why, now)]

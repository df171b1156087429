"""check_in (tip): dead air, nobody speaking for longer than the limit, with no hold announced.

One cue per silence. Right after a cued silence, a second one is cued only once it has outlasted
the first: a borderline silence the agent broke just after the cue must not hide a longer one that
follows (issue #31: on a real call a 9.4 s unannounced lookup was swallowed by the cooldown after a 7.8 s one),
while a repeat shorter than a silence already cued is a nag. After the goodbye, silence is the
call ending, not dead air."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import CallState
from coach.analysis.turns import TurnTracker
from coach.config.fields import opt


@dataclass
class CheckInSettings:
    enabled: bool = opt(True, "info: dead air with no hold announced (docs/cues.md)")
    cooldown_s: float = opt(10.0, "per-cue cooldown; repeats are held back by repeat_s instead, which looks at how long each "
                                  "silence was (a 30 s cooldown swallowed a longer silence after a borderline one, judged calls)")
    dead_air_s: float = opt(8.0, "vendors use 3 s (Amazon), 5 s (Google), 10 s; docs/cues.md: ~8 s")
    hold_dead_air_s: float = opt(12.0, "after 'one moment' / 'let me check': it buys some time, not silence forever (docs/cues.md)")
    repeat_s: float = opt(30.0, "a silence starting within this span after a cued one is cued only once it outlasts that one "
                                "(the span the former 30 s cooldown held back)")


class CheckIn(CueRule):
    spec = CueSpec("check_in", "check in", "communicating clearly", "Tell them what you're doing: 'Still checking, one moment'",
                   "info", 7)
    settings = CheckInSettings

    def __init__(self, state: CallState) -> None:
        super().__init__(state)
        self._reported = False  # this silence has had its cue
        self._cued_s = 0.0  # how long the last cued silence lasted
        self._cued_end: float | None = None  # when it ended

    def frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        silence = turns.silence_s()
        if silence == 0.0:
            if self._reported:
                self._cued_end = now
            self._reported = False
            return []
        if self._reported:
            self._cued_s = max(self._cued_s, silence)
            return []
        began = now - silence
        if self.state.context.said_goodbye(began):
            return []
        hold_at = self.state.hold_at
        held = hold_at is not None and began <= hold_at + 1.0
        limit = self.cfg.hold_dead_air_s if held else self.cfg.dead_air_s
        after = self._cued_end is not None and began - self._cued_end < self.cfg.repeat_s
        if silence < limit or (after and silence <= self._cued_s):
            return []
        why = f"no one has spoken for {silence:.0f} s" + (" since the hold was announced" if held else "")
        if after:
            why = f"no one has spoken for {silence:.0f} s: this silence has outlasted the one cued before ({self._cued_s:.1f} s)"
        self._reported, self._cued_s = True, silence
        return [Proposal(self.spec.id, "agent", why, now)]

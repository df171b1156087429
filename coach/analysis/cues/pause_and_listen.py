"""pause_and_listen (tip): the agent talked past the monologue limit, or did most of the talking lately."""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import CallState
from coach.analysis.turns import TurnTracker
from coach.config.fields import opt


@dataclass
class PauseListenSettings:
    enabled: bool = opt(True, "info: the agent talked too long or too much (docs/cues.md)")
    cooldown_s: float = opt(120.0, "per-cue cooldown: a long-running signal, so a long cooldown")
    monologue_s: float = opt(45.0, "continuous agent talk past this is a monologue (docs/cues.md)")
    talk_share: float = opt(0.7, "agents above ~65 % talk share do worse (Gong, docs/facts.md); docs/cues.md ~70 %", hi=1)
    share_window_s: float = opt(120.0, "talk share over the last two minutes (docs/cues.md)")
    min_talk_s: float = opt(40.0, "judge the share once this much speech is in the window")


class PauseAndListen(CueRule):
    spec = CueSpec("pause_and_listen", "pause — ask a question", "active listening; identifying underlying concerns",
                   "Pause and ask an open question", "info", 8)
    settings = PauseListenSettings

    def __init__(self, state: CallState) -> None:
        super().__init__(state)
        self._monologue_reported = False
        self._share_reported = False

    def frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        out: list[Proposal] = []
        pl = self.cfg
        mono = turns.monologue_s("agent")
        if mono == 0.0:
            self._monologue_reported = False
        elif mono >= pl.monologue_s and not self._monologue_reported:
            self._monologue_reported = True
            out.append(Proposal(self.spec.id, "agent", f"you have talked for {mono:.0f} s without a break", now))
        if turns.window_full() and turns.frames % 32 == 0:  # talk share moves slowly: check once a second
            share, talk = turns.share("agent")
            high = share is not None and talk >= pl.min_talk_s and share > pl.talk_share
            if not high:
                self._share_reported = False
            elif not self._share_reported:
                self._share_reported = True
                out.append(Proposal(self.spec.id, "agent",
                                    f"you did {share:.0%} of the talking in the last {pl.share_window_s / 60:.0f} min", now))
        return out

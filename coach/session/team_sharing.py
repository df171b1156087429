"""Team sharing (opt-in): the live floor's view of this call while it runs (no words, no audio), and
after the call its summary and flagged segments through the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.core.events import Cue, Flag
from coach.session.coaching import Coaching, Ending, Subscriber
from coach.session.live_state import LiveState

if TYPE_CHECKING:
    from coach.core.pipeline import Event
    from coach.team.link import TeamLink


class TeamSharing(Subscriber):
    def __init__(self, team: TeamLink, state: LiveState | None) -> None:
        self.team, self.state = team, state
        self.c: Coaching | None = None
        team.on_status = self._status

    def on_load(self, c: Coaching) -> None:
        self.c = c

    def _status(self, text: str) -> None:
        if self.state is not None:
            self.state.set(team=text)

    def on_start(self) -> None:
        self.team.start(self.live_summary if self.state is not None else None)

    def on_event(self, e: Event) -> None:
        if isinstance(e, (Cue, Flag)):
            self.team.nudge()

    def live_summary(self) -> dict[str, Any]:
        """What the team server's live floor shows of this call: no words, no audio."""
        assert self.state is not None and self.c is not None
        snap = self.state.snapshot()
        cue = self.state.cue_showing()
        return {"on_call": snap.phase in ("listening", "paused"), "call_id": self.c.call_id, "duration_s": round(snap.position, 1),
                "mood": None if snap.escalation is None else round(min(snap.escalation, 10.0), 3), "trend": snap.escalation_trend,
                "cue": cue.id if cue else None, "cue_severity": cue.severity if cue else None, "flags": snap.flags}

    def on_end(self, end: Ending) -> None:
        """After the call: its summary and flagged segments go to the outbox, then to the server."""
        assert self.c is not None
        try:
            if end.doc is not None and end.ok:
                n = self.team.after_call(end.doc, self.c.call_id)
                if n:
                    whole = " and the whole call (your team's policy)" if self.team.share_whole_calls else ""
                    self.c.console.notice(f"team: sharing this call's summary, {len(end.doc['flags'])} flagged segment(s){whole}")
        finally:
            self.team.stop()
            left = self.team.outbox.count()
            if left:
                self.c.console.notice(f"team: {left} upload(s) queued; they go at the next start")
            parked = self.team.outbox.refused_count()
            if parked:  # set aside so they block nothing: someone should look (`coach team status`)
                self.c.console.notice(f"team: {parked} upload(s) refused by the server, set aside in {self.team.outbox.refused}")

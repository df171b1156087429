"""Which subscribers a coaching session has: the one place that decides it from what the session is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coach.app.console import Console
from coach.audio.source import AudioSource
from coach.config.settings import Settings
from coach.core.events import Speaker
from coach.session.coaching import Coaching, PausedSpans, Subscriber
from coach.session.live_state import LiveState

if TYPE_CHECKING:
    from coach.config.settings_store import SettingsStore
    from coach.team.link import TeamLink


def coaching_session(s: Settings, data: Path, src: AudioSource, speakers: list[Speaker], console: Console,
                     state: LiveState | None = None, record: bool = False, live: bool = False, store: bool = False,
                     settings: SettingsStore | None = None, team: TeamLink | None = None) -> Coaching:
    """A coached call. `state`: the overlay's (None headless); `record`: audio and session file as it
    goes; `store`: the finished session joins the store; `team`: the team server link (opt-in)."""
    paused = PausedSpans()
    subs: list[Subscriber] = []
    if team is not None and state is None and s.team.share_live:  # headless, the live push still needs the overlay's view
        state = LiveState(s.cues.slow_down.max_wpm, visible_s=s.cues.visible_s)
    if record:
        from coach.session.recording import Recording

        subs.append(Recording(paused))
    if store:
        from coach.session.store_entry import StoreEntry

        subs.append(StoreEntry(paused))
    split = getattr(src, "split", None)
    if live and s.voiceprint.enroll and "agent" in speakers and split is None:
        from coach.session.enrolment import Enrolment

        subs.append(Enrolment(paused))
    if live and hasattr(split, "push"):  # a live split
        from coach.session.enrolment import LiveRoles

        subs.append(LiveRoles(split))
    if state is not None:
        from coach.session.overlay_feed import OverlayFeed

        subs.append(OverlayFeed(state))
    if team is not None:
        from coach.session.team_sharing import TeamSharing

        subs.append(TeamSharing(team, state))
    c = Coaching(s, data, src, speakers, console, subs, live=live, settings=settings, paused=paused)
    c.state = state
    return c

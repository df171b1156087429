"""The cue catalog (CUES.md): stable ids, overlay labels, skills, tips, severity, priority."""

from __future__ import annotations

from dataclasses import dataclass

from coach.core.events import Severity


@dataclass(frozen=True)
class CueSpec:
    id: str
    label: str
    skill: str
    tip: str
    severity: Severity
    priority: int  # lower = more urgent; decides which cue shows when two compete


CATALOG: dict[str, CueSpec] = {
    c.id: c
    for c in [
        CueSpec("customer_escalating", "customer escalating", "de-escalation; recognising strong emotions",
                "Acknowledge, lower your pace, offer a next step", "alert", 0),
        CueSpec("let_them_finish", "let them finish", "active listening",
                "Stop, let the customer finish, then respond", "warn", 1),
        CueSpec("soften_wording", "soften wording", "assertive, not aggressive",
                "Say what you can do: 'What I can do is…'", "warn", 2),
        CueSpec("acknowledge_feelings", "acknowledge feelings", "empathy",
                "Try: 'I can hear how frustrating this is'", "warn", 3),
        CueSpec("slow_down", "slow down", "remaining calm and composed; communicating clearly",
                "Slow down, pause between steps", "warn", 4),
        CueSpec("reflect_back", "reflect back", "active listening",
                "Try: 'So what I'm hearing is…'", "info", 5),
        CueSpec("offer_options", "offer options", "finding common ground; mutually beneficial agreement",
                "Ask what matters most, then offer two options", "info", 6),
        CueSpec("check_in", "check in", "communicating clearly",
                "Tell them what you're doing: 'Still checking, one moment'", "info", 7),
        CueSpec("pause_and_listen", "pause — ask a question", "active listening; identifying underlying concerns",
                "Pause and ask an open question", "info", 8),
        CueSpec("confirm_resolution", "summarise next steps", "communicating resolutions; follow-up",
                "Before closing: 'To confirm, next you will…'", "info", 9),
        CueSpec("customer_calming", "customer calming", "positive reinforcement",
                "It's working: keep this tone", "positive", 10),
    ]
}

"""The call as the cues see it: signals computed once per event and shared by every cue.

Kept by the dispatcher (rules.py), read by the cue plug-ins. Some cues write back what they
decided (customer_calming ends the escalation episode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from coach.analysis.acoustics import Baseline, semitones
from coach.analysis.agent_acts import AgentActs
from coach.analysis.call_context import CallContext
from coach.analysis.emotion import Emotion, emotion_in
from coach.analysis.escalation import Arousal, Assessment
from coach.analysis.pace import PaceTracker
from coach.analysis.sentiment import sentiment
from coach.core.events import SPEAKERS, Utterance

if TYPE_CHECKING:
    from coach.analysis.meaning import Meaning
    from coach.config.settings import CueSettings, PhraseSettings


@dataclass
class Heard:
    """One decoded utterance and what the shared signals made of it."""

    u: Utterance
    toks: list[str]
    # the customer's utterances only
    arousal: Arousal = field(default_factory=Arousal)
    mood: float = 0.0  # sentiment of the customer's turn so far (not of this VAD fragment)
    escalation: Assessment | None = None
    feeling: Emotion | None = None  # the negative emotion voiced, on what evidence (coach/analysis/emotion.py)
    emotion: list[str] = field(default_factory=list)  # the emotion words that count
    repeated: str | None = None  # a repeated demand or rejection, as a reason


@dataclass
class Reply:
    """A customer turn (one or more utterances) and the agent's reply to it, judged once the reply
    has enough words. What it asks of the intent model is computed when a cue first asks."""

    customer: list[Utterance]
    reply: list[Utterance]
    state: CallState

    @cached_property
    def said(self) -> str:
        return " ".join(c.text for c in self.customer)

    @cached_property
    def text(self) -> str:
        return " ".join(r.text for r in self.reply)

    @cached_property
    def lowest_sentiment(self) -> float:
        return min(c.sentiment if c.sentiment is not None else sentiment(c.text) for c in self.customer)

    @cached_property
    def feeling(self) -> Emotion:
        """The emotion the customer's turn voiced: a word heard surely, or one backed by a negative
        sentiment; or a sentiment clearly negative alone (coach/analysis/emotion.py)."""
        ack = self.state.cues.acknowledge_feelings
        words = [w for c in self.customer for w in c.words]
        return emotion_in(words, self.state.phrases.emotion, self.lowest_sentiment, ack.negative_sentiment, ack.emotion_p)

    @property
    def emotion(self) -> list[str]:
        return self.feeling.phrases

    @property
    def emotional(self) -> bool:
        return self.feeling.voiced

    @cached_property
    def reply_clarity(self) -> float:
        """How sure the recognizer was of the reply's words: an acknowledgement misheard is a miss of ours."""
        ps = [w.p for r in self.reply for w in r.words]
        return round(sum(ps) / len(ps), 2) if ps else 0.0

    @cached_property
    def acknowledged(self) -> str | None:
        return self.state.acts.acknowledgement(self.text)

    @cached_property
    def reflected(self) -> str | None:
        return self.state.acts.reflection(self.said, self.text)


class CallState:
    """Shared, per call: baselines, the escalation episode, who is upset, holds and summaries."""

    def __init__(self, cues: CueSettings, phrases: PhraseSettings, meaning: Meaning | None = None) -> None:
        self.acts = AgentActs(cues, phrases, meaning)
        self.context = CallContext(phrases)  # the call's phase, and whether it has a problem to resolve (rules.py feeds it)
        self.apply(cues, phrases)
        self.pace = {s: PaceTracker() for s in SPEAKERS}
        self.loudness = {s: Baseline() for s in SPEAKERS}
        self.pitch = {s: Baseline() for s in SPEAKERS}
        self.rate = {s: Baseline() for s in SPEAKERS}
        self.sentiments: dict[str, list[float]] = {s: [] for s in SPEAKERS}
        self.escalated_at: float | None = None  # the open escalation episode, if any
        self.turns_since_escalation = 0
        self.last_escalation_score = 0.0
        self.customer_upset = False  # as of the latest customer utterance in time order
        self.summaries: list[float] = []  # times the agent summarised
        self.hold_at: float | None = None  # end of the agent utterance that announced a hold

    def apply(self, cues: CueSettings, phrases: PhraseSettings) -> None:
        """New settings (the dialog): every cue reads them through here from its next event."""
        self.cues, self.phrases = cues, phrases
        self.acts.s, self.acts.ph = cues, phrases
        self.context.phrases = phrases

    def escalate(self, t: float) -> None:
        self.escalated_at, self.turns_since_escalation = t, 0

    def arousal(self, u: Utterance) -> Arousal:
        """The utterance's voice against the speaker's own baseline so far."""
        loud, pitch, rate = (b[u.speaker].value() for b in (self.loudness, self.pitch, self.rate))
        return Arousal(
            loud_db=None if loud is None or u.loudness_db is None else u.loudness_db - loud,
            pitch_st=semitones(u.pitch_hz, pitch) if pitch and u.pitch_hz else None,
            rate_ratio=u.wpm / rate if rate and u.wpm and len(u.words) >= 4 else None,
        )

    def learn(self, u: Utterance) -> None:
        """After the cues have judged it, the utterance joins its speaker's baselines."""
        self.pace[u.speaker].hear(u)  # words as spoken over voiced time (coach/analysis/pace.py)
        if u.loudness_db is not None:
            self.loudness[u.speaker].add(u.loudness_db)
        if u.pitch_hz:
            self.pitch[u.speaker].add(u.pitch_hz)
        if u.wpm and len(u.words) >= 4:
            self.rate[u.speaker].add(u.wpm)
        if u.sentiment is not None:
            self.sentiments[u.speaker].append(u.sentiment)

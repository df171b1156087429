"""The cue dispatcher: events in, cue proposals out, through the registered cue plug-ins.

Pure logic over events: no audio, no I/O, no Qt. The CueEngine decides what is shown.
Each cue is one module under coach/analysis/cues/ and overrides the hooks of the events it
listens to; this module keeps the signals several cues share (CallState: the escalation
episode, whether the customer is upset, holds, summaries, baselines) and asks the cues,
most urgent first.

Word events come in two kinds. An utterance's own words (an escalation phrase, harsh
wording, pace, a closing) are judged the moment its text arrives (`decoded`): each
speaker's utterances are decoded in their own order, and waiting for the other speaker
would only delay the cue. The exchange between the two ("did the agent's reply
acknowledge what the customer said", harsh words *while the customer is upset*) is judged
on the conversation in time order (`said`, `replied`; coach/core/conversation.py), since
the recognizer may finish a later customer turn before the agent's earlier reply. Timing
events come every VAD frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.analysis.cues import all_cues
from coach.analysis.cues.base import HOOKS, CueRule, Proposal
from coach.analysis.cues.state import CallState, Heard, Reply
from coach.analysis.demands import Demands
from coach.analysis.emotion import emotion_in
from coach.analysis.escalation import PHRASE_CAP, assess, phrase_hits
from coach.analysis.floor import LONG_GAP_S, is_backchannel, listening_words
from coach.analysis.pace import PaceTracker
from coach.analysis.phrases import find, tokens
from coach.analysis.sentiment import sentiment
from coach.core.events import Speaker, Utterance, Word

if TYPE_CHECKING:
    from coach.analysis.meaning import Meaning
    from coach.analysis.turns import Interruption, TurnTracker
    from coach.analysis.voice import VoiceReading
    from coach.config.settings import CueSettings, PhraseSettings


class Rules:
    def __init__(self, settings: CueSettings, phrases: PhraseSettings, meaning: Meaning | None = None,
                 cues: list[type[CueRule]] | None = None) -> None:
        self.state = CallState(settings, phrases, meaning)
        self.cues = [c(self.state) for c in (cues if cues is not None else all_cues())]
        self._listeners = {h: [c for c in self.cues if h in c.listens()] for h in HOOKS}
        self._demands = Demands()
        self._customer: list[Utterance] = []  # the customer's turn awaiting the agent's reply
        self._reply: list[Utterance] = []  # the agent's reply so far
        self._upset: dict[tuple[str, float], bool] = {}  # decoded, not yet reached in time order
        self._early: set[tuple[str, float]] = set()  # (cue, utterance start) proposed from partial words
        self._turn: list[Utterance] = []  # the customer's turn so far, as their own channel shows it
        self._agent_spans: list[tuple[float, float]] = []  # the agent's decoded utterances that took the floor
        self._listening = listening_words(phrases.backchannel)

    # settings: the pipeline swaps them when the dialog changes one
    @property
    def s(self) -> CueSettings:
        return self.state.cues

    @s.setter
    def s(self, cues: CueSettings) -> None:
        self.state.apply(cues, self.state.phrases)

    @property
    def ph(self) -> PhraseSettings:
        return self.state.phrases

    @ph.setter
    def ph(self, phrases: PhraseSettings) -> None:
        self.state.apply(self.state.cues, phrases)

    @property
    def pace(self) -> dict[str, PaceTracker]:
        return self.state.pace

    @property
    def last_escalation_score(self) -> float:
        return self.state.last_escalation_score

    def _ask(self, hook: str, *args: object) -> list[Proposal]:
        out: list[Proposal] = []
        for cue in self._listeners[hook]:
            out += getattr(cue, hook)(*args)
        return out

    # -- words -----------------------------------------------------------------------

    def on_utterance(self, u: Utterance) -> list[Proposal]:
        """Both kinds at once, for callers that already deliver utterances in time order."""
        return self.on_decoded(u) + self.on_said(u)

    def on_decoded(self, u: Utterance) -> list[Proposal]:
        """An utterance's final text: at once, in the speaker's own order."""
        if u.speaker == "agent" and not is_backchannel(u, self._listening):
            self._agent_spans = [*self._agent_spans[-20:], (u.start, u.end)]
        h = self._hear(u)
        out = self._ask("decoded", h)
        self.state.learn(u)
        return out

    def _hear(self, u: Utterance) -> Heard:
        """The shared signals of one utterance, computed once for every cue."""
        st, toks = self.state, tokens(u.text)
        h = Heard(u, toks)
        if u.speaker == "agent":
            if find(toks, st.phrases.hold):
                st.hold_at = u.end
            summary = st.acts.summary(u.text)
            if summary:
                st.summaries.append(u.end)
            st.context.hear(u, toks, summary=summary is not None)
            return h
        es, oo = st.cues.customer_escalating, st.cues.offer_options
        h.arousal = st.arousal(u)
        h.repeated = self._demands.repeated(u, toks, st.phrases, oo.repeats, oo.window_s)
        h.mood = self._turn_mood(u)
        h.escalation = a = assess(u.text, h.mood, st.sentiments["customer"], h.arousal, h.repeated is not None, es, st.phrases)
        st.last_escalation_score = a.score
        ack = st.cues.acknowledge_feelings
        words_part = min(PHRASE_CAP, sum(w for _, w in phrase_hits(u.text, st.phrases)))
        h.feeling = emotion_in(u.words, st.phrases.emotion, h.mood, ack.negative_sentiment, ack.emotion_p,
                               second_signal=a.score - words_part)  # the voice, sentiment, repeats: not the same words
        h.emotion = h.feeling.phrases
        self._upset[(u.speaker, u.start)] = a.score >= 0.3 or h.feeling.voiced or h.mood <= es.negative_sentiment
        st.context.hear(u, toks, upset=a.score >= 0.3 or h.feeling.voiced)  # a complaint; a low mood alone is not one
        if a.score >= es.score_threshold:
            st.escalate(u.end)
        elif st.escalated_at is not None:
            st.turns_since_escalation += 1
        return h

    def _turn_mood(self, u: Utterance) -> float:
        """Sentiment of the customer's turn so far, not of this fragment: the VAD ends an utterance at
        every 0.5 s pause, and "so I'm not like, terrified" read alone is not what the caller said.
        VADER sums the words' valences, so calm words around one negative fragment temper it and
        several negative fragments add up. The turn ends at a 3 s gap or when the agent took the
        floor in between (as far as the agent's words are decoded by now: they may lag)."""
        prev = self._turn[-1] if self._turn else None
        took_floor = prev is not None and any(prev.end <= a < u.start for a, _ in self._agent_spans)
        if prev is None or u.start - prev.end > LONG_GAP_S or took_floor:
            self._turn = []
        self._turn.append(u)
        if len(self._turn) == 1:
            return u.sentiment if u.sentiment is not None else sentiment(u.text)
        return sentiment(" ".join(x.text for x in self._turn))

    def on_said(self, u: Utterance) -> list[Proposal]:
        """The conversation in time order: who was upset when, and the agent's replies."""
        min_reply = self.state.cues.acknowledge_feelings.min_reply_words
        if u.speaker == "customer":
            self.state.customer_upset = self._upset.pop((u.speaker, u.start), self.state.customer_upset)
            # the customer is still talking (or talking again): a short agent reply was a backchannel
            if self._reply and sum(len(r.words) for r in self._reply) < min_reply:
                self._reply = []
            if self._reply:
                self._customer, self._reply = [], []
            self._customer.append(u)
            return self._ask("said", u)
        if u.decoded_by == "second":
            self._restated(u)
        out = self._ask("said", u)
        if not self._customer:
            return out
        self._reply.append(u)
        if sum(len(r.words) for r in self._reply) < min_reply:
            return out
        reply = Reply(self._customer, self._reply, self.state)
        self._customer, self._reply = [], []
        return out + self._ask("replied", reply)

    def _restated(self, u: Utterance) -> None:
        """The agent's line as the second pass heard it may state the outcome the first pass misheard
        ("your reservation is confirmed", first heard as "your legion is cone fared"): the call's
        context learns it before the closing is judged."""
        st = self.state
        summary = st.acts.summary(u.text)
        if summary:
            st.summaries.append(u.end)
        if summary or find(tokens(u.text), st.phrases.outcome):
            st.context.outcomes.append(u.end)

    def on_words(self, speaker: Speaker, start: float, words: list[Word]) -> list[Proposal]:
        """Committed words of speech still going on (partial decodes): the phrase cues that need
        no more than the words fire now, while the speaker is still talking. The final decode
        runs every rule again; the cue engine's cooldown keeps each cue to once."""
        out = [p for p in self._ask("words", speaker, start, words) if (p.id, start) not in self._early]
        self._early |= {(p.id, start) for p in out}
        return out

    def on_voice(self, r: VoiceReading) -> list[Proposal]:
        """A second of the customer's voice: sustained arousal escalates on its own, mid-turn."""
        if not r.escalating:
            return []
        self.state.escalate(r.t)
        return self._ask("voice", r)

    # -- timing (every VAD frame) ------------------------------------------------------

    def on_frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        return self._ask("frame", turns, now)

    def on_interruption(self, e: Interruption) -> list[Proposal]:
        return self._ask("interruption", e)

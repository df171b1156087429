"""Cue rules: turn utterances and turn-taking state into cue proposals.

Pure logic over events: no audio, no I/O, no Qt. The CueEngine decides what is shown.
Word rules come in two kinds. Rules about one speaker's own words (an escalation phrase,
harsh wording, pace, a closing) run the moment that utterance's text arrives: each
speaker's utterances are decoded in their own order, and waiting for the other speaker
would only delay the cue. Rules about the exchange between the two ("did the agent's
reply acknowledge what the customer said", harsh words *while the customer is upset*)
run on the conversation in time order (coach/core/conversation.py), since the recognizer may
finish a later customer turn before the agent's earlier reply. Timing rules run every VAD
frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.analysis.acoustics import Baseline, semitones
from coach.analysis.agent_acts import AgentActs
from coach.analysis.engine import Proposal
from coach.analysis.escalation import PHRASE_CAP, Arousal, assess, phrase_hits
from coach.analysis.floor import LONG_GAP_S, is_backchannel, listening_words
from coach.analysis.meaning import Meaning
from coach.analysis.pace import PaceTracker, Stretch
from coach.analysis.phrases import content_words, find, said_at, tokens
from coach.analysis.sentiment import sentiment
from coach.analysis.turns import Interruption, TurnTracker
from coach.analysis.voice import VoiceReading
from coach.config.settings import CueSettings, PhraseSettings
from coach.core.events import SPEAKERS, Speaker, Utterance, Word


@dataclass
class _Exchange:
    """A customer turn (one or more utterances) and the agent's reply so far."""

    customer: list[Utterance] = field(default_factory=list)
    reply: list[Utterance] = field(default_factory=list)

    def reply_words(self) -> int:
        return sum(len(u.words) for u in self.reply)


def _quote(phrases: list[str]) -> str:
    return ", ".join(f"'{p}'" for p in phrases)


# "I'm sorry you have to call again" is sympathy, not an order (tiny.en drops the "had" of
# "sorry you have had to call"): an instruction phrase right after these words does not count
SYMPATHY = frozenset({"sorry", "apologise", "apologize", "apologies", "shame", "pity"})


def _harsh(words: list[Word], phrases: list[str], to_whom: str = "", unless_after: frozenset[str] = frozenset()) -> list[Proposal]:
    """soften_wording for harsh phrases in these words, dated from the first of them."""
    said = said_at(words, phrases, unless_after)
    return [Proposal("soften_wording", "agent", f"you said {_quote(list(said))}{to_whom}", min(said.values()))] if said else []


class Rules:
    def __init__(self, settings: CueSettings, phrases: PhraseSettings, meaning: Meaning | None = None) -> None:
        self.s = settings
        self.ph = phrases
        self.acts = AgentActs(settings, phrases, meaning)
        self.pace = {s: PaceTracker() for s in SPEAKERS}
        self.loudness = {s: Baseline() for s in SPEAKERS}
        self.pitch = {s: Baseline() for s in SPEAKERS}
        self.rate = {s: Baseline() for s in SPEAKERS}
        self.sentiments: dict[str, list[float]] = {s: [] for s in SPEAKERS}
        self.escalated_at: float | None = None
        self.turns_since_escalation = 0
        self.last_escalation_score = 0.0
        self._exchange = _Exchange()
        self._demands: list[tuple[float, str, set[str]]] = []  # (time, demand|rejection, content words)
        self._summaries: list[float] = []  # times the agent summarised
        self._hold_at: float | None = None  # end of the agent utterance that announced a hold
        self._dead_air_reported = False
        self._monologue_reported = False
        self._share_reported = False
        self.customer_upset = False  # as of the latest customer utterance in time order
        self._upset: dict[tuple[str, float], bool] = {}  # decoded, not yet reached in time order
        self._early: set[tuple[str, float]] = set()  # (cue, utterance start) proposed from partial words
        self._customer_turn: list[Utterance] = []  # the customer's turn so far, as their own channel shows it
        self._agent_spans: list[tuple[float, float]] = []  # the agent's decoded utterances that took the floor
        self._listening = listening_words(phrases.backchannel)

    # -- words -----------------------------------------------------------------------

    def on_utterance(self, u: Utterance) -> list[Proposal]:
        """Both kinds at once, for callers that already deliver utterances in time order."""
        return self.on_decoded(u) + self.on_said(u)

    def on_decoded(self, u: Utterance) -> list[Proposal]:
        """Rules about this speaker's own words: at once, in the speaker's own order."""
        if u.speaker == "agent" and not is_backchannel(u, self._listening):
            self._agent_spans = [*self._agent_spans[-20:], (u.start, u.end)]
        out = self._customer(u, self._arousal(u)) if u.speaker == "customer" else self._agent(u)
        self.pace[u.speaker].add(len(u.words), u.end - u.start)
        if u.loudness_db is not None:
            self.loudness[u.speaker].add(u.loudness_db)
        if u.pitch_hz:
            self.pitch[u.speaker].add(u.pitch_hz)
        if u.wpm and len(u.words) >= 4:
            self.rate[u.speaker].add(u.wpm)
        if u.sentiment is not None:
            self.sentiments[u.speaker].append(u.sentiment)
        return out

    def _arousal(self, u: Utterance) -> Arousal:
        loud, pitch, rate = (b[u.speaker].value() for b in (self.loudness, self.pitch, self.rate))
        return Arousal(
            loud_db=None if loud is None or u.loudness_db is None else u.loudness_db - loud,
            pitch_st=semitones(u.pitch_hz, pitch) if pitch and u.pitch_hz else None,
            rate_ratio=u.wpm / rate if rate and u.wpm and len(u.words) >= 4 else None,
        )

    def _turn_mood(self, u: Utterance) -> float:
        """Sentiment of the customer's turn so far, not of this fragment: the VAD ends an utterance at
        every 0.5 s pause, and "so I'm not like, terrified" read alone is not what the caller said.
        VADER sums the words' valences, so calm words around one negative fragment temper it and
        several negative fragments add up. The turn ends at a 3 s gap or when the agent took the
        floor in between (as far as the agent's words are decoded by now: they may lag)."""
        prev = self._customer_turn[-1] if self._customer_turn else None
        took_floor = prev is not None and any(prev.end <= a < u.start for a, _ in self._agent_spans)
        if prev is None or u.start - prev.end > LONG_GAP_S or took_floor:
            self._customer_turn = []
        self._customer_turn.append(u)
        if len(self._customer_turn) == 1:
            return u.sentiment if u.sentiment is not None else sentiment(u.text)
        return sentiment(" ".join(x.text for x in self._customer_turn))

    def _customer(self, u: Utterance, arousal: Arousal) -> list[Proposal]:
        out: list[Proposal] = []
        toks = tokens(u.text)
        repeated = self._repeated_demand(u, toks)
        es = self.s.customer_escalating
        mood = self._turn_mood(u)
        a = assess(u.text, mood, self.sentiments["customer"], arousal, repeated is not None, es, self.ph)
        self.last_escalation_score = a.score
        emotion = find(toks, self.ph.emotion)
        self._upset[(u.speaker, u.start)] = a.score >= 0.3 or bool(emotion) or mood <= es.negative_sentiment
        if a.score >= es.score_threshold:
            self.escalated_at, self.turns_since_escalation = u.end, 0
            out.append(Proposal("customer_escalating", "customer", "; ".join(a.reasons), self._escalation_evidence_end(u)))
        elif self.escalated_at is not None:
            self.turns_since_escalation += 1
            cs = self.s.customer_calming
            calm = mood >= cs.sentiment and not a.phrases and (arousal.loud_db is None or arousal.loud_db < es.loud_db)
            if calm and self.turns_since_escalation >= cs.turns:
                self.escalated_at = None
                out.append(Proposal("customer_calming", "customer",
                                    f"sentiment {mood:+.2f}, voice back to normal, after the escalation", u.end))
        if repeated is not None:
            out.append(Proposal("offer_options", "customer", repeated, u.end))
        return out

    def on_voice(self, r: VoiceReading) -> list[Proposal]:
        """A second of the customer's voice: sustained arousal escalates on its own, mid-turn."""
        if not r.escalating:
            return []
        self.escalated_at, self.turns_since_escalation = r.t, 0
        v = self.s.customer_escalating.voice
        return [Proposal("customer_escalating", "customer",
                         f"voice {r.loud_db:+.0f} dB, pitch {r.pitch_st:+.0f} semitones, brightness {r.bright_db:+.0f} dB "
                         f"over {r.speech_s:.0f} s of speech against your caller's first {v.baseline_s:.0f} s", r.t)]

    def on_said(self, u: Utterance) -> list[Proposal]:
        """Rules about the exchange: called with the conversation in time order."""
        if u.speaker == "customer":
            self.customer_upset = self._upset.pop((u.speaker, u.start), self.customer_upset)
            # the customer is still talking (or talking again): a short agent reply was a backchannel
            if self._exchange.reply and self._exchange.reply_words() < self.s.acknowledge_feelings.min_reply_words:
                self._exchange.reply = []
            if self._exchange.reply:
                self._exchange = _Exchange()
            self._exchange.customer.append(u)
            return []
        out = _harsh(u.words, self.ph.harsh_when_upset, " to an upset customer", SYMPATHY) if self.customer_upset else []
        return out + self._reply(u)

    def _escalation_evidence_end(self, u: Utterance) -> float:
        """When the words alone were enough, the evidence ended with the phrase that made them
        enough; otherwise it needed the whole turn (its sentiment, its voice)."""
        enough = self._words_enough(u.words)
        return enough[0] if enough else u.end

    def _words_enough(self, words: list[Word]) -> tuple[float, list[str]] | None:
        """(when, which phrases) if escalation phrases alone reach the threshold in these words."""
        es = self.s.customer_escalating
        hits = dict(phrase_hits(" ".join(w.w for w in words), self.ph))
        if min(PHRASE_CAP, sum(hits.values())) < es.score_threshold:
            return None
        total, said = 0.0, []
        for p, t in sorted(said_at(words, hits).items(), key=lambda kv: kv[1]):
            total += hits[p]
            said.append(p)
            if min(PHRASE_CAP, total) >= es.score_threshold:
                return t, said
        return None

    def on_words(self, speaker: Speaker, start: float, words: list[Word]) -> list[Proposal]:
        """Committed words of speech still going on (partial decodes): the phrase cues that need
        no more than the words fire now, while the speaker is still talking. The final decode
        runs every rule again; the cue engine's cooldown keeps each cue to once."""
        out: list[Proposal] = []
        if speaker == "customer":
            enough = self._words_enough(words)
            if enough:
                out.append(Proposal("customer_escalating", "customer", f"said {_quote(enough[1])} (still talking)", enough[0]))
        else:
            out += _harsh(words, self.ph.harsh)
        out = [p for p in out if (p.id, start) not in self._early]
        self._early |= {(p.id, start) for p in out}
        return out

    def _repeated_demand(self, u: Utterance, toks: list[str]) -> str | None:
        """The same demand again, or the offer rejected again, within the window (CUES.md:
        "repeats the same demand or rejects the offer two or more times"): a reason string.
        A first demand and a first rejection are one of each, not a repeat."""
        oo = self.s.offer_options
        rejection = find(toks, self.ph.rejection)
        demand = [] if rejection else find(toks, self.ph.demand)
        if not demand and not rejection:
            return None
        kind = "rejection" if rejection else "demand"
        words = content_words(u.text)
        recent = [(t, k, w) for t, k, w in self._demands if u.end - t <= oo.window_s]
        same = [t for t, k, w in recent if k == kind and (kind == "rejection" or w & words)]
        self._demands = [*recent, (u.end, kind, words)]
        if len(same) + 1 < oo.repeats:
            return None
        self._demands = [d for d in self._demands if d[1] != kind]
        if rejection:
            return f"customer rejected the offer {len(same) + 1} times: {_quote(rejection)}"
        # the phrase, not the raw words: this runs before redaction, and a reason is stored
        return f"customer repeated the same demand {len(same) + 1} times: {_quote(demand)}"

    def _agent(self, u: Utterance) -> list[Proposal]:
        out: list[Proposal] = []
        toks = tokens(u.text)
        if find(toks, self.ph.hold):
            self._hold_at = u.end
        if self.acts.summary(u.text):
            self._summaries.append(u.end)
        out += _harsh(u.words, self.ph.harsh)
        out += self._pace(u)
        out += self._closing(u, toks)
        return out

    def _reply(self, u: Utterance) -> list[Proposal]:
        """Judge the agent's reply to the customer's last turn once it has enough words."""
        ex = self._exchange
        if not ex.customer:
            return []
        ex.reply.append(u)
        if ex.reply_words() < self.s.acknowledge_feelings.min_reply_words:
            return []
        self._exchange = _Exchange()
        said = " ".join(c.text for c in ex.customer)
        reply = " ".join(r.text for r in ex.reply)
        emotion = find(tokens(said), self.ph.emotion)
        low = min(c.sentiment if c.sentiment is not None else sentiment(c.text) for c in ex.customer)
        emotional = bool(emotion) or low <= self.s.acknowledge_feelings.negative_sentiment
        acked = self.acts.acknowledgement(reply)
        reflected = self.acts.reflection(said, reply)
        out = []
        if emotional and not acked:
            why = f"customer said {_quote(emotion)}" if emotion else f"customer sentiment {low:+.2f}"
            out.append(Proposal("acknowledge_feelings", "agent", f"{why}; your reply acknowledged nothing", u.end))
        rb = self.s.reflect_back
        n_words = sum(len(c.words) for c in ex.customer)
        speech = sum(c.end - c.start for c in ex.customer)
        happy = not emotional and sentiment(said) >= rb.happy_sentiment  # the whole turn, not a fragment
        if (emotional or n_words >= rb.min_words or speech >= rb.min_turn_s) and not reflected and not acked and not happy:
            out.append(Proposal("reflect_back", "agent",
                                f"customer spoke {n_words} words ({speech:.0f} s); your reply did not restate it", u.end))
        return out

    def _pace(self, u: Utterance) -> list[Proposal]:
        sd = self.s.slow_down
        tracker = self.pace["agent"]
        usual, usual_speech = tracker.overall(), tracker.speech_s()
        wpm, speech = tracker.recent(sd.window_s, Stretch(len(u.words), u.end - u.start))
        if wpm is None or speech < sd.min_speech_s:
            return []
        if wpm > sd.max_wpm:
            return [Proposal("slow_down", "agent", f"pace {wpm:.0f} wpm over your last {speech:.0f} s of speech, limit {sd.max_wpm:.0f}",
                             u.end)]
        if usual and usual_speech >= sd.baseline_min_speech_s and wpm > usual * sd.baseline_ratio:
            return [Proposal("slow_down", "agent", f"pace {wpm:.0f} wpm, your usual is {usual:.0f}", u.end)]
        return []

    def _closing(self, u: Utterance, toks: list[str]) -> list[Proposal]:
        cr = self.s.confirm_resolution
        closing = find(toks, self.ph.closing)
        if not closing or u.end < cr.min_call_s:
            return []
        if any(u.end - t <= cr.lookback_s for t in self._summaries):
            return []
        return [Proposal("confirm_resolution", "agent", f"closing ({_quote(closing)}) with no summary of the outcome", u.end)]

    # -- timing (every VAD frame) ------------------------------------------------------

    def on_frame(self, turns: TurnTracker, now: float) -> list[Proposal]:
        out: list[Proposal] = []
        silence = turns.silence_s()
        if silence == 0.0:
            self._dead_air_reported = False
        elif not self._dead_air_reported:
            ci = self.s.check_in
            held = self._hold_at is not None and now - silence <= self._hold_at + 1.0
            limit = ci.hold_dead_air_s if held else ci.dead_air_s
            if silence >= limit:
                self._dead_air_reported = True
                why = f"no one has spoken for {silence:.0f} s" + (" since the hold was announced" if held else "")
                out.append(Proposal("check_in", "agent", why, now))
        pl = self.s.pause_and_listen
        mono = turns.monologue_s("agent")
        if mono == 0.0:
            self._monologue_reported = False
        elif mono >= pl.monologue_s and not self._monologue_reported:
            self._monologue_reported = True
            out.append(Proposal("pause_and_listen", "agent", f"you have talked for {mono:.0f} s without a break", now))
        if turns.window_full() and turns.frames % 32 == 0:  # talk share moves slowly: check once a second
            share, talk = turns.share("agent")
            high = share is not None and talk >= pl.min_talk_s and share > pl.talk_share
            if not high:
                self._share_reported = False
            elif not self._share_reported:
                self._share_reported = True
                out.append(Proposal("pause_and_listen", "agent",
                                    f"you did {share:.0%} of the talking in the last {pl.share_window_s / 60:.0f} min", now))
        return out

    def on_interruption(self, e: Interruption) -> list[Proposal]:
        return [Proposal("let_them_finish", "agent",
                         f"you talked over the customer for {e.overlap_s:.1f} s while they were mid-sentence", e.at)]

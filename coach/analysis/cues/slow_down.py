"""slow_down (warning): the agent explains faster than a caller can follow, on evidence a listener would agree with.

The pace is the agent's articulation rate over their recent *explanatory* speech (coach/analysis/pace.py):
sentences with a stock line in them (greeting, "anything else?", "have a great day", "give me a second")
are left out of the window and never trigger, since agents rattle those off and no caller needs them slower.
Three kinds of evidence, strongest first:

- the customer asks for repetition ("sorry?", "can you say that again", "where do I start") right after
  the agent's explanation ran above the comfortable band;
- the explanation is sustained well above the 200-275 wpm real agents read at without anyone struggling;
- it is well above the agent's own usual explanatory pace (and above the comfortable band).

Only the agent's speech of the last `span_s` of the call counts, and only an explanatory utterance (or the
request itself) proposes the cue: a cue the engine held back fires while the fast stretch goes on or not at
all, never later on a goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal, quote
from coach.analysis.cues.state import CallState, Heard
from coach.analysis.pace import Stretch, rate, recent, spoken_words
from coach.analysis.phrases import find, tokens
from coach.config.fields import opt
from coach.core.events import Utterance, Word

SENTENCE_END = (".", "?", "!")


@dataclass
class SlowDownSettings:
    enabled: bool = opt(True, "warn: the agent explains faster than a caller can follow (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    max_wpm: float = opt(290.0, "articulation rate (pauses > 0.5 s cut) over explanatory speech: real banking agents read at "
                                "200-275 wpm with no caller struggling, and the app reads within ~10 % of the human transcripts "
                                "(the judged set, tests/data/judged_calls.json); the scripted rushed agents run above it")
    repeat_wpm: float = opt(210.0, "the limit when the customer asks for repetition: above the comfortable band (130-175 wpm "
                                   "speaking, docs/facts.md; an articulation rate runs ~15-25 % above that). The right cue on "
                                   "the real auto-repairs call (tests/data/real_cues.json) is instructions at ~225 wpm and "
                                   "'where am I starting?'")
    window_s: float = opt(20.0, "rate over the last ~20 s of the agent's explanatory speech (docs/cues.md)")
    min_speech_s: float = opt(7.0, "flag only sustained pace: a rate over one short line is noise (docs/facts.md); the judged "
                                   "banking calls' fast lines are outcomes of 2-5 s, the scripted rushed instructions run 8-10 s",
                              hi=600)
    span_s: float = opt(30.0, "the fast stretch is the agent's speech of the last 30 s of the call: short questions between "
                              "long answers are no stretch, and a cue held back fires while it goes on or not at all (issue #31)")
    min_words: int = opt(4, "an utterance proposes the cue only with this many explanatory words: not on 'okay'")
    baseline_ratio: float = opt(1.3, "or this much above the agent's own usual explanatory pace (Cogito's approach, docs/facts.md), "
                                     "when also above repeat_wpm")
    baseline_min_speech_s: float = opt(60.0, "the agent's usual pace counts once this much of their explanatory speech is known")
    repeat_gap_s: float = opt(10.0, "a request for repetition is about the agent's explanation if it ended this recently")
    stock: list[str] = opt(
        ["how can i help", "how may i help", "how can i assist", "thank you for calling", "thanks for calling",
         "thank you for holding", "my name is", "you are welcome", "thank you so much", "thank you very much", "bye",
         "see you", "have a good", "have a great", "have a nice", "anything else", "give me a second", "give me a sec",
         "one sec", "hang on", "bear with me"],
        "stock lines left out of the pace window and never its trigger, besides [phrases] closing and hold: on the judged "
        "banking calls most slow_down cues were pushed over by quick greetings, 'anything else?' and goodbyes (issue #31)")
    repeat: list[str] = opt(
        ["say that again", "say it again", "repeat that", "repeat it", "you repeat", "come again", "pardon", "sorry what",
         "sorry which", "wait what", "wait which", "more slowly", "speak slower", "talk slower", "go slower", "slow down please",
         "please slow down", "talking too fast", "going too fast", "you lost me", "did not catch", "missed that",
         "say that one more time", "where am i", "where * * starting", "where * * start", "where do i", "what do i do",
         "which button", "not following"],
        "the customer asking for repetition or lost in the steps: the strongest evidence of a pace too fast (docs/cues.md); "
        "'which button?' and 'say that again more slowly' in the scripted calls, 'where am I starting?' on the real one")


def _sentences(words: list[Word]) -> list[tuple[list[Word], list[float]]]:
    """Whisper's own sentences, each with its words' time slots: a stock phrase marks its sentence,
    not the whole utterance."""
    out: list[tuple[list[Word], list[float]]] = [([], [])]
    for w, slot in zip(words, _slots(words)):
        out[-1][0].append(w)
        out[-1][1].append(slot)
        if w.w.rstrip("\"')").endswith(SENTENCE_END):
            out.append(([], []))
    return [s for s in out if s[0]]


def _slots(words: list[Word]) -> list[float]:
    """Each word's share of the time: from its start to the next word's (the last: to its end)."""
    return [max((nxt.start if nxt is not None else w.end) - w.start, 0.01)
            for w, nxt in zip(words, [*words[1:], None])]


class SlowDown(CueRule):
    spec = CueSpec("slow_down", "slow down", "remaining calm and composed; communicating clearly", "Slow down, pause between steps",
                   "warn", 4)
    settings = SlowDownSettings

    def __init__(self, state: CallState) -> None:
        super().__init__(state)
        self.explained: list[Stretch] = []  # the agent's explanatory speech, in decode order
        self.asked: Utterance | None = None  # the customer's latest request for repetition, not yet answered

    def explanatory(self, u: Utterance) -> Stretch | None:
        """The part of an agent utterance outside stock sentences: spoken words over its share of the
        utterance's voiced time (word timings only split the time; their absolute length is unreliable)."""
        sd, ph = self.cfg, self.state.phrases
        stock = [*sd.stock, *ph.closing, *ph.hold]
        words: list[str] = []
        kept_s = 0.0
        for sentence, slots in _sentences(u.words):
            if not find(tokens(" ".join(w.w for w in sentence)), stock):
                words += [w.w for w in sentence]
                kept_s += sum(slots)
        if not words:
            return None
        share = kept_s / sum(_slots(u.words))
        return Stretch(spoken_words(words), (u.end - u.start) * share, u.start, u.end)

    def decoded(self, h: Heard) -> list[Proposal]:
        u = h.u
        if u.speaker == "customer":
            if find(h.toks, self.cfg.repeat) or self._bare_question(u, h.toks):
                self.asked = u
            return self._asked()
        part = self.explanatory(u)
        if part is None:
            return []
        self.explained.append(part)
        out = self._asked()
        if out or part.words < self.cfg.min_words:
            return out
        return self._fast(part)

    @staticmethod
    def _bare_question(u: Utterance, toks: list[str]) -> bool:
        """'Sorry?', 'What?', 'Pardon?' on their own."""
        return len(toks) == 1 and toks[0] in ("sorry", "what", "pardon", "huh") and u.text.rstrip().endswith("?")

    def _window(self, until: float, before: float | None = None) -> tuple[float | None, float]:
        """(wpm, speech) over the agent's explanatory speech of the last `span_s` up to `until`, newest first."""
        sd = self.cfg
        parts = [p for p in self.explained if p.end >= until - sd.span_s and (before is None or p.start < before)]
        return recent(sorted(parts, key=lambda p: p.end, reverse=True), sd.window_s)

    def _fast(self, part: Stretch) -> list[Proposal]:
        sd = self.cfg
        wpm, speech = self._window(part.end)
        if wpm is None or speech < sd.min_speech_s:
            return []
        if wpm > sd.max_wpm:
            return [Proposal(self.spec.id, "agent", f"pace {wpm:.0f} wpm over your last {speech:.0f} s of explanation, "
                                                    f"limit {sd.max_wpm:.0f}", part.end)]
        earlier = self.explained[:-1]
        usual_speech = sum(p.speech_s for p in earlier)
        usual = rate(sum(p.words for p in earlier), usual_speech)
        if usual and usual_speech >= sd.baseline_min_speech_s and wpm > max(usual * sd.baseline_ratio, sd.repeat_wpm):
            return [Proposal(self.spec.id, "agent", f"pace {wpm:.0f} wpm over your last {speech:.0f} s of explanation, "
                                                    f"your usual is {usual:.0f}", part.end)]
        return []

    def _asked(self) -> list[Proposal]:
        """The customer asked for repetition: was the agent's explanation just before it fast? Judged when
        the request is heard and again as the agent's earlier speech is decoded (it may come later)."""
        if self.asked is None:
            return []
        sd, req = self.cfg, self.asked
        if self.explained[-1:] and self.explained[-1].start > req.end + sd.span_s:
            self.asked = None  # long answered
            return []
        wpm, speech = self._window(req.start, before=req.start)
        last = max((p.end for p in self.explained if p.start < req.start), default=None)
        if last is None or req.start - last > sd.repeat_gap_s or wpm is None or speech < sd.min_speech_s or wpm <= sd.repeat_wpm:
            return []
        self.asked = None
        said = " ".join(w.w for w in req.words[:10]) + (" ..." if len(req.words) > 10 else "")
        return [Proposal(self.spec.id, "agent", f"the customer asked {quote([said])} after {speech:.0f} s of your explanation "
                                                f"at {wpm:.0f} wpm", req.end)]

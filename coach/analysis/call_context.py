"""The call as a whole: which phase it is in, and whether there is a problem to resolve at all.

A resolution cue ("summarise next steps") only helps a caller who came with a problem: a complaint,
a fault, or a change asked for. When the caller asked for information (a balance, branch hours, a
timetable), the answer is the outcome, and nudging the agent to summarise it was wrong on every
judged call where it fired (docs/evaluation.md). It only helps before the goodbye, too: after
"have a great day" nobody is listening. So the dispatcher (rules.py) tells this context every
utterance, and the cues ask it.

Phases: opening (greetings) -> problem (the caller's request) -> resolution (the agent states an
outcome) -> closing (the agent's "anything else", the caller's "that's all", a goodbye). Phrases
are matched as the recognizer heard them (coach/analysis/phrases.py: spelled nearly, by sound),
and each fact is kept with the phrase it rests on, so a cue can say why.

Pure logic over utterances: no audio, no I/O, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from coach.analysis.phrases import EXACT, SPELLED, find, heard_in

if TYPE_CHECKING:
    from coach.config.settings import PhraseSettings
    from coach.core.events import Utterance

Phase = Literal["opening", "problem", "resolution", "closing"]
PHASES: tuple[Phase, ...] = ("opening", "problem", "resolution", "closing")
REOPEN_WORDS = 12  # after a goodbye, a line this long with no closing words means the call went on


@dataclass
class CallContext:
    phrases: PhraseSettings
    phase: Phase = "opening"
    problem: str | None = None  # why the call has a problem to resolve, as evidence ("a fault ('declined')")
    information: str | None = None  # the caller asked for information ("asked for information ('balance')")
    outcomes: list[float] = field(default_factory=list)  # ends of agent lines stating an outcome ("has been sent")
    closing_at: float | None = None  # the first pre-closing: the agent's "anything else", the caller's "that's all"
    goodbye_at: float | None = None  # start of the line that said goodbye; None while the call goes on

    def hear(self, u: Utterance, toks: list[str], upset: bool = False, summary: bool = False) -> None:
        """One decoded utterance (each speaker's in their own order). `upset`: the customer's line
        was escalating or voiced an emotion (a complaint); `summary`: the agent's line summarised
        the outcome by the [phrases] summary list or by meaning."""
        ph = self.phrases
        farewell = find(toks, ph.farewell)
        closing = find(toks, ph.closing)
        if farewell:
            if self.goodbye_at is None:
                self.goodbye_at = u.start
            self._advance("closing")
        elif self.goodbye_at is not None and not closing and (len(toks) >= REOPEN_WORDS or self._asks(toks)):
            self.goodbye_at = None  # the goodbye was not the end ("oh, one more thing: can you ...")
        if u.speaker == "customer":
            self._request(u, toks, upset)
            return
        if summary or find(toks, ph.outcome):
            self.outcomes.append(u.end)
            self._advance("resolution")
        if closing and not farewell:
            self.closing_at = u.end if self.closing_at is None else self.closing_at
            self._advance("closing")

    def _asks(self, toks: list[str]) -> bool:
        ph = self.phrases
        return any(find(toks, p) for p in (ph.fault, ph.change_request, ph.information_request))

    def _request(self, u: Utterance, toks: list[str], upset: bool) -> None:
        ph = self.phrases
        if self.problem is None:
            # once the caller asked for information, a fault must be heard as written to change that: tiny.en heard
            # "my savings account" as "my savings look out", spelled nearly "locked out" (judged call 3715)
            sure = self.information is not None
            fault, change = self._heard(u, toks, ph.fault, sure), self._heard(u, toks, ph.change_request, sure)
            if upset:
                self.problem = "a complaint (the customer was upset)"
            elif fault:
                self.problem = f"a fault ('{fault}')"
            elif change:
                self.problem = f"a change asked for ('{change}')"
        if self.information is None:
            info = find(toks, ph.information_request)
            if info:
                self.information = f"a request for information ('{info[0]}')"
        if self.problem or self.information:
            self._advance("problem")

    @staticmethod
    def _heard(u: Utterance, toks: list[str], phrases: list[str], as_written: bool) -> str | None:
        """The first phrase heard as written or spelled nearly (as written only, if `as_written`); a word that
        only sounds like one ("force" for "furious") is a guess, not a problem the caller reported."""
        if not u.words:
            return next(iter(find(toks, phrases)), None)
        for h in heard_in(u.words, phrases):
            if h.kind == EXACT or (h.kind == SPELLED and not as_written):
                return h.phrase
        return None

    def _advance(self, phase: Phase) -> None:
        """Phases only move forward: an outcome restated during the closing does not reopen it."""
        if PHASES.index(phase) > PHASES.index(self.phase):
            self.phase = phase

    def said_goodbye(self, before: float) -> bool:
        """Had someone said goodbye (a line starting at or before `before`) and the call not gone on?"""
        return self.goodbye_at is not None and self.goodbye_at <= before

    def outcome_within(self, t: float, span_s: float) -> bool:
        """Did the agent state an outcome within span_s before t?"""
        return any(0.0 <= t - o <= span_s for o in self.outcomes)

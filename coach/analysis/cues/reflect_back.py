"""reflect_back (tip): after a long or emotional customer turn the agent moved on without restating it;
or the customer gave a detail as digits (an address, a phone or account number, a zip code) and the
agent moved on without reading it back.

The read-back is judged line by line in time order: the agent asked for a detail ("what is your
address?"), the customer gave it in as many fragments as it took, and the agent's next line that
is more than an "okay" neither repeats some of it (three digits in a row, or two of its words), nor
reads it back in words ("is that correct", "to confirm"), nor asks for more of it. Digits are the
evidence because the recognizer hears them well even when it mangles the street ("Forest Ranch" as
"four is trench"), and because a digit wrong is a letter sent to the wrong house."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import CallState, Reply
from coach.analysis.phrases import content_words, find, tokens
from coach.analysis.sentiment import sentiment
from coach.config.fields import opt
from coach.core.events import Utterance

DIGIT_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
               "nine": "9"}
QUESTION_STARTS = frozenset("what which can could may and whats where".split())
SHORT_LINE = 4  # an agent line shorter than this with no digits ("okay", "thank you") has not moved on yet


def digits(toks: list[str]) -> str:
    """The digits said, in order: numerals as written ("761", "9 9 4 4"), digit words ("nine six"),
    "oh" for zero between digits, "double four". Tens and teens are amounts and times, not read-outs."""
    out: list[str] = []
    repeat = 1
    for t in toks:
        if t in ("double", "triple"):
            repeat = 2 if t == "double" else 3
            continue
        d = t if t.isdigit() else DIGIT_WORDS.get(t) or ("0" if t in ("oh", "o") and out else None)
        if d is not None:
            out.append(d * repeat)
        repeat = 1
    return "".join(out)


def asks_for(text: str, detail_phrases: list[str]) -> str | None:
    """The detail a line asks for ("what is your address?"): a sentence naming it that is a question.
    "A new checkbook has been sent to your home address." names one and asks for nothing."""
    for s in re.split(r"(?<=[.?!])\s+", text.strip()):
        toks = tokens(s)
        found = find(toks, detail_phrases)
        if found and toks and (s.rstrip().endswith("?") or toks[0] in QUESTION_STARTS):
            return found[0]
    return None


@dataclass
class ReflectSettings:
    enabled: bool = opt(True, "info: after a long or emotional customer turn the agent moved on without restating it (docs/cues.md)")
    cooldown_s: float = opt(60.0, "per-cue cooldown (docs/cues.md)")
    min_words: int = opt(30, "a customer turn of this many words is long: several clauses or a list of facts")
    min_turn_s: float = opt(10.0, "or this many seconds of customer speech")
    shared_words: int = opt(2, "a reply reusing this many of the customer's content words restates them")
    happy_sentiment: float = opt(0.6, "a long turn this positive and voicing no emotion is chat (\"I'm really glad I called, "
                                      "I bought it from you\"), not a problem to restate (real call, docs/evaluation.md)", lo=-1, hi=1)
    meaning_p: float = opt(0.4, "a reply the intent model calls a reflection with this probability counts; 1 turns it off", hi=1)
    similar_reply: float = opt(0.5, "or a reply this close in meaning to the customer's turn (sentence-vector cosine: "
                                    "restatements 0.55-0.74, other replies <= 0.47 on tests/data/intents_labelled.json)", hi=1)
    read_back_digits: int = opt(5, "a detail the agent asked for ([phrases] detail_request) given with this many digits should be "
                                   "read back: a zip code or more (judged calls: addresses of 7-9 digits never read back); an "
                                   "order number of four digits is not asked for; 0 turns read-backs off", lo=0)
    read_back_window_s: float = opt(30.0, "the agent's line must come within this span of the customer's last digits")


class ReflectBack(CueRule):
    spec = CueSpec("reflect_back", "reflect back", "active listening", "Try: 'So what I'm hearing is…'", "info", 5)
    settings = ReflectSettings

    def __init__(self, state: CallState) -> None:
        super().__init__(state)
        self._asked: str | None = None  # the detail the agent asked for, until they move on
        self._given: list[Utterance] = []  # the customer's lines since
        self._agent_lines: list[tuple[float, str]] = []  # (end, text) of the agent's last lines, in time order

    def replied(self, r: Reply) -> list[Proposal]:
        rb = self.cfg
        n_words = sum(len(c.words) for c in r.customer)
        speech = sum(c.end - c.start for c in r.customer)
        long = n_words >= rb.min_words or speech >= rb.min_turn_s
        if not (r.emotional or long) or r.acknowledged:
            return []
        happy = not r.emotional and sentiment(r.said) >= rb.happy_sentiment  # the whole turn, not a fragment
        if happy or (not r.emotional and self._answered(r.customer[0].start)) or r.reflected:
            return []
        return [Proposal(self.spec.id, "agent", f"customer spoke {n_words} words ({speech:.0f} s); your reply did not restate it",
                         r.reply[-1].end)]

    def _answered(self, turn_start: float) -> str | None:
        """The closed question a customer turn starting then answers ("what's the make and model of the car?"),
        if the agent's last line before it ended in one: a long answer is facts asked for, not a problem to
        restate (real dealership call, tests/data/real_cues.json); details in digits are read back instead.
        An open question ("how can I help?", "what happened?") asks for the problem itself."""
        before = [text for end, text in self._agent_lines if end <= turn_start]
        if not before:
            return None
        last = [x for x in re.split(r"(?<=[.?!])\s+", before[-1].strip()) if x][-1:]
        if not last or find(tokens(last[0]), self.state.phrases.open_question):
            return None
        toks = tokens(last[0])
        return last[0] if toks and (last[0].rstrip().endswith("?") or toks[0] in QUESTION_STARTS) else None

    def said(self, u: Utterance) -> list[Proposal]:
        """Read-backs: the conversation in time order (redacted: card numbers never count as a detail to read back)."""
        if u.speaker == "agent":
            self._agent_lines = [*self._agent_lines[-4:], (u.end, u.text)]
        if u.speaker == "customer":
            if self._asked is not None:
                self._given.append(u)
            return []
        rb, ph = self.cfg, self.state.phrases
        toks = tokens(u.text)
        asked = asks_for(u.text, ph.detail_request)
        given = [g for g in self._given if digits(tokens(g.text))]
        said = "".join(digits(tokens(g.text)) for g in given)
        if rb.read_back_digits <= 0 or len(said) < rb.read_back_digits or u.start - given[-1].end > rb.read_back_window_s:
            if len(toks) >= SHORT_LINE or asked:  # the agent moved on, or asks for something new
                self._asked, self._given = asked, []
            return []
        if self._reads_back(toks, said, given):
            self._asked, self._given = None, []
            return []
        if asked or (len(toks) < SHORT_LINE and not digits(toks)):
            return []  # still collecting it ("and the zip code?"), or only an "okay" so far
        what, self._asked, self._given = self._asked or "detail", None, []
        if self.state.context.said_goodbye(u.end):
            return []  # too late to help
        pieces = f" in {len(given)} pieces" if len(given) > 1 else ""
        why = f"the customer gave the {what} ({len(said)} digits{pieces}); you moved on without reading it back"
        return [Proposal(self.spec.id, "agent", why, u.end)]

    def _reads_back(self, toks: list[str], said: str, given: list[Utterance]) -> bool:
        """Does the agent's line repeat some of the detail, or confirm it in words?"""
        if find(toks, self.state.phrases.read_back):
            return True
        mine = digits(toks)
        if any(mine[i:i + 3] in said for i in range(len(mine) - 2)):
            return True
        nouns = {w for p in self.state.phrases.detail_request for w in content_words(p)}
        theirs = set().union(*(content_words(g.text) for g in given)) - nouns
        return len(content_words(" ".join(toks)) & theirs) >= 2

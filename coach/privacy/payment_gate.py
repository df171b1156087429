"""The payment gate: every utterance passes it, in stream-time order, before anything shows
or stores its text. It keeps what a read-out needs across utterances and masks with
`redact()`; each audio span it masks goes to `silence` (the recorder, the session's stored
redactions) as soon as it is known.

Card talk is a state, not a timer: it starts with card words or a request for the number
("the long number", "sixteen digits", "the three numbers on the back") or with card digits,
and lasts while the read-out goes on, however long the customer searches for the card. It
ends when the conversation moves on: the payment confirmed, another number named (an order
or phone number), or a few utterances of other talk. Without any such words a read-out is
still known by its shape: short digit groups, from either speaker, across utterances and
pauses, adding up to a card's length (read-backs and repeats not counted twice).

A second decode of the same speech (a re-decoded turn) goes through `redecoded`: it masks at
least what the first pass masked in that span, plus what it finds in the new text itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from coach.core.events import Speaker, Utterance, Word
from coach.privacy.redact import (
    ACCOUNT,
    CARD,
    CARD_CONTEXT,
    CODE,
    CODE_QUESTION,
    CURRENCY,
    EXPIRY,
    EXPIRY_QUESTION,
    FILLERS,
    IBAN,
    LAST_FOUR,
    MASKS,
    NATIONAL_ID,
    SORT_CODE,
    UNITS,
    Redaction,
    _digits_of,
    _number_run,
    _plain,
    absorb,
    is_plain_digit,
    luhn_ok,
    redact,
)

if TYPE_CHECKING:
    from coach.config.settings import PrivacySettings

# the payment is done: card talk ends after this utterance
PAID = re.compile(r"(gone|went|go) through|payment (is |was |has been )?(successful|approved|accepted|complete|completed|"
                  r"processed|taken|authori[sz]ed|declined)|(transaction|payment) (is |was |has been )?(approved|complete|"
                  r"completed|successful|done)|(been|be) (charged|debited)|receipt", re.I)
# another number is named: what follows is not the card ("your order number is ...")
OTHER_NUMBER = re.compile(r"\b(order|reference|confirmation|case|booking|tracking|ticket|phone|mobile|cell|telephone|"
                          r"policy|membership|customer|invoice|account|member) (number|no|id|code)\b|\b(postcode|post code|"
                          r"zip code|date of birth|birthday|extension|address|reference|meter reading)\b", re.I)
# looking for the card: the read-out is still coming
SEARCHING = re.compile(r"\b(hold on|hang on|one (sec|second|moment)|just a (sec|second|moment)|bear with|take your time|"
                       r"find|finding|looking|look for|wallet|purse|bag|here (it is|we go)|got it|ready|go ahead|"
                       r"no (rush|problem|worries)|sorry|wait)\b", re.I)
ASKING = re.compile(f"{CODE_QUESTION.pattern}|{EXPIRY_QUESTION.pattern}", re.I)  # for the code or the expiry date
# the customer names the code, and says it next: "the code on the back is ...", heard however ("on the Mac is")
CODE_NAMED = re.compile(r"(?<!post )(?<!postal )(?<!zip )(?<!area )(?<!sort )(?<!promo )(?<!discount )(?<!voucher )(?<!access )"
                        r"(?<!reference )(?<!booking )\b(code|cvv|cvc|csc|security number|(three|3|four|4) (digits|numbers))"
                        r"( on the [\w']+)?"
                        r"( of (the|my) card)?,? (is|are|it's|its)$", re.I)
CODE_SAID_WORDS = 8  # the code said after its name takes at most this many words as heard ("sent to the line for the line")
CORRECTION = re.compile(r"\b(sorry|again|that was|i mean|no)\b", re.I)
COUNTED_BY = frozenset("the".split())  # "the 16 digits", "the 3 numbers": a count, not digits read out
COUNTS = frozenset("digits digit numbers figures".split())
FAREWELLS = frozenset("bye goodbye bye-bye cheers".split())
# a line of its own in card talk that is no group misheard: a check the line is there, the end of the business
OWN_LINE = re.compile(r"\b(still there|you there|hear me|that('s| is| will be| would be) (all|it|everything)|"
                      r"anything else)\b|^\W*[\[(]", re.I)
ACKS = frozenset("yes yeah yep okay ok right sure mhm mm-hmm uh-huh go on got it thanks thank you".split())
# a line of these alone is no group misheard: "Yes, that's right.", "No, thanks.", "Great."
CONFIRMS = ACKS | frozenset("no nope great lovely perfect fine alright cool brilliant excellent correct exactly thats that is "
                            "it its".split())  # as _plain spells them
OFF_TOPIC_UTTERANCES = 3  # card talk ends after this many utterances of other talk ...
OFF_TOPIC_WORDS = 15  # ... with at least this many words among them, each at least this long:
OFF_TOPIC_S = 2.0  # a group of digits takes a second or two to say, and on a phone line tiny.en may hear it as
# words ("time time time", "I did freeze here" for "nine three zero six"): that is no other talk
UNHEARD_S = 3.0  # in card talk, a line this short that is no acknowledgement may be a group heard as other words
RUN_DIGITS = 14  # short groups without card words add up to a card: this many digits, or 13 passing Luhn
MOST_OF_A_CARD = 12  # a run of this many digits is a card's when card talk begins right after it (a phone number has 11)
ONSET_S = 0.3  # a masked word's audio is silenced from this long before Whisper says it starts
RUN_WAIT_S = 35.0  # a group's text waits at most this long after the run's last group for the next: a caller may
# pause half a minute between groups (the generated read-outs go up to 30 s), and the next group takes seconds to
# say and decode (6 s for a repeated group with a correction, tiny.en on 2 cores)
PENDING = "[number]"  # a digit group shown and stored in its place while the gate does not know whether it is a card's

Span = tuple[float, float]
Masked = tuple[float, float, str]  # (start, end, kind) of a masked stretch of words


@dataclass
class _Seen:
    """What the gate decided for one first-pass utterance: re-decodes of its span reuse it."""

    speaker: Speaker
    start: float
    end: float
    context: str  # the redacted conversation before it
    reading_out: bool
    masked: list[Masked]
    words: list[Word]


class PaymentGate:
    def __init__(self, silence: Callable[[Span], None] = lambda span: None, categories: frozenset[str] = frozenset()) -> None:
        self.silence = silence  # called once per audio span to silence, as soon as it is found
        self.categories = categories  # opt-in kinds besides card data (redact.NATIONAL_ID, ...)
        self.spans: list[Span] = []  # every span silenced, in the order found
        self._talk: list[list[float]] = []  # card talk: [start, end] stream times, end inf while it goes on
        self._off = [0, 0]  # utterances and words of other talk since card talk was last heard
        self._run: list[_Seen] = []  # bare digit groups in a row, outside card talk: a read-out by its shape?
        self._run_digits = ""
        self._named = False  # the groups in a row follow another number's name ("my phone number is")
        # a run a line of talk ended before that line's second pass was in: the second pass may hear it
        # as a group ("8, 7, no sorry 8, 7" for "8th ever. No. Sorry. 8th ever."), and the run goes on
        self._broken: tuple[list[_Seen], str, _Seen] | None = None
        self._texts: list[str] = []  # redacted first-pass texts: the context of the next utterance
        self._seen: list[_Seen] = []
        self._heard_until = 0.0  # the end of the last utterance of either speaker

    def said(self, raw: Utterance) -> Redaction:
        """The first pass's utterance, in stream-time order: its redaction (what may be shown and stored)."""
        text = raw.text or " ".join(w.w for w in raw.words)
        if self.card_talk_at(raw.start) and raw.start > self._heard_until:
            # no one was heard since the last utterance: on a phone line the VAD can miss a group said
            # alone ("four four"), and silence where nothing was heard costs the recording nothing
            began = max(a for a, b in self._talk if a <= raw.start < b)
            self._silence((round(max(self._heard_until, began), 3), round(raw.start, 3)))
        self._heard_until = max(self._heard_until, raw.end)
        other = OTHER_NUMBER.search(text) if self._open() and not CARD_CONTEXT.search(text) else None
        answered = other is not None and any(is_plain_digit(t) for t in text[:other.start()].split())
        if other and not answered:
            self._close(raw.start)  # "and your order number is ...": not the card any more
        context = " ".join(self._texts[-4:])
        reading_out = self.card_talk_at(raw.start)
        red = self._redact(raw, raw.words, context, reading_out)
        seen = _Seen(raw.speaker, raw.start, raw.end, context, reading_out,
                     [(a, b, k) for (a, b), k in zip(red.spans, red.kinds)], raw.words)
        self._seen.append(seen)
        if not reading_out and self._open():
            if CARD in red.kinds:
                self._confirmed(raw.speaker, raw.start, raw.words)
            elif self._run and len(self._run_digits) >= MOST_OF_A_CARD:
                # most of a card's digits just before card talk began ("And the expiry date?"): its read-out,
                # a digit or three lost to the recognizer ("It's 67, 8, 26, 7, ..." failing Luhn)
                self._read_out(self._run, raw.start)
            self._run, self._run_digits = [], ""  # card words or digits in this utterance began card talk
        elif not reading_out:
            red = self._shape(seen, red, text)
        if self._open():
            self._moves_on(raw, text, red)
        if answered:
            self._close(raw.end)  # "829, and can you also change my address?": the code was the answer, then talk moved on
        self._texts = [*self._texts[-3:], red.text]
        return red

    def redecoded(self, speaker: Speaker, start: float, end: float, words: list[Word],
                  also: list[Masked] | tuple[Masked, ...] = ()) -> Redaction:
        """Another decode of `speaker`'s speech from `start` to `end` (stream time), after the first
        pass's utterances there went through `said`: words over a stretch the first pass (or `also`)
        masked are masked the same way; the rest is redacted with the state the first pass had there."""
        seen = [s for s in self._seen if s.speaker == speaker and s.start < end and s.end > start]
        masked = [m for s in seen for m in s.masked] + list(also)
        context = seen[0].context if seen else " ".join(self._texts[-4:])
        reading_out = any(s.reading_out for s in seen) or self.card_talk_at(start)
        raw = Utterance(speaker, start, end, " ".join(w.w for w in words), words)
        parts = _by_state(seen, words)
        if len(parts) > 1:
            # one decode of lines the first pass took apart, in card talk and after it ("... that's gone
            # through. Your order number is 1 4 4 1 7."): each stretch as the first pass had it
            reds = [self._redact(Utterance(speaker, ws[0].start, ws[-1].end, " ".join(w.w for w in ws), ws), ws, s.context,
                                 s.reading_out, first=False) for s, ws in parts]
            red = Redaction([w for r in reds for w in r.words], "", [x for r in reds for x in r.spans], [k for r in reds for k in r.kinds])
        else:
            red = self._redact(raw, words, context, reading_out, first=False)
        red = _mask_spans(red, masked)
        spans, kinds = [(a, b) for a, b, _ in masked] + red.spans, [k for _, _, k in masked] + red.kinds
        out = red.words
        if reading_out and kinds:  # what the first pass masked may sit beside a digit this pass heard as a word
            talk = [(ws[0].start, ws[-1].end) for s, ws in parts if s.reading_out] if len(parts) > 1 else [(float("-inf"), float("inf"))]
            mine = [w for w in out if any(a <= w.mid <= b for a, b in talk)]
            kept = absorb(mine, spans, kinds)
            swap = {id(w): k for w, k in zip(mine, kept)}
            out = [swap.get(id(w), w) for w in out]
        return Redaction(out, " ".join(w.w for w in out), spans, kinds)

    def heard_again(self, speaker: Speaker, start: float, words: list[Word]) -> None:
        """The second pass's words for the first pass's line of `speaker` that began at `start` (none:
        it heard nothing new), in stream-time order, before they are kept. A line the first pass heard
        as words that the second pass heard as a bare group ("37," for "Thirsty, seven." of "thirty
        seven", a pair of a card read in pairs without a card word) belongs to the read-out after it.
        It joins the run of groups that followed it, or starts one, and waits with it (`undecided`);
        it is read out where card talk the run began follows it with no other talk between. A line
        that ended a run and that the second pass heard as a group lets the run go on."""
        seen = next((x for x in self._seen if x.speaker == speaker and x.start == start), None)
        if seen is None:
            return
        if self._broken is not None and seen is self._broken[2]:
            return self._unbroken(seen, words)
        digits = _group(words)
        if digits is None or seen.reading_out or _group(seen.words) or _half_heard(seen) or self._named:
            return
        if self._broken is not None and self._broken[0][0].start < seen.start < self._broken[2].start:
            run, got, breaker = self._broken  # between the run and the line that ended it: the run's, if it goes on
            self._broken = (sorted([*run, seen], key=lambda x: x.start), got + digits, breaker)
            return
        later = [x for x in self._seen if x.start > seen.start]
        if self._run and self._run[0].start > seen.start and seen not in self._run:
            between = [x for x in later if x.start < self._run[0].start]
            if not any(_substantive(x) for x in between):
                self._run.insert(0, seen)
                self._run_digits = digits + self._run_digits
                self._card_length()
            return
        talk = next((a for a, _ in self._talk if seen.end <= a <= seen.end + RUN_WAIT_S), None)
        if talk is not None and not any(_substantive(x) for x in later if x.start < talk):
            self._talk = [[seen.start if a == talk else a, b] for a, b in self._talk]
            self._mask_run([seen], seen.end)
        elif not self._run and not self.card_talk_at(seen.start) and not any(_substantive(x) for x in later):
            self._run, self._run_digits = [seen], digits
            self._card_length()

    def _unbroken(self, breaker: _Seen, words: list[Word]) -> None:
        """The second pass's words of the line that ended a run: heard as a group (or as no talk), the
        run goes on through it: into the run after it, or into card talk that began after it (its
        first groups, masked with it), up to the next line of talk."""
        run, digits, _ = self._broken  # type: ignore[misc]
        self._broken = None
        heard = _group(words)
        if heard is None and (not words or _substantive(replace(breaker, words=words))):
            return  # talk: the run ended there
        run, digits = [*run, breaker], digits + (heard or "")
        card = next((a for a, _ in sorted(self._talk) if breaker.start < a <= breaker.end + RUN_WAIT_S), None)
        upto = min(self._run[0].start if self._run else float("inf"), card if card is not None else float("inf"))
        talk = next((x for x in self._seen if breaker.start < x.start < upto and _substantive(x)), None)
        if talk is not None:
            self._broken = (run, digits, talk)  # ended again, by a line whose second pass comes later
        elif card is not None:
            self._read_out(run, card)
        else:
            self._run, self._run_digits = [*run, *self._run], digits + self._run_digits
            self._card_length()

    def _card_length(self) -> None:
        """The run of groups heard again adds up to a card: it is a read-out, from its first group on."""
        if _adds_up(self._run_digits):
            self._read_out(self._run, self._run[-1].end)
            self._run, self._run_digits = [], ""

    def undecided(self, t: float, now: float) -> bool:
        """Is the utterance that began at `t` a digit group of a run that may still add up to a card?
        Its text waits (as for its second pass) until the run is decided, at most RUN_WAIT_S after
        the run's last group: then a read-out known by its shape is masked back to its first group."""
        if self._broken is not None and now < self._broken[2].end + RUN_WAIT_S and any(s.start == t for s in self._broken[0]):
            return True  # the line that ended its run may yet be heard as a group
        return bool(self._run) and now < self._run[-1].end + RUN_WAIT_S and any(s.start == t for s in self._run)

    def pending(self, red: Redaction) -> Redaction:
        """An undecided group's redaction as it may be shown and stored meanwhile: its digits as
        PENDING, so no byte of what may be a card reaches the screen, the session file or the
        store before the run is decided. Its audio waits anyway (the recorder's watermark)."""
        out, i = list(red.words), 0
        while i < len(out):
            _, j = _number_run(out, i)
            if j > i:
                out[i:j] = [Word(PENDING, out[i].start, out[j - 1].end, 1.0)]
            i += 1
        return Redaction(out, " ".join(w.w for w in out), red.spans, red.kinds)

    def hold_until(self) -> float:
        """Stream time the recording may not be written past yet: while card talk goes on, the
        stretch since the last utterance is silenced if the next one is in card talk too."""
        return self._heard_until if self._open() else float("inf")

    def card_talk_at(self, t: float) -> bool:
        """Is stream time `t` inside card talk (where any run of digits is card data)?"""
        return any(a <= t < b for a, b in self._talk)

    def _open(self) -> bool:
        return bool(self._talk) and self._talk[-1][1] == float("inf")

    def _begin(self, t: float) -> None:
        """Card talk from `t` on: card talk still going on that began later (a run found to have begun
        before it) begins at `t` instead, so that one end closes it."""
        going = next((iv for iv in self._talk if iv[1] == float("inf")), None)
        if going is not None and going[0] > t:
            going[0] = t  # what it now covers goes; it stays the last, which `_open` and `_close` read
            self._talk = sorted(iv for iv in self._talk if iv is going or iv[0] < t)
        elif not self.card_talk_at(t):
            self._talk.append([t, float("inf")])
        self._off = [0, 0]

    def _close(self, t: float) -> None:
        if self._open():
            self._talk[-1][1] = t
            self._texts = []  # the card talk before is no context for what comes next

    def _moves_on(self, raw: Utterance, text: str, red: Redaction) -> None:
        """Card talk ends when the payment is confirmed, or after a few utterances of other talk
        (a search for the card, however long, is not other talk)."""
        if PAID.search(text):
            self._close(raw.end)
        elif red.spans or CARD_CONTEXT.search(text) or SEARCHING.search(text) or _digits_in(raw.words):
            self._off = [0, 0]
        elif len(raw.words) >= 3 and raw.end - raw.start >= OFF_TOPIC_S:
            self._off = [self._off[0] + 1, self._off[1] + len(raw.words)]
            if self._off[0] >= OFF_TOPIC_UTTERANCES and self._off[1] >= OFF_TOPIC_WORDS:
                self._close(raw.end)

    def _shape(self, seen: _Seen, red: Redaction, text: str) -> Redaction:
        """Outside card talk: short groups of digits in a row, from either speaker, that add up
        to a card (Luhn checked across them) are a read-out; the groups before are masked too:
        their audio, and their text, which waited for this (`undecided`) and goes through `redecoded`."""
        digits = _group(seen.words) or _half_heard(seen)
        if OTHER_NUMBER.search(text):
            self._run, self._run_digits, self._named = [], "", True
            return red
        if digits is None:
            if _substantive(seen):
                if self._run:
                    self._broken = (self._run, self._run_digits, seen)
                self._run, self._run_digits, self._named = [], "", False
            return red
        if self._named:
            return red  # the groups of a number just named: a phone number read in threes
        # a read-back (the other speaker) or a correction adds nothing; the same group twice in a
        # row from the caller is two groups of the card ("5129. Yes. 5129.")
        again = bool(self._run) and (seen.speaker != self._run[-1].speaker or CORRECTION.search(text) is not None)
        if not (again and _repeats(digits, self._run_digits)):
            self._run_digits += digits
        self._run.append(seen)
        if not _adds_up(self._run_digits):
            return red
        self._begin(self._run[0].start)
        self._mask_run(self._run[:-1], seen.start)
        self._run, self._run_digits = [], ""
        red = self._redact(Utterance(seen.speaker, seen.start, seen.end, text, seen.words), seen.words, seen.context, True)
        seen.masked[:] = [(a, b, k) for (a, b), k in zip(red.spans, red.kinds)]
        seen.reading_out = True
        return red

    def _confirmed(self, speaker: Speaker, start: float, words: list[Word]) -> None:
        """A card number said in one breath ("Let me read that back, 3 4 1 9 5 ...") after groups not
        yet known as a card's: if most of those groups are in it, or the same speaker said them
        (the read-out went on in one breath), they were its read-out."""
        said, i = "", 0
        while i < len(words):
            run, j = _number_run(words, i)
            said, i = said + run, max(j, i + 1)
        groups = [g for g in (_group(s.words) for s in self._run) if g]
        if groups and (sum(_echoed(g, said) for g in groups) * 2 > len(groups) or self._run[-1].speaker == speaker):
            self._mask_run(self._run, start)

    def _read_out(self, run: list[_Seen], until: float) -> None:
        """A run of groups found to be a read-out: card talk from its first group, the run masked."""
        self._begin(run[0].start)
        self._mask_run(run, until)

    def _mask_run(self, run: list[_Seen], until: float) -> None:
        """The groups of a read-out, and what was between them up to `until` (where the read-out became
        clear): lines the recognizer heard as words, groups the VAD missed."""
        if run:
            self._silence((round(run[0].start, 3), round(until, 3)))
        for s in run:
            if not any(k == CARD for _, _, k in s.masked):
                s.masked.append((s.start, s.end, CARD))
                s.reading_out = True
                self._silence((round(s.start, 3), round(s.end, 3)))

    def _redact(self, raw: Utterance, words: list[Word], context: str, reading_out: bool, first: bool = True) -> Redaction:
        red = redact(words, context, answer=raw.speaker == "customer", reading_out=reading_out, categories=self.categories)
        if CARD in red.kinds and not reading_out:  # a card in it: its other digits are the read-out's too (a decoder loop)
            red = redact(words, context, answer=raw.speaker == "customer", reading_out=True, categories=self.categories)
        if CARD in red.kinds or CARD_CONTEXT.search(" ".join(w.w for w in words)):
            # card talk is a state: the read-out goes on in the next utterances, of both speakers
            # from its card digits on, or after the words that asked for them ("the sixteen digit number")
            t = raw.start if CARD in red.kinds else raw.end
            if first:
                self._begin(t)
            elif self._open():
                self._talk[-1][0] = min(self._talk[-1][0], t)  # the re-decode heard it begin earlier
            elif not self.card_talk_at(raw.start):
                # only the re-decode heard it ("Could you read me the long card number?" heard as "... the
                # long hard number" first): card talk from there, as if the first pass had heard it, up to
                # card talk the first pass found later. Utterances whose text waits for their own second
                # pass are masked with it (`card_talk_at`); those to come, by `said`.
                later = [a for a, _ in self._talk if a > t]
                self._talk = sorted([*self._talk, [t, min(later, default=float("inf"))]])
                if not later:
                    self._off = [0, 0]
        talk = self.card_talk_at(raw.start) or CARD_CONTEXT.search(context)
        if raw.speaker == "customer" and talk and not red.spans and _dropped_words(raw, words):
            # the customer answered card talk and the recognizer heard almost nothing in seconds of
            # speech ("Yes. It is..." for a read-out): what it could not hear is kept from disk too
            first_word = words[0] if words else Word(CARD, raw.start, raw.end)
            red = Redaction([Word(CARD, first_word.start, first_word.end, 1.0)], CARD, [(raw.start, raw.end)], [CARD])
        elif raw.speaker == "customer" and reading_out and not red.spans and _misheard_group(raw, words):
            # a group heard as other words ("Free" for "three seven", "I'm on it, it's good" for "Hang on, it's
            # two two seven two"): its audio is silenced, and where words that may be digits are half of it
            # ("So, for") they are masked ("Oh, okay. Can you remove it?" keeps its "Oh")
            numberish = [w for w in words if _digits_of(w.w) is not None]
            asked = ASKING.search(" ".join(context.lower().split()[-12:]))
            if asked and numberish:  # the answer to "the last three on the back?", heard as words: masked whole
                kind = EXPIRY if EXPIRY_QUESTION.search(asked.group(0)) else CODE
                out = [Word(kind, words[0].start, words[-1].end, 1.0)]
                red = Redaction(out, kind, [(raw.start, raw.end)], [kind])
            else:
                out = [Word(CARD, w.start, w.end, 1.0) if w in numberish and len(numberish) * 2 >= len(words) else w for w in words]
                red = Redaction(out, " ".join(w.w for w in out), [(raw.start, raw.end)], [CARD])
        if raw.speaker == "customer" and (talk or reading_out):
            red = _code_after_its_name(red)
        last = max((w.end for w in words), default=raw.end)
        for (a, b), kind in zip(red.spans, red.kinds):
            # Whisper drops digits from a long read-out; what it missed is still card data,
            # so the audio is silenced from the first masked digit to the end of the utterance;
            # and it places a word's start late (the onset of "five" was audible after "here we go")
            # and the last word's end early (the "five" of a code "six one five" went on 0.3 s past it)
            # in card talk a card's digits are silenced from the start of the line: on a phone line the
            # VAD begins it late and Whisper hears the first digits as words ("I don't" for "three four")
            a = min(a, raw.start) if reading_out and kind == CARD else a if a <= raw.start else max(raw.start, a - ONSET_S)
            to_end = kind == CARD or kind in (CODE, EXPIRY) and b >= last - 0.01
            self._silence((round(a, 3), round(max(b, raw.end) if to_end else b, 3)))
        return red

    def _silence(self, span: Span) -> None:
        if span not in self.spans:
            self.spans.append(span)
            self.silence(span)


def _by_state(seen: list[_Seen], words: list[Word]) -> list[tuple[_Seen, list[Word]]]:
    """A re-decode's words in stretches of the first pass's lines that were in card talk and that
    were not: each word goes with the line it lies in (or the last one before it)."""
    parts: list[tuple[_Seen, list[Word]]] = []
    for w in words:
        at = [s for s in seen if s.start <= w.mid] or seen[:1]
        if not at:
            return []
        line = at[-1]
        if parts and parts[-1][0].reading_out == line.reading_out:
            parts[-1][1].append(w)
        else:
            parts.append((line, [w]))
    return parts


def _code_after_its_name(red: Redaction) -> Redaction:
    """In card talk, what the customer says right after naming the code ("and the code on the back is")
    is the code, whatever the recognizer made of it ("sent to the line for the line", "I'm [security
    code]" for "nine one five"): up to the end of the sentence or the code heard as digits."""
    out = red.words
    k = next((i + 1 for i in range(len(out) - 1) if CODE_NAMED.search(" ".join(w.w.strip(".,?!") for w in out[max(0, i - 8):i + 1]))), None)
    if k is None or out[k].w in MASKS:
        return red
    stop = k
    while stop < min(len(out), k + CODE_SAID_WORDS):
        stop += 1
        if out[stop - 1].w in MASKS or out[stop - 1].w[-1] in ".?!":
            break
    kind = next((w.w for w in out[k:stop] if w.w in MASKS), CODE)
    out = [*out[:k], Word(kind, out[k].start, out[stop - 1].end, 1.0), *out[stop:]]
    return Redaction(out, " ".join(w.w for w in out), [*red.spans, (out[k].start, out[k].end)], [*red.kinds, kind])


def _mask_spans(red: Redaction, spans: list[Masked]) -> Redaction:
    """Words of one pass inside what the other pass masked are masked too: the two hear digits
    differently, and what either took for payment data is payment data."""
    out: list[Word] = []
    for w in red.words:
        hit = next((k for a, b, k in spans if w.start < b and w.end > a), None)
        if hit is None or w.w == hit:
            out.append(w)
        elif out and out[-1].w == hit and out[-1].end >= w.start - 0.5:
            out[-1] = Word(hit, out[-1].start, max(out[-1].end, w.end), 1.0)
        else:
            out.append(Word(hit, w.start, w.end, 1.0))
    return Redaction(out, " ".join(w.w for w in out), red.spans, red.kinds)


def _misheard_group(u: Utterance, words: list[Word]) -> bool:
    """A short line in card talk that says nothing else: not an acknowledgement, a search for the
    card, a correction, a question about the card or the payment, another number's name."""
    text = " ".join(w.w for w in words)
    said = [_plain(w.w) for w in words if _plain(w.w) not in FILLERS]
    return (bool(said) and u.end - u.start <= UNHEARD_S and not all(w in CONFIRMS for w in said)
            and not any(c in text for c in ":$£€") and not any(w in CURRENCY for w in said)  # a time, a price
            and not any(w in FAREWELLS for w in said) and not any(c in text.lower() for c in LAST_FOUR)
            and not any(r.search(text) for r in (SEARCHING, CARD_CONTEXT, ASKING, PAID, OTHER_NUMBER, OWN_LINE)))


def _dropped_words(u: Utterance, words: list[Word]) -> bool:
    """Seconds of speech heard as a word or two: the recognizer dropped what was said."""
    return u.end - u.start >= 3.0 and len(words) / (u.end - u.start) < 1.0


def _digits_in(words: list[Word]) -> bool:
    return any(_digits_of(w.w) is not None and _plain(w.w) not in ("o", "oh", "to", "too", "for", "won", "ate", "free")
               for w in words)


def _group(words: list[Word]) -> str | None:
    """The digits of a bare group ("Five four two five.", "Okay, here we go. 4539.", "1488, um, 0343",
    "No, sorry, 4177."): two or more digits in a short utterance, or that are at least half of its
    words (fillers aside), and no price."""
    said = [w for w in words if _plain(w.w) not in FILLERS]
    digits, i, numbered = "", 0, 0
    while i < len(said):
        run, j = _number_run(said, i)
        if j > i:
            if j < len(said) and _plain(said[j].w) in CURRENCY:
                return None
            if i and _plain(said[i - 1].w) in COUNTED_BY or j < len(said) and _plain(said[j].w) in COUNTS:
                i = j  # a length or an ordinal named ("the sixteen digits", "the 16th"): no group of a read-out
                continue
            digits += run
            numbered += j - i
            i = j
        else:
            i += 1
    return digits if len(digits) >= 2 and (numbered * 2 >= len(said) or len(said) <= 6) else None


def _half_heard(s: _Seen) -> str | None:
    """A group heard half as words ("three -pampered wallet" for "three seven one" on a phone line): a
    line of a few words, at most UNHEARD_S long, that begins with a digit said plainly. Its digits,
    or None."""
    said = [w for w in s.words if _plain(w.w) not in FILLERS]
    if not said or len(said) > 4 or s.end - s.start > UNHEARD_S or not is_plain_digit(said[0].w):
        return None
    run, j = _number_run(said, 0)
    return run if j == len(said) or _plain(said[j].w) not in CURRENCY | UNITS else None


def _substantive(s: _Seen) -> bool:
    """Talk that ends a run of digit groups: not an acknowledgement ("okay", "yes", "go on"), nor a
    short line that may be a group heard as words ("So, time went big." for "oh seven six")."""
    said = [_plain(w.w) for w in s.words if _plain(w.w) not in FILLERS]
    other = len([w for w in said if w not in ACKS])
    return other >= 3 and (s.end - s.start > UNHEARD_S or other >= 6)


def categories(p: PrivacySettings) -> frozenset[str]:
    """The opt-in kinds the settings turn on (the banking preset: all of them)."""
    banking = p.preset == "banking"
    chosen = ((p.national_id, NATIONAL_ID), (p.bank_account, ACCOUNT), (p.sort_code, SORT_CODE), (p.iban, IBAN))
    return frozenset(kind for on, kind in chosen if on or banking)


def _adds_up(digits: str) -> bool:
    """Do a run's digits add up to a card: RUN_DIGITS of them, or 13-19 that pass Luhn?"""
    return len(digits) >= RUN_DIGITS or 13 <= len(digits) <= 19 and luhn_ok(digits)


def _quads(digits: str) -> list[str]:
    """Its runs of four digits in a row, one from each position."""
    return [digits[k:k + 4] for k in range(len(digits) - 3)]


def _echoed(group: str, said: str) -> bool:
    """Is a group in a read-back, as the two were heard? A short group whole; a long one (a card said
    in one breath, "34 .0723 .8 and 775 .5 .5 .2" against the agent's "3 4 0 7 2 3 8 8 7 7 5 ...") in
    runs of four of its digits, most of them: tiny.en drops and doubles digits in a long read-out."""
    if len(group) < 8:
        return group in said
    quads = _quads(group)
    return sum(q in said for q in quads) * 2 > len(quads)


def _repeats(digits: str, before: str) -> bool:
    """Were these digits said already in the run (a read-back, a repeat)? Every four in a row of
    them was, give or take a digit heard differently ("0 4 5 7 2 and 1 1 3 9 8" after "04572",
    "one 1 1 3 9 8")."""
    if len(digits) < 3:
        return False
    if len(digits) < 5:
        return digits in before
    return all(q in before for q in _quads(digits))

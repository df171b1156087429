"""Thousands of card read-outs, generated (issue #27): groupings (4-4-4-4, Amex 4-6-5, pairs, odd
splits, one breath), digits as words or numerals, "oh", "double"/"triple", teens and tens
("forty five thirty nine"), fillers, pauses of 0.5-30 s, the agent reading back, partial repeats
and corrections, the code before or after its question, with a card word, with only a request
("the long number") or with nothing at all. Each call goes through the pipeline's text path
(tests/payment_script.py); no run of digits in what it keeps may hold a digit group of the card,
the code or the expiry, and every utterance with one is silenced in the recording. The order
number said after the payment must survive: the gate is not allowed to win by masking everything.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_script import number_runs, run, stored, utterances

from coach.privacy.redact import luhn_ok

ONES = "zero one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = {"2": "twenty", "3": "thirty", "4": "forty", "5": "fifty", "6": "sixty", "7": "seventy", "8": "eighty", "9": "ninety"}
FILLERS = ["and", "um,", "er,", "uh,", "-"]
CARD_ASK = ["Can I take your card number please?", "What's the number on your Visa?", "Could you read me the long card number?"]
REQUEST_ONLY = ["To pay today, can I take the sixteen digit number please?", "Can I take the long number please?",
                "And the numbers on the front, when you're ready.", "Read me the sixteen digits, please."]
NO_ASK = ["Go ahead whenever you are ready.", "Okay, I'm listening."]
CODE_ASK = ["And the three numbers printed on the back?", "And the security code?", "And the last three on the back?"]
PAID = "Thank you, that payment has gone through."


def card(rng: random.Random, amex: bool) -> str:
    """A card number that passes Luhn (what a real one does)."""
    body = (rng.choice(["34", "37"]) if amex else rng.choice(["4", "51", "55", "6011"]))
    n = 15 if amex else 16
    while len(body) < n - 1:
        body += str(rng.randrange(10))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def split(digits: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for n in sizes:
        if i < len(digits):
            out.append(digits[i:i + n])
            i += n
    if i < len(digits):
        out.append(digits[i:])
    return out


def say(group: str, style: str) -> str:
    """A group as a caller says it, in one of the ways recognizers write it."""
    if style == "numerals":
        return group
    if style == "pairs":  # "forty five thirty nine", "oh three", "ten", "fourteen"
        parts = []
        for k in range(0, len(group), 2):
            pair = group[k:k + 2]
            if len(pair) == 1:
                parts.append(ONES[int(pair)])
            elif pair[0] == "0":
                parts.append("oh " + ONES[int(pair[1])])
            elif pair[0] == "1":
                parts.append(TEENS[int(pair[1])])
            else:
                parts.append(TENS[pair[0]] + ("" if pair[1] == "0" else " " + ONES[int(pair[1])]))
        return " ".join(parts)
    words, k = [], 0
    while k < len(group):
        d = group[k]
        same = len(group[k:]) - len(group[k:].lstrip(d))
        if style == "doubles" and same >= 2:
            n = min(same, 3)
            words.append(("double " if n == 2 else "triple ") + ONES[int(d)])
            k += n
            continue
        # a lone "oh" is also the exclamation: a group of one 0 is said "zero" (docs/privacy.md: not caught)
        words.append("oh" if d == "0" and style in ("oh", "doubles") and len(group) > 1 else ONES[int(d)])
        k += 1
    return " ".join(words)


@dataclass
class Call:
    turns: list[tuple[str, str, float]] = field(default_factory=list)
    secret: list[bool] = field(default_factory=list)  # which turns say card data
    secrets: list[str] = field(default_factory=list)  # every digit group said of the card, code or expiry
    order: str = ""

    def add(self, who: str, text: str, gap: float, secret: bool = False) -> None:
        self.turns.append((who, text, gap))
        self.secret.append(secret)


@st.composite
def calls(draw: st.DrawFn, ask: str) -> Call:
    rng = random.Random(draw(st.integers(0, 2**32)))
    amex = draw(st.booleans())
    number = card(rng, amex)
    grouping = draw(st.sampled_from(["4s", "amex" if amex else "4s", "pairs", "odd", "breath", "fillers"]))
    sizes = {"4s": [4] * 5, "amex": [4, 6, 5], "pairs": [2] * 10,
             "odd": [rng.choice([3, 4, 5]) for _ in range(8)], "breath": [4] * 5, "fillers": [4] * 5}[grouping]
    groups = split(number, sizes)
    styles = [draw(st.sampled_from(["numerals", "words", "oh", "doubles", "pairs"])) for _ in groups]
    spoken = [say(g, s) for g, s in zip(groups, styles)]
    code = "".join(str(rng.randrange(10)) for _ in range(4 if amex else 3))
    c = Call(secrets=[g for g in groups if len(g) >= 2] + [code])
    gap = st.one_of(st.floats(0.5, 2.0), st.floats(0.5, 30.0))
    if ask == "card":
        c.add("agent", rng.choice(CARD_ASK), 0.5)
    elif ask == "request":
        c.add("agent", rng.choice(REQUEST_ONLY), 0.5)
    else:
        c.add("agent", rng.choice(NO_ASK), 0.5)
    if ask != "none" and draw(st.booleans()):  # a search for the card, however long
        c.add("customer", "Sure, hold on, let me find it, it is in my bag somewhere.", 0.6)
        c.add("customer", "Okay, here we go.", draw(st.floats(0.5, 30.0)))
    code_before = draw(st.booleans())
    if grouping in ("breath", "fillers"):
        glue = (lambda: " " + rng.choice(FILLERS) + " ") if grouping == "fillers" else (lambda: ", ")
        text = spoken[0]
        for s in spoken[1:]:
            text += glue() + s
        c.add("customer", rng.choice(["", "It's ", "Sure, it's "]) + text + ".", draw(gap), secret=True)
    else:
        for k, s in enumerate(spoken):
            c.add("customer", s + ".", draw(gap) if k else 0.8, secret=True)
            if k and len(groups[k]) >= 2 and draw(st.integers(0, 9)) == 0:  # a partial repeat or a correction
                wrong = say(str((int(groups[k][0]) + 1) % 10) + groups[k][1:], "words")
                c.add("customer", rng.choice(["Sorry, that was " + s + ".", "No, sorry, " + s + ".",
                                              wrong + ", no sorry, " + s + "."]), 0.5, secret=True)
                c.secrets.append(str((int(groups[k][0]) + 1) % 10) + groups[k][1:])
            if draw(st.integers(0, 5)) == 0:
                c.add("agent", rng.choice(["Okay.", "Yes.", "Mm-hmm.", "Go on."]), 0.4)
    if draw(st.booleans()):  # the agent reads it back, in other words than the customer's
        back = " ".join(say(g, draw(st.sampled_from(["numerals", "words", "pairs"]))) for g in groups)
        c.add("agent", "Let me read that back. " + back + ".", 0.6, secret=True)
        c.add("customer", "Yes, that's right.", 0.4)
    said_code = say(code, draw(st.sampled_from(["numerals", "words", "oh"])))
    if ask != "none" or code_before:
        if code_before:  # the code before its question, with the word that names it
            c.add("customer", "And the code on the back is " + said_code + ".", draw(gap), secret=True)
        else:
            c.add("agent", rng.choice(CODE_ASK), 0.6)
            c.add("customer", rng.choice(["", "It's ", "Hang on. It's "]) + said_code + ".", draw(gap), secret=True)
    else:
        c.secrets.remove(code)
    if draw(st.booleans()):
        mm, yy = f"{rng.randrange(1, 13):02d}", str(rng.randrange(26, 33))
        c.add("agent", "And the expiry date?", 0.5)
        c.add("customer", say(mm, "oh") + " " + say(yy, "pairs") + ".", 0.6, secret=True)
        c.secrets.append(mm + yy)
    c.add("agent", PAID, 0.6)
    c.order = "".join(rng.choice("123456789") for _ in range(5))
    while any(s in c.order or c.order in s for s in c.secrets):
        c.order = "".join(rng.choice("123456789") for _ in range(5))
    c.add("agent", "Your order number is " + say(c.order, "words") + ".", 0.5)
    return c


def check(c: Call, second_pass: bool = True) -> None:
    p = run(c.turns, second_pass=second_pass)
    kept = stored(p)
    allowed = [r for (_, text, _), secret in zip(c.turns, c.secret) if not secret for r in number_runs(text)]
    allowed_ever = set(allowed)
    # every run of digits kept is one a turn without card data said ("sixteen digits", the order
    # number), so no digit group of the card, the code or the expiry is kept, in any spelling
    for r in number_runs(kept):
        assert r in allowed, f"{r!r} kept from {[t[1] for t in c.turns]}:\n{kept}"
        allowed.remove(r)
    # ... nor was any shown or held on the way (a crash, a periodic save of the session file)
    for text in p.ever:
        for r in number_runs(text):
            assert r in allowed_ever, f"{r!r} shown on the way from {[t[1] for t in c.turns]}:\n{text}"
    for u, secret in zip(utterances(c.turns), c.secret):
        if secret:  # the audio of every turn with card data is silenced, from its first digit on
            last = u.words[-1]
            assert any(a <= last.start + 0.01 and b >= last.end - 0.01 for a, b in p.redactions), (u.text, p.redactions)
    assert " ".join(say(c.order, "words").split()) in kept, kept  # the order number after the payment stays


# the same examples every run, so the fast tier never fails on a draw nobody can repeat;
# PAYMENT_EXPLORE=N draws N fresh ones per test instead (how the fixes in the log were found)
EXPLORE = int(os.environ.get("PAYMENT_EXPLORE", "0"))


def tier(n: int) -> settings:
    return settings(max_examples=EXPLORE or n, derandomize=not EXPLORE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


FAST = tier(500)


@FAST
@given(calls("card"))
def test_read_outs_after_a_card_word(c: Call):
    check(c)


@FAST
@given(calls("request"))
def test_read_outs_after_a_request_without_a_card_word(c: Call):
    check(c)


@tier(300)
@given(calls("card"))
def test_read_outs_without_a_second_pass(c: Call):
    check(c, second_pass=False)


@tier(300)
@given(calls("none"))
def test_read_outs_known_only_by_their_shape(c: Call):
    """No card word, no request: the groups add up to a card; the second pass (on by default)
    lets the gate mask the groups said before it knew."""
    check(c)

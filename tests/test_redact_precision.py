"""What the payment gate costs: numbers that are not payment data (an order or case number said
once, a phone number, a date, a price, a time) must stay, or a coach cannot say "read the order
number back". Two sets of calls go through the pipeline's text path: the Harper Valley bank calls'
human transcripts (tests/data/harper_valley: phone numbers read in groups, amounts, times, a lost
credit card) and scripted calls with such numbers beside card payments. Every run of digits said
is counted; it is lost when the stored text no longer has it.

    .venv/bin/python tests/test_redact_precision.py   # prints the figures (README, Privacy)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from payment_script import Turn, number_runs, run

from coach.config.settings import Settings

HV = Path(__file__).parent / "data" / "harper_valley"
CARD_TURN = "[card]"  # a turn that is card data itself: not counted

# (speaker, text): turns marked CARD_TURN are the card read-out, not counted
SCRIPTED: list[list[tuple[str, str]]] = [
    [("agent", "Can I have your order number please?"), ("customer", "It's four five seven one two nine."),
     ("agent", "Four five seven one two nine, thank you. It should arrive in 3 to 5 days."),
     ("customer", "It was meant to come on the 14th of March.")],
    [("agent", "What's the best phone number to reach you on?"), ("customer", "oh seven seven double oh"),
     ("customer", "nine double oh"), ("customer", "one two three"), ("agent", "So that's 07700 900123.")],
    [("agent", "The plan is forty nine ninety nine a month."), ("customer", "And the other one?"),
     ("agent", "That one is £29.99, or 12 pounds 50 for the basic.")],
    [("agent", "The engineer comes between nine and five, usually around ten thirty."),
     ("customer", "Can they come at 3 pm instead?")],
    [("agent", "I have raised a complaint for you. Your case number is 8 8 2 1 5 3 4."),
     ("customer", "8 8 2 1 5 3 4, got it.")],
    [("agent", "That comes to 129 pounds. Can I take the long number on your card?"),
     ("customer", "4539 1488 0343 6467", CARD_TURN), ("agent", "And the three numbers on the back?"),
     ("customer", "829", CARD_TURN), ("agent", "Thanks, that's gone through. Your confirmation number is 5 5 1 2 8 3."),
     ("customer", "5 5 1 2 8 3, thanks.")],
    [("agent", "Can I take your card number?"), ("customer", "Sure, four five three nine one four eight eight zero three four "
                                                            "three six four six seven.", CARD_TURN),
     ("agent", "Lovely. Now about the delivery, when would suit you best?"),
     ("customer", "Mornings are better for me because I work late most days."),
     ("agent", "Okay, I will book a morning slot for you then, that is fine."),
     ("customer", "The 21st would be ideal, flat 12, 45 High Street.")],
    [("agent", "Can I take your date of birth?"), ("customer", "oh four, oh nine, nineteen eighty two.")],
    [("customer", "My meter reading is 0 4 5 7 2."), ("customer", "And the second one is 1 1 3 9 8."),
     ("agent", "0 4 5 7 2 and 1 1 3 9 8, thank you.")],
    [("customer", "My account number is 12345678 and I was charged twice."),
     ("agent", "I can see two payments of 35 pounds on the 2nd.")],
    [("agent", "Which card would you like to replace?"), ("customer", "The one ending 6467."),
     ("agent", "Okay, it will arrive in 3 to 5 working days."), ("customer", "I have 2 cards, the other is fine.")],
    [("customer", "I want to pay 40 pounds off my bill."), ("agent", "Can I take the card number please?"),
     ("customer", "5425 2334 3010 9903", CARD_TURN), ("agent", "And the expiry?"), ("customer", "oh four twenty seven", CARD_TURN),
     ("agent", "The payment of 40 pounds has been approved."), ("agent", "Your reference is 7 7 3 0 1 9."),
     ("customer", "Thanks, and can you call me back at 5 pm on 0161 496 0000?")],
]


def hv_calls() -> list[list[tuple[str, str]]]:
    calls = []
    for f in sorted(HV.glob("*.transcript.json")):
        turns = sorted(json.loads(f.read_text()), key=lambda u: u["start_ms"])
        calls.append([("agent" if t["speaker_role"] == "agent" else "customer", t["human_transcript"])
                      for t in turns if t["human_transcript"].strip()])
    return calls


def other_scripts() -> list[list[tuple[str, str]]]:
    """The project's other scripted calls (cues, hold-outs, voice): not written for the gate."""
    calls = []
    for f in sorted((Path(__file__).parent / "data").glob("scenarios*.json")):
        if "payment" not in f.name:
            calls += [[(t["who"], t["text"]) for t in c["turns"]] for c in json.loads(f.read_text())]
    return calls


def loss(calls: list[list[tuple]], settings: Settings | None = None) -> tuple[int, int, list[str]]:
    """(numbers lost, numbers said, what was lost) over calls of (speaker, text[, CARD_TURN])."""
    said = lost = 0
    examples = []
    for call in calls:
        turns: list[Turn] = [(t[0], t[1], 0.6) for t in call]
        p = run(turns, settings)
        for t, u in zip(call, p.utterances):
            if len(t) > 2:
                continue  # the card read-out itself
            runs = number_runs(t[1])
            kept = Counter(number_runs(u.text))
            for r in runs:
                said += 1
                if kept[r] > 0:
                    kept[r] -= 1
                else:
                    lost += 1
                    examples.append(f"{r!r} in {t[1]!r} -> {u.text!r}")
    return lost, said, examples


def silenced_lines(calls: list[list[tuple]], settings: Settings | None = None) -> tuple[int, int, list[str]]:
    """(lines without a number whose audio was silenced, lines without a number, which): card talk
    silences a short line of the customer's that may be a group misheard ("How did it do?")."""
    lines = hit = 0
    examples = []
    for call in calls:
        p = run([(t[0], t[1], 0.6) for t in call], settings)
        for t, u in zip(call, p.utterances):
            if len(t) > 2 or number_runs(t[1]):
                continue
            lines += 1
            if any(a < u.end and b > u.start for a, b in p.redactions):
                hit += 1
                examples.append(f"{t[0]}: {t[1]!r}")
    return hit, lines, examples


def banking() -> Settings:
    s = Settings()
    s.privacy.preset = "banking"
    return s


def test_numbers_that_are_not_payment_data_are_kept():
    figures = [(name, *loss(calls)) for name, calls in (("Harper Valley", hv_calls()), ("scripted", SCRIPTED),
                                                         ("other scripts", other_scripts()))]
    print("", *(f"{name}: {lost} of {said} numbers lost" for name, lost, said, _ in figures), sep="\n")
    for name, lost, said, what in figures:
        assert said >= 40, name  # the sets are what they say they are
        assert lost <= said * 0.05, (name, what)


def test_the_banking_preset_costs_only_what_it_masks_on_purpose():
    lost, said, what = loss(SCRIPTED, banking())
    default_lost, _, default_what = loss(SCRIPTED)
    extra = [w for w in what if w not in default_what]
    assert lost - default_lost == len(extra) and all("account" in w.lower() for w in extra), extra


def main() -> None:
    for name, calls in (("Harper Valley (17 bank calls, human transcripts)", hv_calls()),
                        ("payment calls with other numbers (12, written with the gate)", SCRIPTED),
                        ("the project's other scripted calls (30, not written for it)", other_scripts())):
        for preset, s in (("payments", None), ("banking", banking())):
            lost, said, what = loss(calls, s)
            print(f"{name}, preset {preset}: {lost} of {said} non-payment numbers lost ({100 * lost / said:.1f} %)")
            for w in what:
                print("   ", w)
        hit, lines, which = silenced_lines(calls)
        print(f"{name}: {hit} of {lines} lines without a number silenced in the recording")
        for w in which:
            print("   ", w)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()

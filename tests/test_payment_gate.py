"""The payment gate (issue #27): read-outs without a card word, after a long search, joined by
fillers, or known only by their shape; card talk that ends when the conversation moves on; the
opt-in banking categories; a second decode of the same speech masked at least as the first."""

from __future__ import annotations

import pytest
from payment_script import number_runs, run, stored

from coach.config.settings import PrivacySettings, Settings
from coach.core.events import Utterance, Word
from coach.privacy.payment_gate import PaymentGate, categories
from coach.privacy.redact import ACCOUNT, CARD, IBAN, NATIONAL_ID, SORT_CODE, redact


def words(text: str, start: float = 0.0) -> list[Word]:
    return [Word(w, start + i * 0.4, start + i * 0.4 + 0.3) for i, w in enumerate(text.split())]


def leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    """The secrets (digit strings) any run of digits in the stored text still holds."""
    runs = number_runs(text)
    return [s for s in secrets if any(s in r for r in runs)]


CARD_1 = ("4539", "1488", "0343", "6467")


@pytest.mark.parametrize("second_pass", [True, False])
def test_no_card_word_sixteen_digits_then_the_three_numbers_on_the_back(second_pass: bool):
    p = run([("agent", "To pay today, can I take the sixteen digit number please?", 0.5),
             ("customer", "Four five three nine.", 0.8), ("customer", "One four eight eight.", 1.3),
             ("customer", "Zero three four three.", 1.3), ("customer", "Six four six seven.", 1.3),
             ("agent", "And the three numbers printed on the back?", 0.6), ("customer", "Eight two nine.", 0.7),
             ("agent", "Thank you, that payment has gone through.", 0.6)], second_pass=second_pass)
    text = stored(p)
    assert leaks(text, (*CARD_1, "829")) == []
    assert text.count(CARD) == 4 and "[security code]" in text
    for u in p.utterances[1:5] + p.utterances[6:7]:  # every group's audio is silenced
        assert any(a <= u.start + 0.01 and b >= u.end - 0.4 for a, b in p.redactions), (u.text, p.redactions)


def test_card_talk_outlasts_a_long_search_for_the_card():
    p = run([("agent", "Can I take your card number?", 0.5),
             ("customer", "Sure, hold on, I need to find my card, it is in my bag somewhere.", 0.6),
             ("customer", "Okay, here we go. Five four two five.", 24.0), ("customer", "Five four two five.", 1.2),
             ("customer", "Five four two five.", 1.2), ("customer", "Five four two five.", 1.2)], second_pass=False)
    assert leaks(stored(p), ("5425",)) == []
    assert "here we go" in stored(p).lower()  # only the digits are masked


@pytest.mark.parametrize("said", [
    "My Visa number is four five three nine and one four eight eight and zero three four three and six four six seven.",
    "My Visa number is 4539 and 14880 and 03433 and 6467",  # as tiny.en wrote it
    "it's 4539, um, 1488, er, 0343 - 6467",
])
def test_groups_joined_by_fillers_are_one_run(said: str):
    p = run([("customer", said, 0.5)], second_pass=False)
    assert leaks(stored(p), ("4539", "1488", "0343", "6467")) == [] and CARD in stored(p)


@pytest.mark.parametrize("said", ["4539, um, 1488", "nine, er, one four", "4539 - 1488"])
def test_fillers_inside_a_read_out_do_not_split_it(said: str):
    r = redact(words(said), reading_out=True)
    assert number_runs(r.text) == [] and r.kinds == [CARD]


def test_a_read_out_by_its_shape_alone_is_masked_back_to_its_first_group():
    """No card word, no request: four bare groups of four from the customer, read back by the agent."""
    turns = [("agent", "Go ahead whenever you are ready.", 0.5)]
    turns += [("customer", g, 1.3) for g in ("4539", "1488", "0343", "6467")]
    turns += [("agent", "4539 1488 0343 6467", 0.6), ("customer", "Yes.", 0.4)]
    for second_pass in (True, False):  # each group's text waits for the gate, as for its second pass
        p = run(turns, second_pass=second_pass)
        assert leaks(stored(p), CARD_1) == []
        for u in [u for u in p.utterances if u.speaker == "customer"][:4]:  # and its audio is silenced
            assert any(a <= u.start + 0.01 and b >= u.end - 0.4 for a, b in p.redactions)


def test_a_group_waits_for_the_gate_only_so_long():
    spans: list[tuple[float, float]] = []
    g = PaymentGate(spans.append)
    group = Utterance("customer", 1.0, 2.0, "4539", [Word("4539", 1.0, 1.5)])
    g.said(group)
    assert g.undecided(1.0, now=3.0) and g.undecided(1.0, now=30.0) and not g.undecided(1.0, now=40.0)
    # meanwhile it is shown and stored as a number, not as its digits
    assert g.pending(redact(group.words)).text == "[number]"
    g.said(Utterance("customer", 4.0, 7.0, "sorry I meant the reference on the letter", words("sorry I meant the reference")))
    assert not g.undecided(1.0, now=3.0)  # another number was named: the group was not a card's


def test_a_phone_number_read_in_groups_and_read_back_is_kept():
    p = run([("customer", "my phone number is five eight eight", 0.5), ("customer", "seven five seven", 0.8),
             ("customer", "two two nine eight", 0.8), ("agent", "five eight eight", 0.6),
             ("agent", "seven five seven two two nine eight", 0.3)])
    assert p.redactions == [] and "two two nine eight" in stored(p)


def test_card_talk_ends_when_the_payment_goes_through_or_the_talk_moves_on():
    p = run([("agent", "Can I take the long number please?", 0.5), ("customer", "4539 1488 0343 6467", 0.8),
             ("agent", "Thank you, that payment has gone through.", 0.6),
             ("agent", "The delivery comes in 2 parts, the second on the 14th.", 0.5)])
    assert "2 parts" in stored(p) and "14th" in stored(p)
    p = run([("agent", "Can I take your card number?", 0.5), ("customer", "4539 1488 0343 6467", 0.8),
             ("agent", "Lovely. Now about the delivery, when would suit you best?", 0.6),
             ("customer", "Mornings are better for me because I work late most days.", 0.6),
             ("agent", "Okay, I will book a morning slot for you then, that is fine.", 0.6),
             ("customer", "Flat 12 please, the buzzer is broken.", 0.6)])
    assert "Flat 12" in stored(p)
    p = run([("agent", "Can I take your card number?", 0.5), ("customer", "4539 1488 0343 6467", 0.8),
             ("agent", "Thanks. And your order number is 7 3 1 5 2.", 0.6)])
    assert "7 3 1 5 2" in stored(p)


def test_a_code_said_before_another_topic_in_one_breath_is_masked():
    """The answer goes on to another number's name ("address"): the code before it is still the answer."""
    p = run([("agent", "Can I take your card number?", 0.5), ("customer", "4539 1488 0343 6467", 0.8),
             ("agent", "And the three numbers on the back?", 0.6),
             ("customer", "829, and can you also change my address?", 0.6),
             ("agent", "Of course. Your order number is 7 3 1 5 2.", 0.6)])
    assert "829" not in stored(p) and "[security code]" in stored(p) and "change my address" in stored(p)
    assert "7 3 1 5 2" in stored(p)  # card talk still ends there


def test_a_read_back_in_one_breath_confirms_the_groups_before_it():
    """Groups short of a card's length by the time the agent reads them back whole: the read-back
    is a card number, and the groups it repeats were its read-out (tiny.en heard "4. I made 7." for
    "four five eight seven", so the groups alone came to 12 digits)."""
    p = run([("agent", "Go ahead whenever you are ready.", 0.5), ("customer", "3 4 1", 0.8), ("customer", "9 .5 .9 .2 .8.", 2.0),
             ("customer", "54.", 1.0), ("customer", "4. I made 7.", 29.0),
             ("agent", "Let me read that back 3 4 1 9 5 9 2 8 54 4 5 8 7", 0.6), ("customer", "Yes, that's right.", 0.4)])
    assert leaks(stored(p), ("341", "95928")) == [] and "3 4 1" not in stored(p) and "54" not in stored(p)
    for u in p.utterances[1:4]:
        assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), (u.text, p.redactions)
    assert "Yes, that's right." in stored(p)


def test_a_card_said_in_one_breath_and_read_back_as_heard_otherwise_is_masked():
    """No card word; an Amex read out in one breath, heard as 13 digits (no Luhn, short of a card), and the
    agent's read-back heard with a digit doubled: the read-back confirms the caller's line all the same."""
    p = run([("agent", "Go ahead whenever you are ready.", 0.5), ("customer", "It's 34 .0723 .8 and 775 .5 .5 .2.", 0.8),
             ("agent", "Let me read that back 3 4 0 7 2 3 8 8 7 7 5 5 5 2 1", 1.0), ("customer", "Yes, that's right.", 0.4)])
    text = stored(p)
    assert leaks(text, ("0723", "775", "34")) == [] and "Yes, that's right." in text
    u = p.utterances[1]
    assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), p.redactions


def test_a_request_for_the_sixteen_digits_heard_with_another_noun_is_card_talk():
    """"Read me the sixteen digits" heard as "the 16 pickets", a long search, then two groups and the
    rest of the read-out lost to the line: card talk from the request, so the groups are masked."""
    p = run([("agent", "Could you read me the 16 pickets, please?", 0.5),
             ("customer", "Hold on, let me find it, it's somewhere in my bag.", 1.0),
             ("customer", "Five five two nine.", 17.0), ("customer", "Three five four.", 1.3),
             ("agent", "Okay, and what is your order about today? I can see the account here.", 3.0),
             ("customer", "It is about the missing parcel from last week.", 1.0),
             ("agent", "Right, I will look into the parcel and call you back tomorrow morning.", 40.0)])
    assert leaks(stored(p), ("5529", "354")) == [] and "missing parcel" in stored(p)


@pytest.mark.parametrize("after_s", [2.0, 40.0])
def test_a_first_pair_only_the_second_pass_heard_as_digits_is_part_of_the_read_out(after_s: float):
    """A card read in pairs without a card word; the first pass heard the first pair as words ("Fort, he
    five."), the second pass as "45,": it belongs to the run of pairs after it, whether its second pass
    is in while the run is still adding up or after the run was found (held for the gate meanwhile)."""
    pairs = ["39.", "14.", "88.", "03.", "43.", "64.", "67."]
    turns = [("agent", "Okay, go ahead whenever you are ready.", 0.5), ("customer", "Fort, he five.", 0.8),
             *(("customer", x, 1.5) for x in pairs), ("agent", "Thank you. And what is the name on the account?", 0.6),
             ("customer", "It is Jane Smith, with an i in Smith.", 0.6)]
    s = Settings()
    s.model.second_keep_s = 45.0
    p = run(turns, s, again={1: "45,"}, again_after_s=after_s)
    text = stored(p)
    assert leaks(text, ("4539", "45", "39")) == [] and "Jane Smith" in text, text
    u = p.utterances[1]
    assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), p.redactions


def test_a_run_broken_by_a_line_the_second_pass_heard_as_a_group_goes_on():
    """Pairs without a card word on a phone line (explore, 2026-12-07): the first pass heard "thirty seven"
    as "30 pamorant" (a group half heard), "six three" as "6th 3" and "eight seven. No, sorry, eight
    seven." as words, which ended the run; the second pass heard "37,", "6, 3," and "8, 7, no sorry 8, 7".
    The run goes on through the line the second pass heard as a group, and the first pair is masked."""
    turns = [("agent", "Go ahead whenever you are ready.", 0.5), ("customer", "30 pamorant", 0.8),
             ("customer", "6th 3", 2.4), ("customer", "8th ever. No. Sorry. 8th ever.", 10.4),
             ("customer", "21.", 9.9), ("customer", "to die.", 1.0), ("customer", "4 -6", 21.7),
             ("customer", "4 -5. No, sorry, 4 -5.", 1.4), ("customer", "Zero.", 5.0),
             ("agent", "Thank you, that payment has gone through.", 3.0),
             ("customer", "Great, thank you so much for your help with all of this.", 0.6)]
    s = Settings()
    s.model.second_keep_s = 45.0
    p = run(turns, s, again={1: "37,", 2: "6, 3,", 3: "8, 7, no sorry 8, 7"}, again_after_s=3.0)
    text = stored(p)
    assert leaks(text, ("37", "63", "87")) == [] and "so much for your help" in text, text
    u = p.utterances[1]
    assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), p.redactions


def test_a_short_number_only_the_second_pass_heard_is_kept_when_no_read_out_follows():
    """The same without a card after it: "Room 12." heard first as "Room, too well." is kept as the second
    pass heard it, once the gate knows no read-out follows."""
    p = run([("agent", "Which room are you staying in?", 0.5), ("customer", "Room, too well.", 0.8),
             ("agent", "Thank you, I will send someone up to fix the shower this afternoon.", 1.0),
             ("customer", "Great, thank you so much for your help with all of this.", 0.6)], again={1: "Room 12."})
    assert "Room 12." in stored(p)


def test_a_group_heard_half_as_words_is_part_of_the_read_out():
    """No card word; the first group heard as "three -pampered wallet" on a phone line: it neither
    ends the run nor stays when the run adds up to a card."""
    p = run([("agent", "Okay, I'm listening.", 0.5), ("customer", "three -pampered wallet.", 0.8), ("customer", "4840.", 11.0),
             ("customer", "0 3 6 2 0.", 25.0), ("agent", "Okay.", 0.4), ("customer", "8 6 8 1.", 20.0)])
    assert "three" not in stored(p) and "wallet" not in stored(p)
    u = p.utterances[1]
    assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), p.redactions
    assert "Okay, I'm listening." in stored(p)


def test_groups_then_a_card_in_one_breath_from_the_same_caller_are_one_read_out():
    """No card word, a phone line: two groups, lines heard as words between them ("So, time went big."
    for "oh seven six" does not end the run), then a card number in one breath from the same caller
    (a decoder loop on the code): the groups were the read-out, and everything from the first group on
    is silenced, the groups the VAD never heard included."""
    p = run([("agent", "Go ahead whenever you are ready.", 0.5), ("customer", "3 -4, Android.", 0.8), ("customer", "4400.", 1.9),
             ("customer", "So, time went big.", 1.8), ("customer", "No.", 0.5), ("customer", "So, plant one is big.", 0.5),
             ("customer", "the code on the market 6 0 0 0 0 0 0 0 0 0 0 0 0 0 0", 9.0),
             ("agent", "Thank you, that payment has gone through.", 0.6)])
    text = stored(p)
    assert "4400" not in text and "3 -4" not in text and "Go ahead whenever you are ready." in text
    first, card = p.utterances[1], p.utterances[6]
    assert any(a <= first.start + 0.01 and b >= card.start - 0.01 for a, b in p.redactions), p.redactions


def test_a_re_decode_of_the_payment_and_the_order_number_in_one_keeps_the_order_number():
    """The second pass decodes "... gone through." and "Your order number is ..." as one stretch:
    the order number came after card talk ended, as the first pass had it, and stays."""
    gate = PaymentGate()
    said = [("agent", 1.0, "Can I take your card number?"), ("customer", 3.0, "4539 1488 0343 6467"),
            ("agent", 6.0, "Thank you, that payment has gone through."), ("agent", 9.0, "Your order number is 1 4 4 1 7.")]
    for who, t, text in said:
        ws = [Word(w, t + i * 0.3, t + i * 0.3 + 0.25) for i, w in enumerate(text.split())]
        gate.said(Utterance(who, t, ws[-1].end, text, ws))
    merged = "And you, as payment has gone through. Your order number 1 4 4 1 7."
    ws = [Word(w, 6.0 + i * 0.3, 6.0 + i * 0.3 + 0.25) for i, w in enumerate(merged.split()[:7])]
    ws += [Word(w, 9.0 + i * 0.3, 9.0 + i * 0.3 + 0.25) for i, w in enumerate(merged.split()[7:])]
    red = gate.redecoded("agent", 6.0, ws[-1].end, ws)
    assert "1 4 4 1 7." in red.text and "payment has gone through" in red.text

    # and a group in card talk re-decoded with the caller's line before card talk is still masked
    gate = PaymentGate()
    for who, t, text in [("customer", 0.5, "Hi there, I want to pay my bill."), ("agent", 3.0, "Can I take your card number?"),
                         ("customer", 5.0, "5425.")]:
        ws = [Word(w, t + i * 0.3, t + i * 0.3 + 0.25) for i, w in enumerate(text.split())]
        gate.said(Utterance(who, t, ws[-1].end, text, ws))
    ws = [Word(w, 0.5 + i * 0.3, 0.75 + i * 0.3) for i, w in enumerate("Hi there, I want to pay my bill.".split())]
    ws += [Word("5425.", 5.0, 5.25)]
    red = gate.redecoded("customer", 0.5, 5.25, ws)
    assert "5425" not in red.text and "Hi there, I want to pay my bill." in red.text


def test_card_talk_heard_only_by_the_second_pass_masks_what_follows():
    """The first pass heard "the long -colored hum, Bert?" for "the long card number?"; its re-decode heard
    "card": the groups after it are a card's, whatever either pass makes of them."""
    gate = PaymentGate()
    ask = Utterance("agent", 1.5, 3.8, "Could you leave me the long -colored hum, Bert?", words("Could you leave me the long -colored hum, Bert?"))
    assert gate.said(ask).spans == []
    gate.redecoded("agent", 1.5, 3.8, words("Could you read me the long card, Humber?"))
    group = [Word("3,", 4.9, 5.2), Word("10,", 5.3, 5.5), Word("I,", 5.6, 5.8)]
    red = gate.said(Utterance("customer", 4.9, 5.9, "3, 10, I,", group))
    assert red.text == CARD and red.spans


def test_groups_heard_as_other_words_in_card_talk_are_silenced():
    """On a phone line tiny.en hears groups as words ("Free", "time time time"): in card talk a short
    line of the customer's that is no acknowledgement or search is silenced, its number-like words
    masked; that talk does not end card talk either, so a digit said 20 s later is still the card's."""
    p = run([("agent", "Could you read me the long card number?", 0.5), ("customer", "Sure, hold on, I am looking for it.", 0.6),
             ("customer", "Free", 15.0), ("customer", "So, for", 1.0), ("customer", "time time time", 1.0),
             ("customer", "I did freeze here, I don't think.", 1.0), ("customer", "8.", 20.0),
             ("agent", "Thank you, that payment has gone through.", 0.6), ("agent", "Your order number is 7 3 1 5 2.", 0.5)])
    text = stored(p)
    assert "Free" not in text and "So, for" not in text and "8." not in text  # words that may be digits
    for u in p.utterances[2:7]:
        assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), (u.text, p.redactions)
    # and where no one was heard in card talk (the VAD can miss a group said alone on a phone line)
    for before, after in zip(p.utterances[1:6], p.utterances[2:7]):
        assert any(a <= before.end + 0.01 and b >= after.start - 0.01 for a, b in p.redactions), (before.text, after.text)
    assert not any(a < p.utterances[1].end and b > p.utterances[1].start for a, b in p.redactions)  # the search is kept
    assert "Sure, hold on, I am looking for it." in text and "7 3 1 5 2" in text and "payment has gone through" in text


def test_prices_and_times_beside_card_talk_are_kept():
    p = run([("agent", "That comes to forty nine ninety nine pounds, can I take the card number?", 0.5),
             ("customer", "Sure, it's 4539 1488 0343 6467.", 0.6), ("agent", "Your engineer comes at 10:30 tomorrow.", 0.5)])
    assert "forty nine ninety nine pounds" in stored(p) and "10:30" in stored(p) and leaks(stored(p), CARD_1) == []


def _banking() -> Settings:
    s = Settings()
    s.privacy.preset = "banking"
    return s


@pytest.mark.parametrize("turns, kind, secret", [
    ([("agent", "Can I take your social security number?", 0.5), ("customer", "It's 123 45 6789.", 0.6)], NATIONAL_ID, "6789"),
    ([("customer", "My SSN is 123-45-6789", 0.5)], NATIONAL_ID, "6789"),
    ([("agent", "What is the account number?", 0.5), ("customer", "three one nine two six six eight four", 0.6)], ACCOUNT, "31926684"),
    ([("agent", "And the sort code?", 0.5), ("customer", "forty, forty seven, eighty four", 0.6)], SORT_CODE, "404784"),
    ([("customer", "My sort code is 40-47-84", 0.5)], SORT_CODE, "4047"),
    ([("customer", "The IBAN is GB29 NWBK 6016 1331 9268 19", 0.5)], IBAN, "6016"),
])
def test_banking_categories_are_masked_in_the_banking_preset_and_kept_by_default(turns: list, kind: str, secret: str):
    masked = stored(run(turns, _banking()))
    assert kind in masked and secret not in masked.replace("-", "").replace(" ", "")
    plain = stored(run(turns))
    assert kind not in plain


def test_categories_follow_the_settings():
    assert categories(PrivacySettings()) == frozenset()
    assert categories(PrivacySettings(preset="banking")) == {NATIONAL_ID, ACCOUNT, SORT_CODE, IBAN}
    assert categories(PrivacySettings(sort_code=True)) == {SORT_CODE}


def test_a_re_decode_masks_what_the_first_pass_masked_there_and_what_it_finds():
    spans: list[tuple[float, float]] = []
    g = PaymentGate(spans.append)
    ask = Utterance("agent", 0.0, 2.0, "Can I take the long number?", words("Can I take the long number?"))
    g.said(ask)
    first = Utterance("customer", 3.0, 5.0, "I'm for I'm for", [Word(w, 3.0 + i * 0.4, 3.3 + i * 0.4) for i, w in
                                                              enumerate("I'm for I'm for".split())])
    assert g.said(first).text == CARD
    again = [Word("five", 3.0, 3.3), Word("four", 3.4, 3.7), Word("five", 3.8, 4.1), Word("four", 4.2, 4.5),
             Word("thanks", 4.6, 4.9)]
    red = g.redecoded("customer", 3.0, 5.0, again)
    assert number_runs(red.text) == [] and CARD in red.text
    n = len(spans)
    later = g.redecoded("customer", 6.0, 8.0, [Word("4539", 6.0, 6.5), Word("1488", 6.6, 7.0)])
    assert later.kinds == [CARD] and len(spans) == n + 1  # new in the re-decode: silenced too


def test_a_code_said_last_is_silenced_to_the_end_of_the_answer():
    """Whisper ends the last word early: the audio of "six one five" went on past the end it gave
    (CI, another CPU). A code or expiry at the end of the answer is silenced to the answer's end;
    one with talk after it only over its own words."""
    spans: list[tuple[float, float]] = []
    g = PaymentGate(spans.append)
    g.said(Utterance("agent", 0.0, 2.0, "And the last three on the back?", words("And the last three on the back?")))
    code = [Word("six", 3.0, 3.2), Word("one", 3.3, 3.5), Word("five.", 3.6, 3.8)]
    assert g.said(Utterance("customer", 3.0, 4.3, "six one five.", code)).text == "[security code]"
    assert any(a <= 3.0 and b >= 4.3 for a, b in spans), spans
    spans.clear()
    g.said(Utterance("agent", 5.0, 7.0, "And the three digits on the back?", words("And the three digits on the back?")))
    said = [Word(x, 8.0 + 0.25 * i, 8.2 + 0.25 * i) for i, x in enumerate("eight two nine, and could you hurry up with it please?".split())]
    g.said(Utterance("customer", 8.0, 11.0, "eight two nine, and could you hurry up with it please?", said))
    assert spans and max(b for _, b in spans) < 9.0, spans


def test_a_short_answer_to_the_expiry_or_code_question_is_masked_whole():
    """The recognizer heard "oh nine thirty one" as "So now 9 31" (a generated read-out): the words
    left beside the masked digits are digits misheard, and the audio under them is silenced too."""
    spans: list[tuple[float, float]] = []
    g = PaymentGate(spans.append)
    g.said(Utterance("agent", 0.0, 2.0, "Can I take your card number?", words("Can I take your card number?")))
    g.said(Utterance("agent", 3.0, 4.0, "And the expiry date?", words("And the expiry date?")))
    heard = [Word("So", 4.6, 4.8), Word("now", 4.8, 5.0), Word("9", 5.1, 5.3), Word("31.", 5.4, 5.8)]
    red = g.said(Utterance("customer", 4.5, 6.0, "So now 9 31.", heard))
    assert red.text in ("[expiry date]", "[card number]") and any(a <= 4.6 and b >= 6.0 for a, b in spans), (red.text, spans)
    # as in the generated call: the code said just before, the expiry asked, the answer misheard
    spans.clear()
    g = PaymentGate(spans.append)
    g.said(Utterance("agent", 0.0, 2.0, "Can I take your card number?", words("Can I take your card number?")))
    said = "And the code on the Mac is 1292."
    g.said(Utterance("customer", 3.0, 5.0, said, [Word(x, 3.0 + 0.2 * i, 3.2 + 0.2 * i) for i, x in enumerate(said.split())]))
    g.said(Utterance("agent", 6.0, 7.0, "and make a library date.", words("and make a library date.")))  # "and the expiry date?"
    heard = [Word("So", 7.6, 7.8), Word("now", 7.8, 8.0), Word("in", 8.1, 8.3), Word("31.", 8.4, 8.8)]
    red = g.said(Utterance("customer", 7.5, 9.0, "So now in 31.", heard))
    assert len(red.words) == 1 and any(a <= 7.6 and b >= 9.0 for a, b in spans), (red.text, spans)


def test_the_privacy_settings_persist_and_refuse_an_unknown_preset(tmp_path):
    from coach.config import settings as settings_mod
    from coach.core.errors import UserError

    s = Settings()
    settings_mod.override(s, "privacy.preset=banking")
    settings_mod.override(s, "privacy.iban=true")
    settings_mod.save(s, tmp_path / "settings.toml")
    back = settings_mod.load(tmp_path / "settings.toml")
    assert back.privacy.preset == "banking" and back.privacy.iban and categories(back.privacy) == categories(s.privacy)
    with pytest.raises(UserError, match="privacy.preset"):
        settings_mod.override(s, "privacy.preset=everything")


def test_an_undecided_group_is_shown_as_a_number_and_the_rules_still_read_its_digits():
    """A bare group outside card talk may be the start of a card: shown and stored as [number] until
    the gate knows, then as said. The exchange rules read the digits meanwhile (in memory only):
    "read the number back" needs them."""
    p = run([("agent", "what is the number on the letter we sent you?", 0.5), ("customer", "four five three nine one", 1.0),
             ("agent", "thank you, your checkbook is on the way", 1.0),
             ("agent", "it should arrive in five to seven business days", 1.0)])
    assert "[number]" in p.ever and "four five three nine one" in stored(p)
    assert [c.id for c in p.cues] == ["reflect_back"]


@pytest.mark.parametrize("heard", ["And the code on the Mac is sent to the line for the line.",
                                   "And the code on the Mac is I'm one five.", "And the security code is 7 9 4 9."])
def test_the_words_after_the_customer_names_the_code_are_the_code(heard: str):
    """Explore, 2026-12-08: "And the code on the back is seven nine four nine" heard as "... is sent to the
    line for the line." (no digit heard), and "nine one five" as "I'm one five": what the customer says
    after naming the code is the code, in the text and in the recording, however it was heard."""
    spans: list[tuple[float, float]] = []
    g = PaymentGate(spans.append)
    g.said(Utterance("agent", 0.0, 2.0, "Can I take your card number?", words("Can I take your card number?")))
    g.said(Utterance("customer", 3.0, 6.0, "4539 1488 0343 6467", words("4539 1488 0343 6467", 3.0)))
    said = [Word(x, 8.0 + 0.3 * i, 8.25 + 0.3 * i) for i, x in enumerate(heard.split())]
    red = g.said(Utterance("customer", 8.0, said[-1].end + 0.1, heard, said))
    after = said[heard.split().index("is") + 1]
    assert red.text.endswith("is [security code]"), red.text
    assert any(a <= after.start and b >= said[-1].end for a, b in spans), (after, spans)
    assert not any(a < after.start - 0.35 for a, b in spans if a >= 6.5), spans  # "And the code on the back is" is kept


def test_what_follows_the_code_in_one_breath_is_kept():
    """Only the code: "The code is 829, and can you also change my address?" keeps its question."""
    g = PaymentGate()
    g.said(Utterance("agent", 0.0, 2.0, "Can I take your card number?", words("Can I take your card number?")))
    g.said(Utterance("customer", 3.0, 6.0, "4539 1488 0343 6467", words("4539 1488 0343 6467", 3.0)))
    heard = "The code is 829, and can you also change my address?"
    red = g.said(Utterance("customer", 8.0, 11.0, heard, words(heard, 8.0)))
    assert red.text == "The code is [security code] and can you also change my address?", red.text


def test_a_run_that_goes_on_into_card_talk_is_masked_from_its_first_group():
    """As above, but what follows the line that ended the run is a card word and the rest of the card:
    the groups before are the read-out's first, masked with it rather than left to wait alone."""
    turns = [("agent", "Go ahead whenever you are ready.", 0.5), ("customer", "30 pamorant", 0.8),
             ("customer", "8th ever. No. Sorry. 8th ever.", 10.4),
             ("customer", "and the rest of the card is 2129 4645 0", 5.0),
             ("agent", "Thank you, that payment has gone through. Your order number is 7 3 1 5 2.", 3.0),
             ("customer", "Great, thank you so much for your help with all of this.", 0.6)]
    s = Settings()
    s.model.second_keep_s = 45.0
    p = run(turns, s, again={1: "37,", 2: "8, 7, no sorry 8, 7"}, again_after_s=3.0)
    text = stored(p)
    assert leaks(text, ("37", "87", "2129")) == [] and "7 3 1 5 2" in text and "so much for your help" in text, text


def test_most_of_a_card_in_one_breath_then_the_expiry_question_is_the_card():
    """make test, 2026-12-08 (the live recorder): no card word; "sixty eleven um, eight two six seven -
    nine eight double three - two five five nine" heard as 13 digits that fail Luhn ("It's 67, 8, 26, 7,
    9, 8, 3, 2, 5, 5, 9"), then the agent asked for the expiry date: most of a card's digits right
    before card talk began were its read-out."""
    p = run([("agent", "Okay, I'm listening.", 0.5), ("customer", "It's 67, 8, 26, 7, 9, 8, 3, 2, 5, 5, 9", 0.55),
             ("agent", "And the expiry date?", 0.5), ("customer", "one oh twenty eight.", 0.6),
             ("agent", "Thank you, that payment has gone through.", 0.6),
             ("agent", "Your order number is five three eight five seven.", 0.5)])
    text = stored(p)
    assert leaks(text, ("6782", "2679", "2559", "1028")) == [] and "53857" in number_runs(text), text
    u = p.utterances[1]
    assert any(a <= u.start + 0.01 and b >= u.end - 0.01 for a, b in p.redactions), p.redactions


def test_a_phone_number_before_the_card_question_is_kept():
    """Fewer digits than most of a card (a phone number, 11) before card talk begins stay as said."""
    p = run([("agent", "What is the best number to reach you on?", 0.5), ("customer", "0 7 7 0 0 9 0 0 1 2 3", 0.55),
             ("agent", "Thanks. And can I take the card number please?", 0.5), ("customer", "4539 1488 0343 6467", 0.6),
             ("agent", "Thank you, that payment has gone through.", 0.6)])
    text = stored(p)
    assert "77009001230" in "".join(number_runs(text)) or "07700900123" in "".join(number_runs(text)), text
    assert leaks(text, ("4539", "6467")) == []


def test_a_short_answer_to_the_code_question_heard_as_words_is_masked_whole():
    """make test-payment-explore, 2026-12-08 (a phone line): "It's nine zero two." after "the last three on
    the back?" heard as "It's high in the air road, too.": seven words, its "too" the code's "two". In
    card talk, a short line answering the code or expiry question is the answer, whatever it was heard as."""
    p = run([("agent", "Can I take your card number please?", 0.5), ("customer", "4539 1488 0343 6467", 0.8),
             ("agent", "and press free on the back.", 0.6), ("customer", "It's high in the air road, too.", 0.9),
             ("agent", "Thank you, that payment has gone through.", 0.6),
             ("agent", "Your order number is one one nine seven seven.", 0.5)])
    text = stored(p)
    assert "too" not in text and "[security code]" in text and "11977" in number_runs(text), text


def test_the_agent_naming_the_cards_length_is_no_group_of_it():
    """make test-payment-explore, 2026-12-08: "Read me the sixteen digits, please." heard as "Read me the 16th
    biggest, please!", its second pass "... the sixteen digits ..." counted as a group ("16") of the read-out
    that followed, and the agent's request was masked and silenced as card data. A number after "the", or
    before "digits", is no group of a read-out."""
    p = run([("agent", "Read me the 16th biggest, please!", 0.5), ("customer", "Sure, it's 6 -0114 -I -037670 -023 -0", 1.5),
             ("agent", "And the last three on the back.", 0.6), ("customer", "Hang on, it's 1 7 6.", 29.9),
             ("agent", "Thank you, that payment has gone through.", 0.6)], again={0: "Read me the sixteen digits, please."})
    assert "Read me the sixteen digits, please." in stored(p), stored(p)
    assert leaks(stored(p), ("6011", "0376", "176")) == []
    assert not any(a < p.utterances[0].end - 0.1 for a, b in p.redactions), p.redactions


def test_card_talk_moved_back_over_an_earlier_stretch_still_ends():
    """Card talk found to have begun earlier (a run masked back to its first group) takes in card talk
    that ended between; the payment confirmed then ends it, and the order number after it is kept."""
    g = PaymentGate()
    g._talk = [[5.0, 8.0], [10.0, float("inf")]]
    g._begin(1.0)
    assert g._open() and g._talk[-1] == [1.0, float("inf")] and g.card_talk_at(6.0)
    g._close(20.0)
    assert not g._open() and not g.card_talk_at(25.0)

"""Payment data never reaches disk: card numbers, security codes and expiry dates are
masked in transcripts, and their time spans are handed to the recorder to silence.

PCI DSS 3.3.1 (docs/facts.md): card security codes must not be retained after authorisation
in any recording, transcript or index. Whisper writes digits as numerals ("4111 1111"),
as words ("four one one one") or mixed, so both are read. A card number is a run of
13-19 digits that passes the Luhn check; a security code (3-4 digits) and an expiry date
are masked when card talk is nearby, since "three digits" alone is everyday speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.core.events import Word

# with what tiny.en writes for them in a read-out ("for one one one", "free digit")
DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "naught": "0", "one": "1", "won": "1", "two": "2", "to": "2",
               "too": "2", "three": "3", "free": "3", "four": "4", "for": "4", "fore": "4", "five": "5", "six": "6", "seven": "7",
               "eight": "8", "ate": "8", "nine": "9"}
TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16",
         "seventeen": "17", "eighteen": "18", "nineteen": "19"}
TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8", "ninety": "9"}
REPEAT = {"double": 2, "triple": 3}
CARD_CONTEXT = re.compile(r"\b(card|cards|visa|mastercard|master card|amex|american express|debit|credit|security code|"
                          r"(?<!social )security number|cvv|cvc|csc|expir\w*|expiry|long number|card number|valid until|valid thru|"
                          r"valid to|(sixteen|fifteen|16|15)[\s-]*(digits?|figures?)|(digits|numbers|number) (printed |written )?on the "
                          r"(back|front)|the (three|3|four|4) (digits|numbers)|three[\s-]*digit|3[\s-]*digit|last (three|3)|"
                          r"card details|payment details|long card|"
                          # asked for by its length with the noun misheard ("Read me the 16 pickets")
                          r"(read|give|take|tell|have|get)( me| us)? (the|your|all|those) (sixteen|fifteen|16|15)"
                          r"(?![\s-]*(minutes?|hours?|days?|weeks?|months?|years?|dollars?|pounds?|euros?|percent|of|to|and|"
                          r"or|th)\b))\b", re.I)
# the question whose answer is the security code, wherever in the reply the code comes
CODE_QUESTION = re.compile(r"security code|(?<!social )security number|cvv|cvc|csc|on the back|three[\s-]*digit|3[\s-]*digit|three numbers|"
                           r"3 numbers|three digits|last three|last 3")
# the question whose answer is the expiry date
EXPIRY_QUESTION = re.compile(r"expir\w*|valid (until|thru|through|to)")
# joined into one run when digits follow: "4539 and 1488", "4539, um, 1488", "nine, er, one four", "4539 - 1488"
FILLERS = frozenset(["and", "um", "umm", "uh", "uhm", "er", "erm", "ah", "eh", "hmm", "mm", "then", "dash", "space", ""])
CURRENCY = frozenset("pounds pound dollars dollar euros euro cents cent pence p quid bucks".split())
# a number followed by one of these counts something: "three to five business days", "ten thirty am"
UNITS = frozenset("am pm oclock o'clock days day weeks week hours hour minutes minute seconds second sec moment times "
                  "items percent years months month business working".split())
EXPIRY_WORDS = ("expir", "expiry", "valid", "until")
CODE_WORDS = ("code", "cvv", "cvc", "back", "security")
SSN_WORDS = ("social security", "social", "ssn", "national insurance", "national id")
BANK_WORDS = ("account number", "account no", "bank account", "checking account", "savings account", "acct", "iban",
              "sort code", "routing")
# numbers that are not the card, named so: a long run beside these is kept unless it passes Luhn
NAMED_NUMBERS = BANK_WORDS + ("reference", "order", "tracking", "confirmation", "case", "booking", "policy", "invoice",
                              "phone", "ticket", "membership", "serial")
LAST_FOUR = ("ending", "ends in", "ends with", "last four", "last 4")
CARD = "[card number]"
CODE = "[security code]"
EXPIRY = "[expiry date]"
# opt-in (settings [privacy], on in the banking preset)
NATIONAL_ID = "[national id]"
ACCOUNT = "[account number]"
SORT_CODE = "[sort code]"
IBAN = "[iban]"
MASKS = (CARD, CODE, EXPIRY, NATIONAL_ID, ACCOUNT, SORT_CODE, IBAN)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _plain(word: str) -> str:
    """A word as the number tables spell it: lower case, punctuation gone ("Four-one," -> "four-one")."""
    return re.sub(r"[^\w/-]", "", word.lower()).strip("-")


PLAIN_DIGITS = frozenset("zero nought one two three four five six seven eight nine double triple".split())


def is_plain_digit(word: str) -> bool:
    """A digit as said, not as misheard ("for", "free", "won" are also words): "4", "four", "double"."""
    w = _plain(word)
    return w.isdigit() or w in PLAIN_DIGITS


def is_number_word(word: str) -> bool:
    """Does this word say (part of) a number, as a recognizer writes it? ("4", "forty-one", "twenty-ish", "double")"""
    w = _plain(word)
    if "-" in w:
        return any(is_number_word(x) for x in w.split("-") if x)
    return _digits_of(w) is not None or w in REPEAT or w == "hundred"


def _digits_of(word: str) -> str | None:
    """The digits a word stands for ("4111", "four", "four-one-one-one", "nought", "twelve"), or None
    if it is not a number word. Tens ("forty") are read as their first digit: `_number_run` adds the 0
    when no unit follows."""
    w = _plain(word)
    if "-" in w:
        parts = [_digits_of(x) for x in w.split("-") if x]
        return "".join(parts) if parts and all(p is not None for p in parts) else None  # type: ignore[arg-type]
    if w in DIGIT_WORDS:
        return DIGIT_WORDS[w]
    if w in TEENS:
        return TEENS[w]
    if w in TENS:
        return TENS[w]
    if re.fullmatch(r"\d+", w):
        return w
    return None


def _number_run(words: list[Word], i: int) -> tuple[str, int]:
    """Digits spoken from word i on, as one run ("double four" = 44, "forty one eleven" = 4111,
    "twenty" alone = 20, "4539 and 1488" = 45391488), and the index after the run."""
    run, j = "", i
    while j < len(words):
        w = _plain(words[j].w)
        if run and w in FILLERS and j + 1 < len(words) and _digits_of(words[j + 1].w) is not None:
            j += 1  # a filler between digits: the read-out goes on
            continue
        if w in REPEAT and j + 1 < len(words) and (d := _digits_of(words[j + 1].w)) is not None and len(d) == 1:
            run += d * REPEAT[w]
            j += 2
            continue
        d = _digits_of(words[j].w)
        if d is None:
            break
        run += d
        if w in TENS:  # "forty one" = 41, "forty" = 40
            nxt = _digits_of(words[j + 1].w) if j + 1 < len(words) else None
            if not (nxt is not None and len(nxt) == 1 and nxt != "0" and _plain(words[j + 1].w) in DIGIT_WORDS):
                run += "0"
        j += 1
    return run, j


@dataclass(frozen=True)
class Redaction:
    words: list[Word]
    text: str
    spans: list[tuple[float, float]]  # stream-time spans to silence in the recording
    kinds: list[str]


def redact(words: list[Word], context_before: str = "", answer: bool = False, reading_out: bool = False,
           categories: frozenset[str] = frozenset()) -> Redaction:
    """Mask payment data in an utterance's words. `context_before` is the recent
    conversation (card talk may be in the agent's question, the digits in the reply);
    `answer`: this utterance is the customer's, replying to it; `reading_out`: a card is
    being read out (across utterances: a number read in groups of four with pauses comes
    as several short utterances, none of them a card number alone), so any run of two or
    more digits is card data. `categories`: the opt-in kinds masked besides card data
    (NATIONAL_ID, ACCOUNT, SORT_CODE, IBAN)."""
    out = list(words)
    spans: list[tuple[float, float]] = []
    kinds: list[str] = []
    text_all = context_before + " " + " ".join(w.w for w in words)
    before = " ".join(context_before.lower().split()[-12:])  # "what's the code on the back?" "seven three seven"
    card_talk = reading_out or bool(CARD_CONTEXT.search(text_all))
    # the answer to "what's the security code?" is the security code, wherever in the reply it comes
    code_reply = answer and CODE_QUESTION.search(before) is not None
    expiry_reply = answer and not code_reply and EXPIRY_QUESTION.search(before) is not None
    if IBAN in categories:
        out, spans, kinds = _ibans(out, spans, kinds, before)
    i = 0
    while i < len(out):
        run, j = _number_run(out, i)
        if j > i:
            kind = None
            if _price_or_time(out, i, j) or len(run) == 4 and _near(out, i, i, LAST_FOUR, reach=3):
                pass  # "forty nine ninety nine dollars", "10:30", "the one ending 6467" (may be shown: PCI DSS 3.4.1)
            elif 13 <= len(run) <= 19 and luhn_ok(run) or len(run) >= 14 and not _near(out, i, j, NAMED_NUMBERS, before):
                # 14 or more digits in one breath, unless named as another number ("my reference is"):
                # no phone number or date is that long, and a misheard card fails Luhn
                kind = CARD
            elif code_reply and len(run) in (3, 4):
                kind = CODE
            elif (extra := _category(run, out, i, j, before, categories)) is not None:
                kind = extra
            elif reading_out and (len(run) >= 2 or is_plain_digit(out[i].w) and len(words) <= 4 and j == len(out)) \
                    and not _near(out, i, j, EXPIRY_WORDS + CODE_WORDS, before):
                kind = CARD  # in a read-out even one digit said alone is the card's ("No, sorry, five.": the last group)
            elif card_talk and (len(run) >= 7 or (len(run) == 6 and not _near(out, i, j, EXPIRY_WORDS, before))):
                # part of a card number (ASR drops digits) is still card data, and so is a misheard
                # one that fails Luhn, even beside the expiry question: no date has 7 digits
                kind = CARD
            elif card_talk and len(run) in (3, 4) and _near(out, i, j, CODE_WORDS, before):
                kind = CODE
            elif card_talk and len(run) in (3, 4, 6) and _near(out, i, j, EXPIRY_WORDS, before):
                kind = EXPIRY
            elif reading_out and len(run) >= 2:
                kind = CODE if _near(out, i, j, CODE_WORDS, before) else EXPIRY
            if kind:
                spans.append((out[i].start, out[j - 1].end))
                kinds.append(kind)
                masked = Word(kind, out[i].start, out[j - 1].end, 1.0)
                out[i:j] = [masked]
                i += 1
                continue
            i = j
        else:
            i += 1
    # during a read-out, tiny.en turns a group of digits into near-words ("I'm for I'm for" for
    # "five four five four"): a short utterance with a numeral, or two number-like words, is
    # card data whole ("thank you for that" has one ambiguous word and stays)
    said = " ".join(w.w.lower() for w in out)
    if reading_out and 0 < len(out) <= 8 and any(w.w not in MASKS for w in out) and set(kinds) <= {CARD, CODE, EXPIRY} \
            and not any(c in said for c in LAST_FOUR):
        numberish = [w for w in out if _digits_of(w.w) is not None and not re.search(r"[:$£€]|\d\.\d", w.w)]  # not 10:30
        # mostly number words (what is masked already counts): "I'm 4, I'm [card number]" yes, "I have 2 cards, the other is fine" no
        if (any(re.search(r"\d", w.w) for w in numberish) or len(numberish) >= 2) and (len(numberish) + len(kinds)) * 2 >= len(out) \
                or kinds and len(out) <= 3:
            spans.append((out[0].start, out[-1].end))
            kinds.append(CARD)
            out = [Word(CARD, out[0].start, out[-1].end, 1.0)]
    if reading_out and kinds and set(kinds) <= {CARD, CODE, EXPIRY}:
        out = absorb(out, spans, kinds)
    # even when ASR mis-hears the digits ("sanven three sanven"): a short reply right after
    # the question is masked whole
    # the same for an answer to the expiry question, and for one with some of its digits heard:
    # the words left beside them are digits misheard ("So now [expiry date]" for "oh nine thirty one")
    asked = CODE if code_reply else EXPIRY if expiry_reply else None
    if asked and 0 < len(out) <= 6 and set(kinds) <= {CODE, EXPIRY} and any(w.w not in MASKS for w in out):
        kind = kinds[0] if kinds else asked
        spans.append((out[0].start, out[-1].end))
        kinds.append(kind)
        out = [Word(kind, out[0].start, out[-1].end, 1.0)]
    for k, w in enumerate(out):
        if card_talk and re.fullmatch(r"\d{1,2}/\d{2,4}[.,]?", w.w):  # "04/27" style expiry in one token
            kind = EXPIRY
        elif NATIONAL_ID in categories and re.fullmatch(r"\d{3}-\d{2}-\d{4}[.,]?", w.w):  # SSN as written
            kind = NATIONAL_ID
        elif SORT_CODE in categories and re.fullmatch(r"\d{2}-\d{2}-\d{2}[.,]?", w.w):  # "40-47-84"
            kind = SORT_CODE
        else:
            continue
        spans.append((w.start, w.end))
        kinds.append(kind)
        out[k] = Word(kind, w.start, w.end, 1.0)
    return Redaction(out, " ".join(w.w for w in out), spans, kinds)


def absorb(words: list[Word], spans: list[tuple[float, float]], kinds: list[str]) -> list[Word]:
    """In a read-out with card data masked: a digit left alone beside it ("three. Hang on, it's
    [card number]"), and a word next to a mask that may be a digit misheard ("back for [card
    number]": forty), are card data too. Appends their spans and kinds; returns the words."""
    out = list(words)
    for k, w in enumerate(out):
        beside = any(0 <= n < len(out) and out[n].w in MASKS for n in (k - 1, k + 1))
        if w.w not in MASKS and (is_plain_digit(w.w) or beside and _digits_of(w.w) is not None):
            spans.append((w.start, w.end))
            kinds.append(CARD)
            out[k] = Word(CARD, w.start, w.end, 1.0)
    return out


def _price_or_time(words: list[Word], i: int, j: int) -> bool:
    """A price, a time or a count: a currency word or sign or a unit beside the digits ("10:30",
    "ten thirty a m", "three to five business days"), never said of a card."""
    said = [w.w for w in words[i:j]]
    after = _plain(words[j].w) if j < len(words) else ""
    then = _plain(words[j + 1].w) if j + 1 < len(words) else ""
    before = words[i - 1].w if i > 0 else ""
    return (after in CURRENCY or after in UNITS or (after in ("a", "p") and then == "m")
            or any(c in x for x in said for c in "$£€:") or before in ("$", "£", "€")
            or re.fullmatch(r"\d+\.\d\d[.,]?", said[0]) is not None)


def _category(run: str, words: list[Word], i: int, j: int, before: str, categories: frozenset[str]) -> str | None:
    """An opt-in kind (settings [privacy]): a national ID, sort code or bank account number,
    recognised by its length beside the words that name it ("social security", "sort code")."""
    if not categories:
        return None
    if NATIONAL_ID in categories and len(run) == 9 and _near(words, i, j, SSN_WORDS, before):
        return NATIONAL_ID
    if SORT_CODE in categories and len(run) == 6 and _near(words, i, j, ("sort code", "sort", "routing"), before):
        return SORT_CODE
    if ACCOUNT in categories and 6 <= len(run) <= 17 and _near(words, i, j, BANK_WORDS, before):
        return ACCOUNT
    if SORT_CODE in categories and len(run) == 9 and _near(words, i, j, ("routing",), before):
        return SORT_CODE  # a US routing number is the sort code's counterpart
    return None


def _ibans(out: list[Word], spans: list[tuple[float, float]], kinds: list[str],
           before: str) -> tuple[list[Word], list[tuple[float, float]], list[str]]:
    """IBANs as written ("GB29 NWBK 6016 1331 9268 19", checked mod 97), or any run of letters and
    digits right after the IBAN is asked for."""
    asked = "iban" in before or any("iban" in w.w.lower() for w in out)
    k = 0
    while k < len(out):
        j, code = k, ""
        while j < len(out) and re.fullmatch(r"[A-Za-z0-9]{1,8}[.,]?", out[j].w) and (
                re.search(r"\d", out[j].w) or (asked and len(_plain(out[j].w)) <= 4 and _plain(out[j].w) != "iban")
                or j > k and len(out[j].w) == 4 and out[j].w.isupper()):
            code += re.sub(r"[^A-Za-z0-9]", "", out[j].w).upper()
            j += 1
        well_formed = re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", code) is not None and _iban_ok(code)
        if j > k and (well_formed or asked and sum(c.isdigit() for c in code) >= 6):
            spans.append((out[k].start, out[j - 1].end))
            kinds.append(IBAN)
            out[k:j] = [Word(IBAN, out[k].start, out[j - 1].end, 1.0)]
            k += 1
        else:
            k = max(j, k + 1)
    return out, spans, kinds


def _iban_ok(code: str) -> bool:
    moved = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _near(words: list[Word], i: int, j: int, cues: tuple[str, ...], before: str = "", reach: int = 8) -> bool:
    """Is one of the cue words within `reach` words of the digits, or just before this utterance?"""
    window = " ".join(w.w.lower() for w in words[max(0, i - reach): j + reach])
    if i < reach:
        window = before + " " + window
    return any(c in window for c in cues)

"""Phrase detection on ASR text: lower case, no punctuation, and Whisper's mis-hearings.

A phrase is a word sequence; "*" stands for any one word. Words of five letters or more
match with light fuzziness (difflib ratio >= 0.8: "frustrating" ~ "frustratin",
"understand" ~ "understnd"); shorter words match exactly, since "can" vs "can't" is
exactly the difference that matters. A match right after a negator ("i don't
understand", "you don't need to") does not count, unless the phrase itself starts with
one ("not my problem"). Contractions are expanded first so "i'm sorry" = "i am sorry".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

NEGATORS = frozenset("not never don't dont doesn't didn't isn't wasn't can't cannot won't wouldn't shouldn't".split())
_CONTRACTIONS = [
    (r"\bi'm\b", "i am"), (r"\byou're\b", "you are"), (r"\bwe're\b", "we are"), (r"\bthey're\b", "they are"),
    (r"\bthat's\b", "that is"), (r"\bit's\b", "it is"), (r"\bthere's\b", "there is"), (r"\bwhat's\b", "what is"),
    (r"\bi've\b", "i have"), (r"\byou've\b", "you have"), (r"\bwe've\b", "we have"), (r"\bi'll\b", "i will"),
    (r"\byou'll\b", "you will"), (r"\bwe'll\b", "we will"), (r"\bi'd\b", "i would"), (r"\blet's\b", "let us"),
    (r"\bcan't\b", "cannot"), (r"\bwon't\b", "will not"), (r"\bdon't\b", "do not"), (r"\bdoesn't\b", "does not"),
    (r"\bdidn't\b", "did not"), (r"\bisn't\b", "is not"), (r"\bwasn't\b", "was not"), (r"\baren't\b", "are not"),
    (r"\bhaven't\b", "have not"), (r"\bhasn't\b", "has not"), (r"\bshouldn't\b", "should not"),
    (r"\bwouldn't\b", "would not"), (r"\bcouldn't\b", "could not"), (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"), (r"\bgotta\b", "got to"),
]
_CONTRACTIONS_RX = [(re.compile(p), r) for p, r in _CONTRACTIONS]
NEGATORS_EXPANDED = NEGATORS | {"cannot", "not"}
# ASR often drops the apostrophe; these expand the unambiguous ones ("ill", "id", "wont" are words)
_BARE = {"im": "i am", "youre": "you are", "thats": "that is", "dont": "do not", "cant": "cannot", "ive": "i have",
         "doesnt": "does not", "didnt": "did not", "isnt": "is not", "wasnt": "was not", "lets": "let us",
         "theres": "there is", "whats": "what is", "youll": "you will", "youve": "you have", "couldnt": "could not",
         "wouldnt": "would not", "shouldnt": "should not", "havent": "have not", "arent": "are not"}


def tokens(text: str) -> list[str]:
    """Lower case, curly quotes straightened, contractions expanded, punctuation out."""
    t = text.lower().replace("\u2019", "'")
    for rx, rep in _CONTRACTIONS_RX:
        t = rx.sub(rep, t)
    return " ".join(_BARE.get(w, w) for w in re.sub(r"[^\w ]+", " ", t.replace("'", "")).split()).split()


@lru_cache(maxsize=4096)
def _word_match(a: str, b: str) -> bool:
    if a == b or a == "*":
        return True
    if len(a) < 5 or len(b) < 4:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.8


@lru_cache(maxsize=1024)
def _phrase(p: str) -> tuple[str, ...]:
    return tuple("*" if w == "wildcardword" else w for w in tokens(p.replace("*", " wildcardword ")))


def find(text_tokens: list[str], phrases: Iterable[str]) -> list[str]:
    """The phrases that occur (fuzzily, not negated) in the token list."""
    found = []
    for p in phrases:
        ph = _phrase(p)
        if not ph:
            continue
        negated_phrase = ph[0] in NEGATORS_EXPANDED
        for i in range(len(text_tokens) - len(ph) + 1):
            if all(_word_match(w, text_tokens[i + k]) for k, w in enumerate(ph)):
                before = text_tokens[max(0, i - 2):i]
                if not negated_phrase and any(b in NEGATORS_EXPANDED for b in before):
                    continue
                found.append(p)
                break
    return found


def has(text: str, phrases: Iterable[str]) -> list[str]:
    return find(tokens(text), phrases)


STOPWORDS = frozenset(
    "a an the and or but so if then i you he she it we they me my your our their this that these those is are was were be "
    "been am do does did have has had will would can could should to of in on at for with from by about as just really very "
    "what when where which who how there here not no yes yeah okay ok oh um uh well like get got go going want know think "
    "all any some one two also up out over too still now".split()
)


def content_words(text: str) -> set[str]:
    """Words that carry content, cut to a 5-letter stem ("charged" ~ "charges")."""
    return {w[:5] for w in tokens(text) if w not in STOPWORDS and len(w) > 2}

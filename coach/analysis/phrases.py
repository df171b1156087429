"""Phrase detection on ASR text: lower case, no punctuation, and Whisper's mis-hearings.

A phrase is a word sequence; "*" stands for any one word. Words of five letters or more
match with light fuzziness (difflib ratio >= 0.8: "frustrating" ~ "frustratin",
"understand" ~ "understnd"); shorter words match exactly, since "can" vs "can't" is
exactly the difference that matters. A match right after a negator ("i don't
understand", "you don't need to") does not count, unless the phrase itself starts with
one ("not my problem"). Contractions are expanded first so "i'm sorry" = "i am sorry".

Words also match by sound, because the recognizer spells what it thinks it heard and
another CPU's kernels hear other words (tests/data/mishearings.json holds what tiny.en
really produced): "come down" ~ "calm down", "free digit" ~ "three digit". The sound
key is Metaphone (jellyfish) with 'th' folded into 'f'. Equal keys match for words of
four letters or more; in a phrase of several words, one word may also be one sound
apart ("come" KM ~ "calm" KLM: one sound dropped or added, never swapped, since "some of"
is no "sick of") when the rest match as written. Negators never match by
sound, and a negated word never matches its own stem ("that is acceptable" is no
"unacceptable", "happy with that" no "unhappy").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import jellyfish

from coach.core.events import Word

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


EXACT, SPELLED, SOUNDS, SOUNDS_NEAR = 0, 1, 2, 3  # how a heard word matched a phrase word
NEGATING_PREFIXES = ("un", "in", "im", "ir", "il", "dis", "non")
# words before which the stem of a negated word stands as itself: "an acceptable offer", "is acceptable"
NOT_A_PREFIX = NEGATORS_EXPANDED | frozenset("an the is was are be been so very quite more most really totally "
                                             "perfectly completely also too".split())
JOIN_MIN_LETTERS = 7  # phrase words this long may match two heard tokens joined ("super minor" ~ "supervisor")


@lru_cache(maxsize=8192)
def sound_key(word: str) -> str:
    """Metaphone with 'th' folded into 'f': "three" and "free" share FR (so do "thirty" and "forty": this
    key is for phrases, never for reading numbers)."""
    return jellyfish.metaphone(word).replace("0", "F")


def _negated_stem(word: str) -> str | None:
    """"acceptable" for "unacceptable": what the word would say without its negating prefix."""
    for p in NEGATING_PREFIXES:
        if word.startswith(p) and len(word) - len(p) >= 5:
            return word[len(p):]
    return None


@lru_cache(maxsize=8192)
def _word_match(a: str, b: str, joined: bool = False) -> int | None:
    """How heard word b matches phrase word a (one of the constants above), or None. A heard word
    nearer the stem of a negated phrase word than the word itself is its opposite ("acceptable" is
    not "unacceptable", "happy" not "unhappy"), unless two heard pieces were joined, the first
    standing for the prefix ("my acceptable")."""
    if a == b or a == "*":
        return EXACT
    spelled = SequenceMatcher(None, a, b).ratio()
    stem = None if joined else _negated_stem(a)
    if stem and SequenceMatcher(None, stem, b).ratio() >= spelled:
        return None
    if len(a) >= 5 and len(b) >= 4 and spelled >= 0.8:
        return SPELLED
    if len(a) < 4 or len(b) < 4 or a in NEGATORS_EXPANDED or b in NEGATORS_EXPANDED or not (a.isalpha() and b.isalpha()):
        return None
    ka, kb = sound_key(a), sound_key(b)
    if ka == kb and len(ka) >= 2:
        return SOUNDS
    # one sound dropped or added ("come" KM ~ "calm" KLM), not one swapped: "some" SM is no "sick" SK
    if min(len(ka), len(kb)) >= 2 and ka[0] == kb[0] and abs(len(ka) - len(kb)) == 1 \
            and jellyfish.levenshtein_distance(ka, kb) == 1:
        return SOUNDS_NEAR
    return None


def _phrase_match(ph: tuple[str, ...], heard: list[str], joined: int = -1) -> int | None:
    """How the heard words match the phrase: its loosest word's match (EXACT < SPELLED < SOUNDS <
    SOUNDS_NEAR), or None."""
    kinds = []
    for j, (w, h) in enumerate(zip(ph, heard)):
        k = _word_match(w, h, j == joined)
        if k is None:
            return None
        kinds.append(k)
    if SOUNDS_NEAR in kinds:
        # one word a sound apart, inside a phrase whose other words are as written
        ok = len(ph) >= 2 and kinds.count(SOUNDS_NEAR) == 1 and all(k in (EXACT, SOUNDS_NEAR) for k in kinds)
        return SOUNDS_NEAR if ok else None
    if SOUNDS in kinds and len(ph) == 1 and len(sound_key(ph[0])) < 3:
        return None  # a lone word needs a distinctive sound
    return max(kinds)


@lru_cache(maxsize=1024)
def _phrase(p: str) -> tuple[str, ...]:
    return tuple("*" if w == "wildcardword" else w for w in tokens(p.replace("*", " wildcardword ")))


def find_at(text_tokens: list[str], phrases: Iterable[str], unless_after: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """The phrases that occur (fuzzily, not negated, nor within three words after one of
    `unless_after`), each with the index of its last token (first occurrence)."""
    return [(p, last) for p, _, last, _ in _find(text_tokens, phrases, unless_after)]


def _find(toks: list[str], phrases: Iterable[str], unless_after: frozenset[str]) -> list[tuple[str, int, int, int]]:
    """(phrase, first token, last token, how it matched) for each phrase that occurs (first occurrence)."""
    found = []
    for p in phrases:
        ph = _phrase(p)
        if not ph:
            continue
        negated_phrase = ph[0] in NEGATORS_EXPANDED
        for i in range(len(toks)):
            hit = _match_at(ph, toks, i)
            if hit is None:
                continue
            before = toks[max(0, i - 2):i]
            if not negated_phrase and any(b in NEGATORS_EXPANDED for b in before):
                continue
            if unless_after and unless_after.intersection(toks[max(0, i - 3):i]):
                continue
            found.append((p, i, *hit))
            break
    return found


def _match_at(ph: tuple[str, ...], toks: list[str], i: int) -> tuple[int, int] | None:
    """(index of the last heard token, how it matched) if the phrase matches from token i, else None.
    A long phrase word may also match two heard tokens joined: Whisper splits words it is unsure of
    ("super minor" for "supervisor", "my acceptable" for "unacceptable"), and the joined spelling is
    fuzzily close."""
    n = len(ph)
    kind = _phrase_match(ph, toks[i:i + n]) if i + n <= len(toks) else None
    if kind is not None:
        return i + n - 1, kind
    if i + n + 1 > len(toks) or _phrase_match(ph, toks[i + 1:i + 1 + n]) is not None:
        return None  # nothing to join, or the words as heard match from the next token on: better evidence
    for j, word in enumerate(ph):
        a, b = toks[i + j], toks[i + j + 1]
        # a lone "a" joins only before a vowel: "a acceptable" is no English, a heard "unacceptable" is
        if len(word) >= JOIN_MIN_LETTERS and a.isalpha() and b.isalpha() and (len(a) >= 2 or (a == "a" and b[0] in "aeiou")) \
                and a not in NEGATORS_EXPANDED and b not in NEGATORS_EXPANDED \
                and not (_negated_stem(word) and a in NOT_A_PREFIX):
            heard = [*toks[i:i + j], a + b, *toks[i + j + 2:i + n + 1]]
            kind = _phrase_match(ph, heard, j)
            if kind is not None and _word_match(word, a + b, True) in (EXACT, SPELLED):
                return i + n, max(kind, SPELLED)  # two pieces joined: no better than spelled alike
    return None


def find(text_tokens: list[str], phrases: Iterable[str]) -> list[str]:
    """The phrases that occur (fuzzily, not negated) in the token list."""
    return [p for p, _ in find_at(text_tokens, phrases)]


def said_at(words: Sequence[Word], phrases: Iterable[str], unless_after: frozenset[str] = frozenset()) -> dict[str, float]:
    """The phrases said in these timed words, each with the stream time its last word ended:
    a cue's latency runs from there, not from the end of the utterance."""
    return {h.phrase: h.end for h in heard_in(words, phrases, unless_after)}


@dataclass(frozen=True)
class Heard:
    """A phrase heard in timed words: when it ended, how its words matched, and how sure the
    recognizer was of them (their mean probability)."""

    phrase: str
    end: float
    kind: int  # EXACT, SPELLED, SOUNDS or SOUNDS_NEAR
    p: float

    @property
    def by_sound(self) -> bool:
        """Matched only because it sounds alike: "force" for "furious" is a guess, not a word heard."""
        return self.kind >= SOUNDS

    @property
    def confidence(self) -> float:
        """The recognizer's certainty, discounted by how loosely the words matched."""
        return round(self.p * {EXACT: 1.0, SPELLED: 0.9, SOUNDS: 0.6, SOUNDS_NEAR: 0.5}[self.kind], 2)

    def describe(self) -> str:
        how = {EXACT: "heard", SPELLED: "heard nearly", SOUNDS: "sounds like", SOUNDS_NEAR: "sounds like"}[self.kind]
        return f"'{self.phrase}' ({how}, p {self.p:.2f})"


def heard_in(words: Sequence[Word], phrases: Iterable[str], unless_after: frozenset[str] = frozenset()) -> list[Heard]:
    """The phrases said in these timed words, with how each was heard."""
    toks: list[str] = []
    owner: list[int] = []
    for k, w in enumerate(words):
        for t in tokens(w.w):
            toks.append(t)
            owner.append(k)
    out = []
    for p, first, last, kind in _find(toks, phrases, unless_after):
        spoken = words[owner[first]:owner[last] + 1]
        # the mean, not the least: Whisper is often unsure of small words ("not", "our") it got right
        out.append(Heard(p, words[owner[last]].end, kind, round(sum(w.p for w in spoken) / len(spoken), 3) if spoken else 1.0))
    return out


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

"""Repeated demands and rejections: a signal of escalation and the evidence of offer_options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.analysis.phrases import content_words, find

if TYPE_CHECKING:
    from coach.config.settings import PhraseSettings
    from coach.core.events import Utterance


def _quote(phrases: list[str]) -> str:
    return ", ".join(f"'{p}'" for p in phrases)


class Demands:
    def __init__(self) -> None:
        self._seen: list[tuple[float, str, set[str]]] = []  # (time, demand|rejection, content words)

    def repeated(self, u: Utterance, toks: list[str], phrases: PhraseSettings, repeats: int, window_s: float) -> str | None:
        """The same demand again, or the offer rejected again, within the window (docs/cues.md:
        "repeats the same demand or rejects the offer two or more times"): a reason string.
        A first demand and a first rejection are one of each, not a repeat."""
        rejection = find(toks, phrases.rejection)
        demand = [] if rejection else find(toks, phrases.demand)
        if not demand and not rejection:
            return None
        kind = "rejection" if rejection else "demand"
        words = content_words(u.text)
        recent = [(t, k, w) for t, k, w in self._seen if u.end - t <= window_s]
        same = [t for t, k, w in recent if k == kind and (kind == "rejection" or w & words)]
        self._seen = [*recent, (u.end, kind, words)]
        if len(same) + 1 < repeats:
            return None
        self._seen = [d for d in self._seen if d[1] != kind]
        if rejection:
            return f"customer rejected the offer {len(same) + 1} times: {_quote(rejection)}"
        # the phrase, not the raw words: this runs before redaction, and a reason is stored
        return f"customer repeated the same demand {len(same) + 1} times: {_quote(demand)}"

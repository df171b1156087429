"""Scripted calls through the pipeline's text path: each turn becomes an utterance with evenly
spread word times and goes through Pipeline._said in time order, as the conversation would
release it; what the pipeline keeps (p.utterances) is what every store writes (session JSON,
sessions.db rows and FTS, exports, team uploads). No audio and no model: thousands a minute.

With `second_pass` (the default setting) each utterance waits for its second decode, as live
and `coach analyze` do, so a read-out recognised late still revises the groups before it;
without, each is final as soon as it is said.
"""

from __future__ import annotations

from coach.config.settings import Settings
from coach.core.events import Utterance, Word
from coach.core.pipeline import NO_SECOND, WAITING, Pipeline
from coach.privacy.redact import _number_run

Turn = tuple[str, str, float]  # speaker, text, pause before it (s)
WORD_S = 0.35


def utterances(turns: list[Turn]) -> list[Utterance]:
    out, t = [], 0.0
    for speaker, text, gap in turns:
        t += gap
        toks = text.split()
        words = [Word(w, round(t + i * WORD_S, 3), round(t + i * WORD_S + 0.3, 3)) for i, w in enumerate(toks)]
        end = round(t + max(len(toks), 1) * WORD_S, 3)
        out.append(Utterance(speaker, round(t, 3), end, text, words, t_ready=end))  # type: ignore[arg-type]
        t = end
    return out


class Scripted(Pipeline):
    """The pipeline with `ever`: every utterance text it held at any moment (what the overlay showed
    and a periodic save or a crash could have left on disk), not only the final ones."""

    ever: set[str]


def run(turns: list[Turn], settings: Settings | None = None, second_pass: bool = True,
        again: dict[int, str] | None = None, again_after_s: float = 2.0) -> Scripted:
    """The pipeline after the scripted call: p.utterances is what is stored, p.redactions what is
    silenced, p.ever every text it held on the way. Its clock is stream time, each utterance said
    when its speech ends: what waits for a later group waits as long as it would live. `again`: what
    the second pass heard for some turns (by index), in at `again_after_s` after the turn's end; the
    second pass of every other turn hears nothing new (its text stays the first pass's)."""
    now = [0.0]
    p = Scripted(settings or Settings(), None, ["agent", "customer"], lambda: now[0])  # type: ignore[arg-type]
    p.ever = set()
    said = utterances(turns)
    due = sorted((said[k].end + again_after_s, k) for k in (again or {}))

    def second_passes_in(until: float) -> None:
        while due and due[0][0] <= until:
            at, k = due.pop(0)
            now[0] = max(now[0], at)
            u, toks = said[k], (again or {})[k].split()
            step = (u.end - u.start) / max(len(toks), 1)
            p._second[k] = [Word(w, round(u.start + i * step, 3), round(u.start + (i + 1) * step - 0.05, 3)) for i, w in enumerate(toks)]
            p._release()
            p.ever |= {x.text for x in p.utterances}

    for k, u in enumerate(said):
        second_passes_in(u.end)
        now[0] = u.end
        p._release()  # what was waiting for this long is decided before the next is said
        p.ever |= {x.text for x in p.utterances}
        # the pipeline's own bookkeeping of a decode whose second pass is coming (Pipeline.complete)
        p._job_of[id(u)] = k
        p._second[k] = WAITING if second_pass else NO_SECOND
        p._said(u)
        p._release()
        p.ever |= {x.text for x in p.utterances}
    second_passes_in(float("inf"))
    p.drain()
    p.ever |= {x.text for x in p.utterances}
    return p


def stored(p: Pipeline) -> str:
    return "\n".join(u.text for u in p.utterances)


def number_runs(text: str) -> list[str]:
    """Every run of digits in a text, however it is written ("4539", "four five", "forty five", "oh")."""
    words = [Word(w, 0.0, 0.0) for w in text.split()]
    runs, i = [], 0
    while i < len(words):
        run, j = _number_run(words, i)
        if j > i:
            runs.append(run)
            i = j
        else:
            i += 1
    return runs

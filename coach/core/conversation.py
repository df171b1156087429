"""What was said, in the order it was said, whatever order the recognizer finished in.

Two speakers are decoded on one recognizer thread, customers first and each job as soon
as its speaker stops, so text completes out of stream order: a customer's short reply
can be decoded before the agent's question that came first. Anything that reasons about
"before" (redaction context, the agent's reply to a customer turn, storage, the
transcript) reads this record instead of completion order.

An utterance is released once no earlier-starting utterance can still appear: per
speaker, a watermark sits at the start of the earliest job not yet decoded, or of the
speech the VAD still has open, or else at how far the VAD has listened. Everything that
starts before the lowest watermark of all speakers is final and leaves in start order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from coach.core.events import Speaker, Utterance


@dataclass(order=True)
class _Decoded:
    start: float
    seq: int
    utterance: Utterance | None = field(compare=False)


class Conversation:
    def __init__(self, speakers: list[Speaker]) -> None:
        self.speakers = list(speakers)
        self._heard = {s: 0.0 for s in speakers}  # how far the VAD has listened
        self._open: dict[Speaker, float | None] = {s: None for s in speakers}  # start of speech still open
        self._pending: dict[int, tuple[Speaker, float]] = {}  # job id -> (speaker, start), not decoded yet
        self._decoded: list[_Decoded] = []  # a heap by start
        self.said: list[Utterance] = []  # released, in start order

    def heard(self, speaker: Speaker, until: float, open_start: float | None) -> None:
        """The VAD has listened to `speaker` up to `until`; speech started at `open_start` is still going."""
        self._heard[speaker] = until
        self._open[speaker] = open_start

    def expect(self, job_id: int, speaker: Speaker, start: float) -> None:
        """A finished stretch of speech went to the recognizer."""
        self._pending[job_id] = (speaker, start)

    def decoded(self, job_id: int, utterance: Utterance | None) -> None:
        """Its text arrived (None: nothing was heard, or it was skipped under load)."""
        _, start = self._pending.pop(job_id)
        heapq.heappush(self._decoded, _Decoded(start, job_id, utterance))

    def watermark(self) -> float:
        """Stream time before which nothing more can be added."""
        marks = []
        for s in self.speakers:
            starts = [st for sp, st in self._pending.values() if sp == s]
            if self._open[s] is not None:
                starts.append(self._open[s])  # type: ignore[arg-type]
            marks.append(min(starts) if starts else self._heard[s])
        return min(marks) if marks else float("inf")

    def release(self, final: bool = False) -> list[Utterance]:
        """Utterances that are now known to be next in time order (all of them at the end)."""
        mark = float("inf") if final else self.watermark()
        out = []
        while self._decoded and self._decoded[0].start < mark:
            u = heapq.heappop(self._decoded).utterance
            if u is not None:
                self.said.append(u)
                out.append(u)
        return out

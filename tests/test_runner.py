"""Scheduling of the simulated runner: the decoder's timeline, customer first."""

import numpy as np

from coach.core.pipeline import Job
from coach.core.runner import SimClock, SimulatedRunner
from coach.speech.transcriber import Transcript
from coach.speech.vad import Segment


class RecordingPipeline:
    """Stands in for Pipeline's scheduling surface; records what ran when (stream time)."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.log: list[tuple[str, str, float]] = []
        self.position = 0.0

    def transcribe(self, job: Job) -> Transcript:
        self.log.append(("decode", job.speaker, round(self.clock(), 2)))
        return Transcript("", [])

    def complete(self, job: Job, tr: Transcript) -> None:
        self.log.append(("complete", job.speaker, round(self.clock(), 2)))

    def drain(self) -> None:
        self.log.append(("drain", "", round(self.clock(), 2)))


def job(speaker: str, end: float, available: float, seq: int) -> Job:
    return Job((0 if speaker == "customer" else 1, int(end * 16000), seq), speaker,
               Segment(0, int(end * 16000), int(available * 16000)), np.zeros(10, np.float32), available)


def test_customer_first_when_both_wait_and_no_job_before_its_audio():
    clock = SimClock()
    p = RecordingPipeline(clock)
    r = SimulatedRunner(p, clock)
    r._free_at = 5.0  # the decoder is busy until 5 s
    r._pending = [job("agent", 3.0, 3.5, 1), job("customer", 4.0, 4.5, 2), job("agent", 7.0, 7.5, 3)]
    r._advance(float("inf"))
    decodes = [(who, t) for kind, who, t in p.log if kind == "decode"]
    assert [who for who, _ in decodes] == ["customer", "agent", "agent"]  # customer waited less, went first
    assert decodes[0][1] >= 5.0  # not before the decoder was free
    assert decodes[2][1] >= 7.5  # not before its audio had arrived


def test_results_wait_for_stream_time():
    clock = SimClock()
    p = RecordingPipeline(clock)
    r = SimulatedRunner(p, clock)
    r._pending = [job("agent", 1.0, 1.5, 1)]
    r._advance(1.5)  # the audio arrives at 1.5 s: nothing may run before that
    assert [k for k, *_ in p.log] == []
    r._advance(10.0)
    assert [k for k, *_ in p.log] == ["decode", "complete"]
    assert p.log[1][2] >= p.log[0][2]


def test_job_order_in_the_live_priority_queue():
    a, c = job("agent", 2.0, 2.5, 1), job("customer", 3.0, 3.5, 2)
    assert sorted([a, c]) == [c, a]

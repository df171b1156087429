"""The conversation in time order, whatever order the recognizer finishes in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import render_one
from fakes import CostClock, ScriptedTranscriber

from coach.audio.file_source import FileSource
from coach.config.settings import Settings
from coach.core.conversation import Conversation
from coach.core.events import Utterance
from coach.core.pipeline import Pipeline
from coach.core.runner import SimulatedRunner


def utt(speaker: str, start: float, text: str = "x") -> Utterance:
    return Utterance(speaker, start, start + 1, text, [])  # type: ignore[arg-type]


def test_a_later_reply_decoded_first_waits_for_the_question():
    c = Conversation(["agent", "customer"])
    c.expect(1, "agent", 10.0)  # the question ended first, but is still being decoded
    c.expect(2, "customer", 12.0)
    c.heard("agent", 14.0, None)
    c.heard("customer", 14.0, None)
    c.decoded(2, utt("customer", 12.0, "seven three seven"))
    assert c.release() == []  # the reply may not go out before the question
    c.decoded(1, utt("agent", 10.0, "and the security code?"))
    assert [u.text for u in c.release()] == ["and the security code?", "seven three seven"]


def test_speech_still_going_on_holds_back_what_started_after_it():
    c = Conversation(["agent", "customer"])
    c.heard("customer", 20.0, 5.0)  # the customer has been talking since 5 s
    c.expect(1, "agent", 8.0)
    c.heard("agent", 20.0, None)
    c.decoded(1, utt("agent", 8.0, "uh huh"))
    assert c.release() == []
    c.expect(2, "customer", 5.0)
    c.heard("customer", 21.0, None)
    c.decoded(2, utt("customer", 5.0, "long story"))
    assert [u.speaker for u in c.release()] == ["customer", "agent"]


def test_skipped_decodes_do_not_block_and_the_end_releases_everything():
    c = Conversation(["agent", "customer"])
    c.expect(1, "agent", 1.0)
    c.expect(2, "customer", 2.0)
    c.heard("agent", 3.0, None)
    c.heard("customer", 3.0, 2.5)
    c.decoded(1, None)  # dropped under load
    c.decoded(2, utt("customer", 2.0))
    assert [u.start for u in c.release()] == [2.0]
    c.expect(3, "customer", 2.5)
    c.decoded(3, utt("customer", 2.5))
    c.heard("customer", 9.0, 8.0)
    assert [u.start for u in c.release()] == [2.5]
    assert c.release(final=True) == [] and [u.start for u in c.said] == [2.0, 2.5]


@pytest.fixture(scope="module")
def payment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_one(tmp_path_factory, "scenarios_payment.json", "p1_card_payment")


class OrderedRunner(SimulatedRunner):
    """The simulated runner with the recognizer's priority turned around (agent first)."""

    def _advance(self, until: float) -> None:
        for j in self._pending:
            j.key = (1 - j.key[0], *j.key[1:])
        super()._advance(until)


def run(call: Path, truth: Path, runner: type[SimulatedRunner], delay: dict[str, float]) -> Pipeline:
    src = FileSource(str(call))
    clock = CostClock()
    stt = ScriptedTranscriber.from_truth(truth, delay_s=delay, spend=clock.spend)
    s = Settings()
    s.model.partial_every_s = 0.0  # this test is about the order of final decodes
    p = Pipeline(s, stt, list(src.info.speakers), clock)
    order: list[str] = []
    complete = p.complete

    def spy(job, tr):  # noqa: ANN001, ANN202
        order.append(job.speaker)
        return complete(job, tr)

    p.complete = spy  # type: ignore[method-assign]
    runner(p, clock).run(src.chunks())
    p.decode_order = order  # type: ignore[attr-defined]
    return p


def test_decode_order_either_way_gives_the_same_conversation_and_cues(payment: tuple[Path, Path]):
    # a slow decode of the card read-out keeps the recognizer busy until the agent's next
    # question and the customer's answer both wait: customer-first decodes the answer first,
    # agent-first the question ...
    a = run(*payment, SimulatedRunner, {"customer": 8.0})
    b = run(*payment, OrderedRunner, {"customer": 8.0})
    assert a.decode_order == ["agent", "customer", "customer", "agent", "agent"]
    assert b.decode_order == ["agent", "customer", "agent", "customer", "agent"]
    # ... and what was said, what was masked and what was cued is the same
    said = [[(u.speaker, u.start, u.text) for u in p.utterances] for p in (a, b)]
    assert said[0] == said[1]
    assert [u.start for u in a.utterances] == sorted(u.start for u in a.utterances)
    assert [c.id for c in a.engine.fired] == [c.id for c in b.engine.fired]
    text = json.dumps(said[0])
    assert "[security code]" in text and "seven three seven" not in text.lower()
    assert "four one one one" not in text.lower() and "[card number]" in text

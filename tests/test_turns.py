import pytest

from coach.analysis.turns import TurnTracker
from coach.core.events import Utterance, Word


def run(t: TurnTracker, plan: list[dict], speaking: list[dict] | None = None) -> list:
    events = []
    for i, a in enumerate(plan):
        e = t.update(a, speaking[i] if speaking else None)
        if e:
            events.append(e)
    return events


def test_talk_overtalk_dead_air_and_silence():
    t = TurnTracker(0.1, dead_air_min_s=1.0, monologue_gap_s=0.5)
    plan = [{"agent": True}] * 30 + [{"agent": True, "customer": True}] * 5 + [{}] * 25 + [{"customer": True}] * 10 + [{}] * 5
    run(t, plan)
    assert t.seconds(t.talk["agent"]) == 3.5
    assert t.seconds(t.overtalk) == 0.5
    assert t.seconds(t.dead_air) == 2.5  # the trailing 0.5 s is not counted (too short, and not over)
    assert t.silence_s() == pytest.approx(0.5)
    assert t.seconds(t.longest["agent"]) == 3.5


def test_monologue_survives_backchannel_ends_when_the_other_takes_the_floor():
    t = TurnTracker(0.1, 3.0, 2.0)
    run(t, [{"agent": True}] * 50 + [{"agent": True, "customer": True}] * 5 + [{"agent": True}] * 50)
    assert t.monologue_s("agent") == pytest.approx(10.5)
    run(t, [{"customer": True}] * 15 + [{"agent": True}])
    assert t.monologue_s("agent") == pytest.approx(0.1)
    assert t.seconds(t.longest["agent"]) == 10.5


def test_interruption_mid_turn_but_not_backchannel_or_turn_taking():
    cust = {"customer": True}
    both = {"agent": True, "customer": True}
    # the customer talks 2 s, the agent comes in and talks over them for 1.5 s
    t = TurnTracker(0.1, 3.0, 2.0, overlap_s=1.0, customer_lead_s=1.0)
    events = run(t, [cust] * 20 + [both] * 15)
    assert len(events) == 1 and events[0].since == pytest.approx(2.0) and events[0].at == pytest.approx(3.0)
    # a 0.5 s "uh huh" under the customer is not an interruption
    t = TurnTracker(0.1, 3.0, 2.0, overlap_s=1.0, customer_lead_s=1.0)
    assert run(t, [cust] * 20 + [both] * 5 + [cust] * 20) == []
    # the agent talking first and the customer barging in is not the agent's interruption
    t = TurnTracker(0.1, 3.0, 2.0, overlap_s=1.0, customer_lead_s=1.0)
    assert run(t, [{"agent": True}] * 20 + [both] * 20) == []


def test_talk_share_over_the_window():
    t = TurnTracker(0.1, 3.0, 2.0, share_window_s=10.0)
    run(t, [{"agent": True}] * 80 + [{"customer": True}] * 20)
    assert t.window_full()
    share, talk = t.share("agent")
    assert share == pytest.approx(0.8) and talk == pytest.approx(10.0)
    run(t, [{"customer": True}] * 50)  # the old agent talk slides out of the window
    assert t.share("agent")[0] == pytest.approx(0.3)


# -- the floor: utterances assembled into turns ----------------------------------------------------

def _u(speaker: str, text: str, start: float, end: float) -> Utterance:
    toks = text.split()
    step = (end - start) / max(1, len(toks))
    return Utterance(speaker, start, end, text, [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(toks)])


def test_a_fragmented_explanation_is_one_turn_and_the_agent_takes_the_floor_after_it():
    from coach.analysis.floor import assemble
    from coach.config.settings import PhraseSettings

    utts = [
        _u("agent", "thanks for calling how can i help", 0.0, 2.0),
        _u("customer", "i'm going to", 3.0, 3.8),  # the VAD cut her explanation at every pause
        _u("customer", "and i", 4.5, 5.0),
        _u("agent", "mm hmm", 5.1, 5.5),  # listening, not taking the floor
        _u("customer", "so the light is still on after the service", 5.8, 8.5),
        _u("customer", "okay", 9.0, 9.3),
        _u("agent", "okay got it, so the oil light stayed on when you drove off", 10.0, 13.0),
        _u("agent", "let me look that up", 17.5, 18.5),  # after a 4.5 s silence: the floor was free again
    ]
    turns = assemble(utts, PhraseSettings().backchannel)
    assert [(t.speaker, t.utterances, t.backchannels) for t in turns] == [
        ("agent", [0], []), ("customer", [1, 2, 4, 5], [3]), ("agent", [6], []), ("agent", [7], [])]
    assert (turns[1].start, turns[1].end, turns[1].words) == (3.0, 9.3, 15)

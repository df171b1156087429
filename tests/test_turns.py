import pytest

from coach.analysis.turns import TurnTracker


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

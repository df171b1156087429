from coach.analysis.catalog import CATALOG
from coach.analysis.engine import CueEngine, Proposal
from coach.config.settings import CueSettings


def prop(cue_id: str, end: float = 0.0) -> Proposal:
    return Proposal(cue_id, "agent", "because", end)


def test_catalog_has_all_eleven_cues_with_settings():
    assert len(CATALOG) == 11
    s = CueSettings()
    for cue_id, spec in CATALOG.items():
        assert spec.label and spec.skill and spec.tip
        assert getattr(s, cue_id).enabled and getattr(s, cue_id).cooldown_s > 0


def test_engine_cooldown_gap_priority_and_switches():
    s = CueSettings()
    e = CueEngine(s)
    c = e.offer(prop("slow_down", 9.5), 10.0)
    assert c is not None and c.latency_s == 0.5 and c.label == "slow down" and c.tip
    assert e.offer(prop("check_in"), 12.0) is None  # lower priority, inside the global gap
    assert e.offer(prop("customer_escalating"), 12.5) is not None  # more urgent: shown anyway
    assert e.offer(prop("slow_down"), 40.0) is None  # its own 60 s cooldown
    assert e.offer(prop("slow_down"), 71.0) is not None
    s.check_in.enabled = False
    assert e.offer(prop("check_in"), 200.0) is None
    assert [x[1] for x in e.suppressed] == ["check_in", "slow_down"]


def test_a_repeated_nudge_waits_longer_each_time_but_an_alert_does_not():
    e = CueEngine(CueSettings())
    fired = [t for t in range(0, 600, 10) if e.offer(prop("slow_down"), float(t)) is not None]
    assert fired == [0, 60, 180, 420]  # cooldown 60 s, then 120 s, then 240 s (x4 at most)
    e = CueEngine(CueSettings())
    alerts = [t for t in range(0, 200, 5) if e.offer(prop("customer_escalating"), float(t)) is not None]
    assert alerts == [0, 45, 90, 135, 180]  # its 45 s cooldown, every time

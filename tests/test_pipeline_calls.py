"""The real pipeline with the real tiny.en model on real and scripted calls."""

import json
from pathlib import Path

import pytest
from conftest import DATA, REAL_CALL, compute_type, scenario_names, truth

from coach.analysis.catalog import CATALOG
from coach.analysis.phrases import has
from coach.session.evaluation import judge, score


def cues(doc: dict, cue_id: str) -> list[float]:
    return [c["t"] for c in doc["cues"] if c["id"] == cue_id]


@pytest.mark.parametrize("name", scenario_names())
def test_scripted_calls_fire_expected_cues_and_nothing_forbidden(rendered: Path, analyzed, name: str):
    """Every scenario: the brief's, ours with near-misses, two held-out sets, the demo call."""
    result = score(truth(rendered, name), analyzed(rendered / f"{name}.wav"))
    assert result.ok, result.notes


def test_friendly_call_is_quiet(rendered: Path, analyzed):
    doc = analyzed(rendered / "d3_friendly_call.wav")
    assert [c for c in doc["cues"] if c["severity"] in ("alert", "warn")] == []
    assert doc["flags"] == []


def test_escalation_cue_carries_evidence_and_flags_the_segment(rendered: Path, analyzed):
    doc = analyzed(rendered / "d1_refund_escalation.wav")
    t = truth(rendered, "d1_refund_escalation")
    [cue] = [c for c in doc["cues"] if c["id"] == "customer_escalating"]
    assert cue["speaker"] == "customer" and cue["severity"] == "alert" and cue["skill"].startswith("de-escalation")
    angry = t["turns"][5]
    # the words of the angry turn are the evidence; partial decodes may cue it before the turn
    # ends, and at the latest it comes within the latency budget after it
    assert any(w in cue["reason"] for w in ("unacceptable", "outrageous", "nobody can")), cue["reason"]
    assert angry["start"] < cue["t"] < angry["end"] + 3.0
    assert cue["t"] - cue["latency_s"] >= angry["start"]  # dated from words of that turn
    [flag] = doc["flags"]
    assert flag["start"] <= angry["start"] and flag["end"] >= angry["end"] and flag["by"] == "rule"


def test_utterances_land_on_the_right_speaker_at_the_right_time(rendered: Path, analyzed):
    doc = analyzed(rendered / "d1_refund_escalation.wav")
    t = truth(rendered, "d1_refund_escalation")
    for turn in t["turns"]:
        mid = (turn["start"] + turn["end"]) / 2
        hits = [u for u in doc["utterances"] if u["start"] - 0.3 <= mid <= u["end"] + 0.3]
        assert [u["speaker"] for u in hits] == [turn["who"]], turn
    angry = next(u for u in doc["utterances"] if "unacceptable" in u["text"].lower())
    assert angry["speaker"] == "customer" and angry["sentiment"] < -0.3
    assert all(w["start"] <= w["end"] for u in doc["utterances"] for w in u["words"])


def test_simulated_clock_is_causal(rendered: Path, analyzed):
    doc = analyzed(rendered / "d1_refund_escalation.wav")
    for u in doc["utterances"]:
        # text exists only after the speech ended, the endpoint wait passed and a decode ran
        assert u["t_ready"] >= u["end"] + 0.45, u
    for c in doc["cues"]:
        assert c["latency_s"] > 0
    times = [c["t"] for c in doc["cues"]]
    assert times == sorted(times)
    timing = doc["timing"]
    assert timing["decodes"] == len(doc["utterances"]) and timing["rtf"] > 0


def test_json_contract(rendered: Path, analyzed):
    doc = analyzed(rendered / "d2_rushed_agent.wav")
    assert doc["schema"] == "coach.analysis/1"
    assert doc["source"]["channels"] == 2 and doc["source"]["sample_rate"] == 16000
    assert doc["model"]["name"] == "tiny.en" and doc["model"]["compute_type"] == compute_type()
    u = doc["utterances"][0]
    assert {"speaker", "start", "end", "text", "words", "sentiment", "wpm"} <= set(u)
    c = doc["cues"][0]
    assert {"id", "label", "t", "speaker", "severity", "skill", "tip", "reason", "latency_s"} <= set(c)
    m = doc["metrics"]
    assert {"talk_s", "talk_ratio", "wpm", "longest_monologue_s"} <= set(m["agent"])
    assert "sentiment_mean" in m["customer"] and "overtalk_s" in m and "dead_air_s" in m
    # the agent's mood and voice are never scored (EU AI Act Art. 5(1)(f))
    agent = [u for u in doc["utterances"] if u["speaker"] == "agent"]
    assert agent and all(u["sentiment"] is None and u["loudness_db"] is None for u in agent)
    assert m["agent"]["sentiment_mean"] is None
    assert all(u["sentiment"] is not None for u in doc["utterances"] if u["speaker"] == "customer")
    assert m["agent"]["talk_ratio"] + m["customer"]["talk_ratio"] == pytest.approx(1.0, abs=0.01)
    assert {"wall_s", "rtf", "cue_latency_p50_s", "cue_latency_p95_s"} <= set(doc["timing"])
    # the floor: d2's four scripted turns, every utterance in one of them
    turns = doc["turns"]
    assert [t["speaker"] for t in turns] == [t["who"] for t in truth(rendered, "d2_rushed_agent")["turns"]]
    assert sum(t["utterances"] + t["backchannels"] for t in turns) == len(doc["utterances"])
    assert m["agent"]["turns"] == 2 and m["customer"]["longest_turn_s"] > 2


def test_real_call_transcripts_are_sensible_for_both_speakers(analyzed):
    doc = analyzed(REAL_CALL)
    agent = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "agent").lower()
    customer = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "customer").lower()
    # the topic comes through whatever this CPU's kernels make of single words (another CPU
    # hears "Hyundai" as "Hyunday" or "Sunday"): most of the call's key words, matched as they sound
    heard = {k: bool(has(agent, [k])) for k in ("light", "button", "reset", "switch", "service", "manual")}
    assert sum(heard.values()) >= 4, heard
    heard = {k: bool(has(customer, [k])) for k in ("oil", "hyundai", "light", "service", "change")}
    assert sum(heard.values()) >= 3, heard
    m = doc["metrics"]
    assert m["agent"]["talk_s"] > m["customer"]["talk_s"] > 15
    # a calm real call: no alert-level cues, and the rest rare enough that agents keep listening
    minutes = doc["source"]["duration_s"] / 60
    assert [c for c in doc["cues"] if c["severity"] == "alert"] == []
    assert len(doc["cues"]) <= 1.5 * minutes
    # the global gap holds, except for a more urgent cue (the engine's rule, docs/cues.md)
    for a, b in zip(doc["cues"], doc["cues"][1:]):
        assert b["t"] - a["t"] >= 8.0 or CATALOG[b["id"]].priority < CATALOG[a["id"]].priority, (a, b)
    assert doc["timing"]["text_latency_p95_s"] < 5
    # the caller's explanation at the start is one turn, not the fragments the pauses cut
    first = next(t for t in doc["turns"] if t["speaker"] == "customer")
    assert first["utterances"] >= 2 and first["end"] - first["start"] > 15


def test_real_calls_give_no_cue_judged_wrong_and_miss_none_judged_right(analyzed):
    """The hand-judged real calls (tests/data/real_cues.json; make eval prints precision and
    recall): a cue a person judged wrong must not fire again, one judged right must."""
    for labels in json.loads((DATA / "real_cues.json").read_text())["calls"]:
        j = judge(labels, analyzed(DATA / labels["file"]))
        assert j.wrong == [] and j.missed == [], (j.wrong, j.missed)


def test_dead_air_fires_check_in(rendered: Path, analyzed):
    doc = analyzed(rendered / "d6_long_hold.wav")
    t = truth(rendered, "d6_long_hold")
    gap_start = t["turns"][1]["end"]
    [c] = [c for c in doc["cues"] if c["id"] == "check_in"]
    # the agent said "one moment please": the hold buys 12 s instead of 8, then the cue comes
    assert c["t"] == pytest.approx(gap_start + 12.0, abs=0.8)
    assert "hold" in c["reason"]
    assert doc["metrics"]["dead_air_s"] > 10

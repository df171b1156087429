"""Pace as a listener hears it: words as spoken over voiced time (coach/analysis/pace.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.analysis.pace import PaceTracker, Stretch, number_words, recent, spoken_words
from coach.core.events import Utterance, Word

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(("n", "words"), [
    (7, 1), (19, 1), (40, 1), (41, 2), (100, 2), (137, 4), (2019, 2), (1995, 3), (2005, 3), (2500, 4), (1_000_000, 2),
])
def test_numbers_count_as_the_words_read_out(n: int, words: int):
    assert number_words(n) == words


@pytest.mark.parametrize(("written", "spoken"), [
    ("forty one dollars", 3),
    ("$41", 3),  # forty one dollars
    ("588-757-2298", 10),  # a phone number, digit by digit
    ("97733", 5),  # a zip code
    ("10:15 a.m.", 4),  # ten fifteen a m
    ("$122.", 5),  # one hundred twenty two dollars
    ("15%", 2),
    ("Okay, so first unplug it.", 5),
])
def test_written_tokens_count_as_spoken_words(written: str, spoken: int):
    assert spoken_words(written.split()) == spoken


def utterance(text: str, start: float, end: float) -> Utterance:
    toks = text.split()
    step = (end - start) / len(toks)
    return Utterance("agent", start, end, text, [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(toks)])


def test_a_read_back_of_digits_is_not_slow():
    # "five eight eight, seven five seven, two two nine eight" in 3.1 s: 194 wpm, not 19
    t = PaceTracker()
    t.hear(utterance("588-757-2298.", 47.7, 50.8))
    assert t.overall() == pytest.approx(10 / 3.1 * 60)


def test_recent_covers_whole_utterances_back_to_the_window():
    t = PaceTracker()
    for i in range(4):
        t.add(10, 4.0, i * 10.0, i * 10.0 + 4)
    wpm, speech = t.recent(10.0)
    assert speech == 12.0 and wpm == pytest.approx(150.0)
    wpm, speech = t.recent(10.0, latest=Stretch(20, 4.0))
    assert speech == 12.0 and wpm == pytest.approx(40 / 12 * 60)
    assert recent([], 10.0) == (None, 0.0)


def reference_rate(sid: str) -> float:
    """The agent's words in the human transcript over their voiced time: word runs, pauses > 0.5 s cut."""
    words = [w for w in json.loads((DATA / "harper_valley" / f"{sid}.ref.json").read_text())["words"] if w["speaker"] == "agent"]
    voiced, run_start, run_end = 0.0, words[0]["start"], words[0]["end"]
    for w in words[1:]:
        if w["start"] - run_end > 0.5:
            voiced, run_start = voiced + run_end - run_start, w["start"]
        run_end = max(run_end, w["end"])
    return len(words) / (voiced + run_end - run_start) * 60


@pytest.mark.slow
@pytest.mark.parametrize("sid", [
    "0851d5916008439f",  # a phone number read back: Whisper writes it as one token
    "240368ab6cb14c33",  # the fastest agent of the judged set
])
def test_the_agents_pace_on_real_calls_is_within_10_percent_of_the_human_transcript(sid: str, tmp_path: Path):
    """Issue #31: a pace a listener would agree with. The real speech model on real banking calls
    (tests/data/harper_valley), the agent's whole-call rate against the reference's."""
    from coach.app import compose as app

    out = tmp_path / f"{sid}.json"
    app.analyze(str(DATA / "harper_valley" / f"{sid}.flac"), str(out), app.Options(data_dir=str(tmp_path), agent_channel=0),
                progress=False)
    doc = json.loads(out.read_text())
    assert doc["metrics"]["agent"]["wpm"] == pytest.approx(reference_rate(sid), rel=0.10)
    # stock questions, read-backs and goodbyes at 200-300 wpm are this job's normal: no pace cue
    assert not [c for c in doc["cues"] if c["id"] == "slow_down"]

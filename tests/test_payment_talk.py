"""Card talk is a state: a card read in groups, read back, and a code late in a reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import render_one
from fakes import CostClock, ScriptedTranscriber
from privacy_scan import stored_text

from coach.audio.file_source import FileSource
from coach.config.settings import Settings
from coach.core.events import Word
from coach.core.pipeline import Pipeline
from coach.core.runner import SimulatedRunner
from coach.privacy.redact import _digits_of, _number_run, redact


def words(text: str) -> list[Word]:
    return [Word(w, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(text.split())]


@pytest.mark.parametrize("said, digits", [
    ("four-one-one-one", "4111"), ("double four", "44"), ("triple one two", "1112"), ("forty-one eleven", "4111"),
    ("forty one eleven", "4111"), ("nought four", "04"), ("oh four twenty seven", "0427"), ("twenty twenty-seven", "2027"),
    ("forty", "40"), ("for one one one", "4111"),
])
def test_spoken_numbers_are_read_as_digits(said: str, digits: str):
    assert _number_run(words(said), 0)[0] == digits


def test_a_code_late_in_the_reply_is_still_the_code():
    r = redact(words("hang on I need to find my glasses they are somewhere here it's nine eight two"),
                "and the security code on the back", answer=True)
    assert r.kinds == ["[security code]"] and "nine" not in r.text and r.text.endswith("[security code]")


def test_a_misheard_group_during_a_read_out_is_card_data():
    assert redact(words("I'm for I'm for."), reading_out=True).text == "[card number]"
    assert redact(words("I'm 4."), reading_out=True).text == "[card number]"
    assert redact(words("thank you for that"), reading_out=True).text == "thank you for that"
    assert redact(words("yes"), reading_out=True).text == "yes"


def test_ordinary_numbers_outside_card_talk_are_kept():
    for text in ("I called three times", "my order 1234 came with 3 items", "twenty minutes on hold"):
        assert redact(words(text)).text == text


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_one(tmp_path_factory, "scenarios_payment_groups.json", "p2_card_in_groups")


def test_a_card_read_in_groups_and_read_back_is_masked_and_silenced_whole(groups: tuple[Path, Path]):
    call, truth = groups
    turns = json.loads(truth.read_text())["turns"]
    clock = CostClock()
    spans: list[tuple[float, float]] = []
    src = FileSource(str(call))
    p = Pipeline(Settings(), ScriptedTranscriber.from_truth(truth), list(src.info.speakers), clock, on_redact=spans.append)
    SimulatedRunner(p, clock).run(src.chunks())
    text = " ".join(u.text for u in p.utterances).lower()
    assert "five" not in text and "nine eight two" not in text and "five four" not in text
    assert text.count("[card number]") >= 5 and "[security code]" in text
    for t in turns[1:6] + [turns[8]]:  # every group, the read-back, the late code: their digits are silenced
        digits_at = [w for u in p.utterances if u.speaker == t["who"] and u.start < t["end"] and u.end > t["start"]
                     for w in u.words if w.w.startswith("[")]
        assert digits_at, t
        assert any(a <= digits_at[0].start + 0.01 and b >= digits_at[-1].end - 0.01 for a, b in spans), t
    # the rest of the call is kept, the order number too: the payment went through, card talk is over
    assert "thank you, that payment has gone through. your order number is one two three" in text


@pytest.mark.slow
def test_with_the_real_model_no_digit_of_the_card_or_code_is_stored(groups: tuple[Path, Path], tmp_path: Path):
    from coach.app import compose as app

    call, truth = groups
    data = tmp_path / "data"
    out = tmp_path / "out.json"
    app.analyze(str(call), str(out), app.Options(data_dir=str(data)), progress=False, save=True)
    text = stored_text([out, *(f for f in data.rglob("*") if f.is_file())])
    for secret in ("5454", "5 4 5 4", "five four five four", "5,4,5,4", "982", "nine eight two", "9 8 2"):
        assert secret not in text, secret
    doc = json.loads(out.read_text())
    assert "[card number]" in json.dumps(doc)
    turns = json.loads(truth.read_text())["turns"]
    for t in turns[1:5]:  # whatever the recognizer made of each group, no number word of it is kept
        for u in doc["utterances"]:
            if u["speaker"] == "customer" and u["start"] < t["end"] and u["end"] > t["start"]:
                assert all(_digits_of(w["w"]) is None for w in u["words"]), u["text"]

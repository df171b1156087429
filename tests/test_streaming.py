"""Cues the moment the words are said: partial decodes of speech still going on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import render_one
from fakes import CostClock, ScriptedTranscriber

from coach.audio.file_source import FileSource
from coach.config.settings import Settings
from coach.core.events import Partial, Word
from coach.core.pipeline import Pipeline
from coach.core.runner import SimulatedRunner
from coach.speech.agreement import Agreement


def w(text: str, t0: float = 0.0) -> list[Word]:
    return [Word(x, t0 + i, t0 + i + 0.8) for i, x in enumerate(text.split())]


def test_agreement_commits_what_two_decodes_agree_on_and_never_takes_it_back():
    ag = Agreement(0)
    assert ag.update(w("i want to"), 1.0) == []  # one hypothesis is not agreement
    assert [x.w for x in ag.update(w("i want to speak"), 2.0)] == ["i", "want", "to"]
    assert [x.w for x in ag.update(w("i want to speak to your"), 3.0)] == ["speak"]
    # a re-spelled committed word does not hold back the words after it
    assert [x.w for x in ag.update(w("i wanted to speak to your supervisor"), 4.0)] == ["to", "your"]
    assert [x.t_ready for x in ag.committed] == [2.0, 2.0, 2.0, 3.0, 4.0, 4.0]
    final = ag.stamp(w("i want to spoke to your supervisor now"))
    assert [x.t_ready for x in final] == [2.0, 2.0, 2.0, 3.0, 4.0, 4.0, None, None]


def test_a_word_whisper_is_sure_of_is_committed_from_one_decode_an_unsure_one_waits():
    ag = Agreement(0, sure_p=0.5, settle_s=0.3)
    hyp = [Word("i", 0.0, 0.4, 0.9), Word("want", 0.5, 0.9, 0.9), Word("uh", 1.0, 1.3, 0.2), Word("to", 1.4, 1.6, 0.9)]
    # sure words that ended 0.3 s before the end of the audio heard: shown now; "uh" blocks the rest
    assert [x.w for x in ag.update(hyp, 2.0, heard_until=2.0)] == ["i", "want"]
    ag2 = Agreement(0, sure_p=0.5, settle_s=0.3)
    # "want" ended 0.1 s before the audio did: it may still change
    assert [x.w for x in ag2.update(hyp[:2], 1.0, heard_until=1.0)] == ["i"]
    assert Agreement(0).update(hyp, 2.0, heard_until=9.0) == []  # the default waits for agreement
    # an unsure word the decoder still puts there with 0.7 s of speech heard after it no longer holds back the rest
    ag3 = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    assert [x.w for x in ag3.update(hyp, 2.0, heard_until=2.0)] == ["i", "want", "uh", "to"]
    assert [x.w for x in Agreement(0, 0.5, 0.3, 0.7).update(hyp, 1.9, heard_until=1.9)] == ["i", "want"]


def test_a_small_word_a_decode_dropped_is_shown_when_the_next_decode_hears_it():
    """Issue #32: "to" and "of" in long turns waited for the final decode (p99 4-13 s) when the decode
    that committed the words around them had dropped them. The next decode that hears such a word
    behind the committed ones, with enough speech after it, shows it in its place."""
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    dropped = [Word("i", 0.0, 0.3, 0.9), Word("want", 0.3, 0.7, 0.9), Word("go", 1.0, 1.3, 0.9), Word("home", 1.3, 1.7, 0.9)]
    assert [x.w for x in ag.update(dropped, 3.0, heard_until=3.0)] == ["i", "want", "go", "home"]
    heard = [Word("want", 0.35, 0.7, 0.9), Word("to", 0.72, 0.95, 0.6), Word("go", 1.0, 1.3, 0.9), Word("home", 1.3, 1.7, 0.9),
             Word("now", 1.8, 2.1, 0.9)]
    new = ag.update(heard, 3.6, heard_until=3.6)
    assert [x.w for x in new] == ["to", "now"] and all(x.t_ready == 3.6 for x in new)
    assert [x.w for x in ag.committed] == ["i", "want", "to", "go", "home", "now"]
    # a committed word heard again a little later, or beside itself, is not shown twice
    again = [Word("i", 0.0, 0.3, 0.9), Word("want", 0.3, 0.7, 0.9), Word("to", 0.72, 0.95, 0.6), Word("go", 1.0, 1.3, 0.9),
             Word("go", 1.32, 1.4, 0.5), Word("home", 1.4, 1.75, 0.9), Word("now", 1.8, 2.1, 0.9)]
    assert ag.update(again, 4.2, heard_until=4.2) == []
    # a word too close to the end of what was heard still waits for the decodes after it
    late = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    late.update(dropped, 2.0, heard_until=2.0)
    assert [x.w for x in late.update(heard[:4], 2.1, heard_until=1.5)] == []


def test_a_word_only_an_earlier_decode_heard_is_shown_once_the_words_after_it_are():
    """Issue #32, the real call: "Sorry," began a 10.8 s turn; the first partial decode heard it
    unsure at its end, the next ones dropped it, agreed on the words after it, and then no longer
    heard that far back: it waited 11.7 s for the final decode. A word one of the last few decodes
    heard where nothing is committed, with enough speech after it, is shown with the words after it."""
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    assert ag.update([Word("Sorry,", 0.1, 0.5, 0.3), Word("I", 0.6, 0.8, 0.3)], 1.0, heard_until=1.0) == []
    later = [Word("I", 0.6, 0.8, 0.4), Word("was", 0.8, 1.0, 0.4), Word("calling", 1.0, 1.5, 0.4)]
    assert ag.update(later, 1.4, heard_until=1.4) == []
    new = ag.update([*later, Word("about", 1.6, 1.9, 0.4)], 2.0, heard_until=2.0)
    assert [x.w for x in new] == ["Sorry,", "I", "was", "calling"] and all(x.t_ready == 2.0 for x in new)
    # the newest decode's word wins where two decodes heard the same stretch otherwise
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    ag.update([Word("So", 0.1, 0.4, 0.3), Word("I'm", 0.5, 0.8, 0.3)], 1.0, heard_until=1.0)
    ag.update([Word("Sorry,", 0.1, 0.5, 0.3), Word("I", 0.6, 0.8, 0.4), Word("was", 0.8, 1.0, 0.4)], 1.05, heard_until=1.05)
    ag.update([Word("I", 0.6, 0.8, 0.4), Word("was", 0.8, 1.0, 0.4), Word("calling", 1.0, 1.5, 0.4)], 2.4, heard_until=2.4)
    assert [x.w for x in ag.committed] == ["Sorry,", "I", "was", "calling"]


def test_a_word_a_decode_heard_between_two_shown_words_is_shown_there_whatever_its_times():
    """Issue #32, the real call: "all day. just forget" was shown and the final heard "all day, they just
    forget" 7.5 s later. A partial decode had heard "They" there, but timed so that it overlapped the
    shown "just": found by text, between two words both have, it is shown once it has speech after it."""
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    shown = [Word("all", 0.0, 0.2, 0.9), Word("day.", 0.2, 0.6, 0.9), Word("just", 0.45, 1.1, 0.9), Word("forget", 1.1, 1.4, 0.9)]
    assert len(ag.update(shown, 2.0, heard_until=2.0)) == 4
    heard = [Word("all", 0.0, 0.2, 0.9), Word("day,", 0.2, 0.6, 0.9), Word("They", 0.9, 0.9, 0.6), Word("just", 0.9, 1.1, 0.9),
             Word("forget", 1.1, 1.4, 0.9), Word("to", 1.5, 2.0, 0.9)]
    assert [x.w for x in ag.update(heard, 2.1, heard_until=2.1)] == ["They"]
    assert [x.w for x in ag.committed] == ["all", "day.", "They", "just", "forget"]
    # not at the edge of what both heard (in an utterance that began before it), nor a word beside
    # itself, nor one with too little speech after it
    ag = Agreement(-3 * 16000, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    ag.update(shown, 2.0, heard_until=2.0)
    assert ag.update([Word("Oh", 0.0, 0.1, 0.9), *shown[:2], Word("day", 0.6, 0.7, 0.9), *shown[2:]], 2.1, heard_until=2.1) == []
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    ag.update(shown, 2.0, heard_until=2.0)
    assert ag.update(heard, 1.5, heard_until=1.5) == []


def test_a_turns_first_word_an_opening_decode_heard_is_shown_before_the_words_after_it():
    """The scripted call: the opening decode heard "Hi, I was..." (unsure of "Hi,"); the next one heard
    "I was charged", with "I" timed from the utterance's start. "Hi," waited 6.8 s for the final. A
    decode that heard the utterance from its start has its first words right: they go before the
    first word shown."""
    ag = Agreement(16000, sure_p=0.5, settle_s=0.3, stale_s=0.7)  # the utterance began at 1.0 s
    assert ag.update([Word("Hi,", 0.8, 1.6, 0.31), Word("I", 1.8, 2.0, 0.76), Word("was", 2.0, 2.2, 0.4)], 2.5, heard_until=2.3) == []
    new = ag.update([Word("I", 0.8, 1.86, 0.25), Word("was", 1.86, 2.24, 0.73), Word("charged", 2.24, 2.8, 0.8)], 3.2, heard_until=3.0)
    assert [x.w for x in new] == ["Hi,", "I", "was"]
    assert [x.w for x in ag.committed] == ["Hi,", "I", "was"]


def test_words_the_final_hears_otherwise_keep_the_time_the_same_speech_was_shown():
    ag = Agreement(0)
    ag.update(w("this has happened not"), 1.0)
    ag.update(w("this has happened not ever"), 2.0)  # "this has happened not" shown at 2.0
    final = [Word("this", 0.0, 0.8), Word("happens", 1.0, 2.8), Word("not", 3.0, 3.8), Word("ever", 4.0, 4.8)]
    assert [x.t_ready for x in ag.stamp(final)] == [2.0, 2.0, 2.0, None]


def test_a_word_the_final_hears_in_place_of_shown_words_keeps_their_time():
    """Issue #32, the real call: the partial decodes showed "Hi, Mary. Hi, My name" and the final heard
    "Hi, Terry. My name": "Terry." replaced shown words between two agreed ones, but Whisper timed it
    0.02 s long, past them, so it counted as first shown with the final, 14 s after it was said."""
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    hyp = [Word("Hi,", 0.0, 0.5, 0.9), Word("Mary.", 0.7, 0.85, 0.9), Word("Hi,", 0.99, 0.99, 0.9), Word("My", 1.15, 1.45, 0.9),
           Word("name", 1.45, 1.65, 0.9), Word("is", 1.65, 1.9, 0.9)]
    assert len(ag.update(hyp, 2.5, heard_until=2.5)) == 6
    final = [Word("Hi,", 0.0, 0.5), Word("Terry.", 0.87, 0.89), Word("My", 1.39, 1.47), Word("name", 1.47, 1.65), Word("is", 1.65, 1.9),
             Word("Suzanne.", 2.0, 2.4)]
    assert [x.t_ready for x in ag.stamp(final)] == [2.5, 2.5, 2.5, 2.5, 2.5, None]
    # more words than were shown there: the extra ones were not on screen
    more = [Word("Hi,", 0.0, 0.5), Word("Terry", 0.87, 0.89), Word("and", 0.89, 0.9), Word("Jo", 0.9, 0.92), Word("and", 0.92, 0.93),
            Word("My", 1.39, 1.47)]
    assert [x.t_ready for x in ag.stamp(more)][:5] == [2.5, None, None, None, None]


def test_a_word_shown_a_moment_away_from_where_the_final_puts_it_was_shown():
    """Whisper's times for one word drift between decodes: "they" was shown at 57.79-58.49, before
    "but" (58.22), and the final heard "but they". The same word, that close, is the word shown."""
    ag = Agreement(0)
    ag.committed = [Word("drive,", 0.0, 0.3, t_ready=1.0), Word("they", 0.29, 0.99, t_ready=1.5), Word("but", 0.72, 0.78, t_ready=2.0),
                    Word("probably", 0.99, 1.37, t_ready=2.0)]
    final = [Word("drive,", 0.0, 0.3), Word("but", 0.74, 0.8), Word("they", 0.8, 1.44), Word("probably", 1.44, 1.5),
             Word("they", 3.0, 3.2)]
    assert [x.t_ready for x in ag.stamp(final)] == [1.0, 2.0, 1.5, 2.0, None]  # the last "they" is far from any shown


def test_newly_committed_words_come_after_the_committed_ones():
    """A decode's first word takes in the audio before it: "that" timed 66.07-66.63 after "get" was shown
    at 66.11-66.19. Sorted by start, the overlay read "let's that get fixed"."""
    ag = Agreement(0, sure_p=0.5, settle_s=0.3, stale_s=0.7)
    ag.update([Word("let's", 0.0, 0.3, 0.9), Word("get", 0.34, 0.42, 0.9), Word("it", 0.5, 1.5, 0.2)], 1.8, heard_until=1.8)
    assert [x.w for x in ag.committed] == ["let's", "get"]
    ag.update([Word("that", 0.3, 0.86, 0.9), Word("fixed", 0.86, 1.2, 0.9), Word("for", 1.2, 1.5, 0.9)], 2.4, heard_until=2.4)
    assert [x.w for x in ag.committed] == ["let's", "get", "that", "fixed", "for"]


def test_partial_decodes_from_the_start_of_an_utterance_are_marked_opening(long_turn: tuple[Path, Path]):
    """The recognizer gives a partial decode that begins where the utterance began a final's encoder
    window (tiny.en dropped a turn's first words in the small one): the pipeline says which they are."""
    call, truth = long_turn
    src, clock = FileSource(str(call)), CostClock()
    stt = ScriptedTranscriber.from_truth(truth, delay_s={"agent": 0.1, "customer": 0.1}, spend=clock.spend)
    p = Pipeline(Settings(), stt, list(src.info.speakers), clock)
    SimulatedRunner(p, clock).run(src.chunks())
    starts = [u.start for u in p.utterances]
    opening = [o for _, o, flag in stt.openings if flag]
    later = [o for _, o, flag in stt.openings if not flag]
    assert opening and later
    assert all(any(abs(o - (s - 0.2)) < 0.05 or o == 0 for s in starts) for o in opening)  # from an utterance's start
    assert not any(any(abs(o - (s - 0.2)) < 0.05 for s in starts) for o in later)


def test_a_second_hand_over_at_a_cut_keeps_the_words_shown_first():
    """The previous part's last partial decode, still running at the cut, hands over a second batch of
    words after the first: the stretch keeps the words (and times) first shown, nothing is lost."""
    nxt = Agreement(44)
    first = [Word(x, 44.0 + i * 0.4, 44.3 + i * 0.4, t_ready=45.7) for i, x in enumerate("switch on the inside basically that just".split())]
    nxt.take(first)
    again = [Word(x, 46.0 + i * 0.4, 46.3 + i * 0.4, t_ready=48.1) for i, x in enumerate("that just kind of reset".split())]
    nxt.take(again)
    assert [x.w for x in nxt.committed] == "switch on the inside basically that just kind of reset".split()
    assert [x.t_ready for x in nxt.committed[:7]] == [45.7] * 7 and nxt.committed[-1].t_ready == 48.1
    final = nxt.stamp([Word(x.w, x.start, x.end) for x in nxt.committed])
    assert final[0].t_ready == 45.7  # the final's "switch" is dated when it was shown, not when the final came


def test_words_shown_past_a_forced_cut_stay_shown_in_the_next_part(tmp_path_factory: pytest.TempPathFactory):
    """A turn longer than max_utterance_s is cut at a quiet point behind the newest audio; words
    already shown after that point belong to the next part and keep the time they were shown."""
    call, truth = render_one(tmp_path_factory, "scenarios_streaming.json", "s1_early_escalation_long_turn")
    src, clock = FileSource(str(call)), CostClock()
    s = Settings()
    s.vad.max_utterance_s = 6.0
    shown: dict[float, float] = {}

    def on_event(e: object) -> None:
        if isinstance(e, Partial) and e.speaker == "customer":
            for x in e.words:
                shown.setdefault(x.start, x.t_ready)

    p = Pipeline(s, ScriptedTranscriber.from_truth(truth, delay_s={"agent": 0.2, "customer": 0.2}, spend=clock.spend),
                 list(src.info.speakers), clock, on_event=on_event)
    SimulatedRunner(p, clock).run(src.chunks())
    parts = [u for u in p.utterances if u.speaker == "customer"]
    assert len(parts) >= 3  # the long turn was cut
    words = [x for u in parts for x in u.words]
    assert len({x.start for x in words}) == len(words)  # a word at a cut is in one part, not both
    assert len(shown) >= len(words) // 2
    assert {x.start: x.t_ready for x in words if x.start in shown} == shown


@pytest.fixture(scope="module")
def long_turn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_one(tmp_path_factory, "scenarios_streaming.json", "s1_early_escalation_long_turn")


def escalation_during_the_turn(doc_cues: list, turn: dict) -> float:
    [t] = [c.t if hasattr(c, "t") else c["t"] for c in doc_cues if (c.id if hasattr(c, "id") else c["id"]) == "customer_escalating"]
    return t


def test_escalation_early_in_a_long_turn_is_cued_before_the_turn_ends(long_turn: tuple[Path, Path]):
    call, truth = long_turn
    turn = json.loads(truth.read_text())["turns"][1]
    src = FileSource(str(call))
    clock = CostClock()
    stt = ScriptedTranscriber.from_truth(truth, delay_s={"agent": 0.3, "customer": 0.3}, spend=clock.spend)  # a decode's cost
    partials: list[Partial] = []
    p = Pipeline(Settings(), stt, list(src.info.speakers), clock, on_event=lambda e: partials.append(e) if isinstance(e, Partial) else None)
    SimulatedRunner(p, clock).run(src.chunks())
    t = escalation_during_the_turn(p.engine.fired, turn)
    assert turn["start"] < t < turn["end"] - 4.0  # while the customer is still talking
    [cue] = [c for c in p.engine.fired if c.id == "customer_escalating"]
    assert "supervisor" in cue.reason and cue.latency_s < 3.0  # from the word, not from the end of the turn
    assert any(x.speaker == "customer" for x in partials)
    customer = next(u for u in p.utterances if u.speaker == "customer")
    assert customer.words[0].t_ready is not None and customer.words[0].t_ready < turn["end"]


@pytest.mark.slow
def test_with_the_real_model_the_cue_and_the_words_arrive_mid_turn(long_turn: tuple[Path, Path], analyzed):
    call, truth = long_turn
    turn = json.loads(truth.read_text())["turns"][1]
    doc = analyzed(call)
    t = escalation_during_the_turn(doc["cues"], turn)
    assert t < turn["end"], (t, turn)
    words = [x for u in doc["utterances"] if u["speaker"] == "customer" for x in u["words"]]
    early = [x for x in words if x["t_ready"] < turn["end"]]
    assert len(early) >= len(words) // 3  # a good part of the turn was on screen before it ended
    assert doc["timing"]["word_latency_p50_s"] < doc["timing"]["text_latency_p50_s"] + 3.0


def test_the_overlay_transcript_shows_words_as_they_arrive_with_numbers_hidden():
    from coach.session.live_state import LiveState

    st = LiveState()
    st.on_partial(Partial("customer", 5.0, w("my card is four one one one")))
    assert st.snapshot().transcript[-1] == ("customer", "my card is • • • • …")
    from coach.core.events import Utterance

    st.on_utterance(Utterance("customer", 5.0, 9.0, "my card is [card number]", []), None, None, None)
    assert st.snapshot().transcript == [("customer", "my card is [card number]")]


def test_the_pipeline_publishes_the_overlay_meters(tmp_path_factory):
    """The overlay's meters come from the pipeline's own Meters events, after each utterance in
    time order; nothing outside reads its rules or turn-taking state."""
    from coach.core.events import Meters
    from coach.core.runner import SimClock
    from coach.session.live_state import LiveState

    call, truth = render_one(tmp_path_factory, "scenarios.json", "d1_refund_escalation")
    src, clock, state, seen = FileSource(str(call)), SimClock(), LiveState(), []

    def on_event(e: object) -> None:
        if isinstance(e, Meters):
            seen.append(e)
            state.on_meters(e)

    s = Settings()
    s.model.partial_every_s = 0.0
    p = Pipeline(s, ScriptedTranscriber.from_truth(truth), list(src.info.speakers), clock, on_event=on_event)
    SimulatedRunner(p, clock).run(src.chunks())
    assert len(seen) == len(p.utterances)
    assert max(m.escalation or 0.0 for m in seen) >= 0.6  # the angry turn
    assert state.snapshot().escalation is not None and state.snapshot().agent_wpm is not None

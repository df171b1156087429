"""Mono calls: two voices found in one channel, the agent told apart, coached like stereo."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import DATA, REAL_CALL, truth

from coach.app import cli
from coach.config.settings import Settings
from coach.voices import mono_calls, voiceprint
from coach.voices import speakers as sp
from coach.voices.mono_mix import frame_error, louder_side, mix, short_turn_errors, stereo_16k
from coach.voices.roles import which_is_agent
from coach.voices.voice_split import VoiceSplit


def _diarization(labels: list[int]) -> sp.Diarization:
    return sp.Diarization(np.asarray(labels), 2, 0.3, np.eye(2, 192, dtype=np.float32))


# -- fast: the parts, no speech model -------------------------------------------------------


def test_split_gives_each_speaker_only_their_own_stretches():
    # voice 0 for 1 s, a pause, voice 1 for 1 s (10 ms frames)
    split = VoiceSplit(_diarization([0] * 100 + [-1] * 50 + [1] * 100), agent_voice=1, identified_by="opening_words")
    x = np.ones(250 * 160, np.float32)
    ch = split.split(0, x)
    assert np.all(ch["customer"][:90 * 160] == 1) and np.all(ch["agent"][:90 * 160] == 0)
    assert np.all(ch["agent"][-90 * 160:] == 1) and np.all(ch["customer"][-90 * 160:] == 0)
    np.testing.assert_allclose(ch["agent"] + ch["customer"], x, atol=1e-6)  # nothing lost, nothing doubled
    cut = np.flatnonzero(ch["agent"] > 0.5)[0] / 16000
    assert 1.2 <= cut <= 1.3  # the cut falls in the middle of the pause, not on a word
    # a chunk from the middle of the call is split by the same labels
    assert np.all(split.split(200 * 160, x[:1600])["agent"] == 1)
    split.swap("trainer", at=1.7)
    assert np.all(split.split(200 * 160, x[:1600])["customer"] == 1)
    assert split.info.agent_identified_by == "trainer" and split.swaps == [1.7]
    assert [s[2] for s in split.segments()] == ["agent", "customer"]  # final labels after the swap


def test_pauses_go_to_the_nearer_voice():
    lab = np.array([-1, 0, 0, -1, -1, -1, -1, 1, 1, -1])
    assert sp.filled(lab).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_the_agent_is_told_by_their_words_even_misheard():
    agent = "Thanks for calling Blue Yonder, this is Chris. How can I help?"
    customer = "Hi, I was charged twice for my ticket and I would like my money back."
    assert which_is_agent([agent, customer]) == 0
    assert which_is_agent([customer, agent]) == 1
    # tiny.en's real mishearings of the same lines still say who is who
    assert which_is_agent(["Thanks for calling Luyand the rare lines this is Chris. How can I help",
                           "Hi, I was charged wise for my ticket to Denver"]) == 0
    assert which_is_agent(["Okay.", "Yes."]) is None  # no evidence: nobody is guessed from words


def test_voiceprint_needs_consent_is_private_and_deletable(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    s = Settings()
    vec = np.random.default_rng(1).normal(size=192).astype(np.float32)
    voiceprint.learn(tmp_path, vec, speech_s=5.0)
    assert voiceprint.read(tmp_path) is None  # too little speech to learn from
    voiceprint.learn(tmp_path, vec, speech_s=60.0)
    f = voiceprint.path(tmp_path)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert voiceprint.load(tmp_path, s) is None  # stored, but not used without the agent's opt-in
    s.voiceprint.enroll = True
    got = voiceprint.load(tmp_path, s)
    assert got is not None and float(got @ vec / np.linalg.norm(vec)) > 0.999
    voiceprint.learn(tmp_path, -vec, speech_s=60.0)  # a second call moves it
    assert json.loads(f.read_text())["calls"] == 2
    assert cli.main(["voiceprint", "show", "--data-dir", str(tmp_path)]) == 0
    assert "2 call(s)" in capsys.readouterr().out
    assert cli.main(["voiceprint", "delete", "--data-dir", str(tmp_path)]) == 0
    assert not f.exists() and voiceprint.load(tmp_path, s) is None


def test_agent_voice_option_on_a_stereo_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = cli.main(["analyze", str(DATA / "stereo_diarization.wav"), "--agent-voice", "first",
                     "--json", str(tmp_path / "out.json"), "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--agent-voice is for a mono file" in err


def test_a_live_line_learns_the_agent_from_the_first_words_once():
    """Live mono: the voice heard first is taken for the agent; when the other voice opens like an
    agent, the roles swap from then on (kept in the JSON), and words never overrule a person."""
    split = VoiceSplit(_diarization([0, 0, 1, 1]), 0, "first_voice")
    opening = mono_calls.OpeningWords(split)
    opening.heard("agent", "Hello, I am calling about my bill, it is wrong again.", 3.0)  # the customer answered first
    assert split.info.agent_identified_by == "first_voice"  # one voice's words alone decide nothing
    opening.heard("customer", "Thank you for calling Litware Energy, my name is Jo, how can I help?", 7.5)
    assert (split.info.agent_voice, split.info.agent_identified_by, split.swaps) == (1, "opening_words", [7.5])
    assert split.voice_of("agent") == 1
    opening.heard("agent", "Thank you for calling, how can I help you today?", 12.0)  # decided once
    assert split.info.agent_voice == 1 and split.swaps == [7.5]
    told = VoiceSplit(_diarization([0, 1]), 0, "first_voice")
    told.swap("trainer", 2.0)
    late = mono_calls.OpeningWords(told)
    late.heard("agent", "I want my money back.", 3.0)
    late.heard("customer", "Thank you for calling, how can I help?", 4.0)
    assert (told.info.agent_voice, told.info.agent_identified_by) == (1, "trainer")


def test_mono_device_is_given_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = cli.main(["live", "--mono-device", "line", "--agent-device", "mic", "--headless", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--mono-device carries both voices" in err


# -- slow: the real embedder on real and scripted calls --------------------------------------


@pytest.mark.slow
def test_real_call_on_a_live_mono_line_is_split_as_it_plays():
    """The real call summed to mono, pushed in 100 ms blocks as a device delivers them: every
    sample comes out LAG_S later on one side or the other, right as the voices are known then;
    the labels kept at the end are as good as the file's."""
    from coach.voices.live_split import LAG_S, STEP, LiveSplit

    mono, truth_frames = mix(str(REAL_CALL), law=True)
    split = LiveSplit()
    out = []
    for i in range(0, len(mono), STEP):
        got = split.push(mono[i:i + STEP])
        out += got
        assert split.emitted == max(0, min(i + STEP, len(mono)) - int(LAG_S * 16000)) // STEP * STEP  # the lag, no more
    out += split.flush()
    assert [start for start, _ in out] == list(range(0, len(mono), STEP))
    agent, customer = (np.concatenate([ch[k] for _, ch in out]) for k in ("agent", "customer"))
    assert np.allclose(agent + customer, mono, atol=1e-6)  # a split, nothing lost or added
    heard_live = louder_side(agent, customer)
    assert split.info.speakers == 2
    assert frame_error(heard_live, truth_frames, which_is_left=0) <= 0.10  # the agent (left) answers first
    assert frame_error(split.diarization.labels, truth_frames) <= 0.06


@pytest.mark.slow
@pytest.mark.parametrize(("condition", "limit"), [({}, 0.06), ({"noise_db": 20.0}, 0.08), ({"law": True}, 0.08)],
                         ids=["clean", "noise-20dB", "g711-mulaw"])
def test_real_call_summed_to_mono_is_separated(condition: dict, limit: float):
    mono, truth_frames = mix(str(REAL_CALL), **condition)
    d = sp.diarize(mono, sp.speech_mask(mono))
    assert d.speakers == 2  # decided from the voices, not forced
    assert frame_error(d.labels, truth_frames) <= limit


@pytest.mark.slow
def test_one_voice_stays_one_speaker():
    left, _ = stereo_16k(str(REAL_CALL))  # the agent alone, 4 minutes of one real voice
    assert sp.diarize(left, sp.speech_mask(left)).speakers == 1
    x, rate = sf.read(str(DATA / "jfk.flac"), dtype="float32", always_2d=True)
    jfk = soxr.resample(x[:, 0], rate, 16000).astype(np.float32)
    assert sp.diarize(jfk, sp.speech_mask(jfk)).speakers == 1


@pytest.mark.slow
def test_the_agent_is_known_by_their_voiceprint(tmp_path: Path):
    left, right = stereo_16k(str(REAL_CALL))
    mono, truth_frames = mix(str(REAL_CALL))
    for own, agent_is_left in ((left, True), (right, False)):  # a print of either voice picks that voice
        data = tmp_path / ("l" if agent_is_left else "r")
        data.mkdir()
        enroller = voiceprint.Enroller()
        enroller.feed(own[:120 * 16000])
        assert enroller.finish(data) > 30
        s = Settings()
        s.voiceprint.enroll = True
        split = mono_calls.separate(mono, "auto", voiceprint=voiceprint.load(data, s))
        assert split is not None and split.info.agent_identified_by == "voiceprint"
        labels = sp.filled(split.diarization.labels)
        n = min(len(labels), len(truth_frames))
        left_voice = int(np.bincount(labels[:n][truth_frames[:n] == 0], minlength=2).argmax())
        assert (split.info.agent_voice == left_voice) == agent_is_left


MONO_CALLS = ["d2_rushed_agent", "h1_energy_escalation", "c1_no_acknowledgement", "c5_repeated_demand",
              "c8_backchannel", "g1_cancel_contract"]


@pytest.fixture(scope="module")
def mono_mixes(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mono")
    for name in MONO_CALLS:
        mono, _ = mix(str(rendered / f"{name}.wav"))
        sf.write(out / f"{name}.wav", mono, 16000)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", MONO_CALLS)
def test_scripted_call_summed_to_mono_is_coached_like_stereo(name: str, mono_mixes: Path, rendered: Path, analyzed):
    from coach.session.evaluation import score

    doc = analyzed(mono_mixes / f"{name}.wav")
    src = doc["source"]
    assert src["channels"] == 1 and src["voices"]["count"] == 2
    assert src["agent_identified_by"] == "opening_words"
    # each scripted turn's words are given to the right speaker (by time inside the turn)
    t = truth(rendered, name)
    right = total = 0.0
    for u in doc["utterances"]:
        mid = (u["start"] + u["end"]) / 2
        turn = next((x for x in t["turns"] if x["start"] - 0.3 <= mid <= x["end"] + 0.3), None)
        if turn is not None:
            total += u["end"] - u["start"]
            right += (u["end"] - u["start"]) * (u["speaker"] == turn["who"])
    assert total > 0 and right / total >= 0.9
    # the same cues as the stereo call: every expected cue, no forbidden one
    assert score(t, doc).ok, score(t, doc).notes
    assert score(t, analyzed(rendered / f"{name}.wav")).ok  # (the stereo run, for reference)


@pytest.mark.slow
def test_trainer_marks_the_agent_in_replay_and_the_call_is_coached_again(mono_mixes: Path, tmp_path: Path, qtbot):
    from coach.app import compose as app
    from coach.app import session_commands
    from coach.ui.replay import ReplayWindow

    opts = app.Options(data_dir=str(tmp_path))
    # told wrongly: the customer's voice (second) taken for the agent
    wrong = dataclasses.replace(opts, agent_voice="second")
    doc = app.analyze(str(mono_mixes / "h1_energy_escalation.wav"), str(tmp_path / "a.json"), wrong, progress=False, save=True)
    assert doc["utterances"][0]["speaker"] == "customer"  # "Thank you for calling ..." given to the customer
    s, data = app.load_settings(opts)
    store = app.open_store(s, data)
    w = ReplayWindow(store, tmp_path / "exports", sound=False, swap_voices=lambda sid: session_commands.swap_voices(opts, sid))
    qtbot.addWidget(w)
    w.load(doc["session_id"])
    assert w.can_swap(0) and not w.can_swap(1)  # only a customer line can be said to be the agent
    w.mark_agent(0)
    qtbot.waitUntil(lambda: w._swapping is None and "voices swapped" in w.status.text(), timeout=120_000)
    new = store.get(w.sid)
    assert w.sid != doc["session_id"] and new["source"]["agent_identified_by"] == "trainer"
    assert new["utterances"][0]["speaker"] == "agent" and "calling" in new["utterances"][0]["text"].lower()
    assert [r["id"] for r in store.list()] == [w.sid]  # the wrong one is gone, not kept beside it
    store.close()


def test_the_trainer_swaps_agent_and_customer_from_the_tray(tmp_path: Path, qtbot):
    from coach.audio.file_source import FileSource
    from coach.ui.tray import Tray

    path = tmp_path / "mono.wav"
    sf.write(path, np.full(16000 * 3, 0.1, np.float32), 16000)
    src = FileSource(path)
    src.use_split(VoiceSplit(_diarization([0] * 150 + [1] * 150), agent_voice=0, identified_by="first_voice"))
    assert src.speakers == ["agent", "customer"]
    chunks = src.chunks()
    first = next(chunks)
    assert first.channels["agent"].max() > 0.09 and first.channels["customer"].max() == 0
    tray = Tray()
    tray.add_demo_controls(src)
    tray.act_swap.trigger()  # the trainer: "no, that voice is the customer"
    second = next(chunks)
    assert second.channels["customer"].max() > 0.09 and second.channels["agent"].max() == 0
    assert src.info.agent_identified_by == "trainer" and src.split is not None and src.split.swaps == [0.1]


@pytest.mark.slow
def test_a_real_mono_conversation_gets_both_speakers(analyzed):
    # Microsoft's sample: Katie and Steve greet each other and talk in turns, one channel
    doc = analyzed(DATA / "katiesteve.flac")
    voices = doc["source"]["voices"]
    assert voices["count"] == 2 and {u["speaker"] for u in doc["utterances"]} == {"agent", "customer"}

    def who(t: float) -> str:
        return next(s for a, b, s in voices["segments"] if a <= t <= b)

    # "Good morning, Steve." (0.1-1.5 s) / "Good morning, Katie." (2.0-3.5 s) / Katie asks (4-11 s) /
    # Steve answers (12.4-20 s): two voices, in turns
    assert who(0.8) != who(2.8)
    assert who(0.8) == who(6.0) and who(2.8) == who(15.0)


# -- short answers and memory (issue #31) ------------------------------------------------------


class ToneEmbedder:
    """A stand-in for CAM++ on tone 'voices': voice 0 hums at 200 Hz, voice 1 at 320 Hz. A frame's
    features are the shares of the two tones; a span's embedding is their mean, as a unit vector."""

    def features(self, audio: np.ndarray, start: int = 0) -> np.ndarray:
        n = max(0, 1 + (len(audio) - 400) // 160)
        frames = np.lib.stride_tricks.sliding_window_view(audio, 400)[::160][:n]
        spec = np.abs(np.fft.rfft(frames, axis=1))[:, [5, 8]] + 1e-3  # 200 Hz, 320 Hz
        return (spec / spec.sum(axis=1, keepdims=True)).astype(np.float32)

    def __call__(self, feats: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
        m = np.stack([feats[s:s + frames].mean(axis=0) - 0.5 for s in starts]) if len(starts) else np.zeros((0, 2))
        e = np.concatenate([m, np.full((len(m), 1), 0.3)], axis=1)
        return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def tone_call(turns: list[tuple[int, float]], pause_s: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(audio, speech mask, truth per 10 ms) of a call of (voice, seconds) turns with pauses between."""
    audio, speech, truth = [], [], []
    for voice, secs in turns:
        n = int(secs * 16000)
        audio += [0.3 * np.sin(2 * np.pi * (200, 320)[voice] * np.arange(n) / 16000), np.zeros(int(pause_s * 16000))]
        speech += [np.ones(n // 160, bool), np.zeros(int(pause_s * 100), bool)]
        truth += [np.full(n // 160, voice), np.full(int(pause_s * 100), -1)]
    return np.concatenate(audio).astype(np.float32), np.concatenate(speech), np.concatenate(truth)


# the agent asks, the customer answers in a word, over and over (the two minutes)
QUESTIONS = [(0, 6.0), (1, 0.5), (0, 5.0), (1, 1.2), (0, 7.0), (1, 8.0), (0, 0.6), (1, 6.0), (0, 5.0), (1, 0.4), (0, 6.0)]


def test_a_short_answer_between_two_turns_of_the_other_voice_keeps_its_voice():
    """Every window around "Yes." is mostly the agent's; the answer is heard on its own, between
    its pauses, and given to the customer, while the long turns stay as they were."""
    audio, speech, truth = tone_call(QUESTIONS)
    d = sp.diarize(audio, speech, ToneEmbedder())
    assert d.speakers == 2
    assert frame_error(d.labels, truth) < 0.01
    wrong, total = short_turn_errors(d.labels, truth)
    assert total == 4 and wrong == 0
    # a short stretch that sounds like the voice around it stays with it
    same, speech_same, truth_same = tone_call([(0, 6.0), (0, 0.5), (0, 5.0), (1, 8.0), (0, 6.0), (1, 6.0)])
    d = sp.diarize(same, speech_same, ToneEmbedder())
    assert frame_error(d.labels, truth_same) < 0.01


def test_a_call_read_in_blocks_is_separated_as_the_whole_array():
    audio, speech, _ = tone_call(QUESTIONS)
    whole = sp.diarize(audio, speech, ToneEmbedder())

    def blocks():  # a file decoded anew, in blocks of an odd size
        return (audio[i:i + 7777] for i in range(0, len(audio), 7777))

    read = sp.diarize(blocks, speech, ToneEmbedder())
    assert np.array_equal(whole.labels, read.labels)
    x, rate = sf.read(str(DATA / "jfk.flac"), dtype="float32", always_2d=True)
    jfk = soxr.resample(x[:, 0], rate, 16000).astype(np.float32)
    assert np.array_equal(sp.speech_mask(jfk), sp.speech_mask(lambda: (jfk[i:i + 5000] for i in range(0, len(jfk), 5000))))
    for v in (0, 1):
        assert np.array_equal(mono_calls.first_speech(whole.labels, audio, v), mono_calls.first_speech(whole.labels, blocks, v))


def test_separating_a_longer_call_read_in_blocks_holds_no_more_memory():
    """An hour-long mono call must fit an agent's PC: separating a call read in blocks holds its
    speech mask, embeddings and labels (bytes per 10 ms), never its samples. Python's own count of
    the bytes allocated (tracemalloc, which numpy reports to) does not depend on the machine's load."""
    import tracemalloc

    def peak(minutes: int) -> int:
        turns = [(i % 2, 4.0 + (i % 3)) for i in range(int(minutes * 60 / 6))]
        audio, speech, _ = tone_call(turns)

        def blocks():  # decoded anew: each block a new array, as a file's decoder gives them
            return (audio[i:i + sp.BLOCK].copy() for i in range(0, len(audio), sp.BLOCK))

        tracemalloc.start()
        d = sp.diarize(blocks, speech, ToneEmbedder())
        got = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert d.speakers == 2
        return got

    short, long = peak(2), peak(8)
    held_audio = 6 * 60 * 16000 * 4  # what six more minutes of samples would weigh (23 MB)
    assert long - short < held_audio / 8


# Harper Valley Bank calls whose customers' short answers went to the agent before (issue #31)
HARPER_SHORT = ["23b593b0a64c4c4d", "240368ab6cb14c33", "6ace9cd5b88d4c30", "c0c8d261058841ac"]


@pytest.mark.slow
def test_short_answers_on_real_calls_keep_their_voice():
    """Real voices on an 8 kHz line, summed to mono: the customer's "yes" and "I'm not sure"
    between two of the agent's turns stay the customer's, the file's split and a live line's alike."""
    from coach.voices.live_split import STEP, LiveSplit

    given_away = answers = live_given_away = 0
    for sid in HARPER_SHORT:
        mono, truth_frames = mix(str(DATA / "harper_valley" / f"{sid}.flac"))
        d = sp.diarize(mono, sp.speech_mask(mono))
        assert d.speakers == 2
        assert frame_error(d.labels, truth_frames) <= 0.03
        wrong, total = short_turn_errors(d.labels, truth_frames)
        given_away, answers = given_away + wrong, answers + total
        split = LiveSplit()
        for i in range(0, len(mono), STEP):
            split.push(mono[i:i + STEP])
        split.flush()
        live_given_away += short_turn_errors(split.diarization.labels, truth_frames)[0]
    assert answers >= 15
    assert given_away <= 1 and live_given_away <= 1  # before: 6 of 20 went to the agent, frame error 3-7 %

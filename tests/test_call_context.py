"""The call's context (coach/analysis/call_context.py) and the cues that read it: confirm_resolution only for
calls with a problem and before the goodbye, check_in's repeats judged by the silence, reflect_back's read-backs.
The lines are as tiny.en heard the judged Harper Valley calls (tests/data/judged_calls.json), mishearings included."""

import json
from pathlib import Path

import pytest

from coach.analysis.call_context import CallContext
from coach.analysis.cues.reflect_back import asks_for, digits
from coach.analysis.engine import CueEngine
from coach.analysis.phrases import tokens
from coach.analysis.rules import Rules
from coach.analysis.turns import TurnTracker
from coach.config.settings import CueSettings, PhraseSettings
from coach.core.events import Utterance
from tests.test_rules import feed, frames, rules, utt

GREETING = utt("agent", "Hello, this is Harper Valley National Bank. My name is John. How can I help you today?", 2, 7)


def context(*lines: Utterance) -> CallContext:
    ctx = CallContext(PhraseSettings())
    for u in lines:
        ctx.hear(u, tokens(u.text))
    return ctx


# -- the context --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("said", [
    "I would like to reset my past one.",  # 'password' misheard, the request still heard
    "Hi, my name is Michael Rodriguez. I would like to pay a bill.",
    "Hi, my name is Elizabeth Rodriguez. I need a new checkbook.",
    "i lost my credit card can you send me a new one",
    "Hi, my card was declined at the shop this morning.",
])
def test_a_fault_or_a_change_asked_for_is_a_problem(said: str):
    ctx = context(GREETING, utt("customer", said, 9, 12))
    assert ctx.problem is not None and ctx.phase == "problem"


@pytest.mark.parametrize("said", [
    "Hi, my name is David Miller. I need to check my account balance.",
    "what are the local branch hours",
    "what time does the last train to Bristol leave on a Friday",
    "hi I am calling about my booking for friday, what time is check in",
])
def test_an_information_request_is_no_problem(said: str):
    ctx = context(GREETING, utt("customer", said, 9, 12))
    assert ctx.problem is None and ctx.information is not None and ctx.phase == "problem"


def test_a_misheard_word_does_not_turn_an_information_call_into_a_problem():
    # judged call 3715: "my savings account" heard as "my savings look out", spelled nearly 'locked out'
    ctx = context(GREETING, utt("customer", "My name is always the right John's. I need to check my account balance. in.", 11, 14),
                  utt("agent", "What's a count when do you like to check?", 18, 19.6), utt("customer", "My savings look out.", 21, 22))
    assert ctx.problem is None
    ctx.hear(u := utt("customer", "and also my card is not working", 40, 42), tokens(u.text))  # heard as written: it counts
    assert ctx.problem == "a fault ('not working')"


def test_an_upset_customer_has_a_problem_whatever_they_ask():
    ctx = CallContext(PhraseSettings())
    u = utt("customer", "what are your opening hours, i have been waiting all day", 9, 12)
    ctx.hear(u, tokens(u.text), upset=True)
    assert ctx.problem is not None and ctx.problem.startswith("a complaint")


def test_phases_move_forward_and_a_goodbye_ends_the_call_unless_it_goes_on():
    ctx = context(GREETING)
    assert ctx.phase == "opening"
    ctx = context(GREETING, utt("customer", "I would like to transfer money between my accounts.", 9, 12),
                  utt("agent", "$41 has been transferred from your checking account to your savings account.", 39, 42))
    assert ctx.phase == "resolution" and ctx.outcome_within(45, 30)
    ctx.hear(u := utt("agent", "Is there anything else you need help with?", 44, 46), tokens(u.text))
    assert ctx.phase == "closing" and ctx.closing_at == 46 and not ctx.said_goodbye(50)
    ctx.hear(u := utt("agent", "Thank you for calling. Have a great day.", 51, 53), tokens(u.text))
    assert ctx.said_goodbye(53) and not ctx.said_goodbye(50)
    ctx.hear(u := utt("customer", "You too. Bye.", 53.5, 54), tokens(u.text))
    assert ctx.said_goodbye(55)
    ctx.hear(u := utt("customer", "oh wait, sorry, can you change my address as well", 55, 58), tokens(u.text))
    assert not ctx.said_goodbye(58) and ctx.phase == "closing"  # one more thing: the call goes on


# -- confirm_resolution -------------------------------------------------------------------------------------

def closing_call(request: str, outcome: str, closing: str = "Is there anything else I can help you with?") -> list[str]:
    r = rules()
    feed(r, GREETING, utt("customer", request, 9, 12), utt("agent", "Which account would you like?", 15, 17),
         utt("customer", "my checking account", 18, 19), utt("agent", outcome, 30, 35))
    return feed(r, utt("agent", closing, 36, 38))


def test_confirm_resolution_not_for_an_information_request():
    # judged calls 3715, eb82, 7566: the balance or the branch hours are the outcome
    assert "confirm_resolution" not in closing_call("I need to check my account balance.", "okay your checking account")
    assert "confirm_resolution" not in closing_call("what are the local branch hours", "okay")


def test_confirm_resolution_when_a_change_was_done_and_not_said():
    # judged call 637938 (judged right): a transfer closed with "it's done, anything else today"
    assert "confirm_resolution" in closing_call("i would like to transfer money between my accounts", "it's done")


@pytest.mark.parametrize("outcome", [
    "Your password reset link has been sent to your phone.",
    "I have a new truffle has been sent to your hover shreds.",  # 'a new checkbook ... home address' (judged call 411127)
    "Okay, your appointment has been scheduled for Sunday at 10.15am.",
    "I have ordered you a replacement credit card.",
    "So your religion is conferred for Friday.",  # 'your reservation is confirmed', as tiny.en heard it (issue #31)
])
def test_an_outcome_in_the_passive_is_a_summary(outcome: str):
    assert "confirm_resolution" not in closing_call("I would like to reset my password please", outcome)


def test_confirm_resolution_never_after_the_goodbye():
    # judged calls 22b45, 22c51, 0851: fired on 'thank you for calling, have a great day', too late to help
    assert "confirm_resolution" not in closing_call("i lost my credit card", "okay", "Thank you for calling. Have a great day.")
    r = rules()
    feed(r, utt("customer", "i lost my credit card", 9, 12), utt("agent", "okay", 20, 21),
         utt("customer", "thanks, bye", 30, 31))
    assert "confirm_resolution" not in feed(r, utt("agent", "anything else? okay", 32, 33))


# -- check_in -----------------------------------------------------------------------------------------------

def silence_then_talk(r: Rules, t: TurnTracker, silent_s: float) -> list[str]:
    """Silence for silent_s, then the agent talks for a second (frames of 0.1 s)."""
    return frames(r, t, [{}] * round(silent_s * 10) + [{"agent": True}] * 10)


def test_a_longer_silence_after_a_borderline_cued_one_is_cued_too():
    # judged call 240368: 8.5 s cued (the agent spoke 0.5 s after), then 10 s 31 s later; issue #31: 7.8 s then 9.4 s
    r, t = rules(), TurnTracker(0.1, 3.0, 2.0)
    frames(r, t, [{"agent": True}] * 10)
    assert silence_then_talk(r, t, 8.5) == ["check_in"]
    assert silence_then_talk(r, t, 8.3) == []  # a repeat no longer than the one cued: a nag
    assert silence_then_talk(r, t, 9.4) == ["check_in"]  # longer: the customer has waited longer than before
    frames(r, t, [{"agent": True}] * 300)  # 30 s of talk: the next silence is judged on its own again
    assert silence_then_talk(r, t, 8.3) == ["check_in"]


def test_the_cue_engine_shows_the_longer_silence_too():
    # the 30 s cooldown had swallowed it: the engine now leaves repeats to the cue
    r, t, engine = rules(), TurnTracker(0.1, 3.0, 2.0), CueEngine(CueSettings())
    shown = []
    for silent_s, talk_s in [(8.5, 5), (8.0, 5), (9.8, 5)]:
        for a in [{}] * round(silent_s * 10) + [{"agent": True}] * round(talk_s * 10):
            t.update(a)
            now = t.frames * t.frame_s
            shown += [c.id for p in r.on_frame(t, now) if (c := engine.offer(p, now))]
    assert shown == ["check_in", "check_in"]


def test_no_check_in_after_the_goodbye():
    r, t = rules(), TurnTracker(0.1, 3.0, 2.0)
    frames(r, t, [{"agent": True}] * 20)
    feed(r, utt("agent", "thank you for calling have a great day", 0.5, 2.0))
    assert frames(r, t, [{}] * 150) == []


# -- reflect_back: read-backs -------------------------------------------------------------------------------

def test_digits_as_heard():
    assert digits(tokens("9 9 4 4 8")) == "99448"
    assert digits(tokens("$137.")) == "137"
    assert digits(tokens("seven four four oh five")) == "74405"
    assert digits(tokens("double four one")) == "441"
    assert digits(tokens("oh okay twenty one")) == "1"  # 'oh' starts no number; tens are amounts


def test_a_question_asks_for_a_detail_a_statement_does_not():
    ph = PhraseSettings().detail_request
    assert asks_for("Sure, I can help with that. What is your address?", ph) == "address"
    assert asks_for("what is the company address", ph) == "address"
    assert asks_for("A new checkbook has been sent to your home address. Is there anything else?", ph) is None


ADDRESS = [utt("customer", "zero zero eight.", 18.9, 20.1), utt("customer", "Main street.", 20.7, 21.8),
           utt("customer", "Forest Ranch, California.", 22.9, 25.2), utt("customer", "2 9 6 6 5", 26.1, 28.2)]


def address_call(*agent: Utterance) -> list[str]:
    r = rules()
    feed(r, GREETING, utt("customer", "Hi, my name is Elizabeth Rodriguez. I need a new checkbook.", 7.6, 11.4),
         utt("agent", "sure to help you with that. What is your address?", 14.1, 16.3), *ADDRESS)
    return [i for i in feed(r, *agent) if i == "reflect_back"]


def test_reflect_back_when_an_address_given_in_pieces_is_never_read_back():
    # judged call 411127 (a miss): 'okay', then the checkbook was sent
    sent = utt("agent", "I have a new truffle has been sent to your hover shreds. Is there anything else I can help you with?", 33.4, 39.4)
    assert address_call(utt("agent", "Okay.", 31.9, 32.5), sent) == ["reflect_back"]
    assert address_call(utt("agent", "What is the bill amount?", 31.9, 33)) == ["reflect_back"]  # judged call 240368


@pytest.mark.parametrize("reply", [
    "Okay, so that is 008 Main Street, Forest Ranch, California, 29665?",
    "zero zero eight main street",
    "Great, and is that correct, Forest Ranch?",
])
def test_a_read_back_keeps_it_quiet(reply: str):
    sent = utt("agent", "A new checkbook has been sent to your home address.", 40, 43)
    assert address_call(utt("agent", "Okay.", 31.9, 32.5), utt("agent", reply, 33, 37), sent) == []


def test_asking_for_more_of_the_detail_is_not_moving_on():
    r = rules()
    feed(r, utt("agent", "what is your address", 10, 11), utt("customer", "477 main street", 12, 14))
    assert "reflect_back" not in feed(r, utt("agent", "and what is the zip code?", 15, 16))
    feed(r, utt("customer", "seven four four oh five", 17, 19))
    assert "reflect_back" in feed(r, utt("agent", "thank you, your checkbook is on the way", 21, 23))


def test_no_read_back_cue_for_a_short_number_an_unasked_one_or_after_the_goodbye():
    r = rules()  # scenario c1: a four-digit order number
    feed(r, utt("agent", "What is the order number on the delivery note?", 5, 7), utt("customer", "It is four four one nine.", 8, 9))
    assert "reflect_back" not in feed(r, utt("agent", "thank you let me look that up for you", 10, 12))
    r = rules()  # digits the agent did not ask for
    feed(r, utt("agent", "how can i help", 0, 1), utt("customer", "my meter reads 48213 today", 2, 4))
    assert "reflect_back" not in feed(r, utt("agent", "thank you let me look that up for you", 5, 7))
    assert address_call(utt("agent", "Okay.", 31.9, 32.5), utt("agent", "thank you for calling have a great day", 33, 35)) == []


# -- real speech: two judged Harper Valley calls through the real pipeline and tiny.en ----------------------

HV = Path(__file__).parent / "data" / "harper_valley"


@pytest.fixture(scope="module")
def harper_valley(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):
    from coach.app import compose as app

    out = tmp_path_factory.mktemp("harper_valley")

    def run(sid: str) -> dict:
        target = out / f"{sid}.json"
        app.analyze(str(HV / f"{sid}.flac"), str(target), app.Options(data_dir=str(data_dir), agent_channel=0), progress=False)
        return json.loads(target.read_text())

    return run


@pytest.mark.slow
def test_real_calls_address_never_read_back_and_no_resolution_cue_for_a_balance(harper_valley):
    # 411127: the caller gave the address in pieces (18.8-28.1 s), the agent said 'okay' and sent the checkbook
    # ('a new checkbook has been sent to your home address', 33.3 s): read it back, and that outcome is a summary
    doc = harper_valley("411127c6a6924257")
    [rb] = [c for c in doc["cues"] if c["id"] == "reflect_back"]
    assert rb["t"] > 28.1 and "digits" in rb["reason"], rb  # when depends on this CPU's load (the simulated clock)
    assert [c for c in doc["cues"] if c["id"] == "confirm_resolution"] == []
    # 3715: a balance enquiry; the balance is the outcome (and 'my savings account' heard as 'my savings look out')
    doc = harper_valley("3715af35862a4e14")
    assert [c for c in doc["cues"] if c["id"] in ("confirm_resolution", "reflect_back")] == []


def test_a_long_answer_to_a_closed_question_is_not_a_problem_to_restate():
    # real dealership call (tests/data/real_cues.json, judged wrong): her answer to "what's the make and model"
    r = rules()
    feed(r, utt("agent", "Well, you know what, let's see if we can make this as easy as possible for you. "
                         "What's the making model of the car?", 83.1, 89.1),
         utt("customer", "Yeah, it's a Hyundai alarm.", 90.8, 94.5),
         utt("customer", "Sorry, I'm really got a car stuff. And yeah, and it's, it says 2019. And I'm saying, yeah, "
                         "I bought it from you all.", 95.6, 106.5))
    reply = utt("agent", "Perfect. Yeah, okay, Suzanne, give me just one second here and I'm going to look into the manual", 107, 113.8)
    assert "reflect_back" not in feed(r, reply)
    # the same turn after an open question is the problem itself: it is restated or cued
    r = rules()
    feed(r, utt("agent", "Tailspin Toys support, how can I help?", 80, 82), utt("customer", "Yeah, it's a Hyundai alarm.", 90.8, 94.5),
         utt("customer", "Sorry, I'm really got a car stuff. And yeah, and it's, it says 2019. And I'm saying, yeah, "
                         "I bought it from you all.", 95.6, 106.5))
    assert "reflect_back" in feed(r, reply)


def test_confirm_resolution_reads_the_outcome_the_second_pass_heard():
    """Issue #32: the first pass heard "your reservation is confirmed" as something else; the second
    pass's text of the same line, read in time order before the closing, is the outcome."""
    import dataclasses

    def call(second_pass: bool) -> list[str]:
        r = rules()
        feed(r, GREETING, utt("customer", "I would like to change my booking please", 9, 12))
        first = utt("agent", "So your legion is cone fared for Friday.", 30, 35)
        r.on_decoded(first)
        said = dataclasses.replace(first, text="So your reservation is confirmed for Friday.", decoded_by="second") \
            if second_pass else first
        r.on_said(said)
        return feed(r, utt("agent", "Is there anything else I can help you with?", 36, 38))

    assert "confirm_resolution" in call(second_pass=False)  # the misheard outcome is no outcome
    assert "confirm_resolution" not in call(second_pass=True)

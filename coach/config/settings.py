"""Settings: dataclasses <-> TOML, validated with one-line errors.

Every value carries a comment naming where its default comes from (docs/facts.md and docs/cues.md
are the project's design notes; the cue plug-ins declare their own). The file
is written with those comments, so a trainer editing it sees why each number is there.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from coach.analysis.cues import all_cues
from coach.config.fields import opt, table
from coach.core.errors import UserError


@dataclass
class ModelSettings:
    engine: str = opt("whisper", "the speech engine (coach/speech/engines.py; an unknown name is refused when the "
                                "model loads): whisper = faster-whisper, offline first")
    name: str = opt("tiny.en", "bundled and offline; base.en / small.en are more accurate and slower, downloaded once")
    compute_type: str = opt("int8", "int8 ~20 % faster than float32 on CPU, same text (docs/facts.md)")
    threads: int = opt(1, "decoder threads: with windows sized to the speech, 1 beat 2 on a 2-core PC in wall time and "
                           "CPU per decode, and leaves a core to the softphone (make bench, coach-2t; docs/facts.md's 2 was "
                           "for 30 s windows)", lo=1, hi=64)
    encoder_window: str = opt("auto", "auto: window sized to the utterance (1.4-1.7x faster, see make bench); full: Whisper's 30 s")
    partial_every_s: float = opt(0.65, "re-decode speech still going on every this many seconds, so cues need not wait for the "
                                       "speaker to stop (0 = off); chosen side by side with 0.5-0.8 on word latency and CPU "
                                       "(docs/benchmark.md)", hi=30)
    partial_after_s: float = opt(1.2, "the first partial decode after this much speech: shorter turns get their final text "
                                      "about as soon; 1.2 beat 1.5 on word latency at the same CPU (docs/benchmark.md)", hi=30)
    beam_size: int = opt(1, "final decodes: 5 is Whisper's default; on phone audio it did not lower WER enough to pay "
                            "its cost (make bench, ASR table)", lo=1, hi=10)
    prompt: str = opt("", "words the recognizer should expect (product names, the company's name): Whisper's initial "
                          "prompt for every final decode; make bench shows what a call-centre prompt did")
    partial_sure_p: float = opt(0.5, "a word of one partial decode this probable (and ended 0.3 s before the audio it heard) "
                                     "is shown without waiting for the next decode to agree: as often right (make bench); "
                                     "0.4 lost the long-turn test call's mid-turn cue (docs/design.md); above 1 = always wait",
                                hi=2)
    partial_settled_s: float = opt(0.6, "a word with this much speech heard after it is shown even when Whisper is unsure "
                                        "of it (the final decode may still change it: 84 % of the words shown early on the "
                                        "real call were the final's, as at 0.7 s; 30 = wait for agreement)", lo=0.3, hi=30)
    vocabulary: list[str] = opt([], "company, product and place names (\"Contoso\", \"Surface Pro\"): given to both passes as "
                                    "Whisper's prompt, so a name is heard as written (tests/test_second_pass.py)")
    second_pass: str = opt("auto", "the transcript that is stored, searched and shared comes from a second decode of each "
                                   "finished turn, whole, in the background: auto = the best model within the CPU budget of a "
                                   "2-core PC (tiny.en: as the second pass base costs 0.28 core-s/s, tiny.en 0.15); \"base\" (after "
                                   "`coach models fetch base`) is more accurate on a PC with cores to spare; \"\" = off "
                                   "(docs/benchmark.md, ASR table)")
    second_beam_size: int = opt(5, "the second pass's beam: on the real calls beam 5 over whole turns beat greedy "
                                   "(docs/benchmark.md)", lo=1, hi=10)
    second_context_words: int = opt(0, "this many of the conversation's last words are the second pass's prompt: on the real "
                                       "calls every prompt of earlier words made tiny.en worse (docs/benchmark.md)", hi=200)
    second_heard_s: float = opt(10.0, "the second pass hears up to this much of the speaker's earlier speech before the turn "
                                      "(pauses left out) and keeps only the turn's words: short answers heard with the voice "
                                      "before them (docs/benchmark.md)", hi=20)
    second_window_s: float = opt(28.0, "the earlier speech heard before a turn is cut so that the two come to at most this "
                                       "much (28: never, as turns are at most 15 s): 12 took 0.23 -> 0.17 core-s/s off the "
                                       "real call's second pass, but its other words there fired a cue judged wrong "
                                       "(docs/design.md)", lo=2, hi=28)
    second_gap_s: float = opt(20.0, "the second pass also hears up to this much of the speaker's audio before the turn in "
                                    "which the live VAD found no speech, through faster-whisper's own VAD (as an offline "
                                    "decode of the channel does): words the live VAD missed are kept; 0 = off "
                                    "(docs/benchmark.md)", hi=25)
    second_turn_gap_s: float = opt(3.0, "a turn for the second pass ends at a pause this long, when the other speaker "
                                        "talks, or at second_max_turn_s: a caller dictating an address in pieces is heard "
                                        "as one turn (1 s: customer WER 17.5 % on the Harper Valley calls, 3 s: 15.0 %)",
                                   lo=0.3, hi=10)
    second_max_turn_s: float = opt(15.0, "the longest stretch the second pass decodes at once: within Whisper's 30 s "
                                         "window with margin, and the text of a long turn is not held back too long", lo=2, hi=28)
    second_wait_s: float = opt(2.0, "the exchange rules (acknowledge, reflect) wait this long after an utterance's first-pass "
                                    "text for its second pass, then read the first pass's: a tip a second later is still "
                                    "in time (the second pass takes ~1-2 s after a turn, docs/benchmark.md)", lo=0, hi=30)
    second_keep_s: float = opt(20.0, "the stored text and the recording wait this long after an utterance ended for its "
                                     "second pass; later, its first pass's text is kept (the recorder holds up to 60 s)",
                               lo=0, hi=45)


@dataclass
class AudioSettings:
    agent_channel: int = opt(0, "which channel of a stereo recording is the agent: no standard says which side is left", hi=1)
    mono_speakers: str = opt("auto", "a mono recording: auto = two voices separated when two are heard, 2 = always two, "
                                     "1 = one speaker (mono_speaker says who)")
    mono_speaker: str = opt("customer", "who speaks in a mono recording of one voice")
    agent_device: str = opt("", "live: the agent's microphone, 'name (host API)' as `coach devices` prints it; remembered")
    customer_device: str = opt("", "live: the softphone's output as an input (a loopback / .monitor source); remembered")
    stereo_device: str = opt("", "live: one stereo device carrying both sides instead; agent_channel says which is the agent")
    mono_device: str = opt("", "live: one device carrying both voices mixed (a call recorder, a line tap): they are told "
                               "apart as they speak, 1.6 s behind; remembered")


@dataclass
class VadSettings:
    threshold: float = opt(0.5, "Silero VAD's documented default speech probability", lo=0.01, hi=0.99)
    loud_backstop_db: float = opt(15.0, "on a line without bass (telephone band), a frame this far above the channel's "
                                        "noise floor that Silero gives 0.15 or more is speech: Silero alone missed most of "
                                        "such speech; 0 = off (make bench, ASR table)", hi=60)
    end_silence_s: float = opt(0.5, "end-of-speech wait: ~0.3-0.5 s (docs/architecture.md); also the pause excluded from pace", lo=0.05, hi=5)
    max_utterance_s: float = opt(14.0, "cap long turns at ~12-15 s so text keeps flowing (docs/architecture.md)", lo=2, hi=30)
    min_utterance_s: float = opt(0.25, "shorter blips are clicks and breaths; Whisper invents text on them (docs/facts.md)", hi=2)


# The cue settings are the cue plug-ins' own (coach/analysis/cues/, one module per cue): one table
# each, most urgent first, after the settings every cue shares.
_SHARED_CUE_FIELDS = [
    ("global_gap_s", float, opt(8.0, "minimum gap between cues; only a more urgent cue may follow sooner (docs/cues.md)")),
    ("repeat_backoff", float, opt(2.0, "a warning or tip already shown this call waits this many times its cooldown before "
                                     "showing again (x2, then x4 at most; alerts never wait longer): against nagging", lo=1, hi=10)),
    ("visible_s", float, opt(6.0, "how long a cue stays on screen before it fades (docs/cues.md: a few seconds)", lo=0.5, hi=120)),
    ("min_confidence", float, opt(0.5, "warnings and tips whose evidence is less certain than this are not shown (how sure the "
                                       "recognizer was of the words, how exactly they matched, how many signals agree; each "
                                       "cue's reason says what it rests on; docs/cues.md)", hi=1)),
]
CueSettings = dataclasses.make_dataclass(
    "CueSettings", [*_SHARED_CUE_FIELDS, *((c.spec.id, c.settings, table(c.settings)) for c in all_cues())])
CueSettings.__module__ = __name__
CueSettings.__doc__ = "How cues are shown, and each cue's own settings (a table per cue, from its plug-in)."


@dataclass
class PhraseSettings:
    """Phrase lists, matched on lower-case ASR text with light fuzziness (coach/analysis/phrases.py)."""

    manager_request: list[str] = opt(
        ["speak to a manager", "speak to your manager", "speak to the manager", "speak to a supervisor", "speak to your supervisor",
         "talk to a manager", "talk to your manager", "talk to a supervisor", "talk to your supervisor", "want a manager",
         "want a supervisor", "want your manager", "get me a manager", "get me your manager", "get me a supervisor",
         "put me through to a manager", "put me through to your supervisor", "manager now", "supervisor now",
         "lawyer", "solicitor", "attorney", "legal action", "ombudsman", "regulator", "trading standards", "sue you"],
        "strong escalation: asks for a manager or threatens outside action (docs/facts.md lexicon); weight 0.55 each")
    escalation: list[str] = opt(
        ["unacceptable", "outrageous", "disgraceful", "appalling", "ridiculous", "absurd", "this is a joke",
         "cancel my account", "cancel my contract", "cancel my subscription", "close my account", "third time", "fourth time",
         "how many times", "every single time", "yet again", "complaint", "complain", "fed up", "sick of", "sick and tired",
         "had enough", "nobody has", "no one has", "nobody can", "no one can", "useless", "incompetent", "pathetic",
         "waste of time", "waste of my time", "money back now", "refund now"],
        "escalation phrases (docs/facts.md lexicon, docs/cues.md); weight 0.3 each, at most 0.8 from phrases")
    emotion: list[str] = opt(
        ["frustrated", "frustrating", "upset", "angry", "annoyed", "worried", "disappointed", "fed up", "stressed",
         "furious", "unhappy", "not happy", "terrible", "awful", "nightmare", "unacceptable", "ridiculous", "outrageous"],
        "the customer voicing a negative emotion, besides negative sentiment (docs/cues.md acknowledge_feelings)")
    acknowledgement: list[str] = opt(
        ["i understand", "i can understand", "i completely understand", "i totally understand", "i am sorry", "i am so sorry",
         "i am really sorry", "so sorry", "i apologise", "i apologize", "my apologies", "sorry to hear", "sorry about that",
         "sounds frustrating", "sounds exhausting", "sounds stressful", "must be frustrating", "must have been",
         "is frustrating", "i can see why", "i can imagine", "i hear you", "i get that", "you are right to",
         "thank you for your patience", "i appreciate your patience", "that is not okay", "i would be upset too"],
        "acknowledgements (docs/cues.md: 'I understand', 'I'm sorry', 'that sounds frustrating', 'I can see why')")
    reflection: list[str] = opt(
        ["what i am hearing", "it sounds like", "sounds like you", "you mentioned", "you said", "if i understand correctly",
         "if i understand you", "so you are saying", "make sure i understand", "let me make sure i have", "if i have got this right",
         "so the problem is", "so the issue is", "just so i am clear", "to make sure i have got"],
        "restating (docs/cues.md reflect_back: 'so what I'm hearing', 'it sounds like', 'you mentioned', 'if I understand correctly')")
    harsh: list[str] = opt(
        ["calm down", "not my problem", "not our problem", "nothing i can do", "nothing we can do", "as i already said", "i already said",
         "as i said", "like i said", "i already told you", "you should have", "policy is policy", "you are wrong",
         "listen to me", "read the terms", "not my job", "not my fault", "i cannot help you", "that is your problem"],
        "harsh or dismissive wording (docs/cues.md soften_wording)")
    harsh_when_upset: list[str] = opt(
        ["you need to", "you have to", "you must"],
        "harsh only to an upset customer: in a calm call 'you need to press reset' is an instruction (docs/cues.md lists 'you need to')")
    demand: list[str] = opt(
        ["i just want", "all i want", "i want", "i need", "i demand", "i am asking for", "just give me"],
        "a customer demand; the same demand twice asks for options (docs/cues.md offer_options)")
    rejection: list[str] = opt(
        ["that does not work", "that will not work", "that is not good enough", "not good enough", "that is not what i asked",
         "that does not help", "i do not want that", "that is not acceptable", "that is no good", "that is not an option"],
        "the customer rejecting the offer (docs/cues.md offer_options: 'that doesn't work')")
    closing: list[str] = opt(
        ["anything else", "have a nice day", "have a good day", "have a great day", "have a good one", "have a lovely day",
         "goodbye", "bye bye", "take care"],
        "the agent closing the call (docs/cues.md confirm_resolution)")
    summary: list[str] = opt(
        ["to confirm", "to recap", "to summarise", "to summarize", "in summary", "you will receive", "you will get",
         "you should receive", "you should get", "next step", "i have booked", "i have arranged", "i have sent",
         "i have set up", "i have updated", "i have refunded", "i have issued", "i have credited", "i will send",
         "i am booking", "we will send", "what will happen", "i have changed", "will be with you", "next time you"],
        "a summary of outcome and next steps (docs/cues.md: 'to confirm', 'you will receive', 'the next step is')")
    hold: list[str] = opt(
        ["let me check", "one moment", "bear with me", "just a moment", "one second", "just a second", "let me look",
         "please hold", "on hold", "give me a moment", "let me find"],
        "a hold announced by the agent; buys hold_dead_air_s of silence (docs/cues.md check_in)")
    backchannel: list[str] = opt(
        ["uh huh", "mm hmm", "mhm", "okay", "ok", "right", "yes", "yeah", "sure", "i see", "got it", "alright", "all right"],
        "backchannels: talking over the customer with these is listening, not interrupting (docs/facts.md)")
    # The call's context (coach/analysis/call_context.py): is there a problem to resolve, and is the call over?
    fault: list[str] = opt(
        ["not working", "does not work", "do not work", "stopped working", "is broken", "was broken", "declined", "lost my",
         "stolen", "was charged", "charged twice", "double charged", "overcharged", "wrong", "an error", "cannot log in",
         "cannot get in", "locked out", "never arrived", "has not arrived", "did not arrive", "has not come", "did not come",
         "missing", "damaged", "smashed", "a problem", "an issue", "failed", "have not received", "did not receive",
         "does not turn", "blocked", "fraudulent", "faulty", "keeps dropping", "cut off", "no signal", "no power"],
        "the customer reporting a fault: the call has a problem to resolve (docs/cues.md confirm_resolution)")
    change_request: list[str] = opt(
        ["to reset", "to replace", "to transfer", "to order", "to schedule", "to reschedule", "to book", "to pay", "to cancel",
         "to change", "to update", "to move", "to remove", "to report", "to dispute", "to set up", "to activate", "to unblock",
         "to unlock", "to fix", "to return", "to refund", "to swap", "to upgrade", "to renew", "to switch", "to send",
         "need a new", "want a new", "get a new", "like a new", "order a new", "send me", "a replacement", "a refund",
         "reset my", "replace my", "cancel my", "change my", "update my", "move my", "fix my", "open an account",
         "can you remove", "can you cancel", "can you change"],
        "the customer asking for something to be done (the judged banking calls: 'I would like to reset my password', "
        "'I need a new checkbook'): the call has a problem to resolve; 'to check' and 'to know' are information")
    information_request: list[str] = opt(
        ["what are", "what is the", "what time", "when does", "when do", "when is", "how much", "how many", "how long",
         "how do i", "where is", "where can", "is there", "are there", "do you have", "can you tell me", "could you tell me",
         "like to know", "want to know", "wondering", "to check", "check my", "balance", "hours", "opening times",
         "timetable", "find out", "a question"],
        "the customer asking for information (a balance, branch hours, a timetable): the answer is the outcome")
    outcome: list[str] = opt(
        ["been sent", "been scheduled", "been booked", "been transferred", "been ordered", "been placed", "been cancelled",
         "been canceled", "been updated", "been reset", "been paid", "been processed", "been refunded",
         "been credited", "been issued", "been set up", "been removed", "been fixed", "been replaced", "been unblocked",
         "been activated", "been approved", "been added", "been submitted", "been arranged", "been moved", "been mailed",
         "been posted", "been dispatched", "been shipped", "been reversed", "been renewed", "been rescheduled",
         "is confirmed", "are confirmed", "is booked for", "is scheduled for", "i have ordered", "i have put",
         "i have placed", "i have scheduled", "i have reset", "i have transferred", "i have cancelled", "i have canceled",
         "i have processed", "i have submitted", "i have removed", "i have unblocked", "i have added", "i have moved",
         "we have sent", "we have ordered", "we have booked", "we have scheduled", "we have updated", "we have cancelled",
         "will be coming in the mail", "will arrive", "should arrive", "business days"],
        "the agent stating an outcome in other words than [phrases] summary (judged banking calls: 'your appointment has "
        "been scheduled for sunday', 'a new checkbook has been sent to your home address'); 'it's done' alone is not one")
    farewell: list[str] = opt(
        ["goodbye", "good bye", "bye", "bye bye", "have a nice day", "have a good day", "have a great day", "have a good one",
         "have a lovely day", "have a nice evening", "have a good evening", "have a good weekend", "have a nice weekend",
         "have a great weekend", "talk to you soon", "speak to you soon"],
        "the goodbye itself, by either side: a cue about the call's resolution after it is too late (judged calls)")
    detail_request: list[str] = opt(
        ["address", "phone number", "number", "zip code", "zip", "postcode", "post code", "email", "reference"],
        "the agent asking for a detail that is easy to get wrong: given as digits, it should be read back (docs/cues.md reflect_back)")
    read_back: list[str] = opt(
        ["read that back", "read it back", "repeat that back", "to confirm", "is that correct", "is that right", "did you say",
         "you said", "let me confirm", "confirm that", "let me repeat", "say that again", "repeat that", "can you repeat",
         "could you repeat", "one more time", "spell"],
        "the agent reading a detail back or asking for it again (docs/cues.md reflect_back)")
    open_question: list[str] = opt(
        ["how can i help", "how may i help", "how can i assist", "what can i do for you", "what can i help", "what happened",
         "what seems to be", "what is the problem", "what is the issue", "what is going on", "what is wrong", "tell me",
         "what brings you", "what is up"],
        "an open question asks for the problem itself; a long answer to a closed one ('what's the make and model?') is facts "
        "asked for, not a problem to restate (docs/cues.md reflect_back; real dealership call)")


@dataclass
class MetricSettings:
    dead_air_min_s: float = opt(3.0, "silences shorter than this are normal turn gaps (Amazon's 3 s, docs/facts.md)")
    monologue_gap_s: float = opt(2.0, "the speaker's own pauses shorter than this keep a monologue going")


@dataclass
class StoreSettings:
    retention_days: int = opt(90, "sessions older than this are deleted for real (audio, rows, search index); 0 keeps all")


@dataclass
class PrivacySettings:
    """What the payment gate masks in text and silences in recordings (coach/privacy/payment_gate.py, docs/privacy.md).
    Card numbers, security codes and expiry dates are always masked: PCI DSS 3.3.1, no setting turns them off."""

    preset: str = opt("payments", "payments: card data only; banking: also national ID, bank account, sort code and IBAN "
                                  "(GLBA, GDPR; banking and insurance contact centres), whatever the four switches below say")
    national_id: bool = opt(False, "US social security numbers: 9 digits beside 'social security' / 'SSN', or 123-45-6789")
    bank_account: bool = opt(False, "bank account numbers: 6-17 digits beside 'account number' / 'checking' / 'savings account'")
    sort_code: bool = opt(False, "UK sort codes (6 digits beside 'sort code', or 12-34-56) and US routing numbers")
    iban: bool = opt(False, "IBANs: as written (GB29 NWBK ..., checked mod 97), or letters and digits after 'IBAN'")


@dataclass
class TeamSettings:
    server: str = opt("", "team server URL, e.g. https://coach.example.com; empty = nothing ever leaves this PC")
    token: str = opt("", "this PC's device token (`coach team device-token AGENT` on the server); this file is private to you")
    share_live: bool = opt(True, "during a call, send every live_every_s: on a call or not, call length, customer mood and trend, "
                                 "the cue on screen, flag count (no words, no audio)")
    share_flagged: bool = opt(True, "after a call, send its summary (length, metrics, cues, flags) and each flagged segment: "
                                    "its redacted transcript and its audio with payment data silenced; the rest of the call only "
                                    "if your team's admin set that policy (`coach team set-policy`); false sends nothing after calls")
    live_every_s: float = opt(2.0, "seconds between live updates", lo=0.5, hi=60.0)
    clip_format: str = opt("opus", "flagged segments' audio: opus (Ogg Opus, a third of FLAC's size) or flac (lossless)")
    ca_file: str = opt("", "a CA certificate (PEM) to trust for the server, if it is not signed by a public CA")


@dataclass
class VoiceprintSettings:
    enroll: bool = opt(False, "learn your voice from your own microphone during live calls, so mono recordings know which "
                              "voice is yours; a voiceprint is biometric data: it stays on this PC in voiceprint.json and "
                              "is deleted when you turn this off (or with `coach voiceprint delete`)")


@dataclass
class UiSettings:
    x: int = opt(-1, "overlay position; -1 = top right of the primary screen", lo=None)
    y: int = opt(-1, "overlay position", lo=None)
    screen: str = opt("", "the screen the overlay was last on (positions are kept per screen)")
    expanded: bool = opt(False, "show the last transcript lines under the meters")
    click_through: bool = opt(False, "clicks pass through the overlay to the softphone beneath")


@dataclass
class Settings:
    model: ModelSettings = table(ModelSettings)
    audio: AudioSettings = table(AudioSettings)
    vad: VadSettings = table(VadSettings)
    cues: CueSettings = table(CueSettings)
    phrases: PhraseSettings = table(PhraseSettings)
    metrics: MetricSettings = table(MetricSettings)
    ui: UiSettings = table(UiSettings)
    store: StoreSettings = table(StoreSettings)
    privacy: PrivacySettings = table(PrivacySettings, "payment data (always masked) and the opt-in banking categories")
    team: TeamSettings = table(TeamSettings, "the team server (opt-in): what this PC shares with supervisors")
    voiceprint: VoiceprintSettings = table(VoiceprintSettings, "the agent's voiceprint (opt-in, biometric, kept on this PC)")


def _from_dict(cls: type, data: dict[str, Any], where: str, unknown: list[str]) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for key, value in data.items():
        if key not in hints:
            unknown.append(f"{where}{key}")  # a typo, or a key an older version wrote: not worth refusing to start
            continue
        default = getattr(defaults, key)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise UserError(f"settings: '{where}{key}' must be a table")
            kwargs[key] = _from_dict(type(default), value, f"{where}{key}.", unknown)
            continue
        kind = type(default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UserError(f"settings: '{where}{key}' must be {kind.__name__}, got {value!r}")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise UserError(f"settings: '{where}{key}' must be a list of strings")
        kwargs[key] = value
    return cls(**kwargs)


def _check_ranges(obj: Any, where: str = "") -> None:
    """Every number finite and within its field's bounds: a negative wait or a NaN gap would
    otherwise be accepted and misbehave far from where it was typed."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            _check_ranges(value, f"{where}{f.name}.")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        lo, hi = f.metadata.get("lo", 0.0), f.metadata.get("hi")
        ok = math.isfinite(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
        if not ok:
            span = f"from {lo:g} to {hi:g}" if lo is not None and hi is not None else \
                f"at least {lo:g}" if lo is not None else f"at most {hi:g}" if hi is not None else "a finite number"
            raise UserError(f"settings: '{where}{f.name}' must be {span}, got {value!r}")


def validate(s: Settings) -> Settings:
    _check_ranges(s)
    if s.model.encoder_window not in ("auto", "full"):
        raise UserError("settings: 'model.encoder_window' must be 'auto' or 'full'")
    if s.audio.mono_speakers not in ("auto", "1", "2"):
        raise UserError("settings: 'audio.mono_speakers' must be 'auto', '1' or '2'")
    if s.audio.mono_speaker not in ("agent", "customer"):
        raise UserError("settings: 'audio.mono_speaker' must be 'agent' or 'customer'")
    if s.privacy.preset not in ("payments", "banking"):
        raise UserError("settings: 'privacy.preset' must be 'payments' or 'banking'")
    if s.team.clip_format not in ("opus", "flac"):
        raise UserError("settings: 'team.clip_format' must be 'opus' or 'flac'")
    v = s.cues.customer_escalating.voice
    for name in ("baseline_s", "loud_db", "bright_db", "pitch_semitones", "listen_s", "window_s", "adapt_s", "block_s"):
        if not getattr(v, name) > 0:
            raise UserError(f"settings: 'cues.customer_escalating.voice.{name}' must be above 0")
    if v.listen_s > v.window_s:
        raise UserError("settings: 'cues.customer_escalating.voice.listen_s' must be at most window_s")
    return s


def load(path: Path, warn: Callable[[str], None] | None = None) -> Settings:
    """Read settings from TOML; a missing file means defaults, missing keys their defaults.
    Unknown keys are ignored with a warning; a wrong type or value is an error."""
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"settings file {path} is not valid TOML: {e}") from None
    except OSError as e:  # a folder in its place, no permission
        raise UserError(f"cannot read the settings file {path}: {e.strerror}") from None
    unknown: list[str] = []
    s = validate(_from_dict(Settings, data, "", unknown))
    if unknown:
        (warn or _stderr)(f"coach: warning: {path}: ignoring unknown setting{'s' if len(unknown) > 1 else ''} "
                          + ", ".join(f"'{k}'" for k in unknown))
    return s


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def to_toml(obj: Any, defaults: Any = None, prefix: str = "") -> str:
    """TOML with each value's source comment. Values equal to their default are written
    commented out, so a later release's better default still reaches the user while the
    file shows every setting there is. Tables come after plain values, as TOML requires."""
    defaults = defaults if defaults is not None else type(obj)()
    lines: list[str] = []
    subtables: list[str] = []
    for f in dataclasses.fields(obj):
        value, default = getattr(obj, f.name), getattr(defaults, f.name)
        doc = f.metadata.get("doc", "")
        if dataclasses.is_dataclass(value):
            name = f"{prefix}{f.name}"
            head = f"[{name}]" + (f"  # {doc}" if doc else "")
            subtables.append(head + "\n" + to_toml(value, default, name + "."))
            continue
        if doc:
            lines.append(f"# {doc}")
        text = tomli_w.dumps({f.name: value}).strip()
        lines.append(text if value != default else "\n".join("# " + ln for ln in text.splitlines()))
    return "\n".join(lines) + ("\n\n" if lines else "") + "\n".join(subtables)


def save(settings: Settings, path: Path) -> None:
    """Write settings atomically so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    header = ("# Call Coach settings. Lines starting with '# key =' show the default; remove the '#' and edit\n"
              "# to change one. docs/cues.md explains each cue.\n\n")
    tmp.write_text(header + to_toml(settings), encoding="utf-8")
    tmp.replace(path)


def override(s: Settings, assignment: str) -> None:
    """Apply one KEY=VALUE (e.g. cues.slow_down.max_wpm=200) for this run only; the value is TOML."""
    key, sep, raw = assignment.partition("=")
    if not sep:
        raise UserError(f"--set wants KEY=VALUE, got '{assignment}'")
    parts = key.strip().split(".")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word is a string: --set model.name=base.en
    data: dict[str, Any] = {}
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    unknown: list[str] = []
    patch = _from_dict(Settings, data, "", unknown)
    if unknown:
        raise UserError(f"--set: unknown setting '{key.strip()}'")
    target, source = s, patch
    for part in parts[:-1]:
        target, source = getattr(target, part), getattr(source, part)
    setattr(target, parts[-1], getattr(source, parts[-1]))
    validate(s)

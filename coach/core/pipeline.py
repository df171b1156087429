"""The one streaming pipeline: audio chunks in, utterances and cues out.

It does not know whether audio comes from a device, a file played in real time, or a
file pushed as fast as possible: a runner (runner.py) feeds it chunks, runs its ASR
jobs, and gives it a clock that says what stream time it is.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coach.analysis.acoustics import loudness_db, pitch_hz
from coach.analysis.engine import CueEngine, Proposal
from coach.analysis.floor import Turn, assemble
from coach.analysis.meaning import Meaning
from coach.analysis.pace import rate
from coach.analysis.rules import Rules
from coach.analysis.sentiment import sentiment
from coach.analysis.turns import TurnTracker
from coach.analysis.voice import VoiceMeter
from coach.audio.history import History
from coach.config.settings import Settings
from coach.core.conversation import Conversation
from coach.core.events import (
    SAMPLE_RATE,
    SPEAKERS,
    AudioChunk,
    CallMetrics,
    Cue,
    Flag,
    Meters,
    Partial,
    Revision,
    Speaker,
    SpeakerMetrics,
    Utterance,
    VoiceLevel,
    Word,
)
from coach.privacy.payment_gate import PaymentGate, categories
from coach.privacy.redact import Redaction
from coach.speech.agreement import Agreement
from coach.speech.second_window import own_words, pack_gap, turn_offset
from coach.speech.silence import silence_check
from coach.speech.stt import SecondPass, SpeechToText, Transcript, TwoPasses
from coach.speech.vad import FRAME, FRAME_S, Endpointer, Segment, SileroStream

PAD_BEFORE = int(0.2 * SAMPLE_RATE)  # VAD onsets are late by a frame or two: keep the first phoneme
PAD_AFTER = int(0.15 * SAMPLE_RATE)
SECOND_PAD_BEFORE = int(0.4 * SAMPLE_RATE)
PARTIAL_TAIL_S = 2.5  # a partial decode hears at least the last 2.5 s ...
PARTIAL_MAX_S = 10  # ... and at most the last 10 s of the open utterance
PARTIAL_CONTEXT_S = 0.5  # ... starting this long before the end of the last committed word (4 s / 1 s: more CPU, same latency; docs/benchmark.md)
HISTORY_S = 60
# the gap starts this long after the speaker's last window: its last word's tail and Whisper's
# loose word times there would come out twice
GAP_AFTER = int(0.6 * SAMPLE_RATE)
SECOND_WINDOW_S = 28  # a second-pass window fits Whisper's 30 s: the turn, the gap before it, the voice before that
CHECK_MARGIN_S = PAD_BEFORE / SAMPLE_RATE + 0.1
FLAG_BEFORE_S = 10.0  # an automatic flag covers the lead-up ...
FLAG_AFTER_S = 20.0  # ... and what the agent did next

Event = Utterance | Revision | Partial | Cue | Flag | VoiceLevel | Meters


@dataclass(order=True)
class Job:
    """One finished utterance waiting for ASR; customers first, then oldest first; partial
    decodes of speech still going on after every final."""

    key: tuple[int, int, int]
    speaker: Speaker = field(compare=False)
    segment: Segment = field(compare=False)
    audio: np.ndarray = field(compare=False, repr=False)
    available_at: float = field(compare=False)  # stream time when the endpointer finished it
    partial: bool = field(default=False, compare=False)  # a re-decode of speech still going on
    audio_start: int = field(default=-1, compare=False)  # stream sample of audio[0] (-1: the segment's start, padded)
    # the second pass: a finished turn decoded again whole, with what was said before it as prompt
    second: bool = field(default=False, compare=False)
    covers: tuple[tuple[int, Segment], ...] = field(default=(), compare=False)  # (first-pass job id, segment) of its utterances
    context: str = field(default="", compare=False)
    deadline: float = field(default=float("inf"), compare=False)  # stream time after which its text is no longer awaited
    heard_s: float = field(default=0.0, compare=False)  # second pass: audio before the turn's, the speaker's earlier speech
    # second pass: audio[a:b] is the stretch before the turn the first pass's VAD found no speech in;
    # faster-whisper's own VAD picks out what of it the recognizer hears (coach/speech/second_window.py)
    gap: tuple[int, int] = field(default=(0, 0), compare=False)


WAITING = "waiting"  # a second pass is coming for this utterance
NO_SECOND = "none"  # none is coming: off, skipped under load, or too late


@dataclass
class _Held:
    """An utterance shown and stored with its first pass's text, awaiting its second pass before the
    exchange rules read it (and before the recorder may write its audio)."""

    job_id: int
    index: int  # in Pipeline.utterances
    raw: Utterance  # the first pass's words, unredacted
    context: str  # the redacted conversation before it, as its redaction saw it
    reading_out: bool
    spans: list[tuple[float, float, str]]  # what the first pass's redaction masked
    pending: bool = False  # shown with its digits as [number]: a digit group the payment gate had not decided
    heard_again: bool = False  # its second pass's words went to the payment gate


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        transcriber: SpeechToText,
        speakers: list[Speaker],
        clock: Callable[[], float],
        on_event: Callable[[Event], None] = lambda e: None,
        on_redact: Callable[[tuple[float, float]], None] = lambda span: None,
        meaning: Meaning | None = None,
        second: SecondPass | None = None,
    ) -> None:
        self.settings = settings
        self.transcriber = transcriber
        # the second pass: given, or the one the recognizer came with (coach/speech/engines.py)
        self.second = second if second is not None else transcriber.second if isinstance(transcriber, TwoPasses) else None
        self.speakers = speakers
        self.clock = clock
        self.on_event = on_event
        self.on_redact = on_redact
        v = settings.vad
        self._vad = {s: SileroStream(backstop_db=v.loud_backstop_db or None) for s in speakers}
        self._ep = {s: Endpointer(v.threshold, v.end_silence_s, v.max_utterance_s, v.min_utterance_s) for s in speakers}
        self._hist = {s: History(HISTORY_S * SAMPLE_RATE) for s in speakers}
        self._probs = {s: np.zeros(0, np.float32) for s in speakers}
        m = settings.metrics
        lt = settings.cues.let_them_finish
        self.turns = TurnTracker(FRAME_S, m.dead_air_min_s, m.monologue_gap_s, lt.overlap_s, lt.customer_lead_s,
                                 settings.cues.pause_and_listen.share_window_s)
        self.rules = Rules(settings.cues, settings.phrases, meaning)
        self.engine = CueEngine(settings.cues)
        self.conversation = Conversation(speakers)
        es = settings.cues.customer_escalating
        # the customer's voice only: the agent's voice and emotions are never scored
        self._voice = VoiceMeter(es.voice, v.threshold, es.score_threshold) if "customer" in speakers and es.voice.enabled else None
        # payment data: the gate keeps card talk across utterances and both passes (coach/privacy/payment_gate.py)
        self._gate = PaymentGate(lambda span: self.on_redact(span), categories(settings.privacy))
        self.checked_until = 0.0  # stream time before which every utterance has been redacted (read by the recorder)
        self.utterances: list[Utterance] = []  # redacted, in time order: what may be shown and stored
        self.flags: list[Flag] = []
        self.redactions: list[tuple[float, float]] = self._gate.spans  # audio silenced for payment data, stored with the session
        self.decode_s: list[float] = []
        self.partial_decode_s: list[float] = []
        self.partials_dropped = 0  # partial decodes skipped: superseded, too late, or behind
        self._partial_every = int(settings.model.partial_every_s * SAMPLE_RATE)
        self._partial_after = int(max(settings.model.partial_after_s, 0.5) * SAMPLE_RATE)
        # by (speaker, start sample): after a forced cut the next part starts while the first awaits its final
        self._agree: dict[tuple[Speaker, int], Agreement] = {}
        self._next_partial: dict[Speaker, int] = {}
        self._cuts: dict[Speaker, set[int]] = {s: set() for s in speakers}  # samples where a long turn was cut
        self._seq = itertools.count()
        self.position = 0.0
        # the second pass (docs/design.md: Two passes): finished utterances gathered into turns per speaker,
        # what each utterance's second pass brought (words, WAITING or NO_SECOND), and the utterances shown
        # with their first pass's text that the exchange rules have not read yet, in time order
        self._turn: dict[Speaker, list[tuple[int, Segment]]] = {s: [] for s in speakers}
        self._spoken: dict[Speaker, list[tuple[int, int]]] = {s: [] for s in speakers}  # samples of past turns' utterances
        # where each speaker's last second-pass window ended (the next one starts there, to hear what the
        # first pass's VAD missed in between), and the windows whose text is not final yet: their start
        # bounds what the recorder may write (sample of the window's start, its utterances still held)
        self._second_from: dict[Speaker, int] = {s: 0 for s in speakers}
        self._windows: dict[int, tuple[int, set[int]]] = {}
        self._pending_second: list[Job] = []  # turns closed while a job was made, handed out with it
        self._second: dict[int, list[Word] | str] = {}
        self._held: deque[_Held] = deque()
        self._pending_red: dict[int, Redaction] = {}  # utterances shown with [number]: their redaction as decided so far
        self._unread: deque[int] = deque()  # utterances (by index) the exchange rules have not read yet
        self._job_of: dict[int, int] = {}  # id(utterance) -> its first-pass job
        self._empty: set[int] = set()  # first-pass jobs that heard nothing
        self._said_text: list[tuple[float, int, str]] = []  # (start, job id, text) of every decoded utterance: prompts
        self.second_decode_s: list[float] = []
        self.second_cpu_s = 0.0
        self.first_cpu_s = 0.0  # the first pass's decodes (partial and final), measured as second_cpu_s is
        self.second_late = 0  # second passes that came after their utterance's deadline
        self.second_revised = 0  # utterances whose stored text is the second pass's
        self.shown_word_lat: list[float] = []  # each first-pass word's end -> first shown (the overlay's latency)

    def apply_settings(self, s: Settings) -> None:
        """New settings mid-session (on this pipeline's thread, a copy nobody else holds): cue
        thresholds, cooldowns, phrases and the voice thresholds apply from now on; the VAD, the
        model and partial decoding keep what they started with until the next session."""
        self.settings = s
        self.rules.s, self.rules.ph = s.cues, s.phrases
        self.engine.settings = s.cues
        if self._voice is not None:
            self._voice.s = s.cues.customer_escalating.voice

    # -- audio path: cheap, runs for every chunk -------------------------------------

    def feed(self, chunk: AudioChunk) -> list[Job]:
        """VAD and turn-taking for one chunk; returns utterances that just finished."""
        gap = int(round((chunk.t0 - self.position) * SAMPLE_RATE))
        if gap > 0:  # chunks were dropped upstream (falling behind): keep the timeline whole
            silence = AudioChunk(self.position, {s: np.zeros(gap, np.float32) for s in self.speakers})
            jobs = self._feed(silence)
            return jobs + self._feed(chunk)
        return self._feed(chunk)

    def _feed(self, chunk: AudioChunk) -> list[Job]:
        jobs: list[Job] = []
        for s in self.speakers:
            x = chunk.channels[s]
            self._hist[s].write(x)
            probs = self._vad[s].feed(x)
            self._probs[s] = np.concatenate([self._probs[s], probs])
            if s == "customer" and self._voice is not None:
                # the voice baseline is built on what Silero itself calls voice, not on loud frames
                self._hear_voice(x, self._vad[s].silero)
        n = min(len(p) for p in self._probs.values())
        for k in range(n):
            active, speaking = {}, {}
            for s in self.speakers:
                for seg in self._ep[s].push(self._probs[s][k:k + 1]):
                    jobs.append(self._job(s, seg))
                active[s], speaking[s] = self._ep[s].active, self._ep[s].speaking
            barge = self.turns.update(active, speaking)
            if barge is not None:
                self._propose(self.rules.on_interruption(barge))
            now = self.turns.frames * FRAME_S
            self._propose(self.rules.on_frame(self.turns, now))
        for s in self.speakers:
            self._probs[s] = self._probs[s][n:]
            self.conversation.heard(s, self._ep[s].frame * FRAME_S, self._ep[s].open_start)
            if self._partial_every:
                jobs += self._partial(s)
        jobs += self._turns_over()
        jobs += self._pending_second
        self._pending_second = []
        self.position = chunk.t1
        self._release()  # VAD progress alone can show that nothing earlier is coming
        return jobs

    def _hear_voice(self, x: np.ndarray, probs: np.ndarray) -> None:
        assert self._voice is not None
        for r in self._voice.feed(x, probs):
            if r.loud_db is None:
                continue  # no baseline yet: nothing to say about this caller's voice
            self.on_event(VoiceLevel(r.t, r.level, r.loud_db, r.pitch_st))
            self._propose(self.rules.on_voice(r))

    def finish(self) -> list[Job]:
        """End of stream: close open utterances (and their turns)."""
        jobs = [self._job(s, seg) for s in self.speakers for seg in self._ep[s].flush()]
        for s in self.speakers:
            self.conversation.heard(s, self.position, None)
        jobs += self._pending_second + [j for s in self.speakers if (j := self._second_job(s)) is not None]
        self._pending_second = []
        return jobs

    def drain(self) -> None:
        """Every decode is in: release the rest of the conversation."""
        for k, v in self._second.items():
            if v == WAITING:
                self._second[k] = NO_SECOND
        self._release(final=True)

    # -- the second pass: each finished turn decoded again, whole, with context ---------

    def _turns_over(self) -> list[Job]:
        """Second-pass jobs for turns that just ended: their speaker paused `second_turn_gap_s`, the other
        speaker began talking after them, or they grew to `second_max_turn_s`."""
        m, jobs = self.settings.model, []
        for s, segs in self._turn.items():
            if not segs:
                continue
            last = segs[-1][1].end
            ep = self._ep[s]
            open_at = None if ep.open_start is None else round(ep.open_start * SAMPLE_RATE)
            paused = (open_at if open_at is not None else ep.frame * FRAME) - last >= m.second_turn_gap_s * SAMPLE_RATE
            others = any(o != s and self._ep[o].open_start is not None and self._ep[o].open_start * SAMPLE_RATE > last
                         for o in self.speakers)
            long = ep.frame * FRAME - segs[0][1].start >= m.second_max_turn_s * SAMPLE_RATE
            if paused or others or long:
                if (j := self._second_job(s)) is not None:
                    jobs.append(j)
        return jobs

    def _second_job(self, s: Speaker) -> Job | None:
        segs, self._turn[s] = self._turn[s], []
        if not segs:
            return None
        m = self.settings.model
        # a soft first word ("hi") is often under the live VAD's onset: the turn is heard from 0.4 s before
        # it, as faster-whisper pads its speech, but not into the speaker's last window
        a = max(0, segs[0][1].start - SECOND_PAD_BEFORE, min(self._second_from[s], segs[0][1].start - PAD_BEFORE))
        b = segs[-1][1].end + PAD_AFTER
        start = segs[0][1].start / SAMPLE_RATE
        # the stretch since the speaker's last window in which the first pass's VAD heard nothing: a
        # short "checking" or a soft "hi" before the onset; faster-whisper's VAD picks its speech out
        now = self._ep[s].frame * FRAME
        room = int(SECOND_WINDOW_S * SAMPLE_RATE) - (b - a)  # the turn first, then the gap, then the voice before
        g = max(self._second_from[s] + GAP_AFTER, now - int(m.second_gap_s * SAMPLE_RATE), a - max(0, room), self._hist[s].start)
        g = min(g, a) if m.second_gap_s > 0 else a
        self._second_from[s] = b
        # Whisper hears the speaker's voice before the turn: their last utterances, the silence between
        # them left out, as faster-whisper's own VAD packs a channel (docs/benchmark.md: short answers)
        head: list[np.ndarray] = []
        n, keep = 0, min(int(m.second_heard_s * SAMPLE_RATE), max(0, room - (a - g)))
        keep = min(keep, max(0, int(m.second_window_s * SAMPLE_RATE) - (b - a)))  # a long turn is context enough
        for x, y in reversed(self._spoken[s]):
            if n + (y - x) > keep or x < self._hist[s].start:
                break
            head[:0] = [self._hist[s].read(x, y), np.zeros(int(0.3 * SAMPLE_RATE), np.float32)]
            n += y - x + int(0.3 * SAMPLE_RATE)
        self._spoken[s] = [*self._spoken[s][-20:], *((max(0, x.start - PAD_BEFORE), x.end + PAD_AFTER) for _, x in segs)]
        # what was said before the turn, both speakers, as the recognizer heard it: the prompt
        said = [t for st, _, t in sorted(self._said_text) if st < start]
        context = " ".join(" ".join(said).split()[-m.second_context_words:]) if m.second_context_words else ""
        deadline = segs[0][1].end / SAMPLE_RATE + m.second_keep_s
        job = Job((3, b, next(self._seq)), s, Segment(segs[0][1].start, segs[-1][1].end, segs[-1][1].detected_at),
                  np.concatenate([*head, self._hist[s].read(g, b)]), self.clock(), audio_start=g - n, second=True,
                  covers=tuple(segs), context=context, deadline=deadline, heard_s=n / SAMPLE_RATE, gap=(n, n + a - g))
        if ids := {i for i, _ in segs if i not in self._empty}:
            self._windows[job.key[2]] = (g, ids)
        return job

    def _complete_second(self, job: Job, tr: Transcript | None) -> None:
        """A turn's second pass: its words shared out among the turn's utterances by time."""
        ids = [i for i, _ in job.covers if self._second.get(i) == WAITING]
        if tr is not None and len(ids) < len(job.covers):
            self.second_late += 1  # some of its utterances stopped waiting for it: their first pass's text stands
        if tr is None or not ids:
            for i in ids:
                self._second[i] = NO_SECOND
            return
        heard = [(i, seg) for i, seg in job.covers if i not in self._empty] or list(job.covers)
        share: dict[int, list[Word]] = {i: [] for i, _ in job.covers}
        for w in tr.words:
            t = w.mid * SAMPLE_RATE
            # the utterance the word is in, else the nearest (a word in a pause between two)
            i, _ = min(heard, key=lambda c: 0 if c[1].start <= t <= c[1].end else min(abs(t - c[1].start), abs(t - c[1].end)))
            share[i].append(w)
        for i in ids:
            self._second[i] = share[i]
        for k, (st, i, _) in enumerate(self._said_text):
            if share.get(i):
                self._said_text[k] = (st, i, " ".join(w.w for w in share[i]))

    def _partial(self, s: Speaker) -> list[Job]:
        """A partial decode of `s`'s open utterance, when another `partial_every_s` of it has arrived."""
        ep = self._ep[s]
        if ep.open_start is None:
            return []
        start, now = round(ep.open_start * SAMPLE_RATE), ep.frame * FRAME
        if (s, start) not in self._agree:
            # forget utterances whose final never came (too short to decode, or dropped under load)
            for key in [k for k in self._agree if k[0] == s and k[1] < start - 30 * SAMPLE_RATE]:
                del self._agree[key]
            m = self.settings.model
            self._agree[(s, start)] = Agreement(start, m.partial_sure_p, stale_s=m.partial_settled_s)
            self._hand_over(s, start)
            self._next_partial[s] = start + self._partial_after
        if now < self._next_partial[s]:
            return []
        self._next_partial[s] = now + self._partial_every
        # Only the speech after the committed words (with PARTIAL_CONTEXT_S of context, at least the
        # last PARTIAL_TAIL_S): the cost of a partial decode stays that of a short clip however
        # long the turn, and the agreement matches words by time, not by position.
        committed = self._agree[(s, start)].committed
        frm = int((committed[-1].end - PARTIAL_CONTEXT_S) * SAMPLE_RATE) if committed else start
        frm = max(start - PAD_BEFORE, 0, min(frm, now - int(PARTIAL_TAIL_S * SAMPLE_RATE)), now - PARTIAL_MAX_S * SAMPLE_RATE)
        audio = self._hist[s].read(frm, now)
        return [Job((2, now, next(self._seq)), s, Segment(start, now, now), audio, self.clock(), partial=True, audio_start=frm)]

    def _hand_over(self, s: Speaker, start: int) -> None:
        """After a forced cut at `start`, words the earlier part showed past it go to the part
        that begins there (now, and again when the earlier part's last partial is in)."""
        nxt = self._agree.get((s, start))
        if nxt is not None:
            for key, before in self._agree.items():
                if key[0] == s and key[1] < start:
                    nxt.take(before.hand_over(start / SAMPLE_RATE))

    def partial_wanted(self, job: Job) -> bool:
        """Is the utterance this partial decode is for still going on? (Else its final is coming.)"""
        open_start = self._ep[job.speaker].open_start
        return (job.speaker, job.segment.start) in self._agree and open_start is not None \
            and round(open_start * SAMPLE_RATE) == job.segment.start

    def _job(self, s: Speaker, seg: Segment) -> Job:
        audio = self._hist[s].read(max(0, seg.start - PAD_BEFORE), seg.end + PAD_AFTER)
        if seg.forced:
            self._cuts[s].add(seg.end)
        pri = 0 if s == "customer" else 1
        job = Job((pri, seg.end, next(self._seq)), s, seg, audio, self.clock())
        self.conversation.expect(job.key[2], s, seg.start / SAMPLE_RATE)
        if self.second is not None:
            turn = self._turn[s]
            if turn and seg.end - turn[0][1].start > self.settings.model.second_max_turn_s * SAMPLE_RATE:
                if (j := self._second_job(s)) is not None:
                    self._pending_second.append(j)
            self._turn[s].append((job.key[2], seg))
            self._second[job.key[2]] = WAITING
        return job

    # -- speech path: one decode per utterance, may run on another thread -------------

    def transcribe(self, job: Job) -> Transcript:
        if silence_check(job.audio):
            return Transcript("", [])
        t = time.perf_counter()
        offset = (job.audio_start if job.audio_start >= 0 else max(0, job.segment.start - PAD_BEFORE)) / SAMPLE_RATE
        if job.second:
            assert self.second is not None
            cpu = time.process_time()
            audio, pieces = pack_gap(job.audio, *job.gap)
            start = job.audio_start / SAMPLE_RATE
            tr = self.second.transcribe(audio, turn_offset(pieces, start), job.speaker, context=job.context)
            words = own_words(tr.words, pieces, job.gap[0], start)
            tr = Transcript(" ".join(w.w for w in words), words)
            self.second_decode_s.append(time.perf_counter() - t)
            # the process's CPU over the decode: the second pass's own when nothing else runs (coach analyze)
            self.second_cpu_s += time.process_time() - cpu
            return tr
        cpu = time.process_time()
        if job.partial and job.audio_start <= max(0, job.segment.start - PAD_BEFORE):  # an opening decode
            tr = self.transcriber.transcribe(job.audio, offset, job.speaker, partial=True, opening=True)
        else:
            tr = self.transcriber.transcribe(job.audio, offset, job.speaker, partial=job.partial)
        (self.partial_decode_s if job.partial else self.decode_s).append(time.perf_counter() - t)
        self.first_cpu_s += time.process_time() - cpu
        return tr

    def complete(self, job: Job, tr: Transcript | None) -> Utterance | None:
        """A decode arrived (None: skipped under load). Rules about this speaker's own words
        run at once; the conversation then releases what is now known to be in time order."""
        if job.partial:
            self._complete_partial(job, tr)
            return None
        if job.second:
            self._complete_second(job, tr)
            self._release()
            return None
        tr = self._own_words(job, tr)
        u = self._utterance(job, tr) if tr is not None and tr.words else None
        self.conversation.decoded(job.key[2], u)
        if u is None:
            self._empty.add(job.key[2])
            self._finalised(job.key[2])
        else:
            self._job_of[id(u)] = job.key[2]
            self._said_text.append((u.start, job.key[2], u.text))
            self._said_text = self._said_text[-60:]
            self._propose(self.rules.on_decoded(u))
        self._release()
        return u

    def _own_words(self, job: Job, tr: Transcript | None) -> Transcript | None:
        """Both parts of a forced cut hear the padding around it: a word there is the part's
        where its middle is, not both parts'."""
        seg, cuts = job.segment, self._cuts[job.speaker]
        after_cut = seg.start in cuts
        cuts.discard(seg.start)
        if tr is None or not (after_cut or seg.forced):
            return tr
        lo = seg.start / SAMPLE_RATE if after_cut else float("-inf")
        hi = seg.end / SAMPLE_RATE if seg.forced else float("inf")
        words = [w for w in tr.words if lo <= w.mid < hi]
        return tr if len(words) == len(tr.words) else Transcript(" ".join(w.w for w in words), words)

    def _complete_partial(self, job: Job, tr: Transcript | None) -> None:
        """Commit the words this partial decode settled (agreement.py); phrase cues may fire on them at once."""
        ag = self._agree.get((job.speaker, job.segment.start))
        if tr is None or ag is None:
            self.partials_dropped += 1  # skipped, or the utterance ended while it was decoding
            return
        if ag.update(tr.words, self.clock(), heard_until=job.segment.end / SAMPLE_RATE):
            words = list(ag.committed)
            self.on_event(Partial(job.speaker, round(ag.start / SAMPLE_RATE, 3), words))
            self._propose(self.rules.on_words(job.speaker, ag.start / SAMPLE_RATE, words))

    def _utterance(self, job: Job, tr: Transcript) -> Utterance:
        seg = job.segment
        # VAD bounds, not word times: Whisper puts the first word's start in the padding
        start, end = seg.start / SAMPLE_RATE, seg.end / SAMPLE_RATE
        words = tr.words
        if seg.forced:
            self._hand_over(job.speaker, seg.end)
        ag = self._agree.pop((job.speaker, seg.start), None)
        if ag is not None:
            words = ag.stamp(words)  # words shown earlier keep the time they were shown
        u = Utterance(
            speaker=job.speaker, start=round(start, 3), end=round(end, 3), text=tr.text, words=words,
            wpm=_round(rate(len(tr.words), end - start)), t_ready=round(self.clock(), 3),
        )
        if job.speaker == "customer":
            # mood and voice are read for the customer only: inferring an employee's emotions
            # at work is prohibited (EU AI Act Art. 5(1)(f), docs/facts.md)
            voiced = job.audio[PAD_BEFORE: len(job.audio) - PAD_AFTER] if len(job.audio) > PAD_BEFORE + PAD_AFTER else job.audio
            u.sentiment = round(sentiment(tr.text), 3)
            u.loudness_db = round(loudness_db(voiced), 2)
            u.pitch_hz = _round(pitch_hz(voiced))
        return u

    def _release(self, final: bool = False) -> None:
        for u in self.conversation.release(final):
            self._said(u)
        self._advance_held()
        # audio before this has been transcribed and redacted by both passes (its spans silenced): the
        # recorder may write it. Words can start in the 0.2 s padding before a VAD onset.
        held = self._held[0].raw.start if self._held else float("inf")
        mark = float("inf") if final else min(self.conversation.watermark(), held, self._second_frontier(),
                                              self._gate.hold_until()) - CHECK_MARGIN_S
        self.checked_until = max(self.checked_until, mark)

    def _finalised(self, job_id: int) -> None:
        """An utterance's text is final (or it heard nothing): its second-pass window may be done."""
        for k, (_, ids) in list(self._windows.items()):
            ids.discard(job_id)
            if not ids:
                del self._windows[k]

    def _second_frontier(self) -> float:
        """Stream time before which no second-pass window can still bring words: the start of the
        oldest window whose text is not final, and for each speaker where the next window may begin
        (the end of their last one, at most `second_gap_s` back). The recorder writes no later."""
        if self.second is None:
            return float("inf")
        gap = int(self.settings.model.second_gap_s * SAMPLE_RATE)
        starts = [g for g, _ in self._windows.values()]
        starts += [max(self._second_from[s], self._ep[s].frame * FRAME - gap) for s in self.speakers]
        return min(starts) / SAMPLE_RATE

    def _said(self, raw: Utterance) -> None:
        """One utterance in time order: payment data is masked (its audio silenced) before anything
        that shows or stores text sees it. Shown and stored now with the first pass's text; the
        exchange rules read it once its second pass is in (or is not coming)."""
        jid = self._job_of.pop(id(raw), -1)
        context = " ".join(u.text for u in self.utterances[-4:])
        reading_out = self._gate.card_talk_at(raw.start)
        red = self._gate.said(raw)
        pending = self._gate.undecided(raw.start, self.clock())
        shown = self._gate.pending(red) if pending else red
        self.shown_word_lat += [max(0.0, (w.t_ready if w.t_ready is not None else raw.t_ready) - w.end) for w in raw.words]
        u = dataclasses.replace(raw, text=shown.text, words=shown.words)
        self.utterances.append(u)
        self._held.append(_Held(jid, len(self.utterances) - 1, raw, context, reading_out,
                                [(a, b, k) for (a, b), k in zip(red.spans, red.kinds)], pending))
        if pending:  # the rules read its digits meanwhile ("read the account number back"): in memory only
            self._pending_red[len(self.utterances) - 1] = red
        self._unread.append(len(self.utterances) - 1)
        self.on_event(u)  # shown now; revised when its second pass is in

    def _mask(self, raw: Utterance, words: list[Word], context: str, reading_out: bool,
              also: list[tuple[float, float, str]] | None = None) -> Redaction:
        """Payment data masked in another pass's words of `raw`'s speech (`also`: what the other pass
        masked there); the gate hands new spans to the recorder to silence."""
        return self._gate.redecoded(raw.speaker, raw.start, raw.end, words, also or ())

    def _advance_held(self) -> None:
        """Utterances whose second pass is in (or will not come) take its text, redacted like the first
        pass's, in time order. The exchange rules read each utterance once its second pass is in or
        `second_wait_s` after its first pass's text, whichever is first."""
        self._hear_again()
        while self._held:
            h = self._held[0]
            got = self._second.get(h.job_id, NO_SECOND)
            if self._awaits_second(h, got) or self._gate.undecided(h.raw.start, self.clock()):
                break  # its second pass is coming, or the gate does not know yet whether its digits are a card's
            self._held.popleft()
            self._pending_red.pop(h.index, None)
            self._finalised(h.job_id)
            self._second.pop(h.job_id, None)
            u = self.utterances[h.index]
            reading_out = h.reading_out or self._gate.card_talk_at(h.raw.start)
            if isinstance(got, list) and got:
                red = self._mask(h.raw, got, h.context, reading_out, also=h.spans)
                words = _first_shown(red.words, u.words, self.clock())
                u = dataclasses.replace(u, text=red.text, words=words, decoded_by="second", t_revised=round(self.clock(), 3),
                                        wpm=_round(rate(len(got), u.end - u.start)))
                if h.raw.speaker == "customer":
                    u.sentiment = round(sentiment(red.text), 3)
                self.second_revised += 1
            elif reading_out and not h.reading_out or h.pending:
                # the second pass of an earlier utterance heard card talk the first pass missed, or
                # the gate decided what a digit group shown as [number] is
                red = self._mask(h.raw, h.raw.words, h.context, reading_out, also=h.spans)
                u = dataclasses.replace(u, text=red.text, words=red.words)
            if u is not self.utterances[h.index]:
                self.utterances[h.index] = u
                self.on_event(Revision(h.index, u))
        # the exchange rules, in time order: on the stored text once it is final, or on the first pass's
        # when its second pass is later than the rules can wait
        waiting = {h.index: h.raw.t_ready for h in self._held}
        while self._unread:
            i = self._unread[0]
            if i in waiting and self.clock() < waiting[i] + self.settings.model.second_wait_s:
                break
            self._unread.popleft()
            u, red = self.utterances[i], self._pending_red.get(i)
            if red is not None and not self._gate.card_talk_at(u.start):  # not a card's, as far as the gate knows now
                u = dataclasses.replace(u, text=red.text, words=red.words)
            self._exchange(u)

    def _awaits_second(self, h: _Held, got: object) -> bool:
        """Is a held utterance still waiting for its second pass (`got`), which may come until `second_keep_s`?"""
        return got == WAITING and self.clock() < h.raw.end + self.settings.model.second_keep_s

    def _hear_again(self) -> None:
        """Each held utterance's second-pass words go to the payment gate once, in time order, as soon as
        they are in (or will not come): a group only the second pass heard, or a line that ended a run
        of groups heard as one, decides what the lines before it are, which wait for it."""
        for h in self._held:
            if h.heard_again:
                continue
            got = self._second.get(h.job_id, NO_SECOND)
            if self._awaits_second(h, got):
                return
            h.heard_again = True
            self._gate.heard_again(h.raw.speaker, h.raw.start, got if isinstance(got, list) else [])

    def _exchange(self, u: Utterance) -> None:
        """The time-ordered exchange rules (acknowledge, reflect, harsh words to an upset customer), on
        the best text there is."""
        proposals = self.rules.on_said(u)  # first, so the meters include u
        self.on_event(Meters(
            escalation=self.rules.last_escalation_score if u.speaker == "customer" else None,
            agent_wpm=self.rules.pace["agent"].recent(self.settings.cues.slow_down.window_s)[0],
            agent_share=self.turns.share("agent")[0],
        ))
        self._propose(proposals)

    # -- cues ------------------------------------------------------------------------

    def _propose(self, proposals: list[Proposal]) -> None:
        for p in proposals:
            cue = self.engine.offer(p, self.clock())
            if cue is None:
                continue
            self.on_event(cue)
            if cue.severity == "alert":
                self._flag(cue, p)

    def _flag(self, cue: Cue, p: Proposal) -> None:
        start, end = max(0.0, p.evidence_end - FLAG_BEFORE_S), p.evidence_end + FLAG_AFTER_S
        last = next((f for f in reversed(self.flags) if f.by == "rule"), None)
        if last is not None and start <= last.end:
            last.end = max(last.end, end)  # one flagged region for one escalation episode
            return
        flag = Flag(round(start, 2), round(end, 2), cue.id, "rule")
        self.flags.append(flag)
        self.on_event(flag)

    def add_flag(self, flag: Flag) -> None:
        """A flag from the agent (shortcut or tray): kept apart from the rules' own."""
        self.flags.append(flag)
        self.on_event(flag)

    # -- results ---------------------------------------------------------------------

    @property
    def cues(self) -> list[Cue]:
        """The cues shown so far, in order."""
        return self.engine.fired

    @property
    def suppressed(self) -> list[tuple[float, str, str]]:
        """Cues the discipline held back: (time, id, why)."""
        return self.engine.suppressed

    def floor_turns(self) -> list[Turn]:
        """Who held the floor when: the utterances assembled into turns."""
        return assemble(self.utterances, self.settings.phrases.backchannel)

    def metrics(self, floor: list[Turn] | None = None) -> CallMetrics:
        """`floor`: floor_turns() when the caller has them already."""
        t = self.turns
        total_talk = sum(t.talk.values()) or 1
        out = CallMetrics(overtalk_s=t.seconds(t.overtalk), dead_air_s=t.seconds(t.dead_air))
        floor = self.floor_turns() if floor is None else floor
        for s in SPEAKERS:
            mine = [x for x in floor if x.speaker == s]
            sents = [u.sentiment for u in self.utterances if u.speaker == s and u.sentiment is not None]
            m = SpeakerMetrics(
                talk_s=t.seconds(t.talk[s]),
                talk_ratio=round(t.talk[s] / total_talk, 3),
                wpm=_round(self.rules.pace[s].overall()) or 0.0,
                longest_monologue_s=t.seconds(t.longest[s]),
                sentiment_mean=round(sum(sents) / len(sents), 3) if sents else None,  # customer only
                turns=len(mine),
                longest_turn_s=round(max((x.end - x.start for x in mine), default=0.0), 2),
            )
            setattr(out, s, m)
        return out

    def close_flags(self, duration_s: float) -> None:
        for f in self.flags:
            f.end = round(min(f.end, duration_s), 2)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _first_shown(final: list[Word], shown: list[Word], now: float) -> list[Word]:
    """The second pass's words, each keeping the time the same stretch of speech was first shown
    (the latest of the first pass's words it overlaps); a word over a stretch the first pass
    heard nothing in was first shown now."""
    out = []
    for w in final:
        over = [s.t_ready for s in shown if s.start < w.end and s.end > w.start and s.t_ready is not None]
        out.append(dataclasses.replace(w, t_ready=max(over) if over else round(now, 3)))
    return out


assert FRAME == 512  # feed() relies on both speakers' VADs sharing one frame grid

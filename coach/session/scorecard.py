"""Skill scorecards (issue #30, docs/scorecards.md): per call, for each conflict-resolution skill,
how often the agent did the right thing when it was called for, with the moments that show it.

A pure function of the stored (redacted) session document: no audio, no I/O, no Qt. Each skill is
defined by its cue (coach/analysis/cues/): the opportunities are found with that cue's settings and
phrase lists, and whether one was taken is what the cue decided during the call. A cue proposed for
the moment (shown, or held back by the cue engine: a cooldown or the gap after another cue does not
make the agent's reply any better) is a miss; no proposal is a take. So a scorecard counts what the
live coach counted, including what the sentence encoder judged, and inherits every false cue: the
skills resting on cues still unreliable on real calls carry a `reliability` note.

Every opportunity keeps its time (`t`, `end`, stream seconds) and, when it lies in a flagged span,
the index of that flag (`segment`: the team server's segment `<call id>:<index>`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coach.analysis.agent_acts import AgentActs
from coach.analysis.emotion import emotion_in
from coach.analysis.pace import rate as wpm_of
from coach.analysis.phrases import find, tokens
from coach.analysis.sentiment import sentiment
from coach.config.settings import Settings
from coach.core.events import Word

SCHEMA = "coach.scorecard/1"
MATCH_S = 0.05  # a shown cue's evidence end (t - latency) is the end of the utterance it judged, to the ms
LAG_S = 10.0  # a cue held back is logged when the pipeline judged it: within seconds of its evidence


@dataclass(frozen=True)
class Skill:
    id: str
    label: str
    cue: str  # the cue whose settings and phrase lists define the skill
    kind: str  # "rate": k of n opportunities; "per_call": k events per call (n = calls); "share": k of n seconds
    better: str | None  # "higher" or "lower" is better; None: a band, not a direction
    n_means: str
    k_means: str
    reliability: str | None  # where the cue is still unreliable on real calls, or not yet judged on them


JUDGED = "docs/scorecards.md#reliability"
SKILLS: tuple[Skill, ...] = (
    Skill("empathy", "empathy", "acknowledge_feelings", "rate", "higher",
          "customer turns that voiced an emotion", "acknowledged in the reply",
          "acknowledge_feelings: not yet judged on real calls (the judged ones are calm); the acknowledgement detector finds "
          f"75 % of labelled acknowledgements, so some taken moments count as missed ({JUDGED})"),
    Skill("active_listening", "active listening", "reflect_back", "rate", "higher",
          "long or emotional customer turns", "restated or acknowledged in the reply",
          f"reflect_back: one cue on the judged real calls, debatable; restatements found 76 % of the time ({JUDGED})"),
    Skill("interruptions", "let them finish", "let_them_finish", "per_call", "lower",
          "calls", "times the agent talked over the customer mid-turn",
          f"let_them_finish: not yet judged on real calls ({JUDGED})"),
    Skill("talk_share", "talk share", "pause_and_listen", "share", None,
          "seconds of speech", "the agent's", None),
    Skill("pace", "calm and clear", "slow_down", "share", "lower",
          "seconds of the agent's speech", "above the pace band",
          f"slow_down: precision on the judged real calls below 80 % (0 of 12 right: quick stock lines) ({JUDGED})"),
    Skill("de_escalation", "de-escalation", "customer_escalating", "rate", "higher",
          "escalations", "calmed within the call",
          f"customer_escalating, customer_calming: no escalation on the judged real calls; scripted calls only ({JUDGED})"),
    Skill("resolution", "resolution", "confirm_resolution", "rate", "higher",
          "calls the agent closed", "closed with a summary and next step",
          f"confirm_resolution: precision on the judged real calls below 80 % (1 of 13 right) ({JUDGED})"),
    Skill("dead_air", "dead air", "check_in", "rate", "higher",
          "silences over the limit", "announced as a hold", None),
)
BY_ID: dict[str, Skill] = {s.id: s for s in SKILLS}


@dataclass
class _Proposal:
    """A cue the live coach proposed: shown, or held back (the `suppressed_cues` of the document)."""

    id: str
    at: float  # when its evidence ended (shown) or when it was judged (held back)
    why: str
    unsure: bool = False  # held back because its own evidence was unsure
    used: bool = False


def _proposals(doc: dict[str, Any]) -> dict[str, list[_Proposal]]:
    out: dict[str, list[_Proposal]] = {}
    for c in doc.get("cues") or []:
        at = c["t"] - (c.get("latency_s") or 0.0)
        out.setdefault(c["id"], []).append(_Proposal(c["id"], at, c.get("reason", "")))
    for c in doc.get("suppressed_cues") or []:
        why = c.get("why", "")
        out.setdefault(c["id"], []).append(_Proposal(c["id"], c["t"], f"held back ({why})", why.startswith("confidence")))
    for ps in out.values():
        ps.sort(key=lambda p: p.at)
    return out


def _words(utts: Iterable[dict[str, Any]]) -> list[Word]:
    return [Word(w["w"], w["start"], w["end"], w.get("p", 1.0)) for u in utts for w in u.get("words") or []]


def _n_words(utts: Iterable[dict[str, Any]]) -> int:
    return sum(len(u.get("words") or []) for u in utts)


def _segment(doc: dict[str, Any], t: float, end: float) -> int | None:
    """The flag this moment lies in (by overlap), as its index: the segment the team server holds."""
    for i, f in enumerate(doc.get("flags") or []):
        if f["start"] <= end and t <= f["end"]:
            return i
    return None


def _moment(doc: dict[str, Any], t: float, end: float, status: str, why: str, cue: str | None = None) -> dict[str, Any]:
    return {"t": round(t, 3), "end": round(max(end, t), 3), "status": status, "cue": cue, "segment": _segment(doc, t, end),
            "why": why}


def _skill(sk: str, n: float, k: float, moments: list[dict[str, Any]]) -> dict[str, Any]:
    s = BY_ID[sk]
    return {"id": s.id, "label": s.label, "cue": s.cue, "kind": s.kind, "better": s.better, "n": round(n, 3), "k": round(k, 3),
            "moments": sorted(moments, key=lambda m: m["t"]), "reliability": s.reliability}


def _assign(ps: list[_Proposal], ends: Sequence[float]) -> list[list[_Proposal]]:
    """Each proposal to the evidence it judged: the latest of `ends` (ascending) at or before it, within LAG_S."""
    out: list[list[_Proposal]] = [[] for _ in ends]
    for p in ps:
        i = bisect_right(ends, p.at + MATCH_S) - 1
        if i >= 0 and p.at - ends[i] <= LAG_S:
            out[i].append(p)
    return out


def _verdict(got: list[_Proposal]) -> tuple[str, str | None]:
    """(status, the cue's reason): a sure proposal is a miss; only unsure ones leave it unjudged."""
    for p in got:
        p.used = True
    sure = [p for p in got if not p.unsure]
    if sure:
        return "missed", sure[0].why
    if got:
        return "unsure", got[0].why
    return "taken", None


# --- the exchange: the customer's turn and the agent's reply, as rules.py pairs them ---------------


@dataclass
class _Reply:
    customer: list[dict[str, Any]]
    reply: list[dict[str, Any]]

    @property
    def said(self) -> str:
        return " ".join(u["text"] for u in self.customer)

    @property
    def text(self) -> str:
        return " ".join(u["text"] for u in self.reply)


def _replies(utts: Sequence[dict[str, Any]], min_reply_words: int) -> list[_Reply]:
    """The conversation in time order, paired as the dispatcher does (rules.py on_said): the customer's
    utterances until the agent's reply reaches `min_reply_words`; a shorter reply while the customer
    goes on is a backchannel and the customer's turn continues."""
    out: list[_Reply] = []
    customer: list[dict[str, Any]] = []
    reply: list[dict[str, Any]] = []
    for u in utts:
        if u["speaker"] == "customer":
            if reply and _n_words(reply) < min_reply_words:
                reply = []
            if reply:
                customer, reply = [], []
            customer.append(u)
            continue
        if not customer:
            continue
        reply.append(u)
        if _n_words(reply) >= min_reply_words:
            out.append(_Reply(customer, reply))
            customer, reply = [], []
    return out


def _lowest_sentiment(r: _Reply) -> float:
    return min(u["sentiment"] if u.get("sentiment") is not None else sentiment(u["text"]) for u in r.customer)


def _exchanges(doc: dict[str, Any], utts: Sequence[dict[str, Any]], s: Settings, props: dict[str, list[_Proposal]],
               acts: AgentActs) -> tuple[dict[str, Any], dict[str, Any]]:
    """Empathy (acknowledge_feelings) and active listening (reflect_back), from the same replies."""
    ack, rb = s.cues.acknowledge_feelings, s.cues.reflect_back
    empathy: list[dict[str, Any]] = []
    listening: list[dict[str, Any]] = []
    replies = _replies(utts, ack.min_reply_words)
    ends = [r.reply[-1]["end"] for r in replies]
    acked, reflected = (_assign(props.get(cue, []), ends) for cue in ("acknowledge_feelings", "reflect_back"))
    for i, r in enumerate(replies):
        t, end = r.customer[0]["start"], ends[i]
        feeling = emotion_in(_words(r.customer), s.phrases.emotion, _lowest_sentiment(r), ack.negative_sentiment, ack.emotion_p)
        long = _n_words(r.customer) >= rb.min_words or sum(u["end"] - u["start"] for u in r.customer) >= rb.min_turn_s
        if not (feeling.voiced or long):
            continue
        acknowledged = acts.acknowledgement(r.text)  # what the phrase lists see, to say why a reply counts
        if feeling.voiced:
            status, reason = _verdict(acked[i])
            why = reason or f"customer {feeling.basis}; {acknowledged or 'acknowledged, by meaning (no cue during the call)'}"
            empathy.append(_moment(doc, t, end, status, why, "acknowledge_feelings" if reason else None))
        if feeling.voiced or sentiment(r.said) < rb.happy_sentiment:  # a long happy turn is chat, not a problem to restate
            status, reason = _verdict(reflected[i])
            why = reason or acknowledged or acts.reflection(r.said, r.text) or "restated, by meaning (no cue during the call)"
            listening.append(_moment(doc, t, end, status, why, "reflect_back" if reason else None))
    empathy += _others(doc, props.get("acknowledge_feelings", []), "acknowledge_feelings")
    listening += _others(doc, props.get("reflect_back", []), "reflect_back")
    return _rated("empathy", empathy), _rated("active_listening", listening)


def _others(doc: dict[str, Any], ps: Iterable[_Proposal], cue: str) -> list[dict[str, Any]]:
    """The cue's proposals no opportunity of the card accounts for (other evidence the cue has, or
    settings that differ from those of the call): listed with status "cue", not counted."""
    return [_moment(doc, p.at, p.at, "cue", p.why, cue) for p in ps if not p.used]


def _rated(sk: str, moments: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [m for m in moments if m["status"] in ("taken", "missed")]
    return _skill(sk, len(judged), sum(m["status"] == "taken" for m in judged), moments)


# --- events and shares -----------------------------------------------------------------------------


def _events(doc: dict[str, Any], cue: str, props: dict[str, list[_Proposal]]) -> list[dict[str, Any]]:
    return [_moment(doc, p.at, p.at, "missed", p.why, cue) for p in props.get(cue, [])]


def _interruptions(doc: dict[str, Any], props: dict[str, list[_Proposal]]) -> dict[str, Any]:
    moments = _events(doc, "let_them_finish", props)
    return _skill("interruptions", 1, len(moments), moments)


def _talk_share(doc: dict[str, Any], props: dict[str, list[_Proposal]]) -> dict[str, Any]:
    m = doc.get("metrics") or {}
    agent, customer = ((m.get(sp) or {}).get("talk_s") or 0.0 for sp in ("agent", "customer"))
    return _skill("talk_share", agent + customer, agent, _events(doc, "pause_and_listen", props))


def _pace(doc: dict[str, Any], utts: Sequence[dict[str, Any]], s: Settings, props: dict[str, list[_Proposal]]) -> dict[str, Any]:
    """The agent's speech whose rate over their last `window_s` of speech (at least `min_speech_s` of it,
    as slow_down measures a sustained pace) is above the cue's `max_wpm`."""
    sd = s.cues.slow_down
    agent = [u for u in utts if u["speaker"] == "agent" and u["end"] > u["start"]]
    total = above = 0.0
    runs: list[list[float]] = []
    for i, u in enumerate(agent):
        speech = u["end"] - u["start"]
        total += speech
        words = n = 0.0
        for v in reversed(agent[:i + 1]):  # whole utterances back until the window is covered
            if n >= sd.window_s:
                break
            words, n = words + len(v.get("words") or []), n + v["end"] - v["start"]
        wpm = wpm_of(words, n)
        if wpm is None or n < sd.min_speech_s or wpm <= sd.max_wpm:
            continue
        above += speech
        if runs and runs[-1][2] == i - 1:
            runs[-1][1:] = [u["end"], i]
        else:
            runs.append([u["start"], u["end"], i])
    cues = props.get("slow_down", [])
    moments = []
    for start, end, _ in runs:
        got = [p for p in cues if not p.used and start - MATCH_S <= p.at <= end + LAG_S]
        for p in got:
            p.used = True
        moments.append(_moment(doc, start, end, "missed", f"above {sd.max_wpm:.0f} wpm over your recent speech",
                               "slow_down" if got else None))
    moments += _others(doc, cues, "slow_down")  # the cue has other evidence too (a customer asking for repetition)
    return _skill("pace", total, above, moments)


# --- episodes, closings, silences ------------------------------------------------------------------


def _de_escalation(doc: dict[str, Any], props: dict[str, list[_Proposal]]) -> dict[str, Any]:
    """An escalation episode runs from a customer_escalating proposal until a customer_calming one (the
    cue ends the episode whether or not the engine showed it); escalations inside it are the same episode."""
    events = sorted([(p.at, "esc") for p in props.get("customer_escalating", [])] +
                    [(p.at, "calm") for p in props.get("customer_calming", [])])
    moments: list[dict[str, Any]] = []
    open_at: float | None = None
    for at, kind in events:
        if kind == "esc" and open_at is None:
            open_at = at
        elif kind == "calm" and open_at is not None:
            moments.append(_moment(doc, open_at, at, "taken", f"calmed after {at - open_at:.0f} s", "customer_calming"))
            open_at = None
    if open_at is not None:
        moments.append(_moment(doc, open_at, open_at, "missed", "still escalated when the call ended", "customer_escalating"))
    return _rated("de_escalation", moments)


def _resolution(doc: dict[str, Any], utts: Sequence[dict[str, Any]], s: Settings, props: dict[str, list[_Proposal]],
                acts: AgentActs) -> dict[str, Any]:
    """A call the agent closed (confirm_resolution's closing phrases, past `min_call_s`): taken when the
    last closing had no confirm_resolution proposal, i.e. a summary came within `lookback_s` before it."""
    cr = s.cues.confirm_resolution
    last = next((u for u in reversed(utts) if u["speaker"] == "agent" and u["end"] >= cr.min_call_s
                 and find(tokens(u["text"]), s.phrases.closing)), None)
    if last is None:
        return _skill("resolution", 0, 0, [])
    got = [p for p in props.get("confirm_resolution", []) if p.at >= last["end"] - MATCH_S]
    status, reason = _verdict(got)
    if status == "taken":
        before = [u for u in utts if u["speaker"] == "agent" and 0 <= last["end"] - u["end"] <= cr.lookback_s]
        reason = next((r for u in before if (r := acts.summary(u["text"]))), "summarised, by meaning (no cue during the call)")
    moment = _moment(doc, last["start"], last["end"], status, reason or "", "confirm_resolution" if got else None)
    return _rated("resolution", [moment, *_others(doc, props.get("confirm_resolution", []), "confirm_resolution")])


def _dead_air(doc: dict[str, Any], utts: Sequence[dict[str, Any]], s: Settings, props: dict[str, list[_Proposal]]) -> dict[str, Any]:
    """Silences between anyone's speech of at least check_in's `dead_air_s`; one that began within a second
    of the agent announcing a hold is taken while it stays under `hold_dead_air_s`."""
    ci = s.cues.check_in
    moments = []
    spoken_until: float | None = None
    for i, u in enumerate(utts):
        if spoken_until is not None and u["start"] - spoken_until >= ci.dead_air_s:
            start, end = spoken_until, u["start"]
            held = any(v["speaker"] == "agent" and start - 1.0 <= v["end"] <= start + MATCH_S
                       and find(tokens(v["text"]), s.phrases.hold) for v in utts[max(0, i - 3):i])
            taken = held and end - start < ci.hold_dead_air_s
            cue = [p for p in props.get("check_in", []) if start <= p.at <= end + 1.0]
            why = f"{end - start:.0f} s of silence" + (" after a hold was announced" if held else " with no hold announced")
            moments.append(_moment(doc, start, end, "taken" if taken else "missed", why, "check_in" if cue else None))
        spoken_until = u["end"] if spoken_until is None else max(spoken_until, u["end"])
    return _rated("dead_air", moments)


def scorecard(doc: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """The call's scorecard: for each skill of SKILLS, `n` (opportunities, calls or seconds), `k` (taken,
    events or seconds) and the moments, each with its time, status (taken, missed; unsure or cue: listed,
    not counted), the cue
    proposed there and the flagged segment it lies in. Defaults: the shipped settings, so every agent's
    card is computed alike and their rates compare."""
    s = settings or Settings()
    utts = sorted(doc.get("utterances") or [], key=lambda u: (u["start"], u["end"]))
    props = _proposals(doc)
    acts = AgentActs(s.cues, s.phrases)  # phrase lists only: the sentence encoder's verdicts are in the cue record
    empathy, listening = _exchanges(doc, utts, s, props, acts)
    skills = [empathy, listening, _interruptions(doc, props), _talk_share(doc, props), _pace(doc, utts, s, props),
              _de_escalation(doc, props), _resolution(doc, utts, s, props, acts), _dead_air(doc, utts, s, props)]
    return {"schema": SCHEMA, "duration_s": (doc.get("source") or {}).get("duration_s"), "skills": skills}


# --- reading scorecards --------------------------------------------------------------------------


def rate(n: float, k: float) -> float | None:
    """k per n: a share of opportunities or seconds, or events per call."""
    return k / n if n else None


def shown(skill_id: str, n: float, k: float) -> str:
    """The figure with its denominator, as a team lead reads it: '2 of 3 (67 %)', '0.5 per call', '48 % of 2 min'."""
    kind = BY_ID[skill_id].kind if skill_id in BY_ID else "rate"
    r = rate(n, k)
    if r is None:
        return "no opportunity" if kind == "rate" else "–"
    if kind == "per_call":
        return f"{r:.1f} per call ({k:.0f} in {n:.0f} call{'s' if n != 1 else ''})"
    if kind == "share":
        return f"{r:.0%} of {n / 60:.1f} min"
    return f"{k:.0f} of {n:.0f} ({r:.0%})"


def combine(cards: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Several calls' cards as one: per skill, n and k summed (a rate over all opportunities, not a
    mean of per-call rates, so a call with one opportunity weighs as little as it should)."""
    out = {s.id: {"n": 0.0, "k": 0.0} for s in SKILLS}
    for card in cards:
        for sk in card.get("skills") or []:
            if sk["id"] in out:
                out[sk["id"]]["n"] += sk["n"]
                out[sk["id"]]["k"] += sk["k"]
    return out


def shared(card: dict[str, Any]) -> list[dict[str, Any]]:
    """What the team server receives: numbers and times only. No reasons (they quote the call's words);
    the words and audio of a flagged moment travel with its segment, as before."""
    return [{"id": sk["id"], "n": sk["n"], "k": sk["k"],
             "moments": [{k: m[k] for k in ("t", "end", "status", "cue", "segment")} for m in sk["moments"]]}
            for sk in card["skills"]]

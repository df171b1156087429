"""The API's request bodies; their limits are the server's first check on what a device or a
browser may send (FastAPI answers 422 before a route runs)."""

import uuid
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from coach.analysis.catalog import SEVERITY_COLOURS


def _storable(s: str) -> str:
    """PostgreSQL stores no NUL in text or jsonb, and UTF-8 has no lone surrogates (JSON's
    \\ud800 parses to one): refused here (422) rather than failing in the database (500)."""
    if "\x00" in s:
        raise ValueError("a NUL character")
    try:
        s.encode()
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text") from None
    return s


Text = Annotated[str, Field(max_length=4000), AfterValidator(_storable)]
Short = Annotated[str, Field(max_length=200), AfterValidator(_storable)]
SegmentId = Annotated[str, Path(max_length=80)]
# the severities the cue registry knows (the pages colour by them); "" for none
Severity = Literal[tuple(["", *SEVERITY_COLOURS])]  # type: ignore[valid-type]


class Body(BaseModel):
    """Every request body: no NaN or infinity in any number (JSON allows neither; Python's
    parser reads them, PostgreSQL's jsonb refuses them)."""

    model_config = ConfigDict(allow_inf_nan=False)


class LiveIn(Body):
    on_call: bool
    call_id: uuid.UUID | None = None
    duration_s: float = Field(0.0, ge=0, le=86400)
    mood: float | None = Field(None, ge=0, le=10)  # the customer's escalation, 0 calm .. 1+ escalating
    trend: int = Field(0, ge=-1, le=1)
    cue: Short | None = None  # the cue on the agent's overlay now
    cue_severity: Severity | None = None
    flags: int = Field(0, ge=0, le=10000)


class CueIn(Body):
    id: Short
    label: Short = ""
    t: float = Field(ge=0, le=86400)
    severity: Severity = ""
    reason: Text = ""


class FlagIn(Body):
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short = ""
    by: Short = ""
    note: Text = ""


class UtteranceIn(Body):
    speaker: Literal["agent", "customer"]
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    text: Text
    sentiment: float | None = Field(None, ge=-1, le=1)  # VADER's compound score


class MomentIn(Body):
    t: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    status: Literal["taken", "missed", "unsure", "cue"]
    cue: Short | None = None
    segment: int | None = Field(None, ge=0, le=99999)  # the flag it lies in: segment <call id>:<index>


class SkillIn(Body):
    """One skill of a call's scorecard (coach/session/scorecard.py): opportunities (or calls, or seconds), taken."""

    id: Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_storable)]
    n: float = Field(ge=0, le=86400)
    k: float = Field(ge=0, le=86400)
    moments: list[MomentIn] = Field(default_factory=list, max_length=2000)


class CallIn(Body):
    started: str | None = Field(None, max_length=40)
    duration_s: float = Field(ge=0, le=86400)
    mode: Short = ""
    metrics: dict[Short, Annotated[dict[Short, float | None], Field(max_length=40)]] = Field(default_factory=dict, max_length=4)
    cues: list[CueIn] = Field(default_factory=list, max_length=2000)
    flags: list[FlagIn] = Field(default_factory=list, max_length=500)
    scorecard: list[SkillIn] = Field(default_factory=list, max_length=40)


class SegmentIn(Body):
    call_id: uuid.UUID
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short
    by: Short = ""
    note: Text = ""
    cues: list[CueIn] = Field(default_factory=list, max_length=200)
    utterances: list[UtteranceIn] = Field(default_factory=list, max_length=1000)


class LoginIn(Body):
    name: Short
    password: Annotated[str, Field(max_length=1000), AfterValidator(_storable)]


class ReviewIn(Body):
    note: Text = ""


class TeamIn(Body):
    name: Short


class UserIn(Body):
    name: Short
    role: Literal["agent", "supervisor", "admin"]
    password: Annotated[str, Field(max_length=1000), AfterValidator(_storable)] | None = None
    team: Short | None = None
    supervises: list[Short] = Field(default_factory=list, max_length=100)


class PolicyIn(Body):
    share_whole_calls: bool


class DeviceIn(Body):
    agent: Short
    name: Short = "agent PC"

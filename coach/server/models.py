"""The API's request bodies; their limits are the server's first check on what a device or a
browser may send (FastAPI answers 422 before a route runs)."""

import uuid
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

Text = Annotated[str, Field(max_length=4000)]
Short = Annotated[str, Field(max_length=200)]
SegmentId = Annotated[str, Path(max_length=80)]


class LiveIn(BaseModel):
    on_call: bool
    call_id: uuid.UUID | None = None
    duration_s: float = Field(0.0, ge=0, le=86400)
    mood: float | None = Field(None, ge=0, le=10)  # the customer's escalation, 0 calm .. 1+ escalating
    trend: int = Field(0, ge=-1, le=1)
    cue: Short | None = None  # the cue on the agent's overlay now
    cue_severity: Short | None = None
    flags: int = Field(0, ge=0, le=10000)


class CueIn(BaseModel):
    id: Short
    label: Short = ""
    t: float = Field(ge=0, le=86400)
    severity: Short = ""
    reason: Text = ""


class FlagIn(BaseModel):
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short = ""
    by: Short = ""
    note: Text = ""


class UtteranceIn(BaseModel):
    speaker: Literal["agent", "customer"]
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    text: Text
    sentiment: float | None = None


class MomentIn(BaseModel):
    t: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    status: Literal["taken", "missed", "unsure", "cue"]
    cue: Short | None = None
    segment: int | None = Field(None, ge=0, le=99999)  # the flag it lies in: segment <call id>:<index>


class SkillIn(BaseModel):
    """One skill of a call's scorecard (coach/session/scorecard.py): opportunities (or calls, or seconds), taken."""

    id: Annotated[str, Field(min_length=1, max_length=60)]
    n: float = Field(ge=0, le=86400)
    k: float = Field(ge=0, le=86400)
    moments: list[MomentIn] = Field(default_factory=list, max_length=2000)


class CallIn(BaseModel):
    started: str | None = Field(None, max_length=40)
    duration_s: float = Field(ge=0, le=86400)
    mode: Short = ""
    metrics: dict[str, dict[str, float | None]] = Field(default_factory=dict, max_length=4)
    cues: list[CueIn] = Field(default_factory=list, max_length=2000)
    flags: list[FlagIn] = Field(default_factory=list, max_length=500)
    scorecard: list[SkillIn] = Field(default_factory=list, max_length=40)


class SegmentIn(BaseModel):
    call_id: uuid.UUID
    start: float = Field(ge=0, le=86400)
    end: float = Field(ge=0, le=86400)
    reason: Short
    by: Short = ""
    note: Text = ""
    cues: list[CueIn] = Field(default_factory=list, max_length=200)
    utterances: list[UtteranceIn] = Field(default_factory=list, max_length=1000)


class LoginIn(BaseModel):
    name: Short
    password: Annotated[str, Field(max_length=1000)]


class ReviewIn(BaseModel):
    note: Text = ""


class TeamIn(BaseModel):
    name: Short


class UserIn(BaseModel):
    name: Short
    role: Literal["agent", "supervisor", "admin"]
    password: Annotated[str, Field(max_length=1000)] | None = None
    team: Short | None = None
    supervises: list[Short] = Field(default_factory=list, max_length=100)


class PolicyIn(BaseModel):
    share_whole_calls: bool


class DeviceIn(BaseModel):
    agent: Short
    name: Short = "agent PC"

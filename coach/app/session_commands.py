"""The commands about stored sessions and devices: `coach sessions`, `coach replay`, `coach devices`,
and the trainer's "the other voice is the agent" (which analyses the call again)."""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from pathlib import Path

from coach.app.compose import Options, analyze, has_display, load_settings
from coach.config.settings import Settings
from coach.core.errors import UserError
from coach.session import report
from coach.store.db import Store, open_store


def devices() -> int:
    from coach.audio.devices import list_devices

    for line in list_devices():
        print(line)
    return 0




def sessions(opts: Options, action: str, sid: int | None = None, out: str | None = None, flagged: bool = False,
             search: str | None = None, cue: str | None = None) -> int:
    """`coach sessions list|show|export|delete`."""
    s, data = load_settings(opts)
    store = open_store(s, data)
    try:
        if action == "list":
            _sync_notes(s, store)
            rows = store.list(flagged=flagged, text=search, cue=cue)
            if not rows:
                print("no sessions")
            for r in rows:
                print(f"{r['id']:4d}  {r['started']}  {r['mode']:7s}  {r['duration_s'] or 0:6.0f} s  "
                      f"{r['cues']:2d} cues  {r['flags']:2d} flags  {Path(r['source'] or '').name}")
                for n in store.notes(r["call_id"]):
                    print(f"      note from {n['reviewer'] or 'your supervisor'} on {n['t0'] or 0:.0f}-{n['t1'] or 0:.0f} s: {n['note']}")
            return 0
        assert sid is not None
        if action == "show":
            doc = store.get(sid)
            print(f"session {sid}: {doc['session']['mode']} {doc['session']['started']}, {doc['source']['duration_s']:.0f} s")
            for f in doc["flags"]:
                print(f"  flagged {f['start']:.1f}-{f['end']:.1f} s: {f['reason']}")
            events = [(u["start"], f"{u['speaker']:>8}: {u['text']}") for u in doc["utterances"]]
            events += [(c["t"], f"    >>> {c['label'].upper()} ({c['reason']})") for c in doc["cues"]]
            for t, line in sorted(events):
                print(f"[{t:7.1f}] {line}")
            return 0
        if action == "export":
            doc = store.get(sid)
            report.check_writable(out or "-")
            report.write(doc, out or "-")
            return 0
        if action == "delete":
            if not store.delete(sid):
                raise UserError(f"no session {sid}")
            print(f"deleted session {sid}" + ("; its text leaves the store file once the replay window closes "
                                                "(finished by the next command)" if store.purge_pending else ""))
            return 0
    finally:
        store.close()
    raise UserError(f"unknown action {action}")


def _sync_notes(s: Settings, store: Store) -> None:
    """With team mode on, the supervisors' latest notes join the local store (kept for offline use)."""
    if not (s.team.server and s.team.token):
        return
    from coach.team.link import fetch_notes

    notes = fetch_notes(s.team)
    if notes is None:
        print("(team server not reachable: notes as of the last time it was)", file=sys.stderr)
    else:
        store.save_notes(notes)


def swap_voices(opts: Options, sid: int) -> int:
    """A trainer said the other voice of a separated mono session is the agent: the call is
    analysed again that way (cues depend on who is who) and replaces the session; returns its id."""
    s, data = load_settings(opts)
    store = open_store(s, data)
    try:
        doc = store.get(sid)
        row = doc["session"]
        voices = doc["source"].get("voices")
        if not voices or not row["audio"] or not Path(row["audio"]).exists():
            raise UserError(f"session {sid} is not a mono call separated into two voices, with its audio at hand")
        other = "second" if voices["agent"] == "first" else "first"
        out = data / "exports" / f"swap-{sid}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        again = dataclasses.replace(opts, agent_voice=other, agent_told_by="trainer", speakers="2")
        new = analyze(row["audio"], str(out), again, progress=False)
        out.unlink(missing_ok=True)
        new_sid = store.save(new, row["mode"], audio=row["audio"], started=datetime.fromisoformat(row["started"]))
        store.delete(sid)
        return new_sid
    finally:
        store.close()


def replay(opts: Options, sid: int | None = None) -> int:
    """The supervisor's replay window."""
    if not has_display():
        raise UserError("replay needs a display; in a terminal use `coach sessions show|export`")
    from PySide6.QtWidgets import QApplication

    from coach.ui.replay import ReplayWindow

    s, data = load_settings(opts)
    store = open_store(s, data)
    _sync_notes(s, store)
    qapp = QApplication.instance() or QApplication([])
    win = ReplayWindow(store, data / "exports", swap_voices=lambda old: swap_voices(opts, old))
    if sid is not None:
        store.get(sid)  # a clear error for an unknown session
        for i in range(win.sessions.count()):
            if win.sessions.item(i).data(0x0100) == sid:
                win.sessions.setCurrentRow(i)
    win.show()
    qapp.exec()
    store.close()
    return 0

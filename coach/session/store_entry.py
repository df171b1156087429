"""The store entry: the finished session joins the session store, looking like any other."""

from __future__ import annotations

import json

from coach.audio.file_source import FileSource
from coach.session import report
from coach.session.coaching import Coaching, Ending, PausedSpans, Subscriber
from coach.store.db import open_store


class StoreEntry(Subscriber):
    def __init__(self, paused: PausedSpans) -> None:
        self.paused = paused
        self.c: Coaching | None = None

    def on_load(self, c: Coaching) -> None:
        self.c = c

    def on_end(self, end: Ending) -> None:
        """Stored whether or not analysis failed (what was saved is the user's); the document goes
        on to the later subscribers (team sharing)."""
        c = self.c
        assert c is not None and c.pipe is not None and c.model is not None
        if c.session is not None:
            doc = json.loads(c.session.json_path.read_text())
            audio = str(c.session.recorder.path)
        else:  # not recorded: a demo of a file, whose own audio is the session's
            src = c.src
            assert isinstance(src, FileSource)
            doc = self.paused.hide(report.build(c.pipe, src.info, {"name": c.model.name, "compute_type": c.s.model.compute_type},
                                                src.now(), 0.0))
            audio = src.info.path
        doc["call_id"] = c.call_id  # links the session to its team-server copy and its supervisors' notes
        store = open_store(c.s, c.data)
        try:
            c.session_id = store.save(doc, "live" if c.live else "demo", audio=audio)
            end.doc = store.get(c.session_id)
        finally:
            store.close()

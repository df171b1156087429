"""A cue is one file: written once, it shows in the settings (file and dialog), fires through the
dispatcher and the cue engine, shows on the overlay in its severity's colour, in the replay's filter
and report, and in the dashboard's palette. docs/adding-a-cue.md is the guide this test keeps honest."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from coach.analysis.cues import all_cues
from coach.analysis.cues.base import HOOKS, SEVERITY_COLOURS, CueRule
from coach.config.settings import Settings

NEW_CUE = '''
"""thank_caller (tip): the agent says goodbye without thanking the caller."""

from dataclasses import dataclass

from coach.analysis.cues.base import CueRule, CueSpec, Proposal
from coach.analysis.cues.state import Heard
from coach.config.fields import opt


@dataclass
class ThankCallerSettings:
    enabled: bool = opt(True, "info: a goodbye with no thanks")
    cooldown_s: float = opt(30.0, "per-cue cooldown")


class ThankCaller(CueRule):
    spec = CueSpec("thank_caller", "thank them", "communicating clearly", "Try: 'Thanks for calling'", "info", 11)
    settings = ThankCallerSettings

    def decoded(self, h: Heard) -> list[Proposal]:
        if h.u.speaker == "agent" and "goodbye" in h.toks and "thank" not in h.u.text.lower():
            return [Proposal(self.spec.id, "agent", "goodbye without thanks", h.u.end)]
        return []
'''

CHECK = '''
import json, sys
from pathlib import Path
from coach.config.settings import Settings, to_toml
from coach.analysis.catalog import CATALOG
from coach.analysis.rules import Rules
from coach.analysis.engine import CueEngine
from coach.core.events import Utterance, Word

out = {}
s = Settings()
out["settings"] = [s.cues.thank_caller.enabled, s.cues.thank_caller.cooldown_s, "[cues.thank_caller]" in to_toml(s)]
rules, engine = Rules(s.cues, s.phrases), CueEngine(s.cues)
text = "okay then goodbye"
u = Utterance("agent", 10.0, 11.5, text, [Word(w, 10.0 + i * 0.5, 10.5 + i * 0.5) for i, w in enumerate(text.split())])
fired = [c for c in (engine.offer(p, 11.8) for p in rules.on_utterance(u)) if c is not None]
cue = next(c for c in fired if c.id == "thank_caller")
out["cue"] = [cue.label, cue.severity, cue.tip]

from PySide6.QtWidgets import QApplication
app = QApplication([])
from coach.session.live_state import LiveState
from coach.ui.overlay import Overlay
state = LiveState()
state.set(phase="listening")
state.on_cue(cue)
overlay = Overlay(state)
overlay.refresh()
out["overlay"] = [overlay.title.text(), overlay.icon.styleSheet()]

from coach.ui.settings_dialog import SettingsDialog
dialog = SettingsDialog(Settings(), lambda new: None, Path(sys.argv[1]), ["tiny.en"])
out["dialog"] = dialog.toggles["thank_caller"].text()

from coach.store.db import Store
from coach.ui.replay import ReplayWindow
window = ReplayWindow(Store(Path(sys.argv[1]) / "sessions.db"), Path(sys.argv[1]), sound=False)
out["replay_filter"] = [window.cue.itemText(i) for i in range(window.cue.count())]

from coach.session.exports import html_report
doc = {"utterances": [], "cues": [{"id": cue.id, "t": cue.t, "severity": cue.severity, "label": cue.label, "reason": cue.reason,
       "latency_s": cue.latency_s}], "flags": [], "metrics": {}, "source": {"path": "call.wav", "duration_s": 60.0}}
out["report"] = html_report(doc, Path(sys.argv[1]) / "report.html").read_text()

from coach.server.palette import PALETTE
out["dashboard"] = PALETTE["thank_caller"]
print(json.dumps(out))
'''


def test_a_cue_written_in_one_file_appears_everywhere(tmp_path: Path):
    plugin = tmp_path / "our_cues"
    plugin.mkdir()
    (plugin / "thank_caller.py").write_text(textwrap.dedent(NEW_CUE))
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "COACH_CUE_PATH": str(plugin)}
    r = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["settings"] == [True, 30.0, True]
    assert out["cue"] == ["thank them", "info", "Try: 'Thanks for calling'"]
    assert out["overlay"][0] == "thank them"
    assert out["dialog"] == "thank them"
    assert "thank them" in out["replay_filter"]
    assert SEVERITY_COLOURS["info"] in out["report"]
    assert out["dashboard"] == SEVERITY_COLOURS["info"]


def test_the_shipped_cues_are_all_registered_with_settings_and_hooks():
    ids = [c.spec.id for c in all_cues()]
    assert len(ids) == len(set(ids)) == 11
    s = Settings()
    for c in all_cues():
        cfg = getattr(s.cues, c.spec.id)
        assert isinstance(cfg, c.settings) and cfg.enabled and cfg.cooldown_s > 0
        assert c.listens(), f"{c.spec.id} listens to no event"
        assert set(c.listens()) <= set(HOOKS)
    priorities = [c.spec.priority for c in all_cues()]
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


def test_two_cues_with_one_id_are_refused():
    import pytest

    from coach.analysis.cues.base import CueSpec

    with pytest.raises(TypeError, match="two cues have the id 'slow_down'"):
        type("Impostor", (CueRule,), {"spec": CueSpec("slow_down", "x", "x", "x", "warn", 99), "settings": object})

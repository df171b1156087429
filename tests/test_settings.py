from pathlib import Path

import pytest

from coach.config import settings
from coach.core.errors import UserError


def test_missing_file_gives_defaults(tmp_path: Path):
    s = settings.load(tmp_path / "settings.toml")
    assert s.model.name == "tiny.en"
    assert s.cues.slow_down.max_wpm == 290.0


def test_round_trip_keeps_changes(tmp_path: Path):
    path = tmp_path / "sub" / "settings.toml"
    s = settings.Settings()
    s.model.name = "base.en"
    s.cues.customer_escalating.cooldown_s = 12.5
    s.cues.check_in.enabled = False
    settings.save(s, path)
    back = settings.load(path)
    assert back == s
    assert not list(path.parent.glob("*.tmp"))


def test_int_accepted_for_float(tmp_path: Path):
    path = tmp_path / "settings.toml"
    path.write_text("[cues.slow_down]\nmax_wpm = 200\n")
    assert settings.load(path).cues.slow_down.max_wpm == 200.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[model]\nthreads = 'two'\n", "'model.threads' must be int"),
        ("model = 3\n", "'model' must be a table"),
        ("[model\n", "not valid TOML"),
        ("[audio]\nagent_channel = 3\n", "agent_channel"),
        ("[model]\nencoder_window = 'half'\n", "encoder_window"),
    ],
)
def test_bad_settings_are_one_clear_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as e:
        settings.load(path)
    assert "\n" not in str(e.value)


def test_defaults_are_written_commented_so_new_defaults_reach_old_files(tmp_path: Path):
    path = tmp_path / "settings.toml"
    s = settings.Settings()
    s.cues.slow_down.max_wpm = 250.0
    settings.save(s, path)
    text = path.read_text()
    assert "\nmax_wpm = 250.0" in text
    assert "\n# dead_air_s = 8.0" in text  # a default: shown, not pinned
    assert "docs/facts.md" in text  # the sources are written beside the values
    import tomllib

    data = tomllib.loads(text)
    assert data["cues"]["slow_down"] == {"max_wpm": 250.0}


def test_unknown_keys_are_ignored_with_a_warning(tmp_path: Path):
    """A key an older version wrote (or a typo) must not stop the app from starting."""
    path = tmp_path / "settings.toml"
    path.write_text("[model]\nnme = 'x'\nthreads = 2\n[cues.customer_escalating]\ncalm_turns = 2\n")
    warnings: list[str] = []
    s = settings.load(path, warn=warnings.append)
    assert s.model.threads == 2  # not the default, so the file was read
    assert len(warnings) == 1 and "'model.nme'" in warnings[0] and "'cues.customer_escalating.calm_turns'" in warnings[0]


def test_set_overrides_one_run():
    s = settings.Settings()
    settings.override(s, "cues.slow_down.max_wpm=200")
    settings.override(s, "cues.check_in.enabled=false")
    settings.override(s, "model.name=base.en")
    assert s.cues.slow_down.max_wpm == 200.0 and s.cues.check_in.enabled is False and s.model.name == "base.en"
    with pytest.raises(UserError, match="unknown setting 'cues.slow_down.max_wmp'"):
        settings.override(s, "cues.slow_down.max_wmp=200")
    with pytest.raises(UserError, match="must be float"):
        settings.override(s, "cues.slow_down.max_wpm=fast")
    with pytest.raises(UserError, match="KEY=VALUE"):
        settings.override(s, "cues.slow_down.max_wpm")


@pytest.fixture(scope="module")
def long_hold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from conftest import render_one

    return render_one(tmp_path_factory, "scenarios.json", "d6_long_hold")


def run_with_change(call: tuple[Path, Path], change: bool) -> list[str]:
    """A scripted call through the threaded runner; optionally check_in is switched off in the dialog
    after the first second, as the tray's settings would do mid-call."""
    import copy

    from fakes import ScriptedTranscriber

    from coach.audio.file_source import FileSource
    from coach.core.pipeline import Pipeline
    from coach.core.runner import ThreadedRunner

    s = settings.Settings()
    s.model.partial_every_s = 0.0
    p = Pipeline(s, ScriptedTranscriber.from_truth(call[1]), ["agent", "customer"], lambda: p.position)
    r = ThreadedRunner(p)
    r.start()
    for chunk in FileSource(str(call[0])).chunks():
        r.put(chunk)
        if change and chunk.t0 == 1.0:
            new = copy.deepcopy(s)
            new.cues.check_in.enabled = False
            r.put_settings(new)
    r.close()
    assert p.settings is not s or not change  # the pipeline holds its own copy, not the caller's
    return [c.id for c in p.engine.fired]


def test_a_setting_changed_mid_call_applies_from_then_on(long_hold: tuple[Path, Path]):
    assert "check_in" in run_with_change(long_hold, change=False)
    assert "check_in" not in run_with_change(long_hold, change=True)

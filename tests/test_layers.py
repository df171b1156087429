"""The layers of docs/architecture.md, kept by the imports: a static check of every module's imports
(those under `if TYPE_CHECKING:` included: a type is a dependency too), and no import cycle between
modules at import time."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "coach"
APP_SIDE = ["PySide6", "coach.ui", "coach.store", "coach.server", "coach.session", "coach.app", "coach.team"]
RULES = {  # package: what it must never import
    "coach.core": APP_SIDE,
    "coach.analysis": [*APP_SIDE, "coach.audio", "coach.voices", "faster_whisper", "ctranslate2"],
    "coach.speech": [*APP_SIDE, "coach.audio", "coach.voices"],
    "coach.voices": APP_SIDE,
    "coach.privacy": [*APP_SIDE, "coach.speech", "coach.audio"],
    "coach.audio": [*APP_SIDE, "coach.speech", "coach.voices", "coach.analysis"],
    "coach.config": [*APP_SIDE, "coach.audio", "coach.speech", "coach.voices"],
    "coach.store": ["PySide6", "coach.ui", "coach.server", "coach.session", "coach.app", "coach.speech", "coach.audio"],
    "coach.team": ["PySide6", "coach.ui", "coach.server", "coach.speech", "coach.audio"],
    "coach.server": ["PySide6", "coach.ui", "coach.audio", "coach.speech", "coach.voices", "coach.app", "faster_whisper",
                     "ctranslate2", "coach.session.coaching", "coach.session.writer", "coach.session.live_state"],
    "coach.ui": ["faster_whisper", "ctranslate2", "coach.server"],
}


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def imports(path: Path, top_only: bool) -> set[str]:
    """Modules this file imports; top_only: those run at import time (not in functions, not for type checking)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for n in nodes:
            if isinstance(n, ast.Import):
                found.update(a.name for a in n.names)
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                found.add(n.module)
                found.update(f"{n.module}.{a.name}" for a in n.names)
            if top_only and isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                continue
            if top_only and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                sub = getattr(n, field, None)
                if isinstance(sub, list):
                    visit(sub)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(RULES))
def test_a_layer_imports_nothing_it_must_not(package: str):
    bad = []
    for name, path in modules().items():
        if under(name, package):
            bad += [f"{name} imports {i}" for i in sorted(imports(path, top_only=False))
                    if any(under(i, f) for f in RULES[package])]
    assert not bad, "\n".join(bad)


def test_no_import_cycle_between_modules():
    mods = modules()
    graph = {m: {i for i in imports(p, top_only=True) if i in mods and i != m} for m, p in mods.items()}
    # a package's __init__ importing its own submodules is how a package is built, not a cycle
    graph = {m: {i for i in deps if not under(m + ".x", i) or m == i} for m, deps in graph.items()}
    seen: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def walk(m: str) -> list[str] | None:
        seen[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if seen.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in seen and (cycle := walk(d)):
                return cycle
        seen[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in seen and (cycle := walk(m)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_the_check_sees_a_forbidden_import(tmp_path: Path):
    """The rule can fail: a Qt import in an analysis-shaped file is found."""
    f = tmp_path / "m.py"
    f.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from PySide6.QtCore import QObject\n"
                 "def f():\n    import coach.store.db\n")
    assert {"PySide6.QtCore", "coach.store.db"} <= imports(f, top_only=False)
    assert not {"PySide6.QtCore", "coach.store.db"} & imports(f, top_only=True)

"""Screenshots of the supervisors' dashboard for docs/team.md (docs/web-*.png).

Starts its own PostgreSQL cluster and `coach server`, seeds a floor (two teams, four agents,
eight weeks of call summaries), lets a real `coach demo` session of a scripted escalation
share its flagged segment, pushes live states, then photographs each page in Debian's
chromium at 1280x800 (and the floor on a portrait second monitor).

    .venv/bin/python tools/web_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.server import accounts  # noqa: E402
from coach.server.schema import migrate  # noqa: E402
from tests.team_server import Server, call, remove_cluster, start_cluster  # noqa: E402

PW = "correct horse battery"
AGENTS = {"alice": "north", "bob": "north", "carol": "north", "dave": "south"}
KINDS = ["customer_escalating", "soften_wording", "slow_down", "acknowledge_feelings", "reflect_back", "confirm_resolution",
         "customer_calming", "let_them_finish"]


def seed(dsn: str) -> dict[str, str]:
    rnd = random.Random(7)
    tokens = {}
    with psycopg.connect(dsn, autocommit=True) as c:
        migrate(c)
        for team in ("north", "south"):
            accounts.create_team(c, team)
        for a, team in AGENTS.items():
            accounts.create_user(c, a, "agent", team=team)
            tokens[a] = accounts.issue_device_token(c, a, f"{a}'s PC")[1]
        accounts.create_user(c, "sue", "supervisor", PW, supervises=["north"])
        ids = {r[0]: (r[1], r[2]) for r in c.execute("SELECT name, id, team_id FROM users WHERE role = 'agent'")}
        now = datetime.now(UTC)
        for a, (uid, tid) in ids.items():
            skill = {"alice": 0.6, "bob": 1.2, "carol": 0.9, "dave": 1.0}[a]
            for week in range(8):
                for _ in range(rnd.randint(18, 30)):
                    cues = []
                    improving = 1.0 - 0.06 * (7 - week) * (a == "bob")
                    for k in KINDS:
                        for _ in range(rnd.choices([0, 1, 2], [0.6, 0.3, 0.1])[0] if rnd.random() < 0.5 * skill / max(improving, 0.4) else 0):
                            cues.append({"id": k, "t": rnd.uniform(10, 400), "label": k, "severity": "info", "reason": ""})
                    if any(x["id"] == "customer_escalating" for x in cues) and rnd.random() < 0.6:
                        cues.append({"id": "customer_calming", "t": 450.0, "label": "", "severity": "positive", "reason": ""})
                    summary = {"duration_s": rnd.uniform(120, 600), "cues": cues, "flags": [],
                               "metrics": {"agent": {"talk_ratio": rnd.uniform(0.35, 0.6) + 0.05 * (a == "bob"),
                                                     "wpm": rnd.uniform(140, 180) + 25 * (a == "bob") * improving}}}
                    c.execute("INSERT INTO calls (id, agent_id, team_id, duration_s, summary, received) VALUES (%s, %s, %s, %s, %s, %s)",
                              (uuid.uuid4(), uid, tid, summary["duration_s"], Jsonb(summary),
                               now - timedelta(weeks=7 - week, hours=rnd.uniform(0, 100))))
    return tokens


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    cluster, dsn = start_cluster()
    work = Path(tempfile.mkdtemp(prefix="coach-shots-"))
    srv = Server(dsn, work / "server").start()
    try:
        tokens = seed(dsn)
        subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(work / "calls"),
                        str(ROOT / "tests" / "data" / "scenarios.json"), "d1_refund_escalation"], check=True, capture_output=True)
        agent = work / "alice"
        agent.mkdir()
        (agent / "settings.toml").write_text(f'[team]\nserver = "{srv.url}"\ntoken = "{tokens["alice"]}"\n')
        subprocess.run([sys.executable, "-m", "coach", "demo", str(work / "calls" / "d1_refund_escalation.wav"), "--headless",
                        "--no-audio", "--speed", "8", "--data-dir", str(agent)], check=True, capture_output=True)
        states = {"alice": {"on_call": True, "duration_s": 412, "mood": 0.86, "trend": 1, "cue": "customer_escalating",
                            "cue_severity": "alert", "flags": 1},
                  "bob": {"on_call": True, "duration_s": 95, "mood": 0.12, "trend": 0, "cue": "slow_down", "cue_severity": "warn", "flags": 0},
                  "carol": {"on_call": False, "flags": 0}}
        for a, st in states.items():
            assert call(srv.url + "/api/agent/live", "PUT", st, tokens[a])[0] == 204

        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                   args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            page = b.new_page(viewport={"width": 1280, "height": 800})
            page.goto(srv.url + "/login")
            page.screenshot(path=str(out / "web-login.png"))
            page.fill("input[name=name]", "sue")
            page.fill("input[name=password]", PW)
            page.click("button[type=submit]")
            page.wait_for_selector("#stream-state:has-text('live')")
            page.screenshot(path=str(out / "web-floor.png"))
            page.goto(srv.url + "/queue")
            page.keyboard.press("j")
            page.screenshot(path=str(out / "web-queue.png"))
            page.keyboard.press("Enter")
            page.wait_for_selector("#audio")
            deadline = time.monotonic() + 20
            while page.evaluate("document.getElementById('audio').readyState") < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            page.evaluate("(() => { const a = document.getElementById('audio'); a.currentTime = 14; a.play(); })()")
            time.sleep(1.5)
            page.evaluate("document.getElementById('audio').pause()")
            page.fill("textarea[name=note]", "Good recovery: you named the frustration before the refund. Next time offer the "
                                             "options before the customer asks for a supervisor.")
            page.screenshot(path=str(out / "web-segment.png"), full_page=True)
            page.goto(srv.url + "/trends")
            page.screenshot(path=str(out / "web-trends.png"), full_page=True)
            portrait = b.new_page(viewport={"width": 1080, "height": 1920}, device_scale_factor=0.5)
            portrait.goto(srv.url + "/login")
            portrait.fill("input[name=name]", "sue")
            portrait.fill("input[name=password]", PW)
            portrait.click("button[type=submit]")
            portrait.wait_for_selector("#stream-state:has-text('live')")
            portrait.goto(srv.url + "/queue")
            portrait.screenshot(path=str(out / "web-queue-portrait.png"))
            b.close()
        print(json.dumps(sorted(p.name for p in out.glob("web-*.png"))))
    finally:
        srv.stop()
        remove_cluster(cluster)


if __name__ == "__main__":
    main()

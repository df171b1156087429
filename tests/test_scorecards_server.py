"""Skill scorecards on the team server (docs/scorecards.md): uploaded with each call's summary by the
agent's real link, stored per call and skill, shown per team and per agent over a period with the
change against the previous one and the team's median, their moments playable, the CSV; another
team's supervisor sees none of it. A real PostgreSQL and real `coach server` processes, and the pages
in Debian's chromium driven by Playwright."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile as sf

from coach.config.settings import TeamSettings
from coach.server import accounts
from coach.team.link import TeamLink
from tests.team_server import Floor, Server, call, remove_cluster, start_cluster
from tests.test_dashboard import CHROMIUM, FLAGS, log_in, wait_js
from tests.test_scorecard import DOC


@pytest.fixture(scope="module")
def pg():
    cluster, dsn = start_cluster()
    yield dsn
    remove_cluster(cluster)


@pytest.fixture(scope="module")
def server(pg, tmp_path_factory):
    s = Server(pg, tmp_path_factory.mktemp("server-data")).start()
    yield s
    s.stop()


def day(ago: int) -> str:
    return (datetime.now() - timedelta(days=ago)).replace(hour=10, minute=0, second=0, microsecond=0).isoformat()


def session(tmp_path: Path, started: str, drop: tuple[tuple[str, float], ...] = ()) -> dict:
    """The scripted session of tests/test_scorecard.py (empathy 5 of 7 there) as the store gives it, with
    its recording; `drop` removes cues and held-back cues (id, t) to make another agent's or week's call."""
    path = tmp_path / f"call-{uuid.uuid4().hex[:6]}.wav"
    rate = 8000
    t = np.arange(int(DOC["source"]["duration_s"] * rate)) / rate
    sf.write(path, np.stack([0.2 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 330 * t)], axis=1), rate, subtype="PCM_16")
    doc = copy.deepcopy(DOC)
    doc["source"]["path"] = str(path)
    doc["session"] = {"id": 1, "started": started, "mode": "live", "audio": str(path)}
    doc["cues"] = [c for c in doc["cues"] if (c["id"], c["t"]) not in drop]
    doc["suppressed_cues"] = [c for c in doc["suppressed_cues"] if (c["id"], c["t"]) not in drop]
    return doc


NO_ACK_CUE = (("acknowledge_feelings", 65.9),)  # E2 taken: empathy 6 of 7
NO_ACK_CUES = (("acknowledge_feelings", 65.9), ("acknowledge_feelings", 85.6), ("acknowledge_feelings", 95.5))  # 8 of 8


@pytest.fixture(scope="module")
def site(pg, server, tmp_path_factory):
    """Team A: agent A (a call this week, empathy 5 of 7, and one the week before, 6 of 7) and a second
    agent (8 of 8 this week); team B's agent (a call this week). Uploaded as the agents' apps do."""
    tmp = tmp_path_factory.mktemp("calls")
    n = Floor(pg)
    with psycopg.connect(pg, autocommit=True) as c:
        n.agent_a2 = n.agent_a + "-2"
        accounts.create_user(c, n.agent_a2, "agent", team=n.team_a)
        _, n.token_a2 = accounts.issue_device_token(c, n.agent_a2, "pc-a2")
    uploads = [(n.token_a, session(tmp, day(1))), (n.token_a, session(tmp, day(9), NO_ACK_CUE)),
               (n.token_a2, session(tmp, day(2), NO_ACK_CUES)), (n.token_b, session(tmp, day(1)))]
    n.calls = []
    for i, (token, doc) in enumerate(uploads):
        link = TeamLink(TeamSettings(server=server.url, token=token, share_live=False), tmp / f"outbox{i}")
        call_id = str(uuid.uuid4())
        assert link.after_call(doc, call_id) == 5  # the summary with its scorecard, two segments, two clips
        link.start()
        link.stop(flush_s=30)
        assert link.outbox.count() == 0, link.status()
        n.calls.append(call_id)
    return n


def rows_of(text: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.decode())))


def test_the_scorecard_travels_with_the_summary_as_numbers_and_times(site, pg):
    stored = site.rows("SELECT skill, n, k, moments FROM scorecards WHERE call_id = %s ORDER BY skill", site.calls[0])
    by_skill = {r[0]: r for r in stored}
    assert (by_skill["empathy"][1], by_skill["empathy"][2]) == (7, 5) and (by_skill["dead_air"][1], by_skill["dead_air"][2]) == (3, 1)
    # a moment in a flagged span names that segment; no reason or word of the call is stored
    de = by_skill["de_escalation"][3]
    assert [(m["t"], m["status"], m["segment"]) for m in de] == [(195.0, "taken", f"{site.calls[0]}:0"),
                                                                   (256.0, "missed", f"{site.calls[0]}:1")]
    assert all(set(m) == {"t", "end", "status", "cue", "segment"} for r in stored for m in r[3])
    assert "parcel" not in json.dumps([r[3] for r in stored])
    summary = site.rows("SELECT summary FROM calls WHERE id = %s", site.calls[0])[0][0]
    assert "scorecard" not in summary  # kept once, in its own table


def test_the_csv_has_rates_with_denominators_change_and_the_team_median(server, site):
    tok = site.login(server, site.sup_a)
    code, body = call(server.url + "/scorecards.csv", token=tok)
    assert code == 200
    rows = {(r["agent"], r["skill"]): r for r in rows_of(body) if r["team"] == site.team_a}
    a = rows[(site.agent_a, "empathy")]
    assert (a["opportunities"], a["taken"], a["rate"], a["previous_rate"]) == ("7", "5", "0.7143", "0.8571")
    assert float(a["change"]) == pytest.approx(5 / 7 - 6 / 7, abs=1e-3)
    assert float(a["team_median"]) == pytest.approx((5 / 7 + 1.0) / 2, abs=1e-3)  # agent A and the second agent
    team = rows[("", "empathy")]
    assert (team["opportunities"], team["taken"]) == ("15", "13")
    assert "below 80 %" in rows[(site.agent_a, "resolution")]["reliability"]
    assert rows[(site.agent_a, "interruptions")]["rate"] == "2"  # per call
    assert not any(site.agent_b in r["agent"] or r["team"] == site.team_b for r in rows_of(body))
    # the moments, for a QA tool: one row each, with the segment that holds it
    code, body = call(server.url + f"/scorecards.csv?moments=1&skill=de_escalation&agent={site.agent_a}", token=tok)
    got = [(r["call_id"], r["t"], r["status"], r["segment_id"]) for r in rows_of(body)]
    assert got == [(site.calls[0], "195.0", "taken", f"{site.calls[0]}:0"), (site.calls[0], "256.0", "missed", f"{site.calls[0]}:1")]
    # a chosen period: the week before alone
    first, last = (datetime.now() - timedelta(days=13)).date(), (datetime.now() - timedelta(days=7)).date()
    code, body = call(server.url + f"/scorecards.csv?from={first}&to={last}&agent={site.agent_a}", token=tok)
    assert {(r["skill"], r["taken"], r["opportunities"]) for r in rows_of(body) if r["skill"] == "empathy"} == {("empathy", "6", "7")}


def test_another_teams_supervisor_sees_nothing_and_strangers_are_refused(server, site):
    tok = site.login(server, site.sup_b)
    code, body = call(server.url + f"/scorecards.csv?agent={site.agent_a}", token=tok)
    assert code == 200 and rows_of(body) == []
    code, body = call(server.url + f"/scorecards.csv?moments=1&agent={site.agent_a}", token=tok)
    assert rows_of(body) == []
    code, body = call(server.url + f"/scorecards.csv?moments=1&team={site.team_a}", token=tok)
    assert rows_of(body) == []
    code, body = call(server.url + "/scorecards.csv", token=tok)
    assert {r["team"] for r in rows_of(body)} == {site.team_b}
    for page in (f"/scorecards?agent={site.agent_a}", f"/scorecards/moments?agent={site.agent_a}&skill=empathy"):
        code, html = call(server.url + page, token=tok)
        assert code == 200 and b'id="agent-card"' not in html and b"data-call=" not in html \
            and f'data-team="{site.team_a}"'.encode() not in html
    assert call(server.url + "/scorecards.csv")[0] == 401
    assert call(server.url + "/scorecards.csv", token=site.token_a)[0] == 401  # a device is no reader


def test_bad_scorecards_are_refused_and_retention_takes_them(server, site, tmp_path):
    cid = str(uuid.uuid4())
    good = {"duration_s": 10.0, "scorecard": [{"id": "empathy", "n": 1, "k": 1, "moments": [{"t": 1, "end": 2, "status": "taken"}]}]}
    for bad in ({"status": "maybe"}, {"segment": -1}, {"t": -5}):
        body = copy.deepcopy(good)
        body["scorecard"][0]["moments"][0].update(bad)
        assert call(server.url + f"/api/agent/calls/{cid}", "PUT", body, site.token_a)[0] == 422, bad
    body = copy.deepcopy(good)
    body["scorecard"][0]["n"] = -1
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", body, site.token_a)[0] == 422
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", good, site.token_a)[0] == 204
    assert call(server.url + f"/api/agent/calls/{cid}", "PUT", good, site.token_a)[0] == 204  # repeated: one copy
    assert site.rows("SELECT count(*) FROM scorecards WHERE call_id = %s", cid)[0][0] == 1
    site.rows("UPDATE calls SET received = now() - interval '100 days' WHERE id = %s RETURNING 1", cid)
    with psycopg.connect(site.dsn) as c:
        accounts.purge(c, 90)
    assert site.rows("SELECT count(*) FROM scorecards WHERE call_id = %s", cid)[0][0] == 0


# --- the pages in a browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: make install runs tools/system-deps.sh, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def test_a_team_lead_reads_an_agents_scorecard_and_plays_a_moment(browser, server, site):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, server.url, site.sup_a, site.pw)
    page.click("header nav a:has-text('Scorecards')")
    page.wait_for_url(re.compile(r".*/scorecards$"))
    team = page.locator(f'section.team-card[data-team="{site.team_a}"]')
    assert team.count() == 1 and page.locator(f'section.team-card[data-team="{site.team_b}"]').count() == 0
    names = team.locator("tr[data-agent]").evaluate_all("rows => rows.map(r => r.dataset.agent)")
    assert names == [site.agent_a, site.agent_a2]
    assert "13 of 15" in team.locator("tr.total").inner_text()  # the team's empathy
    assert "86%" in team.locator("tr.median").inner_text()  # the median of 71 % and 100 %

    # the agent's card: rate with its denominator, the change against last week, the team's median beside it
    team.locator(f'tr[data-agent="{site.agent_a}"] th a').click()
    page.wait_for_selector("#agent-card")
    empathy = page.locator('#agent-card tr[data-skill="empathy"]').inner_text()
    assert "71%" in empathy and "5 of 7" in empathy and "-14 pts" in empathy and "86%" in empathy
    assert page.locator('#agent-card tr[data-skill="empathy"] .trend.worse').count() == 1
    assert page.locator('#agent-card tr[data-skill="resolution"] abbr.reliability').count() == 1  # an unreliable cue
    assert "1 of 1" in page.locator('#agent-card tr[data-skill="resolution"]').inner_text()

    # the rate opens its moments; the flagged ones play
    page.locator('#agent-card tr[data-skill="empathy"] a.rate').click()
    page.wait_for_selector("#moments")
    rows = page.locator("#moments tbody tr")
    assert rows.count() == 8  # 7 counted and the one the cue was unsure of
    assert [r.split("\t")[4] for r in rows.evaluate_all("rs => rs.map(r => r.innerText)")].count("missed") == 2
    flagged = page.locator("#moments tbody tr:has(audio)")
    assert flagged.count() == 2  # E6 and E7 lie in the flagged spans
    wait_js(page, "document.querySelector('#moments audio') !== null", 5)
    page.evaluate("document.querySelector('#moments audio').play()")
    wait_js(page, "document.querySelector('#moments audio').currentTime > 0.3", 20)
    assert page.evaluate("document.querySelector('#moments audio').currentTime") >= 1.0  # from the moment, not the segment's start
    page.click("#moments tbody tr:has(audio) a:has-text('open')")
    page.wait_for_url(re.compile(r".*/segments/.+"))
    page.close()


def test_a_supervisor_of_another_team_sees_no_scorecard_of_it(browser, server, site):
    page = browser.new_page()
    log_in(page, server.url, site.sup_b, site.pw)
    page.goto(server.url + "/scorecards")
    assert page.locator(f'section.team-card[data-team="{site.team_a}"]').count() == 0
    assert site.agent_a not in page.locator("main").inner_text()
    page.goto(server.url + f"/scorecards?agent={site.agent_a}")
    assert page.locator("#agent-card").count() == 0 and page.locator("#none").count() == 1
    page.goto(server.url + f"/scorecards/moments?agent={site.agent_a}&skill=empathy")
    assert page.locator("#moments tbody tr audio").count() == 0 and "No moments match" in page.locator("#moments").inner_text()
    seg = f"{site.calls[0]}:0"
    assert page.request.get(server.url + f"/api/segments/{seg}/clip").status == 404
    page.close()

"""The supervisors' dashboard in a real browser: Playwright driving Debian's chromium against
a real `coach server` on a PostgreSQL cluster the tests start, with a real `coach demo`
session pushing to it (slow tier: it needs the speech model and the browser)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.team_server import Floor, Server, call, remove_cluster, start_cluster

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: make install runs tools/system-deps.sh, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    cluster, dsn = start_cluster()
    srv = Server(dsn, tmp_path_factory.mktemp("server")).start()
    yield srv, dsn
    srv.stop()
    remove_cluster(cluster)


def seed(dsn: str) -> Floor:
    """Team A (agent_a, sup_a) and team B (agent_b, sup_b), as the team-server tests have them."""
    return Floor(dsn)


def log_in(page, url: str, name: str, pw: str) -> None:
    page.goto(url + "/floor")
    assert "/login" in page.url  # not logged in: sent to the login page
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", pw)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/floor$"))


def test_login_is_required_and_wrong_passwords_are_refused(browser, site):
    srv, dsn = site
    n = seed(dsn)
    page = browser.new_page()
    page.goto(srv.url + "/queue")
    assert "/login" in page.url
    page.fill("input[name=name]", n.sup_a)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('Wrong name or password')")
    page.close()


def test_state_changes_need_the_csrf_token(browser, site):
    srv, dsn = site
    n = seed(dsn)
    page = browser.new_page()
    log_in(page, srv.url, n.sup_a, n.pw)
    # the page's own script sends the token; a request without it (as a forged form would) is refused
    status = page.evaluate("""async () => (await fetch('/api/logout', {method: 'POST', credentials: 'same-origin'})).status""")
    assert status == 403
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(srv.url + "/floor")
    assert "/login" in page.url  # the login is gone on the server too
    page.close()


def test_pages_carry_the_security_headers(site):
    srv, _ = site
    import urllib.request

    with urllib.request.urlopen(srv.url + "/login") as r:
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["cache-control"] == "no-store"


@pytest.mark.slow
def test_a_supervisor_watches_a_call_escalate_then_reviews_it_and_the_agent_sees_the_note(browser, site, tmp_path):
    srv, dsn = site
    n = seed(dsn)
    calls = tmp_path / "calls"
    subprocess.run([sys.executable, str(ROOT / "tools" / "render_calls.py"), str(calls), str(ROOT / "tests" / "data" / "scenarios.json"),
                    "d1_refund_escalation"], check=True, capture_output=True)
    agent_data = tmp_path / "agent"
    agent_data.mkdir()
    (agent_data / "settings.toml").write_text(f'[team]\nserver = "{srv.url}"\ntoken = "{n.token_a}"\nlive_every_s = 0.5\n')

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, srv.url, n.sup_a, n.pw)
    page.wait_for_selector("#stream-state:has-text('live')")
    tile = page.locator(f'.tile[data-name="{n.agent_a}"]')
    assert tile.count() == 1 and "not on a call" in tile.inner_text()
    assert page.locator(f'.tile[data-name="{n.agent_b}"]').count() == 0  # another team's agent

    # the agent's app coaches a call and pushes to the server while the supervisor watches
    demo = subprocess.Popen([sys.executable, "-m", "coach", "demo", str(calls / "d1_refund_escalation.wav"), "--headless",
                             "--no-audio", "--speed", "2", "--data-dir", str(agent_data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    escalated: list[float] = []
    try:
        page.wait_for_selector(f'.tile.on-call[data-name="{n.agent_a}"]', timeout=60_000)
        page.wait_for_selector(f'.tile.escalating[data-name="{n.agent_a}"]', timeout=120_000)
        escalated.append(time.monotonic())
        first = page.locator(".tile").first
        assert first.get_attribute("data-name") == n.agent_a  # moved to the top
        assert "upset" in first.inner_text() or "customer escalating" in first.inner_text().lower()
    finally:
        out, err = demo.communicate(timeout=180)
    assert demo.returncode == 0, err.decode()[-2000:]
    page.wait_for_selector(f'.tile:not(.on-call)[data-name="{n.agent_a}"]', timeout=20_000)

    # the review queue has the flagged segment; open it with the keyboard
    page.goto(srv.url + "/queue")
    rows = page.locator("#queue tbody tr[data-href]")
    assert rows.count() == 1 and n.agent_a in rows.first.inner_text()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/segments/.+"))
    assert page.locator(".evidence").inner_text().lower().count("customer escalating") >= 1

    # play it: space starts the clip, the transcript follows, clicking a line seeks
    wait_js(page, "document.getElementById('audio').readyState >= 1", 20)
    page.locator("body").press(" ")
    wait_js(page, "document.getElementById('audio').currentTime > 0.5", 20)
    lines = page.locator(".line")
    last = lines.nth(lines.count() - 1)
    last.click()
    t_line = float(last.get_attribute("data-t"))
    wait_js(page, f"Math.abs(document.getElementById('audio').currentTime - {t_line}) < 2", 10)
    page.wait_for_selector(".line.current", timeout=10_000)
    page.select_option("#speed", "1.5")
    assert page.evaluate("document.getElementById('audio').playbackRate") == 1.5

    # mark reviewed with a coaching note
    note = "Good recovery: you acknowledged the frustration before offering the refund."
    page.fill("textarea[name=note]", note)
    page.click("#review button[type=submit]")
    page.wait_for_selector("#review-state:has-text('reviewed just now')")
    page.goto(srv.url + "/queue?reviewed=no")
    assert page.locator("#queue tbody tr[data-href]").count() == 0

    # the agent's own app shows the note in its session list
    r = subprocess.run([sys.executable, "-m", "coach", "sessions", "list", "--data-dir", str(agent_data)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and note in r.stdout and n.sup_a in r.stdout, r.stdout + r.stderr

    # a supervisor of another team sees none of it
    other = browser.new_page()
    log_in(other, srv.url, n.sup_b, n.pw)
    assert n.agent_a not in other.locator("#tiles").inner_text()
    other.goto(srv.url + "/queue")
    assert other.locator("#queue tbody tr[data-href]").count() == 0
    seg_id = call(srv.url + "/api/segments", token=n.login(srv, n.sup_a))[1][0]["id"]
    resp = other.goto(srv.url + f"/segments/{seg_id}")
    assert resp.status == 404 and note not in other.content()
    assert other.request.get(srv.url + f"/api/segments/{seg_id}/clip").status == 404
    other.close()
    page.close()


def wait_js(page, expr: str, timeout_s: float) -> None:
    """Poll a JavaScript expression (wait_for_function would need eval, which the pages' CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expr):
        assert time.monotonic() < deadline, f"timed out waiting for {expr}"
        time.sleep(0.1)

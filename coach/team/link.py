"""The agent's side of team mode: one background thread that pushes the live state every
few seconds while a call is coached and drains the outbox to the team server.

Standard library only (urllib): agents' PCs get no web framework. The thread waits on an
event between rounds (woken by new uploads or stop), never sleeps in a loop. The server
being down, slow or restarted only delays uploads: each stays in the outbox until a 2xx.
A redirect is never followed: the device token goes to team.server and nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coach.config.settings import TeamSettings
from coach.core.errors import UserError
from coach.team import payload
from coach.team.outbox import Outbox

log = logging.getLogger("coach.team")
LIVE_TIMEOUT_S = 5.0
UPLOAD_TIMEOUT_S = 30.0
BACKOFF_MAX_S = 60.0
STRIKES = 8  # server failures (5xx) on one request, while it accepts others, before that request is parked


def check_server_url(url: str) -> str:
    """https://..., or http:// to this PC only: redacted calls still never cross a network in clear."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise UserError(f"team.server must be an https:// URL, got {url!r}")
    if u.scheme == "http":
        host = u.hostname
        try:
            loop = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loop = False
        if not loop:
            raise UserError(f"team.server {url!r}: plain http is allowed to this PC only; use https://")
    return url.rstrip("/")


def _tls(settings: TeamSettings, base: str) -> ssl.SSLContext | None:
    """The TLS context for an https server (trusting team.ca_file too); None for http to this PC."""
    return ssl.create_default_context(cafile=settings.ca_file or None) if base.startswith("https") else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx comes back as the HTTPError it is: urllib would resend the Authorization header to
    whatever Location the server names (plain http://, another host), bypassing check_server_url."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


def opener(ctx: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    """The only way this device talks to the team server: TLS as configured, redirects refused."""
    return urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=ctx))


def _get_json(settings: TeamSettings, base: str, path: str, timeout: float, ctx: ssl.SSLContext | None) -> Any:
    """GET a JSON document as this device; raises OSError/ValueError when the server cannot answer."""
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {settings.token}"})
    with opener(ctx).open(req, timeout=timeout) as r:
        return json.loads(r.read())


def fetch_notes(settings: TeamSettings, timeout: float = 3.0) -> list[dict[str, Any]] | None:
    """Supervisors' coaching notes on this agent's flagged segments; None if the server cannot be asked now."""
    base = check_server_url(settings.server)
    try:
        return _get_json(settings, base, "/api/agent/notes", timeout, _tls(settings, base))
    except (OSError, ValueError) as e:  # URLError and timeouts are OSErrors
        log.info("notes not fetched from %s: %s", base, e)
        return None


class TeamLink:
    def __init__(self, settings: TeamSettings, folder: Path, on_status: Callable[[str], None] | None = None) -> None:
        self.s = settings
        self.base = check_server_url(settings.server)
        if not settings.token:
            raise UserError("team.server is set but team.token is empty: ask your admin for this PC's device token")
        self.outbox = Outbox(folder)
        self.on_status = on_status
        self._ctx = _tls(settings, self.base)
        self._opener = opener(self._ctx)
        self._answered = False  # a 2xx since the last drain: the server works, so a 5xx is that request's own
        self._live: Callable[[], dict[str, Any]] | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.state = "starting"  # ok | offline | refused | redirected
        self._status_text = ""
        self.sent = 0
        self._urgent = False
        # the team's policy, asked of the server when the link starts; until known, flagged segments only
        self.share_whole_calls = False
        self.policy_known = False

    # --- the session's side --------------------------------------------------------------

    def start(self, live: Callable[[], dict[str, Any]] | None = None) -> None:
        """Start sending; `live` gives the state to push (None: share no live state)."""
        self._live = live if self.s.share_live else None
        self._thread = threading.Thread(target=self._run, name="team-link", daemon=True)
        self._thread.start()

    def after_call(self, doc: dict[str, Any], call_id: str) -> int:
        """Queue the finished call's summary and flagged segments; return how many requests."""
        if not self.s.share_flagged:
            return 0
        reqs = payload.requests(doc, call_id, self.s.clip_format, whole_call=self.share_whole_calls)
        for method, path, body, ctype in reqs:
            self.outbox.put(method, path, body, ctype)
        self._wake.set()
        return len(reqs)

    def nudge(self) -> None:
        """Something a supervisor must see now (a cue, a flag): push the live state at once
        rather than at the next tick, so the floor shows it within a second of the overlay."""
        self._urgent = True
        self._wake.set()

    def stop(self, flush_s: float = 10.0) -> None:
        """Send the last live state ('off the call') and what is queued, for up to `flush_s`;
        what is left stays in the outbox for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(flush_s)

    def status(self) -> str:
        """For the overlay's health line: empty while all is well."""
        return self._status_text

    # --- the thread -------------------------------------------------------------------------

    def _policy(self) -> bool:
        """Ask the server what this team shares; False when it cannot say now."""
        try:
            policy = _get_json(self.s, self.base, "/api/agent/policy", LIVE_TIMEOUT_S, self._ctx)
        except (OSError, ValueError):  # URLError and timeouts are OSErrors
            return False
        self.share_whole_calls = bool(policy.get("share_whole_calls"))
        return True

    def _run(self) -> None:
        backoff = 1.0
        next_live = time.monotonic()
        while True:
            stopping = self._stopping.is_set()
            if not self.policy_known and not stopping:
                self.policy_known = self._policy()
            now = time.monotonic()
            if self._live is not None and (now >= next_live or stopping or self._urgent):
                self._urgent = False
                self._push_live(self._live(), off=stopping)
                next_live = now + self.s.live_every_s
            if self._drain():
                backoff = 1.0
                wait = next_live - time.monotonic() if self._live is not None else None
            else:
                wait = backoff if self._live is None else min(backoff, max(0.0, next_live - time.monotonic()))
                backoff = min(BACKOFF_MAX_S, backoff * 2)
            self._report()
            if stopping:
                return
            self._wake.wait(None if wait is None else max(0.0, wait))
            self._wake.clear()

    def _push_live(self, state: dict[str, Any], off: bool) -> None:
        if off:
            state = {**state, "on_call": False, "cue": None, "cue_severity": None}
        self._send("PUT", "/api/agent/live", json.dumps(state).encode(), "application/json", LIVE_TIMEOUT_S)

    def _drain(self) -> bool:
        """Send queued requests oldest first; False when some are left to try again later.
        One the server refuses (4xx) is parked; one it fails on (5xx) holds back only its own
        call's later requests, and is parked after STRIKES failures while the server answers
        others. Offline, a redirect, 401, 408 or 429 stop the round: the link, not the request."""
        held: set[str] = set()
        failed: list[tuple[Path, int]] = []
        all_sent = True
        for item in self.outbox.pending():
            try:
                method, path, ctype, body = Outbox.read(item)
            except (OSError, ValueError) as e:
                log.warning("unreadable outbox item %s: %s", item.name, e)
                self.outbox.park(item, f"unreadable: {e}")
                continue
            call = Outbox.call_of(path)
            if call in held:  # after a failed request of its call (the server wants summary, segment, clip in order)
                continue
            code = self._send(method, path, body, ctype, UPLOAD_TIMEOUT_S)
            if code is None or 300 <= code < 400 or code in (401, 408, 429):
                all_sent = False
                break
            if 200 <= code < 300:
                Outbox.done(item)
                self.sent += 1
            elif code >= 500:
                held.add(call)
                failed.append((item, code))
            else:
                log.warning("the team server refused %s %s with %s; set aside", method, path, code)
                self.outbox.park(item, f"HTTP {code}")
        if self._answered:  # only then is a 5xx this request's fault, not a server that is down
            for item, code in failed:
                if Outbox.strike(item) >= STRIKES:
                    log.warning("the team server failed %s with %s %d times; set aside", item.name, code, STRIKES)
                    self.outbox.park(item, f"HTTP {code}, {STRIKES} times")
        self._answered = False
        return all_sent and not failed

    def _send(self, method: str, path: str, body: bytes, ctype: str, timeout: float) -> int | None:
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers={"Authorization": f"Bearer {self.s.token}", "Content-Type": ctype})
        try:
            with self._opener.open(req, timeout=timeout) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
            if 300 <= code < 400:
                self._set_state("redirected", f"HTTP {code} to {e.headers.get('Location')!r}, not followed")
                return code
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            self._set_state("offline", str(getattr(e, "reason", e)))
            return None
        self._answered = self._answered or 200 <= code < 300
        self._set_state("refused" if code == 401 else "ok", f"HTTP {code}")
        return code

    def _set_state(self, state: str, why: str) -> None:
        with self._lock:
            if state != self.state:
                log.info("team server %s: %s (%s)", self.base, state, why)
            self.state = state

    def _report(self) -> None:
        n, parked = self.outbox.count(), self.outbox.refused_count()
        text = {"offline": f"team: offline, {n} queued", "refused": "team: device token refused",
                "redirected": "team: server redirects (not followed); check team.server"}.get(
            self.state, f"team: sending {n}" if n else "")
        if parked:  # stays on show until someone looks (`coach team status`) or the session is deleted
            text = f"{text}; {parked} refused" if text else f"team: {parked} upload(s) refused"
        if text != self._status_text:
            self._status_text = text
            if self.on_status is not None:
                self.on_status(text)

"""ASGI middleware in front of every endpoint: request size limits, rate limits and the
response headers a service holding recordings needs. Plain ASGI (not BaseHTTPMiddleware),
so the live event stream is not buffered and each request costs a few dict lookups."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KB = 1024


class _TooLarge(Exception):
    pass


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the limit for their path (413), by Content-Length or while reading."""

    def __init__(self, app: ASGIApp, default: int = 256 * KB, by_suffix: dict[str, int] | None = None,
                 by_prefix: dict[str, int] | None = None) -> None:
        self.app, self.default, self.by_suffix, self.by_prefix = app, default, by_suffix or {}, by_prefix or {}

    def _limit(self, path: str) -> int:
        for suffix, n in self.by_suffix.items():
            if path.endswith(suffix):
                return n
        return next((n for prefix, n in self.by_prefix.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit(scope["path"])
        for k, v in scope["headers"]:
            if k == b"content-length" and (not v.isdigit() or int(v) > limit):
                return await _reply(send, 413, f"request body over {limit // KB} KB")
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            m = await receive()
            seen += len(m.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return m

        async def tracked(m: Message) -> None:
            nonlocal started
            started = started or m["type"] == "http.response.start"
            await send(m)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _reply(send, 413, f"request body over {limit // KB} KB")


class RateLimit:
    """Token buckets per credential (the bearer token or session cookie) or, without one, per
    client address: `rate` requests a second with bursts of `burst`. Logins have their own,
    much slower bucket per address (a whole office may share one; failed logins are also
    limited per name, by the login endpoint). Kept per server process: with several processes behind a
    load balancer the limit a client sees is at most processes x this."""

    def __init__(self, app: ASGIApp, rate: float = 10.0, burst: float = 60.0, login_per_min: float = 60.0,
                 keys: int = 200_000) -> None:
        self.app, self.rate, self.burst = app, rate, burst
        self.login_rate, self.login_burst = login_per_min / 60.0, login_per_min
        self.keys = keys
        self._buckets: OrderedDict[bytes, list[float]] = OrderedDict()

    def _key(self, scope: Scope) -> tuple[bytes, float, float]:
        client = (scope.get("client") or ("?", 0))[0].encode()
        if scope["path"] == "/api/login":
            return b"login:" + client, self.login_rate, self.login_burst
        for k, v in scope["headers"]:
            if k == b"authorization" or (k == b"cookie" and b"coach_session=" in v):
                return hashlib.blake2b(v, digest_size=12).digest(), self.rate, self.burst
        return b"ip:" + client, self.rate, self.burst

    def allow(self, key: bytes, rate: float, burst: float, now: float) -> bool:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = [burst, now]
            if len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        b[0] = min(burst, b[0] + (now - b[1]) * rate)
        b[1] = now
        if b[0] < 1.0:
            return False
        b[0] -= 1.0
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key, rate, burst = self._key(scope)
            if not self.allow(key, rate, burst, time.monotonic()):
                return await _reply(send, 429, "too many requests; slow down", [(b"retry-after", b"2")])
        await self.app(scope, receive, send)


class FailedLogins:
    """Failed logins per name: after `limit` in `window_s`, that name is refused until the
    window passes, whatever address the guesses come from."""

    def __init__(self, limit: int = 5, window_s: float = 900.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._fails: OrderedDict[str, list[float]] = OrderedDict()

    def blocked(self, name: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._fails.get(name, []) if now - t < self.window_s]
        if recent:
            self._fails[name] = recent
        else:
            self._fails.pop(name, None)
        return len(recent) >= self.limit

    def failed(self, name: str) -> None:
        self._fails.setdefault(name, []).append(time.monotonic())
        self._fails.move_to_end(name)
        if len(self._fails) > 100_000:
            self._fails.popitem(last=False)

    def succeeded(self, name: str) -> None:
        self._fails.pop(name, None)


def csrf_token(session_token: str) -> str:
    """The CSRF token of a login: derived from the session cookie, which a page of another
    site can neither read (HttpOnly) nor guess."""
    return hashlib.blake2b(b"csrf:" + session_token.encode(), digest_size=16).hexdigest()


class Csrf:
    """A state-changing request authenticated by the session cookie must carry the login's
    CSRF token in X-CSRF-Token (the dashboard's scripts add it). Requests with a bearer token
    (agents' apps, scripts) carry no ambient credential and need none; the cookie is also
    SameSite=Strict."""

    SAFE = (b"GET", b"HEAD", b"OPTIONS")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"].encode() not in self.SAFE and scope["path"] != "/api/login":
            headers = dict(scope["headers"])
            if b"authorization" not in headers and b"coach_session=" in headers.get(b"cookie", b""):
                cookie = next((c.split("=", 1)[1] for c in headers[b"cookie"].decode().split("; ") if c.startswith("coach_session=")), "")
                if headers.get(b"x-csrf-token", b"").decode() != csrf_token(cookie):
                    return await _reply(send, 403, "missing or wrong CSRF token; reload the page")
        await self.app(scope, receive, send)


class SecurityHeaders:
    """No caching anywhere (transcripts and clips are personal data), no sniffing, no framing,
    no referrer; HSTS when served over TLS."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self.headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache"), (b"x-content-type-options", b"nosniff"),
                        (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]
        if tls:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(m: Message) -> None:
            if m["type"] == "http.response.start":
                have = {k.lower() for k, _ in m.get("headers", [])}
                m["headers"] = list(m.get("headers", [])) + [(k, v) for k, v in self.headers if k not in have]
            await send(m)

        await self.app(scope, receive, with_headers)

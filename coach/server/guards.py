"""ASGI middleware in front of every endpoint: request size limits, rate limits and the
response headers a service holding recordings needs. Plain ASGI (not BaseHTTPMiddleware),
so the live event stream is not buffered and each request costs a few dict lookups."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from coach.server.accounts import hash_token as token_key  # as the database stores tokens

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KB = 1024


class _TooLarge(Exception):
    pass


class Ambiguous(ValueError):
    """Two session cookies or two Authorization headers: refused, never guessed between."""


def credential(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, bool]:
    """(token, from_cookie): a Bearer token, else the `coach_session` cookie. The one reading of
    a request's credential that the rate limit, the CSRF check and authentication all use, so
    they can never disagree on which credential a request carries. A non-Bearer Authorization
    header is no credential (the cookie still counts, and still needs its CSRF token)."""
    auths = [v for k, v in headers if k == b"authorization"]
    cookies = [c for k, v in headers if k == b"cookie" for c in v.decode("latin-1").split(";")]
    sessions = [c.strip()[len("coach_session="):] for c in cookies if c.strip().startswith("coach_session=")]
    if len(auths) > 1 or len(sessions) > 1:
        raise Ambiguous("one credential per request")
    if auths and auths[0][:7].lower() == b"bearer ":
        return auths[0][7:].decode("latin-1").strip(), False
    return (sessions[0], True) if sessions else (None, False)


class Validated:
    """Token hashes that authenticated lately (bounded, oldest out first): only these get a
    rate-limit bucket of their own; anything else counts against its client's address."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def add(self, key: bytes) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def __contains__(self, key: bytes) -> bool:
        return key in self._seen


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
    """Token buckets: `rate` requests a second with bursts of `burst`, per credential once it
    has authenticated (`Validated`), else per client address. A request with an unknown token
    is let through while its address has tokens left and is charged to the address unless it
    authenticated: random bearer values get no bucket of their own, and an office whose
    devices all connect at once after a server restart is not refused for it. Logins have
    their own, much slower bucket per address (failed logins are also limited per name and
    address by the login endpoint). Kept per server process: with several processes behind a
    load balancer the limit a client sees is at most processes x this."""

    def __init__(self, app: ASGIApp, validated: Validated, rate: float = 10.0, burst: float = 60.0,
                 login_per_min: float = 60.0, keys: int = 200_000) -> None:
        self.app, self.validated, self.rate, self.burst = app, validated, rate, burst
        self.login_rate, self.login_burst = login_per_min / 60.0, login_per_min
        self.keys = keys
        self._buckets: OrderedDict[bytes, list[float]] = OrderedDict()

    def allow(self, key: bytes, rate: float, burst: float, now: float, take: bool = True) -> bool:
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
        if take:
            b[0] -= 1.0
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        address = b"ip:" + (scope.get("client") or ("?", 0))[0].encode()
        if scope["path"] == "/api/login":
            if not self.allow(b"login:" + address, self.login_rate, self.login_burst, time.monotonic()):
                return await _too_many(send)
            return await self.app(scope, receive, send)
        try:
            token = credential(scope["headers"])[0]
        except Ambiguous:
            token = None
        key = token_key(token) if token else None
        if key is not None and key in self.validated:
            if not self.allow(key, self.rate, self.burst, time.monotonic()):
                return await _too_many(send)
            return await self.app(scope, receive, send)
        if not self.allow(address, self.rate, self.burst, time.monotonic(), take=key is None):
            return await _too_many(send)
        await self.app(scope, receive, send)
        if key is not None and key not in self.validated:
            self.allow(address, self.rate, self.burst, time.monotonic())  # charged once answered: it did not authenticate


async def _too_many(send: Send) -> None:
    await _reply(send, 429, "too many requests; slow down", [(b"retry-after", b"2")])


class FailedLogins:
    """Failed logins per name AND client address: after `limit` failures that pair waits
    `delay_s`, doubled at each further failure (up to `max_delay_s`); attempts while it waits
    are refused without counting. A guesser elsewhere cannot lock a name's owner out, and one
    address guessing one name gets a few tries an hour."""

    def __init__(self, limit: int = 5, delay_s: float = 2.0, max_delay_s: float = 900.0, forget_s: float = 3600.0) -> None:
        self.limit, self.delay_s, self.max_delay_s, self.forget_s = limit, delay_s, max_delay_s, forget_s
        self._fails: OrderedDict[tuple[str, str], list[float]] = OrderedDict()  # (name, address) -> [count, last failure]

    def wait_s(self, name: str, address: str) -> float:
        """Seconds this name must wait from this address (0: try)."""
        f = self._fails.get((name, address))
        if f is None:
            return 0.0
        now = time.monotonic()
        if now - f[1] > self.forget_s:
            del self._fails[(name, address)]
            return 0.0
        if f[0] < self.limit:
            return 0.0
        return max(0.0, f[1] + self._delay(f[0]) - now)

    def _delay(self, count: float) -> float:
        return min(self.max_delay_s, self.delay_s * 2 ** (count - self.limit))

    def failed(self, name: str, address: str) -> float:
        """Count a failure; the wait it brings."""
        f = self._fails.setdefault((name, address), [0, 0.0])
        f[0] += 1
        f[1] = time.monotonic()
        self._fails.move_to_end((name, address))
        if len(self._fails) > 100_000:
            self._fails.popitem(last=False)
        return self._delay(f[0]) if f[0] >= self.limit else 0.0

    def succeeded(self, name: str, address: str) -> None:
        self._fails.pop((name, address), None)


class Busy(Exception):
    """The gate's queue is full."""


class Gate:
    """At most `running` password hashes at once (Argon2id takes 64 MiB and tens of ms each)
    and `waiting` queued behind them; beyond that a login is refused at once (503), so a burst
    of logins costs bounded memory and CPU and leaves the other requests served."""

    def __init__(self, running: int = 2, waiting: int = 8) -> None:
        self.running, self.waiting = running, waiting
        self._sem: asyncio.Semaphore | None = None
        self._inside = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the running places, waiting in the queue for it; Busy when the queue is full."""
        if self._inside >= self.running + self.waiting:
            raise Busy
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.running)  # made on the server's event loop
        self._inside += 1
        try:
            async with self._sem:
                yield
        finally:
            self._inside -= 1


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
        if scope["type"] == "http":
            try:
                token, from_cookie = credential(scope["headers"])
            except Ambiguous:
                return await _reply(send, 400, "two credentials in one request")
            if from_cookie and scope["method"].encode() not in self.SAFE and scope["path"] != "/api/login":
                sent = next((v for k, v in scope["headers"] if k == b"x-csrf-token"), b"").decode("latin-1")
                if not hmac.compare_digest(sent, csrf_token(token or "")):
                    return await _reply(send, 403, "missing or wrong CSRF token; reload the page")
        await self.app(scope, receive, send)


class SecurityHeaders:
    """No caching anywhere (transcripts and clips are personal data), no sniffing, no framing,
    no referrer; HSTS when the request came over TLS: to this server, or to a trusted proxy
    that said so (X-Forwarded-Proto, read by uvicorn from trusted proxies only)."""

    HSTS = (b"strict-transport-security", b"max-age=31536000")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache"), (b"x-content-type-options", b"nosniff"),
                        (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        ours = self.headers + [self.HSTS] if scope.get("scheme") == "https" else self.headers

        async def with_headers(m: Message) -> None:
            if m["type"] == "http.response.start":
                have = {k.lower() for k, _ in m.get("headers", [])}
                m["headers"] = list(m.get("headers", [])) + [(k, v) for k, v in ours if k not in have]
            await send(m)

        await self.app(scope, receive, with_headers)

"""`make bench-server`: the team server under N simulated agents, on loopback only.

Each agent keeps one HTTP/1.1 connection, pushes its live state every 2 s (with jitter)
and uploads one flagged 30 s segment (JSON + FLAC clip of a real call) per 5 minutes,
its first at a random moment, so a run of D seconds sees N*D/300 uploads as a floor of
N agents would. Prints per N: requests, p50/p95 ingest latency (live pushes, uploads),
server CPU per agent, PostgreSQL CPU, and PostgreSQL bytes per 1,000 flagged segments;
then the largest N once more with two server processes.

The load generator runs on the same 2-core machine as the server and PostgreSQL, so the
figures are a floor on what a real server host gives; the ratios between runs hold.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.server import accounts  # noqa: E402
from coach.server.schema import migrate  # noqa: E402
from tests.team_server import Server, remove_cluster, start_cluster  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / TICK


def tree(pid: int) -> list[int]:
    out = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if Path(f"/proc/{pid}").exists() else []:
        out += tree(int(child))
    return out


def postgres_pids() -> list[int]:
    r = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def clip_bytes() -> bytes:
    """30 s of a real call as the agent's app sends it: 16 kHz stereo, Ogg Opus."""
    import soxr

    audio, rate = sf.read(ROOT / "tests" / "data" / "auto_repairs_49_stereo.flac", frames=30 * 8000, dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, soxr.resample(audio, rate, 16000).astype("float32"), 16000, format="OGG", subtype="OPUS")
    return buf.getvalue()


class Agent:
    def __init__(self, token: str) -> None:
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, port: int, method: str, path: str, body: bytes, ctype: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        assert self.reader is not None
        status = await self.reader.readuntil(b"\r\n\r\n")
        code = int(status.split(b" ", 2)[1])
        length = 0
        for line in status.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await self.reader.readexactly(length)
        return code


async def run_agents(port: int, tokens: list[str], seconds: float, clip: bytes) -> dict[str, list[float]]:
    lat: dict[str, list[float]] = {"live": [], "upload": [], "errors": []}
    stop_at = time.monotonic() + seconds

    async def one(token: str) -> None:
        agent = Agent(token)
        call_id = str(uuid.uuid4())
        await asyncio.sleep(random.uniform(0, 2.0))
        upload_at = time.monotonic() + random.uniform(0, 300.0)
        state = {"on_call": True, "call_id": call_id, "duration_s": 0.0, "mood": 0.2, "trend": 0, "cue": None, "flags": 0}
        n = 0
        while time.monotonic() < stop_at:
            t = time.monotonic()
            state["duration_s"] = round(n * 2.0, 1)
            try:
                code = await agent.request(port, "PUT", "/api/agent/live", json.dumps(state).encode(), "application/json")
                lat["live" if code == 204 else "errors"].append(time.monotonic() - t)
                if time.monotonic() >= upload_at:
                    upload_at += 300.0
                    t = time.monotonic()
                    sid = f"{call_id}:{n}"
                    seg = {"call_id": call_id, "start": 10.0, "end": 40.0, "reason": "customer_escalating",
                           "cues": [{"id": "customer_escalating", "t": 20.0}],
                           "utterances": [{"speaker": "customer", "start": 12.0, "end": 18.0, "text": "this is the third time I call"}]}
                    await agent.request(port, "PUT", f"/api/agent/calls/{call_id}", json.dumps({"duration_s": 60.0}).encode(), "application/json")
                    c1 = await agent.request(port, "PUT", f"/api/agent/segments/{sid}", json.dumps(seg).encode(), "application/json")
                    c2 = await agent.request(port, "PUT", f"/api/agent/segments/{sid}/clip", clip, "audio/ogg")
                    lat["upload" if (c1, c2) == (204, 204) else "errors"].append(time.monotonic() - t)
            except (OSError, asyncio.IncompleteReadError):
                lat["errors"].append(0.0)
                agent.writer = None
            n += 1
            await asyncio.sleep(max(0.0, 2.0 + random.uniform(-0.2, 0.2) - (time.monotonic() - t)))
        if agent.writer:
            agent.writer.close()

    await asyncio.gather(*(one(tk) for tk in tokens))
    return lat


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def make_agents(dsn: str, n: int) -> list[str]:
    tokens = [accounts.new_token("d") for _ in range(n)]
    with psycopg.connect(dsn) as c:
        migrate(c)
        tid = c.execute("INSERT INTO teams (name) VALUES (%s) RETURNING id", (f"bench-{uuid.uuid4().hex[:6]}",)).fetchone()[0]
        with c.cursor() as cur:
            for tk in tokens:
                uid = cur.execute("INSERT INTO users (name, role, team_id) VALUES (%s, 'agent', %s) RETURNING id",
                                  (f"agent-{uuid.uuid4().hex[:10]}", tid)).fetchone()[0]
                cur.execute("INSERT INTO devices (user_id, name, token_hash) VALUES (%s, 'bench', %s)", (uid, accounts.hash_token(tk)))
    return tokens


def one_run(dsn: str, data: Path, n: int, seconds: float, workers: int, clip: bytes) -> dict[str, float]:
    tokens = make_agents(dsn, n)
    srv = Server(dsn, data, None, "--workers", str(workers)).start()
    try:
        time.sleep(1.0)
        pids, pg = tree(srv.proc.pid), postgres_pids()
        c0, p0, t0 = cpu_s(pids), cpu_s(pg), time.monotonic()
        lat = asyncio.run(run_agents(srv.port, tokens, seconds, clip))
        wall = time.monotonic() - t0
        c1, p1 = cpu_s(pids), cpu_s(pg)
        p1 += cpu_s([p for p in postgres_pids() if p not in pg])  # backends started during the run
    finally:
        srv.stop()
    return {"n": n, "workers": workers, "live": len(lat["live"]), "uploads": len(lat["upload"]), "errors": len(lat["errors"]),
            "live_p50_ms": 1000 * pct(lat["live"], 50), "live_p95_ms": 1000 * pct(lat["live"], 95),
            "up_p50_ms": 1000 * pct(lat["upload"], 50), "up_p95_ms": 1000 * pct(lat["upload"], 95),
            "rps": (len(lat["live"]) + 3 * len(lat["upload"])) / wall,
            "server_cpu": (c1 - c0) / wall, "server_ms_per_agent": 1000 * (c1 - c0) / wall / n, "pg_cpu": (p1 - p0) / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", default="100,500,1000,2000", help="comma-separated N")
    ap.add_argument("--seconds", type=float, default=20.0, help="load per N (bounded)")
    ap.add_argument("--workers2", type=int, default=1000, help="run this N again with 2 server processes (0 = skip)")
    a = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    cluster, dsn = start_cluster()
    data = Path(cluster.folder) / "server-data"
    clip = clip_bytes()
    rows = []
    try:
        for n in [int(x) for x in a.agents.split(",")]:
            rows.append(one_run(dsn, data, n, a.seconds, 1, clip))
            print(json.dumps(rows[-1]), flush=True)
        if a.workers2:
            rows.append(one_run(dsn, data, a.workers2, a.seconds, 2, clip))
            print(json.dumps(rows[-1]), flush=True)
        with psycopg.connect(dsn) as c:
            segs = c.execute("SELECT count(*) FROM segments").fetchone()[0]
            size = c.execute("SELECT pg_total_relation_size('segments') + pg_total_relation_size('clips')").fetchone()[0]
    finally:
        remove_cluster(cluster)
        shutil.rmtree(data, ignore_errors=True)
    print(f"\nteam server, loopback, {os.cpu_count()} cores shared by load generator, server and PostgreSQL; {a.seconds:g} s per run")
    print(f"{'agents':>6} {'procs':>5} {'req/s':>6} {'live p50':>8} {'live p95':>8} {'upl p50':>8} {'upl p95':>8} {'uploads':>7} "
          f"{'errors':>6} {'srv CPU':>7} {'ms/agent/s':>10} {'PG CPU':>6}")
    for r in rows:
        print(f"{r['n']:>6} {r['workers']:>5} {r['rps']:>6.0f} {r['live_p50_ms']:>6.1f}ms {r['live_p95_ms']:>6.1f}ms "
              f"{r['up_p50_ms']:>6.1f}ms {r['up_p95_ms']:>6.1f}ms {r['uploads']:>7} {r['errors']:>6} {r['server_cpu']:>7.2f} "
              f"{r['server_ms_per_agent']:>10.3f} {r['pg_cpu']:>6.2f}")
    if segs:
        print(f"PostgreSQL: {size / segs * 1000 / 2**20:.0f} MB per 1,000 flagged 30 s segments (Opus clips; "
              f"{segs} segments measured)")


if __name__ == "__main__":
    main()

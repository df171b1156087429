"""`coach server` and `coach team`: run the team server; manage teams, people and devices."""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coach.core.errors import UserError

DEFAULT_PORT = 8470


def _import_server() -> None:
    try:
        import fastapi  # noqa: F401
        import psycopg  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise UserError(f"the team server needs its extras: pip install 'call-coach[server]' ({e.name} is missing)") from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_cluster_folder(data: Path) -> Path:
    # PostgreSQL will not run as root; as root the cluster runs as `postgres`, who cannot
    # enter root's private data folder
    return Path("/var/lib/call-coach/postgres") if os.geteuid() == 0 else data / "postgres"


@contextmanager
def database(db: str | None, data: Path) -> Iterator[str]:
    """The server's database URL: --db, COACH_DB, or a local cluster in the data folder, started
    here if it was not running, and then stopped again when the block ends."""
    db = db or os.environ.get("COACH_DB")
    if db:
        yield db
        return
    _import_server()
    from coach.server.cluster import LocalCluster

    cluster = LocalCluster(local_cluster_folder(data))
    url = cluster.start()
    if cluster.started:
        print(f"PostgreSQL: a local cluster in {cluster.folder} on 127.0.0.1:{cluster.port}", flush=True)
    try:
        yield url
    finally:
        if cluster.started:
            cluster.stop()


def _connect(url: str):  # noqa: ANN202 - psycopg is an optional import
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise UserError(f"cannot reach the database: {str(e).strip().splitlines()[0]}") from None
    from coach.server.schema import migrate

    migrate(conn)
    return conn


def first_admin(url: str, name: str | None = None) -> tuple[str, str] | None:
    """On an empty database, an admin login with a random password (in a private file, not printed), named as
    `--admin-name` says, else `admin-` and a random suffix: a name to guess too."""
    from coach.server import accounts

    with _connect(url) as c:
        if c.execute("SELECT 1 FROM users LIMIT 1").fetchone():
            return None
        name = name or f"admin-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        try:
            accounts.create_user(c, name, "admin", password)
        except accounts.AccountError as e:
            raise UserError(f"--admin-name: {e}") from None
        return name, password


def trusted_proxies(addresses: list[str] | None) -> list[str]:
    """The addresses (or networks) whose X-Forwarded-For/-Proto the server believes; 127.0.0.1
    by default (a proxy on this host). Never `*` or a whole address space: anyone could then
    pick the address the rate limits and the audit log see."""
    out = []
    for a in addresses or ["127.0.0.1"]:
        try:
            net = ipaddress.ip_network(a.strip(), strict=False)
        except ValueError:
            raise UserError(f"--trusted-proxy {a!r}: an IP address or network (CIDR), not a name or '*'") from None
        if net.prefixlen == 0:
            raise UserError(f"--trusted-proxy {a!r}: would trust every address")
        out.append(str(net) if net.num_addresses > 1 else str(net.network_address))
    return out


def serve(db: str | None, data: Path, host: str, port: int, certfile: str | None, keyfile: str | None,
          insecure_behind_proxy: bool, retention_days: float, workers: int, proxies: list[str] | None = None,
          admin_name: str | None = None) -> int:
    _import_server()
    if bool(certfile) != bool(keyfile):
        raise UserError("TLS needs both --certfile and --keyfile")
    for f in (certfile, keyfile):
        if f and not Path(f).is_file():
            raise UserError(f"no such file: {f}")
    tls = bool(certfile)
    if not tls and not _loopback(host) and not insecure_behind_proxy:
        raise UserError(f"refusing plain HTTP on {host}: give --certfile/--keyfile, or --insecure-behind-proxy when a "
                        "TLS-terminating proxy is in front")
    if not 1 <= workers <= 64:
        raise UserError("--workers must be from 1 to 64")
    if not 0 <= retention_days <= 3650:
        raise UserError("--retention-days must be from 0 (keep all) to 3650")
    if proxies and not insecure_behind_proxy:
        raise UserError("--trusted-proxy goes with --insecure-behind-proxy")
    forwarders = trusted_proxies(proxies) if insecure_behind_proxy else None
    with database(db, data) as url:
        return _run(url, host, port, certfile, keyfile, tls, forwarders, retention_days, workers, admin_name, data)


def _run(url: str, host: str, port: int, certfile: str | None, keyfile: str | None, tls: bool, forwarders: list[str] | None,
         retention_days: float, workers: int, admin_name: str | None, data: Path) -> int:
    admin = first_admin(url, admin_name)
    import uvicorn

    os.environ.update(COACH_SERVER_DB=url, COACH_SERVER_TLS="1" if tls else "", COACH_SERVER_RETENTION=str(retention_days),
                      COACH_SERVER_PROXY="1" if forwarders else "")
    scheme = "https" if tls else "http"
    print(f"team server on {scheme}://{host}:{port}/ (API under /api/, schema at /openapi.json); Ctrl-C stops", flush=True)
    if admin:  # not on stdout, which journald and container logs keep: in a file only this user can read
        from coach.config.paths import private_file

        note = private_file(data, "first-admin.txt", f"name: {admin[0]}\npassword: {admin[1]}\n")
        print(f"first admin login: written to {note} (readable by you only; delete it once read, and change the "
              "password with `coach team set-password NAME --password-stdin`)", flush=True)
    uvicorn.run("coach.server.main:app_from_env", factory=True, host=host, port=port, workers=workers,
                ssl_certfile=certfile, ssl_keyfile=keyfile, proxy_headers=bool(forwarders),
                forwarded_allow_ips=forwarders, log_level="warning", access_log=False,
                timeout_graceful_shutdown=5)  # dashboards hold event streams open: do not wait on them forever
    return 0


def app_from_env():  # noqa: ANN201 - uvicorn's factory, one per worker process
    from coach.server.api import create_app

    return create_app(os.environ["COACH_SERVER_DB"], retention_days=float(os.environ.get("COACH_SERVER_RETENTION", "90")),
                      tls=bool(os.environ.get("COACH_SERVER_TLS")), behind_proxy=bool(os.environ.get("COACH_SERVER_PROXY")))


def team(db: str | None, data: Path, action: str, args: dict) -> int:
    """`coach team ACTION`: the admin's side, straight on the database (same code as the API)."""
    _import_server()

    with database(db, data) as url:
        return _team(url, action, args)


def _team(url: str, action: str, args: dict) -> int:
    from coach.server import accounts

    with _connect(url) as c:
        try:
            if action == "create-team":
                print(f"team {args['name']!r} created (id {accounts.create_team(c, args['name'])})")
            elif action == "create-user":
                password = None
                if args["role"] != "agent":
                    password = sys.stdin.readline().rstrip("\n") if args.get("password_stdin") else secrets.token_urlsafe(12)
                uid = accounts.create_user(c, args["name"], args["role"], password, args.get("team"), args.get("supervises") or [])
                shown = f", password '{password}' (shown once)" if password and not args.get("password_stdin") else ""
                print(f"{args['role']} {args['name']!r} created (id {uid}){shown}")
            elif action == "set-policy":
                accounts.set_team_policy(c, args["name"], args["whole_calls"] == "yes")
                print(f"team {args['name']!r}: " + ("each whole call (redacted) is shared too" if args["whole_calls"] == "yes"
                                                    else "only flagged segments are shared"))
            elif action == "set-password":
                password = sys.stdin.readline().rstrip("\n") if args.get("password_stdin") else secrets.token_urlsafe(12)
                accounts.set_password(c, args["name"], password)
                print(f"password of {args['name']!r} changed" + ("" if args.get("password_stdin") else f" to '{password}' (shown once)"))
            elif action == "device-token":
                did, token = accounts.issue_device_token(c, args["agent"], args.get("device_name") or "agent PC")
                print(f"device {did} for {args['agent']!r}; put this in the agent's settings.toml under [team] token "
                      f"(shown once):\n{token}")
            elif action == "revoke-device":
                accounts.revoke_device(c, args["device"])
                print(f"device {args['device']} revoked")
            elif action == "disable-user":
                accounts.disable_user(c, args["name"])
                print(f"{args['name']!r} disabled: logins ended, devices revoked")
            elif action == "remove-supervision":
                accounts.remove_supervision(c, args["name"], args["team"])
                print(f"{args['name']!r} no longer supervises {args['team']!r}")
            elif action == "purge":
                calls, segs = accounts.purge(c, args["days"])
                accounts.vacuum(c)
                print(f"deleted {calls} calls and {segs} flagged segments older than {args['days']:g} days")
            elif action == "list":
                for name, role, tname, sup, off in c.execute(
                        "SELECT u.name, u.role, t.name, (SELECT string_agg(t2.name, ',') FROM supervises s JOIN teams t2 "
                        "ON t2.id = s.team_id WHERE s.user_id = u.id), u.disabled FROM users u LEFT JOIN teams t ON t.id = u.team_id "
                        "ORDER BY u.name"):
                    print(f"{name:24} {role:10} {tname or sup or ''}{' (disabled)' if off else ''}")
                for did, agent, name, revoked in c.execute(
                        "SELECT d.id, u.name, d.name, d.revoked FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.id"):
                    print(f"device {did:<5} {agent:24} {name} {'(revoked)' if revoked else ''}")
        except accounts.AccountError as e:
            raise UserError(str(e)) from None
    return 0

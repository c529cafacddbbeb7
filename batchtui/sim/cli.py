"""``batchtui sim``: serve a simulated Batch account on loopback and say how to point tools at it."""

from __future__ import annotations

import argparse
import base64
import binascii
import math
import re
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from typing import NoReturn, TextIO

from batchtui.cli_args import is_loopback
from batchtui.sim.config import DEMO_ACCOUNT, DEMO_KEY, SimConfig

PROG = "batchtui sim"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports one line instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


#: the most simulated seconds per real second: a simulated week a minute; far beyond, a day's
#: run would take the world's clock past the year 9999
MAX_TIME_SCALE = 10_000.0
#: the most added latency: a minute, as long as a client waits for one answer
MAX_LATENCY_MS = 60_000.0


def _finite(text: str) -> float:
    # argparse names the type function in its message ("invalid _finite value"): say it plainly.
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Serve a simulated Azure Batch account over HTTP.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    p.add_argument("--port", type=_whole, default=8765, help="port to bind (0 = any free port)")
    p.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    p.add_argument("--account", default=DEMO_ACCOUNT, help="account name clients must sign with")
    p.add_argument("--key", default=DEMO_KEY, help="base64 account key clients must sign with")
    p.add_argument("--seed", type=_whole, default=1, help="world seed (same seed, same world)")
    p.add_argument("--jobs", type=_whole, default=40, help="jobs present after the warm-up")
    p.add_argument("--tasks", type=_whole, default=60, help="typical tasks per job")
    p.add_argument("--instances", type=_whole, default=8, help="ranks of the largest multi-instance task")
    p.add_argument(
        "--time-scale",
        type=_finite,
        default=1.0,
        help=f"simulated seconds per real second (0 = frozen, at most {MAX_TIME_SCALE:g})",
    )
    p.add_argument(
        "--latency-ms",
        type=_finite,
        default=0.0,
        help=f"added latency per request (at most {MAX_LATENCY_MS:g})",
    )
    p.add_argument("--throttle-rate", type=_finite, default=0.0, help="fraction of requests answered 429")
    p.add_argument("--error-rate", type=_finite, default=0.0, help="fraction of requests answered 503/500")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate of the simulator's own (named in the printed exports)",
    )
    p.add_argument(
        "--cert-dir",
        type=Path,
        default=None,
        help="with --tls: keep the certificates here (its authority is reused; default: a new temporary folder)",
    )
    return p


def parse_config(argv: list[str]) -> tuple[SimConfig, str, int]:
    """Validated settings, or :class:`_UsageError` with a one-line reason."""
    config, host, port, _args = _parse(argv)
    return config, host, port


def _parse(argv: list[str]) -> tuple[SimConfig, str, int, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    if args.cert_dir is not None and not args.tls:
        raise _UsageError("--cert-dir needs --tls")
    if not 0 <= args.port <= 65535:
        raise _UsageError(f"--port must be between 0 and 65535, not {args.port}")
    if not re.fullmatch(r"[a-z0-9]{3,24}", args.account):
        raise _UsageError(
            "--account must be 3 to 24 lowercase letters and digits, as Batch account names are"
        )
    try:
        if not base64.b64decode(args.key, validate=True):
            raise ValueError("empty")
    except (binascii.Error, ValueError):
        raise _UsageError("--key must be a non-empty base64 string") from None
    for name, value, low, high in (
        ("--seed", args.seed, 0, 2**63 - 1),
        ("--jobs", args.jobs, 0, 100_000),
        ("--tasks", args.tasks, 1, 100_000),
        ("--instances", args.instances, 1, 10_000),
    ):
        if not low <= value <= high:
            raise _UsageError(f"{name} must be between {low} and {high}, not {value}")
    if not 0 <= args.time_scale <= MAX_TIME_SCALE:
        raise _UsageError(
            f"--time-scale must be from 0 (frozen) to {MAX_TIME_SCALE:g}, not {args.time_scale:g}"
        )
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        raise _UsageError(f"--latency-ms must be from 0 to {MAX_LATENCY_MS:g}, not {args.latency_ms:g}")
    for name, value in (("--throttle-rate", args.throttle_rate), ("--error-rate", args.error_rate)):
        if not 0 <= value <= 1:
            raise _UsageError(f"{name} must be between 0 and 1, not {value}")
    if not args.allow_remote and not is_loopback(args.host):
        raise _UsageError(
            f"refusing to serve on non-loopback address {args.host!r}: the simulator accepts a "
            "published demo key; pass --allow-remote if you really mean it"
        )
    config = SimConfig(
        account=args.account,
        key=args.key,
        seed=args.seed,
        jobs=args.jobs,
        tasks=args.tasks,
        instances=args.instances,
        time_scale=args.time_scale,
        latency_ms=args.latency_ms,
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
    )
    return config, args.host, args.port, args


def export_lines(endpoint: str, config: SimConfig, ca_file: Path | None = None) -> list[str]:
    lines = [
        f"export AZURE_BATCH_ENDPOINT={endpoint}",
        f"export AZURE_BATCH_ACCOUNT={config.account}",
        f"export AZURE_BATCH_ACCESS_KEY={config.key}",
        "export AZURE_BATCH_AUTH_MODE=shared_key",
    ]
    if ca_file is not None:
        # batchtui, httpx and OpenSSL read the first; requests (the azure-batch SDK, az) the second
        lines += [
            f"export SSL_CERT_FILE={shlex.quote(str(ca_file))}",
            f"export REQUESTS_CA_BUNDLE={shlex.quote(str(ca_file))}",
        ]
    return lines


def main(argv: list[str], *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        config, host, port, args = _parse(argv)
    except _UsageError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return 2
    # Imported late so that argument errors are reported without loading uvicorn.
    from batchtui.sim.app import Simulator
    from batchtui.sim.server import bind_socket, make_server

    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        print(f"{PROG}: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=err)
        return 1
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    tls = None
    temporary: tempfile.TemporaryDirectory[str] | None = None
    if args.tls:
        from batchtui.sim.tls import make_server_certificate

        if args.cert_dir is None:
            temporary = tempfile.TemporaryDirectory(prefix="batchtui-sim-tls-")
        folder = Path(temporary.name) if temporary else args.cert_dir
        try:
            tls = make_server_certificate(folder, host)
        except (OSError, ValueError) as exc:  # an unwritable folder, a damaged authority file
            sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"{PROG}: error: cannot write certificates to {folder}: {reason}", file=err)
            return 1
    endpoint = f"{'https' if tls else 'http'}://{shown_host}:{bound_port}"
    sim = Simulator(config)
    print(
        f"# simulated Batch account {config.account!r} (seed {config.seed}, {config.jobs} jobs, "
        f"time scale {config.time_scale:g}); paste into another shell:",
        file=out,
    )
    for line in export_lines(endpoint, config, None if tls is None else tls.ca_file):
        print(line, file=out)
    if tls is not None:
        print(
            "# the last two make that shell trust the simulator's certificate authority only"
            + (" (deleted when the simulator stops)" if temporary else ""),
            file=out,
        )
    out.flush()
    server = make_server(sim, sock, tls=tls)

    def ready() -> None:
        # Only now: a Ctrl+C before uvicorn has its handlers in place can be lost in start-up.
        print("# Ctrl+C to stop", file=out)
        out.flush()

    server.on_ready = ready
    if temporary is not None and hasattr(signal, "SIGTERM"):
        # uvicorn stops on SIGTERM, then raises it again with this handler in place: without
        # it Python would die of the signal before the folder is removed.
        signal.signal(signal.SIGTERM, _terminated)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if temporary is not None:
            temporary.cleanup()
    return 0


def _terminated(_signum: int, _frame: object) -> None:
    raise SystemExit(128 + signal.SIGTERM)

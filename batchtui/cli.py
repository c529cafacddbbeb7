"""Command line: argv -> settings -> the dashboard, ``--once``, or ``batchtui sim``.

Imports are deferred on purpose: ``--once`` and ``sim`` never load Textual, and a bad
flag is reported before anything heavy is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from batchtui import __version__
from batchtui.batch.client import DEFAULT_CONCURRENCY
from batchtui.batch.models import JOB_STATES
from batchtui.cli_account import (
    EXIT_FAILURE,
    EXIT_USAGE,
    UsageError,
    _make_client,
    _Parser,
    _profiles,
    _setup_log,
    _state,
    add_account_arguments,
    log,
)
from batchtui.cli_account import _log_event as _log_event  # the tests' way to the log's lines
from batchtui.cli_args import seconds, whole
from batchtui.cli_dashboard import _dashboard, _read_prefs

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.ui.app import BatchApp

STATES = ("all", *JOB_STATES)
#: how long a one-shot command (--once) may take in all, unless --timeout says otherwise
DEFAULT_TIMEOUT = 60.0

_refresh = seconds("--refresh", 0, above=True)
_timeout = seconds("--timeout", 0, 86_400, above=True)
_concurrency = whole("--concurrency", 1, 256)
_cycle = seconds("--cycle", 1, 3600)
_rise = whole("--alert-rise", 1, 1_000_000, what="a whole number of failures")
_offline = seconds("--alert-offline", 0, 86_400)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="batchtui",
        description="A keyboard-driven terminal dashboard for Azure Batch.",
        epilog=(
            "Account settings are taken, in this order, from: the flags below; the environment "
            "(AZURE_BATCH_ENDPOINT, AZURE_BATCH_ACCOUNT, AZURE_BATCH_ACCESS_KEY, AZURE_BATCH_AUTH_MODE); "
            "the [batch] section written by `az batch account login`; batchtui's config.toml. "
            "`batchtui sim --help` serves a simulated account; `batchtui logs --help` reads a task's "
            "stdout and stderr; `batchtui exporter --help` serves metrics for Prometheus; "
            "`batchtui serve --help` the dashboard in a browser."
        ),
    )
    p.add_argument("--version", action="version", version=f"batchtui {__version__}")
    add_account_arguments(p, several=True)
    view = p.add_argument_group("dashboard")
    view.add_argument("--refresh", type=_refresh, default=5.0, metavar="SECONDS", help="default 5")
    view.add_argument("--state", choices=STATES, default="all", help="which jobs to list (default all)")
    view.add_argument("--theme", help="colour theme name")
    view.add_argument(
        "--readonly",
        action="store_true",
        help="offer no action and send nothing but GET and HEAD (also BATCHTUI_READONLY=1)",
    )
    view.add_argument(
        "--utc", action="store_true", help="show times in UTC, not local time (or utc = true in config.toml)"
    )
    wall = p.add_argument_group("wallboard")
    wall.add_argument(
        "--alerts",
        choices=("all", "pinned"),
        help='which jobs alert: all, or only the pinned ones (or alerts = "..." in config.toml; default all)',
    )
    wall.add_argument(
        "--alert-rise",
        type=_rise,
        metavar="N",
        help="a job alerts again once its failures rose by N since its last alert "
        "(or alert_rise = N in config.toml; default 1)",
    )
    wall.add_argument(
        "--alert-offline",
        type=_offline,
        metavar="SECONDS",
        help="alert when the account has been unreachable this long "
        "(or alert_offline = SECONDS in config.toml; default 60)",
    )
    wall.add_argument(
        "--on-event",
        metavar="CMD",
        help="run CMD (with /bin/sh) once per alert, the event as one JSON object on its stdin",
    )
    wall.add_argument(
        "--kiosk",
        action="store_true",
        help="read-only wallboard: large tiles of the pinned jobs, no keys legend, nothing that stops refreshing",
    )
    wall.add_argument(
        "--cycle",
        type=_cycle,
        default=10.0,
        metavar="SECONDS",
        help="with --kiosk: show the next pinned job in full every SECONDS (default 10)",
    )
    p.add_argument("--once", action="store_true", help="print jobs and task counts once and exit")
    p.add_argument("-o", "--output", choices=("json", "table"), default="table", help="with --once")
    p.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"with --once: give up after this long in all (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--concurrency",
        type=_concurrency,
        default=None,
        metavar="N",
        help=(f"most requests in flight to the account at once (default {DEFAULT_CONCURRENCY})"),
    )
    p.add_argument("--log", metavar="FILE", help="write a diagnostic log (requests, retries, errors)")
    return p


# json.dumps escapes C0 controls but writes DEL, the C1 controls (0x9b is an 8-bit CSI) and
# bidi/invisible format characters as they are; JSON is often read on a terminal. A lone
# surrogate (from "\udfff" in the service's JSON) cannot be written as UTF-8 at all: escaped,
# the document still parses to the same string.
_JSON_UNSAFE = re.compile(
    r"[\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def json_for_terminal(text: str) -> str:
    """The same JSON document with every terminal-active character written as a \\u escape."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: the young generation's threshold while batchtui starts: Textual's import and the first
#: screen allocate a few million objects, and at Python's 700 the collector ran ~215 times and
#: took 0.10-0.19 s of a 1,000-job first screen; at 10,000, ~15 times and 0.05 s
#: (bench/startup.py, whose child does what this module does)
START_GC_THRESHOLD = 10_000


def start_gc() -> None:
    """Collector settings for the start of a process that is batchtui's own."""
    gc.set_threshold(START_GC_THRESHOLD, 10, 10)


def settle_gc(*, short_lived: bool) -> None:
    """Once started: what is imported and built so far lives as long as the process."""
    # Moved out of the collector's generations, later full collections stop re-walking its
    # 25,000 (--once) to 45,000 (dashboard) objects of module state.
    gc.freeze()
    if short_lived:
        # --once lives for a few hundred requests: the young generation is collected every
        # 20,000 allocations (~90 collections fewer, ~6 ms of a 200-job run).
        gc.set_threshold(20_000, 50, 50)


def _run_once(args: argparse.Namespace, client: BatchClient, *, own_process: bool = False) -> int:
    from batchtui.batch.errors import TransportError
    from batchtui.once import collect, render_json, render_table

    if own_process:
        settle_gc(short_lived=True)

    async def go() -> str:
        try:
            async with asyncio.timeout(args.timeout):
                result = await collect(client, state=_state(args))
        except TimeoutError:
            raise TransportError(
                f"no complete answer from {client.endpoint} within {args.timeout:g} s "
                "(--timeout SECONDS allows longer); nothing printed"
            ) from None
        finally:
            await client.aclose()
        return json_for_terminal(render_json(result)) if args.output == "json" else render_table(result)

    with asyncio.Runner(loop_factory=_once_loop()) as runner:
        sys.stdout.write(runner.run(go()) + "\n")
    return 0


def _once_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (not on Windows), else asyncio's own.

    --once is CPU-bound on a near account, and uvloop's loop and TLS take ~10% less of it than
    asyncio's (bench/README.md, session 6). The dashboard keeps asyncio's: Textual's loop.
    """
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def make_dashboard(argv: list[str], **app_kw: Any) -> BatchApp:
    """The dashboard ``main(argv)`` would run, not running (tests pilot it; ``app_kw`` override)."""
    args = build_parser().parse_args(argv)
    return _dashboard(args, False, _read_prefs(args), **app_kw)


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # the console script or `python -m`: the process is ours to tune
    if own_process:
        start_gc()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sim"]:
        from batchtui.sim.cli import main as sim_main

        return sim_main(argv[1:])
    if argv[:1] == ["logs"]:
        from batchtui.logs_cli import main as logs_main

        return logs_main(argv[1:])
    if argv[:1] == ["exporter"]:
        from batchtui.exporter.cli import main as exporter_main

        return exporter_main(argv[1:])
    if argv[:1] == ["serve"]:
        from batchtui.serve import main as serve_main

        return serve_main(argv[1:])

    args = build_parser().parse_args(argv)
    from batchtui.batch.errors import BatchClientError, ConfigError

    try:
        logging_on = _setup_log(args.log)
        prefs = _read_prefs(args)
        if args.once:
            profiles = _profiles(args, prefs)
            if len(profiles) > 1:
                raise UsageError("--once reads one account: give --profile once")
            client, _, warnings, _ = _make_client(args, logging_on, profile=profiles[0] if profiles else None)
            for warning in warnings:
                print(f"batchtui: warning: {warning}", file=sys.stderr)
            return _run_once(args, client, own_process=own_process)
        app = _dashboard(args, logging_on, prefs)
        if own_process:
            settle_gc(short_lived=False)
        app.run()
        return app.return_code or 0
    except (UsageError, ConfigError) as exc:
        print(f"batchtui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BatchClientError as exc:
        log.error("%s", exc)
        print(f"batchtui: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()

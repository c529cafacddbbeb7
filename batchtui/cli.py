"""Command line: argv -> settings -> the dashboard, ``--once``, or ``batchtui sim``.

Imports are deferred on purpose: ``--once`` and ``sim`` never load Textual, and a bad
flag is reported before anything heavy is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import logging.handlers
import re
import sys
from typing import TYPE_CHECKING, NoReturn

from batchtui import __version__
from batchtui.batch.client import DEFAULT_CONCURRENCY, ONCE_CONCURRENCY
from batchtui.batch.models import JOB_STATES

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient, RequestEvent

EXIT_USAGE = 2
EXIT_FAILURE = 1
STATES = ("all", *JOB_STATES)
#: how long a one-shot command (--once) may take in all, unless --timeout says otherwise
DEFAULT_TIMEOUT = 60.0

log = logging.getLogger("batchtui")


class UsageError(Exception):
    """Bad input from the operator: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the operator sees what to fix, --help has the rest.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _refresh(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--refresh wants a number of seconds, not {value!r}") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"--refresh must be more than 0 seconds, not {value}")
    return seconds


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout wants a number of seconds, not {value!r}") from None
    if not 0 < seconds <= 86_400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"--timeout must be more than 0 and at most 86400 seconds, not {value}"
        )
    return seconds


def _concurrency(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--concurrency wants a whole number, not {value!r}") from None
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"--concurrency must be from 1 to 256, not {n}")
    return n


def add_account_arguments(p: argparse.ArgumentParser) -> None:
    """The account flags, shared by the dashboard, --once and ``batchtui logs``."""
    conn = p.add_argument_group("account")
    conn.add_argument("--endpoint", help="Batch account URL, e.g. https://myacct.eastus.batch.azure.com")
    conn.add_argument("--account", help="Batch account name (needed for Shared Key)")
    conn.add_argument("--key", help="account key (base64); prefer AZURE_BATCH_ACCESS_KEY")
    conn.add_argument("--auth", choices=("shared_key", "aad"), help="sign-in: shared_key or aad (Entra ID)")
    conn.add_argument("--profile", help="named account from batchtui's config.toml")
    conn.add_argument("--api-version", help="Batch REST api-version (default 2025-06-01)")
    conn.add_argument(
        "--demo", action="store_true", help="use a built-in simulated account (no Azure needed)"
    )


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
    add_account_arguments(p)
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
        help=(
            f"most requests in flight to the account at once "
            f"(default {DEFAULT_CONCURRENCY}, {ONCE_CONCURRENCY} with --once)"
        ),
    )
    p.add_argument("--log", metavar="FILE", help="write a diagnostic log (requests, retries, errors)")
    return p


def _log_event(event: RequestEvent) -> None:
    # URL and request ids only: credentials travel in headers, which are never logged.
    level = logging.WARNING if event.error or (event.status or 0) >= 400 else logging.INFO
    log.log(
        level,
        "%s %s -> %s request-id=%s client-request-id=%s attempt=%d %.0fms%s%s",
        event.method,
        event.url,
        event.status if event.status is not None else "-",
        event.request_id or "-",
        event.client_request_id,
        event.attempt,
        event.elapsed * 1000,
        f" error={event.error}" if event.error else "",
        f" retry_in={event.retry_in:.1f}s" if event.retry_in is not None else "",
    )


_installed: list[logging.Handler] = []  # what _setup_log added (main() may run more than once)


def _setup_log(path: str | None) -> bool:
    for old in _installed:
        log.removeHandler(old)
        old.close()
    _installed.clear()
    if not path:
        # Without a handler, logging's last resort prints every error to stderr, where main()
        # has already said it in one line.
        _installed.append(logging.NullHandler())
        log.addHandler(_installed[0])
        return False
    try:
        # Reopened when logrotate (or anyone) renames or removes the file; text that cannot be
        # encoded (a lone surrogate from the service) is written escaped, not dropped with a
        # traceback.
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise UsageError(f"cannot write the log file {path}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _installed.append(handler)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return True


def _make_client(
    args: argparse.Namespace, logging_on: bool
) -> tuple[BatchClient, str, list[str], dict[str, object]]:
    """The client, a label for the status line, config warnings, and extra app options."""
    on_event = _log_event if logging_on else None
    if args.concurrency is None:
        args.concurrency = ONCE_CONCURRENCY if vars(args).get("once") else DEFAULT_CONCURRENCY
    if args.demo:
        from batchtui.demo import demo_client

        sim, client = demo_client(
            api_version=args.api_version, on_event=on_event, max_concurrency=args.concurrency
        )
        client.readonly = args.readonly or _truthy_env("BATCHTUI_READONLY")
        # The demo world runs on simulated time: ages and runtimes must read its clock.
        return client, f"{sim.config.account} (demo)", [], {"now": sim.clock.now}

    from batchtui.batch.client import BatchClient
    from batchtui.config import resolve_settings

    settings = resolve_settings(
        endpoint=args.endpoint,
        account=args.account,
        key=args.key,
        auth=args.auth,
        api_version=args.api_version,
        profile=args.profile,
        readonly=args.readonly,
    )
    client = BatchClient.from_settings(
        settings, on_event=on_event, max_concurrency=args.concurrency, readonly=settings.readonly
    )
    label = settings.account or settings.endpoint
    return client, label, list(settings.warnings), {}


def _truthy_env(name: str) -> bool:
    import os

    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _state(args: argparse.Namespace) -> str | None:
    """``--state all`` means no filter at all."""
    return None if args.state == "all" else args.state


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


def _tune_gc(*, short_lived: bool) -> None:
    """Collector settings for a process that is batchtui's own (not a test calling main())."""
    # Everything imported so far lives as long as the process: moved out of the collector's
    # generations, later full collections stop re-walking its 25,000 (--once) to 45,000
    # (dashboard) objects of module state.
    gc.freeze()
    if short_lived:
        # --once lives for a few hundred requests: the young generation is collected every
        # 20,000 allocations instead of 700 (~90 collections, ~6 ms of a 200-job run).
        gc.set_threshold(20_000, 50, 50)


def _run_once(args: argparse.Namespace, client: BatchClient, *, own_process: bool = False) -> int:
    from batchtui.batch.errors import TransportError
    from batchtui.once import collect, render_json, render_table

    if own_process:
        _tune_gc(short_lived=True)

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

    sys.stdout.write(asyncio.run(go()) + "\n")
    return 0


def _run_dashboard(
    args: argparse.Namespace,
    client: BatchClient,
    label: str,
    extra: dict[str, object],
    warnings: list[str],
    *,
    own_process: bool = False,
) -> int:
    from batchtui.ui.app import make_app
    from batchtui.ui.themes import available_theme_names

    if args.theme is not None and args.theme not in available_theme_names():
        asyncio.run(client.aclose())
        names = ", ".join(sorted(available_theme_names()))
        raise UsageError(f"unknown theme {args.theme!r}; choose one of: {names}")
    if own_process:
        _tune_gc(short_lived=False)
    app = make_app(
        client,
        refresh=args.refresh,
        theme=args.theme,
        state=_state(args),
        account_label=label,
        utc=args.utc,
        warnings=warnings,
        **extra,
    )
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # the console script or `python -m`: the process is ours to tune
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
        if not args.utc:
            from batchtui.config import times_in_utc

            args.utc = times_in_utc()
        client, label, warnings, extra = _make_client(args, logging_on)
        for warning in warnings:
            print(f"batchtui: warning: {warning}", file=sys.stderr)
        if args.once:
            return _run_once(args, client, own_process=own_process)
        return _run_dashboard(args, client, label, extra, warnings, own_process=own_process)
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

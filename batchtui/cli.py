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
from typing import TYPE_CHECKING, Any, NoReturn

from batchtui import __version__
from batchtui.batch.client import DEFAULT_CONCURRENCY, ONCE_CONCURRENCY
from batchtui.batch.models import JOB_STATES
from batchtui.cli_args import seconds, whole

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient, RequestEvent
    from batchtui.config import DashboardPrefs
    from batchtui.ui.app import AccountSpec, BatchApp

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


_refresh = seconds("--refresh", 0, above=True)
_timeout = seconds("--timeout", 0, 86_400, above=True)
_concurrency = whole("--concurrency", 1, 256)
_cycle = seconds("--cycle", 1, 3600)
_rise = whole("--alert-rise", 1, 1_000_000, what="a whole number of failures")
_offline = seconds("--alert-offline", 0, 86_400)


def add_account_arguments(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    """The account flags, shared by the dashboard, --once and ``batchtui logs`` (``several``:
    the dashboard, where ``--profile`` may be given once per account)."""
    conn = p.add_argument_group("account")
    conn.add_argument("--endpoint", help="Batch account URL, e.g. https://myacct.eastus.batch.azure.com")
    conn.add_argument("--account", help="Batch account name (needed for Shared Key)")
    conn.add_argument("--key", help="account key (base64); prefer AZURE_BATCH_ACCESS_KEY")
    conn.add_argument("--auth", choices=("shared_key", "aad"), help="sign-in: shared_key or aad (Entra ID)")
    if several:
        conn.add_argument(
            "--profile",
            action="append",
            metavar="NAME",
            help="named account from batchtui's config.toml; give it once per account to watch several",
        )
        conn.add_argument(
            "--all-profiles", action="store_true", help="every account in batchtui's config.toml at once"
        )
    else:
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
    args: argparse.Namespace, logging_on: bool, *, profile: str | None = None, demo: bool | None = None
) -> tuple[BatchClient, str, list[str], dict[str, object]]:
    """The client, a label for the status line, config warnings, and extra app options."""
    on_event = _log_event if logging_on else None
    if args.concurrency is None:
        args.concurrency = ONCE_CONCURRENCY if vars(args).get("once") else DEFAULT_CONCURRENCY
    if args.demo if demo is None else demo:
        from batchtui.demo import demo_client

        sim, client = demo_client(
            api_version=args.api_version, on_event=on_event, max_concurrency=args.concurrency
        )
        client.readonly = args.readonly or args.kiosk or _truthy_env("BATCHTUI_READONLY")
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
        profile=profile,
        readonly=args.readonly or args.kiosk,
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


def _profiles(args: argparse.Namespace, prefs: DashboardPrefs) -> list[str]:
    """The profiles asked for, each once, in order (``--all-profiles``: every one in config.toml)."""
    names = list(args.profile or [])
    if args.all_profiles:
        if not prefs.profiles:
            raise UsageError("--all-profiles: config.toml has no [accounts.<name>] section")
        names += prefs.profiles
    return list(dict.fromkeys(names))


def _account_specs(
    args: argparse.Namespace, logging_on: bool, profiles: list[str]
) -> tuple[list[AccountSpec], list[str]]:
    """One account per profile (and the demo's, with --demo); closes what it opened on failure."""
    from batchtui.ui.app import AccountSpec

    specs: list[AccountSpec] = []
    warnings: list[str] = []
    try:
        if args.demo or not profiles:
            client, label, said, extra = _make_client(
                args, logging_on, profile=profiles[0] if profiles else None
            )
            now: Any = extra.get("now")
            name = (client.account or label) if args.demo else (profiles[0] if profiles else label)
            specs.append(
                AccountSpec(name, client, label, **({"now": now, "keep_history": False} if now else {}))
            )
            warnings += said
            profiles = [] if not args.demo else profiles
        for profile in profiles:
            client, label, said, _ = _make_client(args, logging_on, profile=profile, demo=False)
            specs.append(AccountSpec(profile, client, f"{profile} ({label})" if label != profile else label))
            warnings += said
    except BaseException:
        _close([s.client for s in specs])
        raise
    return specs, warnings


def _close(clients: list[BatchClient]) -> None:
    async def close() -> None:
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)

    if clients:
        asyncio.run(close())


def _check_theme(args: argparse.Namespace) -> None:
    from batchtui.ui.themes import available_theme_names

    if args.theme is not None and args.theme not in available_theme_names():
        names = ", ".join(sorted(available_theme_names()))
        raise UsageError(f"unknown theme {args.theme!r}; choose one of: {names}")


def _dashboard(args: argparse.Namespace, logging_on: bool, prefs: DashboardPrefs, **app_kw: Any) -> BatchApp:
    from batchtui.paths import user_state_dir
    from batchtui.ui.app import make_app

    _check_theme(args)
    profiles = _profiles(args, prefs)
    if len(profiles) > 1 or (args.demo and profiles):
        given = [
            f
            for f, v in (("--endpoint", args.endpoint), ("--account", args.account), ("--key", args.key))
            if v
        ]
        if given or args.auth:
            raise UsageError(
                f"{', '.join(given or ['--auth'])} name one account: with several, put each in config.toml"
            )
    specs, warnings = _account_specs(args, logging_on, profiles)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        _close([s.client for s in specs])
        raise UsageError(f"two accounts are both named {next(n for n in names if names.count(n) > 1)!r}")
    for warning in warnings:
        print(f"batchtui: warning: {warning}", file=sys.stderr)
    kw: dict[str, Any] = {
        "refresh": args.refresh,
        "theme": args.theme,
        "state": _state(args),
        "utc": args.utc,
        "warnings": warnings,
        "state_dir": user_state_dir(),
        "alerts": args.alerts or prefs.alerts,
        "alert_rise": args.alert_rise if args.alert_rise is not None else prefs.alert_rise,
        "alert_offline": args.alert_offline if args.alert_offline is not None else prefs.alert_offline,
        "notify": prefs.notify,
        "on_event": args.on_event,
        "kiosk": args.kiosk,
        "cycle": args.cycle,
    }
    kw.update(app_kw)
    return make_app(specs, **kw)


def make_dashboard(argv: list[str], **app_kw: Any) -> BatchApp:
    """The dashboard ``main(argv)`` would run, not running (tests pilot it; ``app_kw`` override)."""
    args = build_parser().parse_args(argv)
    return _dashboard(args, False, _read_prefs(args), **app_kw)


def _read_prefs(args: argparse.Namespace) -> DashboardPrefs:
    from batchtui.config import dashboard_prefs

    prefs = dashboard_prefs()
    if not args.utc:
        args.utc = prefs.utc
    return prefs


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
            _tune_gc(short_lived=False)
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

"""``batchtui exporter``: serve the accounts' metrics for Prometheus until stopped.

batchtui exporter [--listen 127.0.0.1:9464] [--refresh 15] [--profile NAME ...]
                  [--completed-for 1h] [--demo]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import re
import signal
import sys
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

from batchtui.cli_args import is_loopback, seconds
from batchtui.exporter.service import DEFAULT_COMPLETED_FOR, DEFAULT_REFRESH, Account, Exporter

PROG = "batchtui exporter"
EXIT_USAGE = 2
EXIT_FAILURE = 1
DEFAULT_LISTEN = "127.0.0.1:9464"

log = logging.getLogger("batchtui.exporter")


class UsageError(Exception):
    """Bad input: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {PROG} --help)")


_refresh = seconds("--refresh", 1, 86_400)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def _duration(value: str) -> timedelta:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value.lower())
    if not m:
        raise argparse.ArgumentTypeError(
            f"--completed-for wants a duration such as 3600, 90m, 1h or 2d, not {value!r}"
        )
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 <= seconds <= 90 * 86_400:
        raise argparse.ArgumentTypeError(f"--completed-for must be from 0 to 90 days, not {value}")
    return timedelta(seconds=seconds)


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6) -> (host, port)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", value.strip())
    if not m:
        raise UsageError(f"--listen wants HOST:PORT, e.g. {DEFAULT_LISTEN} or [::1]:9464, not {value!r}")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 0 <= port <= 65535:
        raise UsageError(f"--listen: the port must be from 0 to 65535, not {port}")
    return host, port


class _NoKeyHere(argparse.Action):
    """``--key`` is refused by name, so its value is never echoed in the error."""

    def __init__(self, option_strings: list[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs="?", **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> NoReturn:
        raise UsageError(
            "--key is not taken here: a long-running process shows its command line to `ps`; "
            "set AZURE_BATCH_ACCESS_KEY or put the key in config.toml"
        )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description=(
            "Serve the accounts' jobs, task counts and pool nodes as Prometheus metrics. Each "
            "account is read once per --refresh by batchtui's refresh engine; scrapes only read "
            "what was last fetched and never call the account."
        ),
    )
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where /metrics is served (default {DEFAULT_LISTEN}; a non-loopback address is served with a warning)",
    )
    p.add_argument(
        "--refresh",
        type=_refresh,
        default=DEFAULT_REFRESH,
        metavar="SECONDS",
        help=f"how often each account is read (default {DEFAULT_REFRESH:g})",
    )
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help="an account from batchtui's config.toml; give it once per account",
    )
    p.add_argument(
        "--completed-for",
        type=_duration,
        default=DEFAULT_COMPLETED_FOR,
        metavar="DURATION",
        help="how long a completed job keeps its series, e.g. 30m, 1h, 2d (default 1h)",
    )
    p.add_argument("--demo", action="store_true", help="export the built-in simulated account too")
    one = p.add_argument_group(
        "one account without a profile (else AZURE_BATCH_* or `az batch account login`; the key only "
        "from the environment or config.toml)"
    )
    one.add_argument("--endpoint", help="Batch account URL, e.g. https://myacct.eastus.batch.azure.com")
    one.add_argument("--account", help="Batch account name (needed for Shared Key)")
    one.add_argument("--auth", choices=("shared_key", "aad"), help="sign-in: shared_key or aad (Entra ID)")
    one.add_argument("--key", action=_NoKeyHere, help=argparse.SUPPRESS)
    return p


def _label(endpoint: str, account: str | None) -> str:
    """The ``account`` label: the account name, or the endpoint's first host label (Entra ID)."""
    if account:
        return account
    parts = urlsplit(endpoint)
    host = parts.hostname or endpoint
    if _is_address(host):
        return f"{host}:{parts.port}" if parts.port else host
    return host.split(".")[0]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def build_accounts(args: argparse.Namespace) -> tuple[list[Account], list[str]]:
    """One client per account (``--demo``, each ``--profile``, or the default account)."""
    from batchtui.batch.client import BatchClient
    from batchtui.config import resolve_settings

    accounts: list[Account] = []
    warnings: list[str] = []
    try:
        if args.demo:
            from batchtui.demo import demo_client

            sim, client = demo_client()
            accounts.append(Account(sim.config.account, client, now=sim.clock.now))
        flags = {"endpoint": args.endpoint, "account": args.account, "auth": args.auth}
        if args.profile and any(flags.values()):
            raise UsageError(
                "--endpoint, --account and --auth name one account: with --profile, put them in config.toml"
            )
        alone = any(flags.values()) or not args.demo
        profiles: list[str | None] = list(args.profile) or ([None] if alone else [])
        for profile in profiles:
            settings = resolve_settings(profile=profile, readonly=True, **(flags if profile is None else {}))
            warnings.extend(settings.warnings)
            client = BatchClient.from_settings(settings, readonly=True)
            accounts.append(Account(_label(settings.endpoint, settings.account), client))
        seen: dict[str, int] = {}
        for n, account in enumerate(accounts):
            if account.label in seen:
                raise UsageError(
                    f"two accounts are both named {account.label!r}: their series would mix "
                    "(give each --profile once)"
                )
            seen[account.label] = n
    except BaseException:
        _close_all(accounts)
        raise
    return accounts, warnings


def _close_all(accounts: list[Account]) -> None:
    async def close() -> None:
        await asyncio.gather(*(a.client.aclose() for a in accounts), return_exceptions=True)

    if accounts:
        asyncio.run(close())


async def serve(exporter: Exporter, host: str, port: int, *, announce: bool = True) -> None:
    """Run until SIGINT or SIGTERM; the metrics are served from the first read on."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        bound_host, bound_port = exporter.serve_http(host, port)
        exporter.start()
        if announce:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            names = ", ".join(a.label for a in exporter.accounts)
            print(
                f"{PROG}: serving http://{shown}:{bound_port}/metrics for {names}; each account is "
                f"read every {exporter.refresh:g} s, scrapes never call it. Ctrl+C to stop.",
                file=sys.stderr,
                flush=True,
            )
        await stop.wait()
    finally:
        await exporter.aclose()


class _Stderr(logging.Handler):
    """Account up/down lines on whatever stderr is now (added once, however often main runs)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    from batchtui.batch.errors import ConfigError

    try:
        args = build_parser().parse_args(argv)
        host, port = parse_listen(args.listen)
        accounts, warnings = build_accounts(args)
    except (UsageError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if not is_loopback(host):
        print(
            f"{PROG}: warning: serving on {host}, not loopback: /metrics has no authentication and "
            "shows job ids and pool names to anyone who can reach it",
            file=sys.stderr,
        )
    exporter = Exporter(accounts, refresh=args.refresh, completed_for=args.completed_for)
    try:
        asyncio.run(serve(exporter, host, port))
    except OSError as exc:  # the port is taken, the address is not ours
        print(f"{PROG}: error: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return 0

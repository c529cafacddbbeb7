"""What every command line shares: one-line usage errors, the account flags, the diagnostic log,
and the client those make (the dashboard, ``--once`` and ``batchtui logs`` alike).

Imports are deferred on purpose, as in ``batchtui.cli``: nothing heavy before a flag is read.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient, RequestEvent
    from batchtui.config import DashboardPrefs

EXIT_USAGE = 2
EXIT_FAILURE = 1

log = logging.getLogger("batchtui")


class UsageError(Exception):
    """Bad input from the operator: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the operator sees what to fix, --help has the rest.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    from logging.handlers import WatchedFileHandler  # with --log only (it imports pickle: ~5 ms)

    try:
        # Reopened when logrotate (or anyone) renames or removes the file; text that cannot be
        # encoded (a lone surrogate from the service) is written escaped, not dropped with a
        # traceback.
        handler = WatchedFileHandler(path, encoding="utf-8", errors="backslashreplace")
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
        from batchtui.batch.client import DEFAULT_CONCURRENCY

        args.concurrency = DEFAULT_CONCURRENCY
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


def _profiles(args: argparse.Namespace, prefs: DashboardPrefs) -> list[str]:
    """The profiles asked for, each once, in order (``--all-profiles``: every one in config.toml)."""
    names = list(args.profile or [])
    if args.all_profiles:
        if not prefs.profiles:
            raise UsageError("--all-profiles: config.toml has no [accounts.<name>] section")
        names += prefs.profiles
    return list(dict.fromkeys(names))

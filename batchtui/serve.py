"""``batchtui serve``: the dashboard in a browser, through textual-serve, always read-only.

textual-serve starts one process per browser connection (``asyncio.create_subprocess_shell``
of one command line), so each tab is its own batchtui with its own poller of the account:
``--max-sessions`` caps them, checked where a tab's process would be started (the websocket)
and, for a readable answer, where its page is asked for. textual-serve has no authentication
at all, so the server binds loopback unless ``--allow-remote`` says otherwise.

The command every tab runs is built here from validated flags and quoted with :func:`shlex.join`
(textual-serve hands it to a shell); it always carries ``--readonly``, and the environment
``BATCHTUI_READONLY=1``, so a browser can look but never act on the account.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any, NoReturn

from batchtui.cli_args import is_loopback, seconds, whole

PROG = "batchtui serve"
EXIT_USAGE = 2
EXIT_FAILURE = 1
DEFAULT_MAX_SESSIONS = 4
#: how long a tab over the cap is kept to show why it got no dashboard (then it is closed)
REFUSED_HOLD = 300.0


_refresh_seconds = seconds("--refresh", 0, above=True)
_sessions = whole("--max-sessions", 1, 64)
_port = whole("--port", 1, 65535)


def _refresh(value: str) -> str:
    return repr(_refresh_seconds(value))  # handed on to each tab's process as text


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {PROG} --help)")


class _NoKeyHere(argparse.Action):
    """``--key`` is refused by name, so its value is never echoed in the error."""

    def __init__(self, option_strings: list[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs="?", **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> NoReturn:
        raise UsageError(
            "--key is not taken here: every tab's command line would show it to `ps`; "
            "set AZURE_BATCH_ACCESS_KEY or put the key in config.toml"
        )


def build_parser() -> argparse.ArgumentParser:
    from batchtui.batch.models import JOB_STATES

    p = _Parser(
        prog=PROG,
        description=(
            "The dashboard in a browser (textual-serve), read-only. Each browser tab starts its own "
            "batchtui process, which polls the account on its own: --max-sessions caps them."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    p.add_argument("--port", type=_port, default=8000, help="port to bind (default 8000)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host; textual-serve has no authentication: put a proxy that authenticates in front",
    )
    p.add_argument(
        "--max-sessions",
        type=_sessions,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"most browser tabs (dashboard processes) at once (default {DEFAULT_MAX_SESSIONS})",
    )
    p.add_argument(
        "--public-url", help="the URL browsers use when a proxy is in front (e.g. https://batch.example.com)"
    )
    acct = p.add_argument_group(
        "passed to each tab's dashboard (the key only from the environment or config.toml)"
    )
    acct.add_argument("--profile", help="named account from batchtui's config.toml")
    acct.add_argument("--demo", action="store_true", help="a built-in simulated account (one per tab)")
    acct.add_argument("--endpoint", help="Batch account URL")
    acct.add_argument("--account", help="Batch account name (needed for Shared Key)")
    acct.add_argument("--auth", choices=("shared_key", "aad"), help="sign-in: shared_key or aad (Entra ID)")
    acct.add_argument("--api-version", help="Batch REST api-version")
    acct.add_argument("--key", action=_NoKeyHere, help=argparse.SUPPRESS)
    acct.add_argument("--refresh", type=_refresh, metavar="SECONDS", help="refresh interval (default 5)")
    acct.add_argument("--state", choices=("all", *JOB_STATES), help="which jobs to list (default all)")
    return p


PASSED = ("profile", "endpoint", "account", "auth", "api_version", "refresh", "state")


def dashboard_argv(args: argparse.Namespace) -> list[str]:
    """The dashboard's own flags for each tab: ``--readonly`` always, then what was given."""
    argv = ["--readonly"]
    if args.demo:
        argv.append("--demo")
    for name in PASSED:
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def tab_command(args: argparse.Namespace) -> str:
    """The shell command line textual-serve runs per tab, every word quoted."""
    return shlex.join([sys.executable, "-m", "batchtui", *dashboard_argv(args)])


def check_account(args: argparse.Namespace) -> list[str]:
    """Fail now, once, on settings every tab would fail on; returns the warnings to show."""
    if args.demo:
        return []
    from batchtui.config import resolve_settings

    settings = resolve_settings(
        endpoint=args.endpoint,
        account=args.account,
        auth=args.auth,
        api_version=args.api_version,
        profile=args.profile,
        readonly=True,
    )
    return list(settings.warnings)


def refusal_text(max_sessions: int) -> str:
    return (
        f"batchtui serve: {max_sessions} dashboard{'s are' if max_sessions != 1 else ' is'} open "
        f"already, the most this server runs (--max-sessions {max_sessions}). Each browser tab is "
        "its own batchtui process polling the account: close a tab and reload this page."
    )


def make_server(args: argparse.Namespace, command: str) -> Any:
    """textual-serve's Server with a cap on tabs and batchtui's own start-up message."""
    from aiohttp import web
    from textual_serve.server import Server

    max_sessions: int = args.max_sessions
    refused = refusal_text(max_sessions)

    class DashboardServer(Server):
        sessions = 0

        async def handle_index(self, request: web.Request) -> Any:
            if self.sessions >= max_sessions:
                # A page that says why, rather than a dashboard that never comes.
                return web.Response(status=503, text=refused + "\n", content_type="text/plain")
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # The authoritative check: two pages loaded at once may both try to connect.
            if self.sessions >= max_sessions:
                return await _refuse(request)
            self.sessions += 1
            self.console.print(f"tab opened: {self.sessions} of {max_sessions}", highlight=False)
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions -= 1
                self.console.print(f"tab closed: {self.sessions} of {max_sessions}", highlight=False)

        async def on_startup(self, app: web.Application) -> None:
            print(startup_message(args, self.public_url), flush=True)

    async def _refuse(request: web.Request) -> web.WebSocketResponse:
        import asyncio

        socket = web.WebSocketResponse(heartbeat=15)
        await socket.prepare(request)
        # Written to the tab's terminal as text; the socket stays open a while so the message
        # stays on screen (textual-serve's page covers the terminal once the socket closes).
        await socket.send_bytes(("\x1b[2J\x1b[H" + refused.replace("\n", "\r\n") + "\r\n").encode())
        try:
            async with asyncio.timeout(REFUSED_HOLD):
                async for _ in socket:
                    pass
        except TimeoutError:
            pass
        await socket.close()
        return socket

    return DashboardServer(
        command, host=args.host, port=args.port, title="batchtui", public_url=args.public_url
    )


def startup_message(args: argparse.Namespace, url: str) -> str:
    lines = [
        f"{PROG}: the dashboard on {url}, read-only (each tab runs `batchtui --readonly`).",
        f"Each browser tab is its own batchtui process polling the account; at most "
        f"{args.max_sessions} at once (--max-sessions).",
    ]
    lines.append("Ctrl+C to stop.")
    return "\n".join(lines)


def _check_bind(host: str, port: int) -> None:
    """Bind and let go, so a taken port is said before textual-serve announces anything."""
    import socket

    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        return


def main(argv: list[str]) -> int:
    from batchtui.batch.errors import ConfigError

    try:
        args = build_parser().parse_args(argv)
        if not is_loopback(args.host) and not args.allow_remote:
            raise UsageError(
                f"refusing to serve on {args.host!r}, not loopback: textual-serve has no authentication. "
                "Pass --allow-remote behind a reverse proxy that authenticates"
            )
        warnings = check_account(args)
    except (UsageError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if args.allow_remote and not is_loopback(args.host):
        print(
            f"{PROG}: warning: serving on {args.host}, beyond loopback, with no authentication: anyone "
            "who reaches the port sees the account. Put a reverse proxy that authenticates in front "
            "(and pass --public-url)",
            file=sys.stderr,
        )
    try:
        _check_bind(args.host, args.port)
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_FAILURE
    # Inherited by every tab (textual-serve copies this environment): read-only twice over.
    os.environ["BATCHTUI_READONLY"] = "1"
    server = make_server(args, tab_command(args))
    try:
        server.serve()
    except OSError as exc:  # taken between the check and the bind
        print(
            f"{PROG}: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return 0

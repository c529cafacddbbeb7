"""The dashboard the command line asks for: its accounts (one per profile, or the demo's), its
theme checked, and the app's options from the flags over config.toml.

Imports are deferred on purpose, as in ``batchtui.cli``: Textual loads only for the dashboard.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from batchtui.cli_account import UsageError, _make_client, _profiles, _state

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.config import DashboardPrefs
    from batchtui.ui.app import AccountSpec, BatchApp


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


def _read_prefs(args: argparse.Namespace) -> DashboardPrefs:
    from batchtui.config import dashboard_prefs

    prefs = dashboard_prefs()
    if not args.utc:
        args.utc = prefs.utc
    return prefs

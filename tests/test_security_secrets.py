"""The account key and Entra ID tokens never show: not in output, the --log file, error
messages, exception text, reprs or screenshots, including while requests fail and are retried.

The dashboard and ``--once`` run against the simulator with a key and tokens of their own;
everything they produced is then searched for the secrets, for their base64 decodings, for the
decoded key as hex, and for the signature and bearer headers that carry them."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from ui_support import FrozenClock, make_client, wait_for

from batchtui import cli
from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth
from batchtui.batch.client import BatchClient, RequestEvent
from batchtui.batch.errors import BatchClientError
from batchtui.batch.retry import RetryPolicy
from batchtui.config import resolve_settings
from batchtui.sim import SimConfig, Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.help import HelpScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets import status_line

ENDPOINT = "http://127.0.0.1:8765"
ACCOUNT = "secretsacct"
KEY_BYTES = b"batchtui-test-account-key-material-that-must-never-leak-0123456789!!"
KEY = base64.b64encode(KEY_BYTES).decode()
OTHER_KEY = base64.b64encode(b"the-rotated-key-the-service-now-expects-instead-000000").decode()
TOKEN_PAYLOAD = json.dumps({"aud": "https://batch.core.windows.net/", "oid": "leak-me-not-3141"})
TOKENS = tuple(
    f"eyJhbGciOiJSUzI1NiJ9.{base64.urlsafe_b64encode(TOKEN_PAYLOAD.encode()).decode().rstrip('=')}.sig{i}x"
    for i in range(1, 6)
)
SIZE = (120, 40)


def needles() -> list[str]:
    """Every form in which a secret could be spotted."""
    found = [KEY, KEY_BYTES.decode(), KEY_BYTES.hex(), KEY[:24], "SharedKey " + ACCOUNT, "Bearer "]
    for token in TOKENS:
        found += [token, token.split(".")[1]]
    found.append("leak-me-not-3141")
    return found


def assert_no_secret(what: str, text: str) -> None:
    leaks = [n for n in needles() if n in text]
    assert not leaks, f"{what} shows a secret: {leaks}"


def sim_with_secrets(**config: Any) -> Simulator:
    config.setdefault("seed", 7)
    config.setdefault("jobs", 12)
    config.setdefault("time_scale", 0)
    return Simulator(SimConfig(account=ACCOUNT, key=KEY, tokens=TOKENS[:1], **config))


class Seen:
    """Everything the operator (or a log reader) could see during a run."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.errors: list[BaseException] = []

    def add(self, what: str, text: str) -> None:
        self.texts.append((what, text))

    def check(self) -> None:
        for what, text in self.texts:
            assert_no_secret(what, text)
        for error in self.errors:
            assert_no_secret(f"exception {type(error).__name__}", f"{error!s} {error!r} {error.args!r}")


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    record = Seen()
    original = status_line.StatusLine.failed

    def failed(self: status_line.StatusLine, error: BaseException, at: Any = None) -> None:
        record.errors.append(error)
        original(self, error, at)

    monkeypatch.setattr(status_line.StatusLine, "failed", failed)
    return record


def snapshot(app: BatchApp, seen: Seen, what: str) -> None:
    seen.add(f"{what}: screenshot", app.export_screenshot())
    screen = app.screen
    if isinstance(screen, JobsScreen):
        seen.add(f"{what}: status line", screen.status.plain)
    seen.add(f"{what}: notifications", "\n".join(n.message for n in app._notifications))


async def test_the_dashboard_never_shows_the_key_through_faults_and_retries(
    batchtui_log: Path, seen: Seen
) -> None:
    sim = sim_with_secrets()
    settings = resolve_settings(endpoint=ENDPOINT, account=ACCOUNT, key=KEY, env={})
    events: list[RequestEvent] = []

    def on_event(event: RequestEvent) -> None:
        events.append(event)
        cli._log_event(event)

    client = BatchClient.from_settings(
        settings,
        transport=httpx.ASGITransport(app=sim),
        on_event=on_event,
        retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0),
    )
    for obj in (client, client._auth, settings):
        seen.add(f"repr of {type(obj).__name__}", f"{obj!r} {obj!s}")
    app = make_app(client, refresh=0.1, now=sim.clock.now, monotonic=FrozenClock(), account_label=ACCOUNT)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        snapshot(app, seen, "loaded")
        for what, start, stop in (
            ("throttled", lambda: setattr(sim.faults, "throttle_rate", 1.0), sim.faults.clear),
            ("server errors", lambda: setattr(sim.faults, "error_rate", 1.0), sim.faults.clear),
            ("refused", lambda: sim.faults.outage(3600, kind="refuse"), sim.faults.clear),
            (
                "key rotated",
                lambda: setattr(sim.config, "key", OTHER_KEY),
                lambda: setattr(sim.config, "key", KEY),
            ),
        ):
            start()
            await wait_for(pilot, lambda: screen.status.error is not None)
            snapshot(app, seen, what)
            stop()
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: screen.status.error is None)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        snapshot(app, seen, "help")
    statuses = {e.status for e in events}
    # Each fault really happened: throttled, server errors (500 or 503, the simulator draws
    # which; how many draws a phase gets depends on timing), refused, key rejected.
    assert statuses >= {200, 403, 429} and statuses & {500, 503} and None in statuses
    assert any(e.retry_in is not None for e in events)
    for event in events:
        seen.add("request event", repr(event))
    log_text = await asyncio.to_thread(batchtui_log.read_text)
    assert "403" in log_text and "retry_in=" in log_text and "request-id=" in log_text
    seen.add("--log file", log_text)
    assert len(seen.errors) >= 4
    seen.check()


class Credential:
    """Issues the test's tokens; can be made to fail like an expired refresh token."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.now = 1_800_000_000.0
        self.issued = 0
        self.failing = False

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if self.failing:
            raise ClientAuthenticationError("AADSTS700082: The refresh token has expired.")
        token = TOKENS[self.issued % len(TOKENS)]
        self.issued += 1
        return AccessToken(token, int(self.now + 3600))

    async def close(self) -> None:
        pass


async def test_entra_id_tokens_never_show_through_expiry_revocation_and_retries(
    batchtui_log: Path, seen: Seen
) -> None:
    sim = sim_with_secrets()
    cred = Credential(sim)
    auth = EntraIdAuth(cred, endpoint=ENDPOINT)  # type: ignore[arg-type]
    auth._clock = lambda: cred.now
    client = make_client(sim, auth=auth, account=ACCOUNT, attempts=2, on_event=cli._log_event)
    app = make_app(client, refresh=0.1, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        seen.add("auth repr", f"{auth!r} {auth!s} {client!r}")
        snapshot(app, seen, "loaded")
        sim.config.tokens = ()  # revoked at the service: 401, the token is dropped and renewed
        await wait_for(pilot, lambda: screen.status.error is not None)
        snapshot(app, seen, "revoked")
        cred.failing, cred.now = True, cred.now + 7200  # expired, and renewing fails
        await wait_for(pilot, lambda: "could not get a Microsoft Entra ID token" in screen.status.plain)
        snapshot(app, seen, "expired")
        sim.config.tokens = TOKENS
        cred.failing = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is None)
        seen.add("auth repr after use", f"{auth!r} {auth!s} {vars(client.stats)!r}")
    log_text = await asyncio.to_thread(batchtui_log.read_text)
    assert "401" in log_text
    seen.add("--log file", log_text)
    seen.check()
    assert cred.issued >= 2


def test_once_with_log_never_shows_the_key_on_success_or_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sim = sim_with_secrets()
    original = BatchClient.from_settings.__func__  # type: ignore[attr-defined]

    def from_settings(cls: type[BatchClient], settings: Any, **kw: Any) -> BatchClient:
        kw["transport"] = httpx.ASGITransport(app=sim)
        kw["retry"] = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
        return original(cls, settings, **kw)

    monkeypatch.setattr(BatchClient, "from_settings", classmethod(from_settings))
    handlers = list(cli.log.handlers)
    outputs: list[tuple[str, str]] = []
    try:
        for name, prepare, want in (
            ("ok", lambda: None, 0),
            ("throttled", lambda: setattr(sim.faults, "throttle_rate", 1.0), 1),
            ("rotated key", lambda: (sim.faults.clear(), setattr(sim.config, "key", OTHER_KEY)), 1),
        ):
            prepare()
            log = tmp_path / f"{name.replace(' ', '-')}.log"
            for output in ("table", "json"):
                code = cli.main(
                    [
                        "--once",
                        "-o",
                        output,
                        "--endpoint",
                        ENDPOINT,
                        "--account",
                        ACCOUNT,
                        "--key",
                        KEY,
                        "--log",
                        str(log),
                    ]
                )
                out, err = capsys.readouterr()
                assert code == want or (want == 1 and code == 0), (name, code, err)
                outputs += [(f"{name} {output} stdout", out), (f"{name} {output} stderr", err)]
            outputs.append((f"{name} log", log.read_text()))
    finally:
        for handler in cli.log.handlers[len(handlers) :]:
            handler.close()
            cli.log.removeHandler(handler)
    texts = dict(outputs)
    assert "the account key was rejected (403 AuthenticationFailed)" in texts["rotated key table stderr"]
    assert texts["rotated key table stderr"].count("\n") == 1
    assert "429" in texts["throttled log"]
    for what, text in outputs:
        assert_no_secret(what, text)


def test_reprs_and_every_error_the_key_can_cause_stay_clean() -> None:
    auth = SharedKeyAuth(ACCOUNT, KEY)
    settings = resolve_settings(endpoint=ENDPOINT, account=ACCOUNT, key=KEY, env={})
    client = BatchClient.from_settings(settings)
    texts = [repr(auth), str(auth), repr(settings), str(settings), repr(client), repr(client._auth)]
    for text in texts:
        assert_no_secret("repr", text)
    errors: list[BaseException] = []
    for bad in (KEY + "*", KEY[:-3], " ", "not base64 " + KEY):
        try:
            SharedKeyAuth(ACCOUNT, bad)
        except BatchClientError as exc:
            errors.append(exc)
    for bad_endpoint in ("http://batch.example.com", f"https://{KEY}@host.example.com"):
        try:
            resolve_settings(endpoint=bad_endpoint, account=ACCOUNT, key=KEY, env={})
        except BatchClientError as exc:
            errors.append(exc)
    assert len(errors) >= 4
    for error in errors:
        assert_no_secret("exception", f"{error!s} {error!r}")

"""Credentials that go bad mid-run, through the simulator: a rotated account key (403) and an
Entra ID token that expires and cannot be renewed. The status line names the cause and the fix,
the last good rows stay, retries slow down, and the dashboard recovers once they work again.
Entra ID tokens are renewed before they expire, under load, one renewal at a time."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from ui_support import ENDPOINT, FrozenClock, make_client, make_sim, step, wait_for

from batchtui.batch.auth import REFRESH_MARGIN, EntraIdAuth, SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import AuthError, BatchServiceError
from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.pacing import paced_wait
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)
REFRESH = 0.1  # the app's floor
ROTATED_KEY = base64.b64encode(b"rotated!" * 8).decode()
AADSTS = "AADSTS700082: The refresh token has expired due to inactivity."


def rows(screen: JobsScreen) -> dict[str, list[str]]:
    return {k: [c.plain for c in screen.table.get_row(k)] for k in screen.table.rows_by_key}


async def home(pilot: Any, app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    await wait_for(pilot, lambda: screen.status.last_ok is not None and screen.status.error is None)
    return screen


# --------------------------------------------------------------------------- Shared Key


async def test_a_rotated_key_says_which_setting_to_fix_keeps_the_rows_backs_off_and_recovers() -> None:
    sim = make_sim()
    app = make_app(make_client(sim), refresh=REFRESH, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        before = rows(screen)
        good_key = sim.config.key
        sim.config.key = ROTATED_KEY  # rotated in the portal: the key batchtui holds is now wrong
        await wait_for(pilot, lambda: screen.status.error is not None)
        plain = screen.status.plain
        assert plain.startswith("⚠ refresh failed · "), plain
        assert (
            "auth: the account key was rejected (403 AuthenticationFailed): "
            "check AZURE_BATCH_ACCESS_KEY / --key (request-id "
        ) in plain
        assert rows(screen) == before and screen.has_class("-stale")
        # Slower than a normal refresh, and slower than throttling, growing while it lasts.
        await wait_for(pilot, lambda: screen.backoff_steps >= 2)
        assert screen.next_wait == paced_wait(REFRESH, "auth", screen.backoff_steps)
        assert screen.next_wait >= 8 * REFRESH
        assert screen.status.plain.startswith("⚠ refresh failed · slowing down, next try in 1 s · updated")
        failed_at = len(sim.requests)
        statuses = [r.status for r in sim.requests[:failed_at]]
        assert 403 in statuses
        # The operator puts the right key back (here: the service accepts it again).
        sim.config.key = good_key
        await wait_for(pilot, lambda: screen.status.error is None, within=5)
        assert screen.backoff_steps == 0 and screen.next_wait == REFRESH
        assert screen.status.plain.startswith("updated 0s ago · demo")


async def test_a_rejected_key_is_not_retried_by_the_client() -> None:
    sim = make_sim()
    async with make_client(sim, attempts=5) as client:
        sim.config.key = ROTATED_KEY
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    assert info.value.status == 403 and info.value.kind == "auth"
    assert [r.status for r in sim.requests] == [403]  # one try: a wrong key stays wrong


# --------------------------------------------------------------------------- Entra ID


class Credential:
    """An async azure-identity credential whose tokens the simulator accepts; it can be made
    to fail the way an expired refresh token does, and it counts concurrent calls."""

    def __init__(self, sim: Simulator, *, lifetime: float = 3600.0, delay: float = 0.0) -> None:
        self.sim = sim
        self.now = 1_800_000_000.0
        self.lifetime = lifetime
        self.delay = delay
        self.issued: list[str] = []
        self.failing = False
        self.accepted = True  # whether the service accepts the tokens issued from now on
        self.active = 0
        self.most_active = 0

    def clock(self) -> float:
        return self.now

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.failing:
                raise ClientAuthenticationError(AADSTS)
            token = f"eyJ0eXAi.secret-token-{len(self.issued) + 1:03d}.sig"
            self.issued.append(token)
            if self.accepted:
                self.sim.config.tokens = (*self.sim.config.tokens, token)
            return AccessToken(token, int(self.now + self.lifetime))
        finally:
            self.active -= 1

    async def close(self) -> None:
        pass


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and remembers which bearer token each one carried."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.tokens: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers.get("authorization", "").removeprefix("Bearer "))
        return await self.inner.handle_async_request(request)


def entra_client(
    sim: Simulator, cred: Credential, transport: httpx.AsyncBaseTransport | None = None, **kw: Any
) -> tuple[BatchClient, EntraIdAuth]:
    auth = EntraIdAuth(cred, endpoint=ENDPOINT)  # type: ignore[arg-type]
    auth._clock = cred.clock
    return make_client(sim, auth=auth, transport=transport, **kw), auth


async def test_tokens_are_renewed_before_they_expire_under_load_one_renewal_at_a_time() -> None:
    sim = make_sim()
    cred = Credential(sim, delay=0.02)
    recorder = Recorder(sim)
    client, auth = entra_client(sim, cred, recorder, max_concurrency=64)
    job_ids = sim.job_ids()
    async with client:
        await asyncio.gather(*(client.get_task_counts(j) for j in job_ids * 3))
        assert cred.issued == [cred.issued[0]] and auth.token_requests == 1
        first = cred.issued[0]
        # Time passes: the token has 4 minutes left, inside the 5-minute margin, not expired.
        cred.now += 3600 - 240
        assert 240 < REFRESH_MARGIN
        recorder.tokens.clear()
        await asyncio.gather(*(client.get_task_counts(j) for j in job_ids * 3))
        # One renewal however many requests wanted it, and none of them waited on a dead token.
        assert len(cred.issued) == 2 and auth.token_requests == 2
        assert cred.most_active == 1
        assert set(recorder.tokens) == {cred.issued[1]} and first not in recorder.tokens
        assert len(recorder.tokens) == len(job_ids) * 3
        # Renewed well before the old one's expiry, and the new one is used from then on.
        sim.config.tokens = (cred.issued[1],)  # the old token would now be refused
        await client.list_jobs()
    assert {r.status for r in sim.requests} == {200}


async def test_an_expired_token_that_cannot_be_renewed_says_run_az_login_and_recovers() -> None:
    sim = make_sim()
    cred = Credential(sim)
    client, auth = entra_client(sim, cred)
    timer = ManualTimer()
    app = make_app(client, refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        before = rows(screen)
        cred.failing = True
        cred.now += 3600  # expired; renewing it fails
        await step(pilot, app, timer, 5.0)
        assert screen.status.error is not None
        error = screen.status.error
        assert isinstance(error, AuthError)
        plain = screen.status.plain
        assert plain.startswith("⚠ refresh failed · ")
        scope = "https://batch.core.windows.net//.default"
        assert (
            f"auth: could not get a Microsoft Entra ID token for {scope}: {AADSTS} (try `az login`" in plain
        )
        assert rows(screen) == before
        await step(pilot, app, timer, screen.next_wait)
        assert screen.backoff_steps == 2 and screen.next_wait == 8 * 5.0
        asked, polls = auth.token_requests, screen.fetches
        for _ in range(8):
            await step(pilot, app, timer, 5.0)
        # Backing off: in 8 intervals a normal pace would have polled 8 times; it polled once
        # (each of that poll's requests asks for a token, and every ask fails).
        assert screen.fetches - polls == 1 and auth.token_requests > asked
        cred.failing = False  # `az login` done
        await step(pilot, app, timer, screen.next_wait)
        assert screen.status.error is None
        assert screen.backoff_steps == 0
        assert screen.status.plain.startswith("updated 0s ago")


async def test_a_revoked_token_is_replaced_within_the_same_request() -> None:
    sim = make_sim()
    cred = Credential(sim)
    recorder = Recorder(sim)
    client, _ = entra_client(sim, cred, recorder)
    async with client:
        await client.list_jobs()
        sim.config.tokens = ()  # revoked at the service; a new one is accepted
        recorder.tokens.clear()
        jobs = await client.list_jobs()
    assert len(jobs) == len(sim.job_ids())
    assert recorder.tokens == [cred.issued[0], cred.issued[1]]
    assert client.stats.errors == 0 and client.stats.retries == 0


async def test_a_revoked_token_names_entra_id_and_the_fix() -> None:
    sim = make_sim()
    cred = Credential(sim)
    client, _ = entra_client(sim, cred)
    async with client:
        await client.list_jobs()
        sim.config.tokens = ()  # revoked at the service, and so is every new one (no role)
        cred.accepted = False
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    text = str(info.value)
    assert text.startswith(
        "the Microsoft Entra ID token was rejected (401 AuthenticationFailed): run az login"
    )
    assert info.value.kind == "auth"
    assert not any(t in text for t in cred.issued)


async def test_a_403_about_permissions_keeps_the_services_own_words() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "code": "AuthorizationFailure",
            "message": {"value": "This request is not authorized to perform this operation."},
        }
        return httpx.Response(403, json=body, headers={"request-id": "r-1"})

    sim = make_sim()
    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    assert str(info.value) == (
        "HTTP 403 AuthorizationFailure: This request is not authorized to perform "
        "this operation. (request-id r-1)"
    )
    assert info.value.kind == "auth" and info.value.explanation is None


async def test_the_dashboard_renews_its_token_before_expiry_once_while_counts_fan_out() -> None:
    sim = make_sim()
    cred = Credential(sim, delay=0.02)
    recorder = Recorder(sim)
    client, auth = entra_client(sim, cred, recorder)
    app = make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        assert auth.token_requests == 1
        for round_ in range(2, 5):
            cred.now += 3600 - 200  # the current token has 200 s left: renew now, not at expiry
            sim.config.tokens = (cred.issued[-1],)  # only the live token is accepted
            recorder.tokens.clear()
            fetches = screen.fetches
            screen.refresh_now("full")  # the job list and the counts of every job on screen
            await wait_for(pilot, lambda: screen.fetches > fetches)
            await pilot.pause()
            assert screen.status.error is None, screen.status.plain
            assert auth.token_requests == round_ and cred.most_active == 1
            assert len(recorder.tokens) > 10 and set(recorder.tokens) == {cred.issued[-1]}

"""Shared Key and bearer authentication as the simulator enforces them."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from test_sim_support import API, BASE, SharedKey, client, sign

from batchtui.sim import DEMO_KEY, SimConfig, Simulator

OTHER_KEY = "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk="


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(seed=2, jobs=5, time_scale=0, tokens=("token-123",)))


async def _status(
    sim: Simulator, auth: httpx.Auth | None, path: str = "/jobs", **params: str
) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=BASE, auth=auth) as c:
        return await c.get(path, params={"api-version": API, **params})


async def test_valid_shared_key_is_accepted(sim: Simulator) -> None:
    r = await _status(sim, SharedKey("demo", DEMO_KEY), maxresults="2", **{"$filter": "state eq 'active'"})
    assert r.status_code == 200


async def test_no_authorization_is_401(sim: Simulator) -> None:
    r = await _status(sim, None)
    assert r.status_code == 401
    assert r.json()["code"] == "AuthenticationFailed"


async def test_bearer_only_with_a_known_token(sim: Simulator) -> None:
    class Bearer(httpx.Auth):
        def __init__(self, token: str) -> None:
            self.token = token

        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    assert (await _status(sim, Bearer("token-123"))).status_code == 200
    bad = await _status(sim, Bearer("token-456"))
    assert bad.status_code == 401
    assert bad.json()["code"] == "AuthenticationFailed"
    assert bad.json()["values"][0]["key"] == "AuthenticationErrorDetail"


@pytest.mark.parametrize(
    "auth",
    [
        SharedKey("demo", OTHER_KEY),  # wrong key
        SharedKey("someoneelse", DEMO_KEY),  # unknown account
        SharedKey("demo", DEMO_KEY, skew=-16 * 60),  # ocp-date 16 minutes slow
        SharedKey("demo", DEMO_KEY, skew=16 * 60),  # ... or fast
        SharedKey("demo", DEMO_KEY, date="Do., 02 Mär 2017 10:00:00 GMT"),  # a German-locale date
    ],
    ids=["wrong-key", "unknown-account", "slow-clock", "fast-clock", "localised-date"],
)
async def test_bad_shared_key_is_403(sim: Simulator, auth: httpx.Auth) -> None:
    r = await _status(sim, auth)
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "AuthenticationFailed"
    assert body["message"]["value"].startswith("Server failed to authenticate the request.")


async def test_clock_skew_inside_15_minutes_is_fine(sim: Simulator) -> None:
    assert (await _status(sim, SharedKey("demo", DEMO_KEY, skew=-14 * 60))).status_code == 200


async def test_skew_is_judged_against_wall_time_not_sim_time() -> None:
    # a world started in 2026 and moved on by days still accepts a client with a correct wall clock
    sim = Simulator(SimConfig(seed=2, jobs=2, time_scale=0))
    sim.clock.advance(3 * 86400)
    assert (await _status(sim, SharedKey("demo", DEMO_KEY))).status_code == 200
    frozen = Simulator(SimConfig(seed=2, jobs=2, time_scale=0), wall=lambda: time.time() + 3600)
    assert (await _status(frozen, SharedKey("demo", DEMO_KEY))).status_code == 403


async def test_signature_covers_path_and_query(sim: Simulator) -> None:
    date = email.utils.formatdate(usegmt=True)
    signed_for = f"{BASE}/jobs?api-version={API}&maxresults=1"
    auth = sign("GET", signed_for, {"ocp-date": date}, "demo", DEMO_KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=BASE) as c:
        same = await c.get(signed_for, headers={"ocp-date": date, "Authorization": auth})
        other_query = await c.get(
            f"{BASE}/jobs?api-version={API}&maxresults=2", headers={"ocp-date": date, "Authorization": auth}
        )
        other_path = await c.get(
            f"{BASE}/jobs/render-shot-0000?api-version={API}&maxresults=1",
            headers={"ocp-date": date, "Authorization": auth},
        )
    assert same.status_code == 200
    assert other_query.status_code == 403
    assert other_path.status_code == 403


async def test_date_header_instead_of_ocp_date(sim: Simulator) -> None:
    assert (await _status(sim, SharedKey("demo", DEMO_KEY, date_header="date"))).status_code == 200


async def test_query_names_signed_as_sent_are_accepted(sim: Simulator) -> None:
    # azure-batch 15.x signs query names as sent (timeOut), not lower-cased: the service accepts it
    r = await _status(sim, SharedKey("demo", DEMO_KEY, lower_query=False), timeOut="30")
    assert r.status_code == 200
    r = await _status(sim, SharedKey("demo", DEMO_KEY), timeOut="30")
    assert r.status_code == 200


@pytest.mark.parametrize("signed_length", ["0", ""])
async def test_zero_length_content_length_signed_either_way(sim: Simulator, signed_length: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    url = f"{BASE}/jobs?api-version={API}"
    headers = {"ocp-date": date, "Content-Length": signed_length}
    auth = sign("GET", url, headers, "demo", DEMO_KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=BASE) as c:
        r = await c.get(url, headers={"ocp-date": date, "Authorization": auth, "Content-Length": "0"})
    assert r.status_code == 200


async def test_auth_failures_are_not_retried_as_throttling() -> None:
    sim = Simulator(SimConfig(seed=2, jobs=2, time_scale=0))
    async with client(sim, SharedKey("demo", OTHER_KEY)) as c:
        r = await c.get("/jobs", params={"api-version": API})
    assert r.status_code == 403 and "retry-after" not in r.headers
    assert sim.requests[-1].status == 403

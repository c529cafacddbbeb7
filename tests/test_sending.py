"""The two ways a request reaches its transport (batchtui/batch/sending.py) send the same
request: through httpx.AsyncClient (with a proxy) and straight to the transport (without)."""

from __future__ import annotations

import httpx

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.sending import ClientSender, DirectSender

KEY = "a2V5LWZvci10ZXN0cy1vbmx5"
URL = "https://acct.eastus.batch.azure.com/jobs/j%201/terminate?api-version=2025-06-01&timeout=30"
HEADERS = {
    "client-request-id": "0b9e0d2c-5d7e-4c55-9a43-7c0c0e6f7f11",
    "ocp-date": "Tue, 01 Dec 2026 11:30:00 GMT",
    "content-type": "application/json; odata=minimalmetadata",
    "Accept": "application/json, text/plain",  # a call's own header wins over the default
}


async def sent_through(make: str) -> tuple[httpx.Request, httpx.Response]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, headers={"request-id": "r-1"}, content=b"{}")

    transport = httpx.MockTransport(handler)
    auth = SharedKeyAuth("acct", KEY)
    client = httpx.AsyncClient(
        auth=auth, transport=transport, timeout=12.5, headers={"Accept": "application/json"}
    )
    sender = ClientSender(client) if make == "client" else DirectSender(transport, auth, client)
    request = sender.build("POST", URL, dict(HEADERS), b'{"terminateReason":"x"}')
    response = await sender.send(request)
    body = await response.aread()
    await client.aclose()
    assert body == b"{}" and response.request is seen[0]
    return seen[0], response


async def test_both_senders_put_the_same_request_on_the_wire() -> None:
    through_client, answer_c = await sent_through("client")
    direct, answer_d = await sent_through("direct")
    assert direct.method == through_client.method == "POST"
    assert str(direct.url) == str(through_client.url)
    assert direct.headers.multi_items() == through_client.headers.multi_items()  # signature too
    assert direct.content == through_client.content
    assert (
        direct.extensions["timeout"] == through_client.extensions["timeout"] == httpx.Timeout(12.5).as_dict()
    )
    assert direct.headers["accept"] == "application/json, text/plain"
    assert direct.headers["authorization"].startswith("SharedKey acct:")
    assert (answer_d.status_code, answer_d.headers["request-id"]) == (answer_c.status_code, "r-1")

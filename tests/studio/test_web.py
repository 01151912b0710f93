"""Reading a request body within its limits, on a request whose body never comes (no server)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from dubber.studio import web


def stalled_request() -> Request:
    """A POST that announces a body and never sends it."""

    async def receive() -> dict:
        await asyncio.sleep(3600)
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/dub",
        "headers": [(b"content-length", b"20")],
        "query_string": b"",
    }
    return Request(scope, receive)


def test_a_body_that_never_comes_is_refused_in_time(monkeypatch):
    monkeypatch.setattr(web, "BODY_TIMEOUT_S", 0.05)
    with pytest.raises(web.StudioError) as refused:
        asyncio.run(web.read_json(stalled_request()))
    assert refused.value.status == 408 and "did not come within" in str(refused.value)

"""HTTP plumbing of the studio: request bodies read within limits, errors as one-line JSON
answers, and the guard every request passes (the Host it is addressed to, the session token
for anything that changes state, the size it announces)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dubber.errors import DubberError
from dubber.studio.paths import PathRefused
from dubber.studio.security import TOKEN_HEADER, cookie_token, needs_token, token_ok

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 256 * 1024
BODY_TIMEOUT_S = 30.0  # the whole body must arrive within this
OPEN_PATHS = frozenset({"/"})  # the page answers for itself: it opens the session


class StudioError(Exception):
    """A request the studio refuses, with its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_response(status: int, message: str) -> JSONResponse:
    """`{"error": message}` with `status`."""
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's JSON object, refused (413) past `limit` bytes, even when its length is
    not announced; (408) when it does not arrive within BODY_TIMEOUT_S; (400) when it is not a
    JSON object or nests deeper than the parser goes."""
    announced = request.headers.get("content-length")
    if announced is not None and (not announced.isdigit() or int(announced) > limit):
        raise StudioError(413, f"request body over {limit // 1024} KiB")
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise StudioError(413, f"request body over {limit // 1024} KiB")
    except TimeoutError:
        raise StudioError(
            408, f"the request body did not come within {BODY_TIMEOUT_S:g} s"
        ) from None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StudioError(400, "the request body is not JSON") from None
    except RecursionError:
        raise StudioError(400, "the request body nests too deeply") from None
    if not isinstance(data, dict):
        raise StudioError(400, "the request body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str) -> str:
    """A required text field of a request body."""
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise StudioError(400, f"'{name}' must be given as text")
    return value


async def on_studio_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, StudioError)
    return error_response(error.status, str(error))


async def on_dubber_error(_: Request, error: Exception) -> Response:
    """What the user can fix: 404 for a path refused, else 400, with the CLI's message."""
    status = 404 if isinstance(error, PathRefused) else 400
    return error_response(status, str(error))


async def on_http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return error_response(error.status_code, str(error.detail))


async def on_bug(request: Request, error: Exception) -> Response:
    """Anything else is a bug: logged, answered with 500, and the server goes on."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(500, f"internal error ({type(error).__name__}): please report it")


EXCEPTION_HANDLERS = {
    StudioError: on_studio_error,
    DubberError: on_dubber_error,
    HTTPException: on_http_error,
    Exception: on_bug,
}


class Guard:
    """ASGI middleware: refuse a request addressed to another Host (421), one without the
    session (its cookie or token: 403; only the page, which hands out the cookie, and its static
    assets go without), one that changes state without the token in its header (403), or one
    announcing a body over `max_body` (413), before any route sees it."""

    def __init__(
        self, app: ASGIApp, token: str, hosts: frozenset[str] | None, max_body: int
    ) -> None:
        self.app, self.token, self.hosts, self.max_body = app, token, hosts, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["method"], scope["path"], headers)
        if refusal is not None:
            await error_response(*refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        if self.hosts is not None and headers.get("host", "") not in self.hosts:
            return 421, "this studio only answers requests addressed to its own address"
        sent = token_ok(self.token, headers.get(TOKEN_HEADER))
        if needs_token(method) and not sent:
            return 403, "missing or wrong session token: reload the page"
        kept = sent or token_ok(self.token, cookie_token(headers.get("cookie")))
        if not kept and path not in OPEN_PATHS and not path.startswith("/static/"):
            return 403, "no studio session: open the address 'dubber studio' printed"
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > self.max_body:
            return 413, f"request body over {self.max_body // 2**20} MiB"
        return None

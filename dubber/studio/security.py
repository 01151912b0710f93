"""Who may talk to the studio: the session's token on every request (the printed address carries
it once, then an HttpOnly, SameSite=Strict cookie; requests that change something send it in a
header too), and, on a loopback address, only requests addressed to that address (no DNS
rebinding)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

TOKEN_HEADER = "x-dubber-token"
SESSION_COOKIE = "dubber-session"
TOKEN_QUERY = "token"  # the printed address carries it once; the page then keeps a cookie
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def new_token() -> str:
    """A fresh random token for one run of the studio."""
    return secrets.token_urlsafe(24)


def token_ok(expected: str, given: str | None) -> bool:
    """Whether `given` is the session's token (compared in constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def needs_token(method: str) -> bool:
    """Whether a request of this method changes state, so must carry the token."""
    return method.upper() not in SAFE_METHODS


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The Host headers the studio answers on a loopback bind; None (any) on another address,
    where the machine's names are not known."""
    if not is_loopback(host):
        return None
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


def session_cookie(token: str) -> str:
    """The Set-Cookie value that keeps the session in the browser that opened the address."""
    return f"{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"


def cookie_token(header: str | None) -> str | None:
    """The session token in a Cookie header, if any."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value
    return None

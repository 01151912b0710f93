"""Who may talk to the studio: a per-session token for every request that changes something,
and, on a loopback address, only requests addressed to that address (no DNS rebinding)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

TOKEN_HEADER = "x-dubber-token"
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

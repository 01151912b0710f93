"""The session token and the addresses the studio answers (no server, no model)."""

from __future__ import annotations

from dubber.studio.security import allowed_hosts, is_loopback, needs_token, new_token, token_ok


def test_tokens_are_fresh_and_checked_exactly():
    token = new_token()
    assert len(token) >= 32 and token != new_token()
    assert token_ok(token, token)
    assert not token_ok(token, None)
    assert not token_ok(token, "")
    assert not token_ok(token, token[:-1])
    assert not token_ok(token, token + "x")


def test_only_reading_goes_without_a_token():
    assert not needs_token("GET") and not needs_token("head") and not needs_token("OPTIONS")
    assert all(needs_token(method) for method in ("POST", "PUT", "DELETE", "PATCH", "BREW"))


def test_loopback_binds_answer_their_own_names_only():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert is_loopback("[::1]") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert not is_loopback("example.com")
    assert allowed_hosts("127.0.0.1", 8123) == {
        "127.0.0.1:8123",
        "localhost:8123",
        "[::1]:8123",
    }
    assert allowed_hosts("0.0.0.0", 8123) is None

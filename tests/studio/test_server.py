"""The studio server refuses what it must (paths out of its folder, state changes without the
session's token, oversized or malformed bodies, other Host names) with a 4xx, touches nothing,
and keeps serving; it stops cleanly on Ctrl-C. No model is loaded."""

from __future__ import annotations

import http.client
import os
import signal
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.media import RATE, make_video, with_tone
from tests.studio.running import RunningStudio, studio_server

SECRET = "the secret outside the folder"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("studio")
    served = root / "served"
    served.mkdir()
    make_video(with_tone(np.zeros(RATE, np.float32)), served / "clip.mp4")
    (root / "secret.txt").write_text(SECRET)
    (root / "secret.mp4").write_text(SECRET)
    os.symlink(root / "secret.mp4", served / "linked.mp4")
    os.symlink(root, served / "up")
    (served / ".hidden.mp4").write_text(SECRET)
    return served


@pytest.fixture(scope="module")
def studio(folder) -> RunningStudio:
    with studio_server(folder, "--max-upload-mb", "1") as running:
        yield running


def still_serving(studio: RunningStudio) -> None:
    answer = studio.request("GET", "/api/library")
    assert answer.status == 200
    assert [f["name"] for f in answer.json["files"]] == ["clip.mp4"]


def test_the_page_and_its_assets_come_from_the_studio(studio):
    page = studio.request("GET", "/")
    assert page.status == 200 and b'name="dubber-token"' in page.body
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("app.js", "api.js", "library.js", "review.js", "live.js", "app.css"):
        assert studio.request("GET", f"/static/{asset}").status == 200
    assert b"http" not in studio.request("GET", "/static/app.css").body  # nothing from elsewhere
    assert studio.request("GET", "/static/..%2Fserver.py").status == 404
    ranged = studio.request("GET", "/files/clip.mp4", headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body) == 100


@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.txt",
        "/files/..%2fsecret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2e%2e%2fsecret.txt",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/up/secret.txt",
        "/files/up/secret.mp4",
        "/files/linked.mp4",
        "/files/.hidden.mp4",
        "/files/clip.mp4%00.txt",
        "/files/..%5csecret.txt",
        "/api/review/..%2Fsecret.mp4",
        "/api/review/linked.mp4",
    ],
)
def test_paths_out_of_the_folder_are_refused(studio, path):
    answer = studio.request("GET", path)
    assert 400 <= answer.status < 500, (path, answer.status)
    assert SECRET.encode() not in answer.body
    still_serving(studio)


def test_state_changes_need_the_session_token(studio, folder):
    before = sorted(os.listdir(folder))
    for headers in ({}, {"X-Dubber-Token": "guessed"}, {"X-Dubber-Token": studio.token[:-1]}):
        for method, path, body in [
            ("POST", "/api/dub", {"media": "clip.mp4"}),
            ("POST", "/api/redub", {"media": "clip.mp4", "edits": []}),
            ("POST", "/api/live/start", {"media": "clip.mp4"}),
            ("PUT", "/api/upload/new.mp4", b"data"),
        ]:
            answer = studio.request(method, path, body, headers=headers, token=False)
            assert answer.status == 403, (method, path, headers)
            assert "token" in answer.json["error"]
    assert sorted(os.listdir(folder)) == before
    still_serving(studio)


def test_oversized_bodies_are_refused_whole_or_streamed(studio, folder):
    big = b'{"media": "' + b"x" * 300_000 + b'"}'
    assert studio.request("POST", "/api/dub", big).status == 413
    announced = studio.request("POST", "/api/dub", b"{}", headers={"Content-Length": "9" * 12})
    assert announced.status in (400, 413)
    assert chunked(studio, "POST", "/api/dub", big).status == 413
    # uploads: the limit (1 MiB here) announced, and streamed without a length
    assert studio.request("PUT", "/api/upload/big.mp4", b"\0" * (2 * 2**20)).status == 413
    assert chunked(studio, "PUT", "/api/upload/big.mp4", b"\0" * (2 * 2**20)).status == 413
    assert not any(name.startswith(("big", ".big")) for name in os.listdir(folder))
    still_serving(studio)


def test_malformed_requests_get_a_reason_and_change_nothing(studio, folder):
    for body, status, message in [
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"\xff\xfe", 400, "not JSON"),
        ({"media": 5}, 400, "'media'"),
        ({"media": "missing.mp4"}, 404, "not a media file"),
        ({"media": "../secret.mp4"}, 404, "not a file name"),
        ({"media": "clip.mp4", "max_rate": 9}, 400, "between 1 and 2"),
    ]:
        answer = studio.request("POST", "/api/dub", body)
        assert answer.status == status, (body, answer.body)
        assert message in answer.json["error"]
    answer = studio.request("POST", "/api/redub", {"media": "clip.mp4", "edits": "all"})
    assert answer.status == 400 and "edits" in answer.json["error"]
    answer = studio.request("POST", "/api/edits", {"media": "clip.mp4", "edits": []})
    assert answer.status == 400 and "no dub document yet" in answer.json["error"]
    assert studio.request("POST", "/api/cancel", {"media": "clip.mp4"}).status == 400
    assert studio.request("GET", "/api/review/clip.mp4").status == 404
    assert studio.request("DELETE", "/api/library").status == 405
    assert studio.request("GET", "/nothing/here").status == 404
    for name, status in [("notes.txt", 400), ("a%2Fb.mp4", 400), ("clip.mp4", 409)]:
        assert studio.request("PUT", f"/api/upload/{name}", b"data").status == status
    assert studio.request("PUT", "/api/upload/empty.mp4", b"").status == 400
    assert sorted(os.listdir(folder)) == sorted([".hidden.mp4", "clip.mp4", "linked.mp4", "up"])
    still_serving(studio)


def test_requests_addressed_to_another_host_are_refused(studio):
    for host in ("evil.example:80", f"attacker.example:{studio.port}", ""):
        answer = studio.request("GET", "/api/library", headers={"Host": host})
        assert answer.status == 421
    still_serving(studio)


def test_an_upload_lands_whole_in_the_folder(studio, folder):
    data = (folder / "clip.mp4").read_bytes()
    assert studio.request("PUT", "/api/upload/copy.mp4", data).status == 201
    assert (folder / "copy.mp4").read_bytes() == data
    names = [f["name"] for f in studio.request("GET", "/api/library").json["files"]]
    assert names == ["clip.mp4", "copy.mp4"]
    (folder / "copy.mp4").unlink()


def test_ctrl_c_stops_the_server_cleanly_even_with_a_page_listening(folder):
    with studio_server(folder) as studio:
        events = socket.create_connection(("127.0.0.1", studio.port))
        request = (
            f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{studio.port}\r\n"
            f"Cookie: dubber-session={studio.token}\r\n\r\n"
        )
        events.sendall(request.encode())
        assert b"text/event-stream" in events.recv(4096)
        code, seconds = studio.stop(signal.SIGINT)
        events.close()
    assert code in (0, 130), studio.output
    assert seconds < 10
    assert "Traceback" not in studio.output
    assert "studio stopped" in studio.output


def test_a_network_address_is_served_only_when_asked_for_and_with_a_warning(folder):
    with studio_server(folder, "--host", "0.0.0.0") as studio:
        assert "warning:" in studio.output and "anyone who can reach" in studio.output
        assert studio.request("GET", "/api/library").status == 200


def test_a_port_in_use_or_a_missing_folder_is_one_line(folder, tmp_path):
    from tests.helpers.cli import one_line_error, run_dubber

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_line_error(run_dubber("studio", str(folder), "--port", port), "in use", exit_code=2)
    one_line_error(run_dubber("studio", str(tmp_path / "nowhere")), "does not exist", exit_code=2)


def chunked(studio: RunningStudio, method: str, path: str, body: bytes) -> http.client.HTTPResponse:
    """Send `body` in chunks, without announcing its length."""
    connection = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=30)
    connection.putrequest(method, path)
    connection.putheader("X-Dubber-Token", studio.token)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    try:
        for start in range(0, len(body), 65536):
            piece = body[start : start + 65536]
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the whole body went
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_reading_the_folder_needs_the_session_the_printed_address_opens(studio, folder):
    """Another local user who finds the port gets neither the page nor the folder's files."""
    for path in ("/", "/api/library", "/api/events", "/files/clip.mp4", "/api/review/clip.mp4"):
        answer = studio.request("GET", path, token=False)
        assert answer.status == 403, (path, answer.status)
        assert b"dubber studio" in answer.body
    assert studio.request("GET", "/static/app.js", token=False).status == 200  # no secret
    wrong = studio.request("GET", "/?token=guessed", token=False)
    assert wrong.status == 403 and "set-cookie" not in wrong.headers
    opened = studio.request("GET", f"/?token={studio.token}", token=False)
    assert opened.status == 303 and opened.headers["location"] == "/"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    session = {"Cookie": cookie.split(";")[0]}
    assert studio.request("GET", "/api/library", headers=session, token=False).status == 200
    page = studio.request("GET", "/", headers=session, token=False)
    assert page.status == 200 and studio.token.encode() in page.body
    posted = studio.request("POST", "/api/dub", {"media": "clip.mp4"}, headers=session, token=False)
    assert posted.status == 403  # a change still needs the token in its header


def test_bodies_nested_too_deep_or_never_sent_are_refused(studio):
    deep = b'{"media": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = studio.request("POST", "/api/dub", deep)
    assert answer.status == 400 and "nests too deeply" in answer.json["error"]
    still_serving(studio)

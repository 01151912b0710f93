"""The studio's HTTP routes: the page and its assets, the folder's files, the library, reviews,
dubs, post-edits (of lines and of speakers, with voice samples), uploads, the real-time demo,
and the event stream."""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from dubber.chain.options import STUDIO_DUB_OPTIONS
from dubber.dub.document import DubDocument
from dubber.dub.outputs import OutputPaths
from dubber.outputs import atomic_path
from dubber.studio.edits import LineEdit, parse_edits
from dubber.studio.export import attachment, bundle, chunks, downloads
from dubber.studio.jobs import Job
from dubber.studio.library import (
    MediaEntry,
    State,
    is_media_name,
    is_servable,
    outputs_for,
)
from dubber.studio.options import DubSettings
from dubber.studio.paths import PathRefused, inside, relative_name
from dubber.studio.review import review
from dubber.studio.security import (
    TOKEN_HEADER,
    TOKEN_QUERY,
    cookie_token,
    session_cookie,
    token_ok,
)
from dubber.studio.speakers import SpeakerEdit, parse_speaker_edits, sample_wav, voice_options
from dubber.studio.web import EXCEPTION_HANDLERS, Guard, StudioError, read_json, text_field

if TYPE_CHECKING:
    from dubber.studio.studio import Studio

STATIC = files("dubber.studio") / "static"
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
FILE_TYPES = {".vtt": "text/vtt; charset=utf-8", ".srt": "text/plain; charset=utf-8"}
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data:;"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


NO_SESSION = (
    "<!doctype html><title>dubber studio</title><p>This studio answers only the browser that"
    " opened the address <code>dubber studio</code> printed: open that address.</p>"
)


def build_app(studio: Studio) -> Starlette:
    """The web app over `studio`'s folder."""
    assets = {entry.name: entry for entry in STATIC.iterdir() if entry.name != "index.html"}
    page = (STATIC / "index.html").read_text(encoding="utf-8")

    def index(request: Request) -> Response:
        """The page, for the session: the printed address (its token) opens it with a cookie
        and comes back without the token; anyone else is told to open that address."""
        if token_ok(studio.token, request.query_params.get(TOKEN_QUERY)):
            opened = {"set-cookie": session_cookie(studio.token), **PAGE_HEADERS}
            return RedirectResponse("/", status_code=303, headers=opened)
        given = request.headers.get(TOKEN_HEADER) or cookie_token(request.headers.get("cookie"))
        if not token_ok(studio.token, given):
            return HTMLResponse(NO_SESSION, status_code=403, headers=PAGE_HEADERS)
        body = page.replace("{{token}}", html.escape(studio.token))
        body = body.replace("{{folder}}", html.escape(studio.library.root.name or "/"))
        return HTMLResponse(body, headers=PAGE_HEADERS)

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            raise StudioError(404, f"no page asset '{name[:60]}'")
        media_type = ASSET_TYPES.get(Path(name).suffix, "application/octet-stream")
        return Response(assets[name].read_bytes(), media_type=media_type, headers=PAGE_HEADERS)

    def folder_file(request: Request) -> Response:
        """A media file, subtitles or dub document of the folder (byte ranges for seeking)."""
        path = inside(studio.library.root, request.path_params["name"])
        if not path.is_file() or not is_servable(path.name):
            raise PathRefused(f"'{path.name[:60]}' is not a file the studio serves")
        media_type = FILE_TYPES.get(path.suffix.lower())
        return FileResponse(path, media_type=media_type, headers={"cache-control": "no-cache"})

    def file_row(name: str, entry: MediaEntry | None, job: Job | None) -> dict[str, Any]:
        """One file of the library as the page lists it (`entry` None: it left the folder)."""
        if entry is None:
            state, problem = State.missing, "no longer in the folder: deleted or moved"
        else:
            state, problem = entry.state, entry.problem
            state = state if problem else studio.library_state(name, state)
        return {
            "name": name,
            "size": entry.size if entry else 0,
            "duration": entry.duration if entry else None,
            "video": bool(entry and entry.has_video),
            "state": state.value,
            "dubbed": bool(entry) and entry.state not in (State.new, State.unreadable),
            "problem": problem,
            "job": job.to_json() if job else None,
            "settings": studio.dubs.settings(name).to_json(),
            "versions": studio.dubs.versions.names(studio.library.root / name) if entry else [],
        }

    def library(_: Request) -> Response:
        jobs = studio.dubs.jobs()
        listed = {entry.name: entry for entry in studio.library.entries()}
        entries = [file_row(name, entry, jobs.get(name)) for name, entry in listed.items()]
        entries += [file_row(job.media, None, job) for job in studio.missing(set(listed))]
        entries.sort(key=lambda row: row["name"])
        return JSONResponse(
            {
                "folder": str(studio.library.root),
                "files": entries,
                "voices": studio.voices,
                "options": [option.to_json() for option in STUDIO_DUB_OPTIONS],
                "live": {"running": studio.live.running, "media": studio.live.media},
            }
        )

    def dubbed(name: str) -> OutputPaths:
        """The outputs of media file `name`; 404 unless it is dubbed."""
        outputs = outputs_for(studio.library.media(name))
        if not outputs.document.is_file() or not outputs.media.is_file():
            raise StudioError(404, f"{name} is not dubbed yet: dub it from the library")
        return outputs

    def review_data(request: Request) -> Response:
        name = request.path_params["name"]
        media = studio.library.media(name)
        outputs = dubbed(name)
        root = studio.library.root
        data = review(DubDocument.load(outputs.document))
        version = outputs.media.stat().st_mtime_ns
        return JSONResponse(
            data
            | {
                "media": name,
                "original": relative_name(root, media),
                "dub": relative_name(root, outputs.media),
                "subtitles": {
                    key.removesuffix(".vtt"): relative_name(root, path)
                    for key, path in outputs.subtitles.items()
                    if key.endswith(".vtt") and path.is_file()
                },
                "version": version,
                "state": studio.library_state(name).value,
                "voice_labels": {v["id"]: v["label"] for v in studio.voices if v["id"]},
                "downloads": [
                    {"label": label, "file": relative_name(root, outputs.media.with_name(file))}
                    for label, file in downloads(outputs)
                ],
            }
        )

    def export(request: Request) -> Response:
        """All the outputs of a dubbed file as one zip download."""
        name = request.path_params["name"]
        outputs = dubbed(name)
        filename = f"{outputs.document.name.removesuffix('.json')}.zip"
        return StreamingResponse(
            chunks(bundle(outputs)),
            media_type="application/zip",
            headers={"content-disposition": attachment(filename), "cache-control": "no-store"},
        )

    async def start_dub(request: Request) -> Response:
        data = await read_json(request)
        name = text_field(data, "media")
        studio.refuse_while_live()
        from_scratch = data.pop("from_scratch", False) is True
        job = studio.dubs.dub(name, DubSettings.from_json(data), from_scratch=from_scratch)
        return JSONResponse(job.to_json(), status_code=202)

    async def restore(request: Request) -> Response:
        data = await read_json(request)
        name = text_field(data, "media")
        studio.dubs.restore(name, text_field(data, "version"))
        return JSONResponse({"restored": True, "state": studio.library_state(name).value})

    async def cancel(request: Request) -> Response:
        data = await read_json(request)
        studio.dubs.cancel(text_field(data, "media"))
        return JSONResponse({"cancelled": True}, status_code=202)

    def edits_of(data: dict[str, Any]) -> tuple[list[LineEdit], list[SpeakerEdit]]:
        """The line and speaker edits of a request body (either may be left out)."""
        return parse_edits(data.get("edits", [])), parse_speaker_edits(data.get("speakers", []))

    async def save_edits(request: Request) -> Response:
        data = await read_json(request)
        name = text_field(data, "media")
        _, changed = await run_in_threadpool(studio.dubs.save_edits, name, *edits_of(data))
        return JSONResponse({"changed": changed, "state": studio.library_state(name).value})

    async def redub(request: Request) -> Response:
        data = await read_json(request)
        name = text_field(data, "media")
        studio.refuse_while_live()
        job = await run_in_threadpool(studio.dubs.redub, name, *edits_of(data))
        return JSONResponse(job.to_json(), status_code=202)

    def voices(request: Request) -> Response:
        """The voices a speaker of a dubbed file can take: its voice model's styles."""
        bank = studio.dubs.voices(request.path_params["name"])
        return JSONResponse({"voices": voice_options(bank)})

    def voice_sample(request: Request) -> Response:
        """A short Spanish sentence in one of those voices, as WAV (kept once made)."""
        name, voice = request.path_params["name"], request.path_params["voice"]
        if voice not in samples:
            if studio.dubs.busy():  # its voices are the dub's: one user at a time
                raise StudioError(409, "a dub is running: hear the voices once it has ended")
            samples[voice] = sample_wav(studio.dubs.voices(name), voice)
        return Response(samples[voice], media_type="audio/wav")

    async def upload(request: Request) -> Response:
        """A media file into the folder, streamed to a temporary name and renamed when whole."""
        name = request.path_params["name"]
        if "/" in name or not is_media_name(name):
            raise StudioError(400, f"'{name[:60]}' is not a media file name (e.g. talk.mp4)")
        target = inside(studio.library.root, name)
        if target.exists():
            raise StudioError(409, f"{name} is already in the folder")
        limit, received = studio.max_upload, 0
        with atomic_path(target) as temporary, open(temporary, "wb") as out:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise StudioError(413, f"upload over {limit // 2**20} MiB")
                out.write(chunk)
            if received == 0:
                raise StudioError(400, "the upload is empty")
        return JSONResponse({"name": name, "size": received}, status_code=201)

    async def live_start(request: Request) -> Response:
        data = await read_json(request)
        if studio.dubs.busy():
            raise StudioError(409, "a dub is running: wait for it, or cancel it, first")
        studio.live.start(text_field(data, "media"))
        return JSONResponse({"started": True}, status_code=202)

    async def live_stop(request: Request) -> Response:
        await read_json(request)
        studio.live.stop()
        return JSONResponse({"stopping": True}, status_code=202)

    def events(_: Request) -> Response:
        return StreamingResponse(
            studio.hub.stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    samples: dict[str, bytes] = {}  # voice id -> its sample
    routes = [
        Route("/", index),
        Route("/static/{name}", asset),
        Route("/files/{name:path}", folder_file),
        Route("/api/library", library),
        Route("/api/review/{name:path}", review_data),
        Route("/api/export/{name:path}", export),
        Route("/api/voices/{name:path}", voices),
        Route("/api/voice-sample/{voice}/{name:path}", voice_sample),
        Route("/api/events", events),
        Route("/api/dub", start_dub, methods=["POST"]),
        Route("/api/cancel", cancel, methods=["POST"]),
        Route("/api/restore", restore, methods=["POST"]),
        Route("/api/edits", save_edits, methods=["POST"]),
        Route("/api/redub", redub, methods=["POST"]),
        Route("/api/upload/{name:path}", upload, methods=["PUT"]),
        Route("/api/live/start", live_start, methods=["POST"]),
        Route("/api/live/stop", live_stop, methods=["POST"]),
    ]
    guard = Middleware(Guard, token=studio.token, hosts=studio.hosts, max_body=studio.max_upload)
    return Starlette(routes=routes, middleware=[guard], exception_handlers=EXCEPTION_HANDLERS)

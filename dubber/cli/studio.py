"""`dubber studio`: the web app over a folder of media, on this machine unless told otherwise."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dubber.cli.options import (
    ComputeTypeOption,
    Device,
    DeviceOption,
    OfflineOption,
    ThreadsOption,
    open_store,
    runtime_options,
)
from dubber.cli.output import console
from dubber.errors import DubberError
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

HostOption = Annotated[
    str,
    typer.Option(
        help="Address to listen on; anything but loopback exposes the folder to the network."
    ),
]
PortOption = Annotated[
    int,
    typer.Option(
        min=0, max=65535, show_default=False, help="Port to listen on \\[default: a free one]."
    ),
]


def studio(
    folder: Annotated[
        Path, typer.Argument(help="Folder of video and audio files to dub and review.")
    ] = Path("."),
    host: HostOption = "127.0.0.1",
    port: PortOption = 0,
    max_upload_mb: Annotated[
        int, typer.Option(min=1, help="Largest media file the page may upload (MiB).")
    ] = 2048,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Open a web app over FOLDER: dub, review, post-edit, and the real-time demo."""
    run_studio(
        folder, host, port, open_store(offline), runtime_options(device, compute_type, threads),
        max_upload_mb=max_upload_mb,
    )  # fmt: skip


def run_studio(
    folder: Path,
    host: str,
    port: int,
    store: Store,
    runtime: RuntimeOptions,
    *,
    max_upload_mb: int = 2048,
    fragment: str = "",
) -> None:
    """Serve the studio over `folder`, print its address (at `fragment`, a view of the page)
    and serve until Ctrl-C."""
    try:
        from dubber.studio.server import listen, serve, url_of
        from dubber.studio.studio import Studio
    except ImportError:
        raise DubberError(
            "dubber studio needs its web server: pip install 'dubber[studio]'"
        ) from None
    from dubber.studio.security import allowed_hosts, is_loopback

    sock = listen(host, port)
    bound = sock.getsockname()[1]
    try:
        app = Studio.open(folder, store, runtime, allowed_hosts(host, bound), max_upload_mb)
    except BaseException:
        sock.close()
        raise
    if not is_loopback(host):
        console.print(
            f"[bold yellow]warning:[/] listening on {escape(host)}: anyone who can reach this"
            f" machine and has the address below can open the studio and read the media in"
            f" {escape(str(app.library.root))}",
            highlight=False,
        )
    if logging.getLogger().getEffectiveLevel() <= logging.WARNING:  # not --quiet
        logging.getLogger("dubber.studio.jobs").setLevel(logging.INFO)  # each dub's end
    address = url_of(host, bound, app.token, fragment)
    console.print(
        f"dubber studio: {escape(address)} (Ctrl-C stops)", highlight=False, soft_wrap=True
    )
    try:
        serve(app, sock)
    except KeyboardInterrupt:
        console.print("studio stopped", highlight=False)

"""Network downloads: Hugging Face Hub files and release archives over HTTPS.

The only module that touches the network; the store never calls it in offline mode.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import DubberError

log = logging.getLogger(__name__)

# (file name, bytes done, total bytes or None): how downloads report progress.
ProgressHook = Callable[[str, int, int | None], None]

_CHUNK = 1 << 20
_TIMEOUT_S = 60
_HINT = "check the network, or copy the model here and run 'dubber models import PATH'"


@dataclass(frozen=True)
class RemoteFile:
    """What the Hub says about one file: its size and, for LFS files, its sha256."""

    path: str
    size: int | None
    sha256: str | None


def _hub_errors() -> tuple[type[Exception], ...]:
    """What a failed Hub request raises: huggingface_hub's errors, OSError, and the base error
    of its HTTP client (httpx2 or httpx, depending on the huggingface_hub version)."""
    from huggingface_hub.errors import HfHubHTTPError

    errors: list[type[Exception]] = [HfHubHTTPError, OSError]
    for client in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            errors.append(importlib.import_module(client).HTTPError)
    return tuple(errors)


def remote_files(repo: str, revision: str | None, paths: list[str]) -> dict[str, RemoteFile]:
    """Size and LFS sha256 of `paths` in Hub model repo `repo` at `revision`."""
    from huggingface_hub import HfApi

    try:
        infos = HfApi().get_paths_info(repo, paths, revision=revision)
    except _hub_errors() as error:
        raise DubberError(
            f"cannot reach the Hugging Face Hub for {repo}: {error}; {_HINT}"
        ) from error
    found = {}
    for info in infos:
        lfs = getattr(info, "lfs", None)
        found[info.path] = RemoteFile(
            info.path, getattr(info, "size", None), lfs.sha256 if lfs is not None else None
        )
    return found


def download(
    repo: str,
    revision: str | None,
    path: str,
    dest_dir: Path,
    progress: ProgressHook | None = None,
) -> Path:
    """Download `path` from Hub repo `repo` into `dest_dir` (keeping its sub-folders)."""
    from huggingface_hub import hf_hub_download

    log.info("downloading %s from %s", path, repo)
    try:
        local = hf_hub_download(
            repo,
            path,
            revision=revision,
            local_dir=dest_dir,
            tqdm_class=_progress_class(path, progress) if progress else None,
        )
    except _hub_errors() as error:
        raise DubberError(f"cannot download {path} from {repo}: {error}; {_HINT}") from error
    return Path(local)


def download_url(url: str, dest: Path, progress: ProgressHook | None = None) -> None:
    """Download `url` to the file `dest` (HTTPS only)."""
    if not url.startswith("https://"):
        raise DubberError(f"refusing to download {url}: only https:// sources are allowed")
    name = url.rsplit("/", 1)[-1]
    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(name, done, total)
    except (urllib.error.URLError, OSError) as error:
        raise DubberError(f"cannot download {url}: {error}; {_HINT}") from error


def _progress_class(name: str, progress: ProgressHook) -> type:
    """A silent tqdm class for huggingface_hub that forwards byte counts to `progress`."""
    from huggingface_hub.utils import tqdm

    class _Forward(tqdm):
        def __init__(self, *args, **kwargs) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._done = 0

        def update(self, n: float | None = 1) -> None:
            self._done += int(n or 0)
            progress(name, self._done, self.total)

    return _Forward
